/* audio_bench — how the time of one block splits between espeak-ng synthesis and Opus
 * encoding, and what Opus complexity buys. Single-threaded; times are thread CPU time.
 * Built by hand from the repository root: the command and the measured numbers are in
 * docs/notes-audio.md. Usage: audio_bench [rounds] (default 5).
 *
 * For each of 20 typical English sentences: espeak-ng synthesis (ops->synthesize, which is
 * what runs under the global lock), silence fitting, then Opus at several complexities,
 * MP3 and WAV. Quality proxy for Opus: the speech is resampled to 48 kHz here (so that the
 * codec, not libopusenc's resampler, is measured), encoded, decoded with opusfile and
 * compared with the input: segmental SNR over 20 ms frames with speech in them. A
 * perceptual codec is not trying to maximise SNR, so only the differences between
 * complexities mean something. */
#include "audio/audio.h"
#include "engines/engine.h"
#include <math.h>
#include <opus/opusfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *sentences[] = {
    "It was a bright cold day in April, and the clocks were striking thirteen.",
    "The committee will meet again on Thursday to review the final budget proposal.",
    "She opened the window, and the smell of rain drifted into the quiet room.",
    "Most of the city's water comes from a reservoir forty miles to the north.",
    "After the storm, volunteers spent three days clearing fallen trees from the roads.",
    "He wasn't sure whether the letter had been lost or simply never sent.",
    "The new library opens at nine in the morning and closes at eight in the evening.",
    "Scientists have long suspected that the planet's core is cooling more slowly than expected.",
    "If you follow the river upstream, you will eventually reach the old mill.",
    "Her grandmother kept every photograph in a shoebox under the bed.",
    "The train to Edinburgh was delayed by nearly two hours because of a signal failure.",
    "Good software is written twice: once to understand the problem, and once to solve it.",
    "They walked along the beach until the lighthouse was only a speck on the horizon.",
    "In 1969, more than half a billion people watched the first moon landing on television.",
    "The recipe calls for two cups of flour, a pinch of salt, and three eggs.",
    "Nobody in the village could remember a winter as long or as dark as that one.",
    "Please make sure that all doors are locked before you leave the building.",
    "The museum's collection includes paintings, sculptures, and ancient manuscripts.",
    "As the sun went down, the market stalls were lit one by one with paper lanterns.",
    "What matters most is not how fast you read, but how much you remember afterwards.",
};
#define N_SENT (int)(sizeof sentences / sizeof sentences[0])

/* CPU time of this thread, not wall time: the numbers then hold on a shared, busy
 * machine (other builds running), and single-threaded work is what we measure. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Linear-interpolation resampling to 48 kHz: good enough to hand the codec a 48 kHz
 * signal with the same content (espeak-ng has almost nothing above 5 kHz). */
static void to_48k(const struct pcm *in, struct pcm *out)
{
    *out = (struct pcm){ .rate = 48000 };
    size_t n = (size_t)((double)in->count * 48000 / in->rate);
    for (size_t i = 0; i < n; i++) {
        double pos = (double)i * in->rate / 48000;
        size_t k = (size_t)pos;
        double f = pos - (double)k;
        double a = in->samples[k], b = k + 1 < in->count ? in->samples[k + 1] : a;
        int16_t s = (int16_t)lrint(a + (b - a) * f);
        pcm_append(out, &s, 1);
    }
}

/* Segmental SNR (dB) of decoded vs reference, over 20 ms frames whose reference energy is
 * above -50 dBFS, each frame's SNR clamped to [-10, 40] dB as is usual. */
static double seg_snr(const struct pcm *ref, const int16_t *dec, size_t n)
{
    size_t f = 960, frames = 0;
    double total = 0;
    if (n > ref->count)
        n = ref->count;
    for (size_t i = 0; i + f <= n; i += f) {
        double sig = 0, noise = 0;
        for (size_t k = 0; k < f; k++) {
            double x = ref->samples[i + k], d = x - dec[i + k];
            sig += x * x;
            noise += d * d;
        }
        if (sig / (double)f < 32768.0 * 32768.0 * 1e-5)
            continue;
        double snr = 10 * log10(sig / (noise + 1e-9));
        total += snr < -10 ? -10 : snr > 40 ? 40 : snr;
        frames++;
    }
    return frames ? total / (double)frames : 0;
}

static double opus_snr(const struct pcm *pcm48, int complexity)
{
    struct buf b = { 0 };
    char err[256];
    if (audio_encode_opus_params(pcm48, AUDIO_OPUS_BITRATE, complexity, &b, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    int e;
    OggOpusFile *of = op_open_memory(b.data, b.len, &e);
    if (!of) {
        fprintf(stderr, "opusfile: %d\n", e);
        exit(1);
    }
    int16_t *dec = malloc((pcm48->count + 5760) * sizeof *dec);
    size_t got = 0;
    for (;;) {
        int r = op_read(of, dec + got, (int)(pcm48->count + 5760 - got), NULL);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    op_free(of);
    double snr = seg_snr(pcm48, dec, got);
    free(dec);
    buf_free(&b);
    return snr;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    if (rounds < 1)
        rounds = 1;
    char err[256];
    if (engines_init(err, sizeof err) <= 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    const struct model *m = engines_find("espeak");
    struct engine *e = m->ops->create(err, sizeof err);

    static const int cx[] = { 0, 3, 5, 8, 10 };
    enum { NCX = sizeof cx / sizeof cx[0] };
    double t_synth = 0, t_fit = 0, t_opus[NCX] = { 0 }, t_mp3 = 0, t_wav = 0;
    size_t bytes[NCX] = { 0 }, mp3_bytes = 0, chars = 0;
    double audio_s = 0, snr[NCX] = { 0 };
    struct pcm fitted[N_SENT];

    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < N_SENT; i++) {
            struct synth_result res;
            double t0 = now();
            if (m->ops->synthesize(e, "en-us", sentences[i], &res, err, sizeof err) < 0) {
                fprintf(stderr, "%s\n", err);
                return 1;
            }
            double t1 = now();
            int64_t shift;
            pcm_fit_silence(&res.pcm, AUDIO_PAD_START_MS, AUDIO_PAD_END_MS, &shift);
            double t2 = now();
            t_synth += t1 - t0;
            t_fit += t2 - t1;
            if (r == 0) {
                chars += strlen(sentences[i]);
                audio_s += (double)pcm_duration_ms(&res.pcm) / 1000;
                fitted[i] = res.pcm;
                res.pcm = (struct pcm){ 0 };
            }
            synth_result_free(&res);
        }
        for (int i = 0; i < N_SENT; i++) {
            for (int c = 0; c < NCX; c++) {
                struct buf b = { 0 };
                double t0 = now();
                audio_encode_opus_params(&fitted[i], AUDIO_OPUS_BITRATE, cx[c], &b, err,
                                         sizeof err);
                t_opus[c] += now() - t0;
                if (r == 0)
                    bytes[c] += b.len;
                buf_free(&b);
            }
            struct buf b = { 0 };
            double t0 = now();
            audio_encode_mp3(&fitted[i], &b, err, sizeof err);
            t_mp3 += now() - t0;
            if (r == 0)
                mp3_bytes += b.len;
            buf_free(&b);
            t0 = now();
            audio_encode_wav(&fitted[i], &b, err, sizeof err);
            t_wav += now() - t0;
            buf_free(&b);
        }
    }
    for (int i = 0; i < N_SENT; i++) {
        struct pcm p48;
        to_48k(&fitted[i], &p48);
        for (int c = 0; c < NCX; c++)
            snr[c] += opus_snr(&p48, cx[c]) / N_SENT;
        pcm_free(&p48);
        pcm_free(&fitted[i]);
    }

    double per = 1000.0 / (rounds * N_SENT);   /* ms per sentence */
    printf("%d sentences, %zu characters, %.1f s of audio (after fitting the pads); "
           "%d rounds\n\n", N_SENT, chars, audio_s, rounds);
    printf("espeak-ng synthesis   %7.2f ms/sentence   real-time factor %.0fx\n",
           t_synth * per, audio_s * rounds / t_synth);
    printf("pcm_fit_silence       %7.3f ms/sentence\n", t_fit * per);
    printf("\nOpus %d kbit/s   time/sentence  real time  vs synthesis  bytes (20 sentences)  "
           "seg. SNR (48k in)\n", AUDIO_OPUS_BITRATE / 1000);
    for (int c = 0; c < NCX; c++)
        printf("  complexity %2d   %7.2f ms      %4.0fx     %5.0f%%       %7zu (%+.1f%%)     "
               "%5.2f dB\n", cx[c], t_opus[c] * per, audio_s * rounds / t_opus[c],
               100 * t_opus[c] / t_synth, bytes[c],
               100.0 * ((double)bytes[c] - (double)bytes[NCX - 1]) / (double)bytes[NCX - 1],
               snr[c]);
    printf("\nMP3 (lame -V5)        %7.2f ms/sentence   %zu bytes\n", t_mp3 * per, mp3_bytes);
    printf("WAV                   %7.3f ms/sentence\n", t_wav * per);
    m->ops->destroy(e);
    engines_cleanup();
    return 0;
}
