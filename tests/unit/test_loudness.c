/* test_loudness — BS.1770 loudness against known signals (reference values from ffmpeg's
 * ebur128 filter on the same signals), levelling with the peak limiter, and the decoding
 * side of audio/: container sniffing, WAV/MP3/Ogg Opus decoding, the OpusHead gain edit,
 * resampling and the pitch-preserving tempo change. */
#include "audio/audio.h"
#include "check.h"
#include <dlfcn.h>
#include <math.h>
#include <opus/opus_types.h>
#include <stdint.h>
#include <stdlib.h>

/* libopus's (opus_custom.h, installed only by builds with custom modes); opus.c defines it */
struct OpusCustomMode;
struct OpusCustomMode *opus_custom_mode_create(opus_int32 Fs, int frame_size, int *error);

#define CHECK_NEAR(a, b, tol) do { double _a = (a), _b = (b); if (!(fabs(_a - _b) <= (tol))) { \
    check_failures++; fprintf(stderr, "%s:%d: %s ~ %s failed: %.3f vs %.3f (tol %.3f)\n", \
    __FILE__, __LINE__, #a, #b, _a, _b, (double)(tol)); } } while (0)

/* amp: peak, as a fraction of full scale; hz 0: silence. */
static void add_tone(struct pcm *p, double hz, double amp, double seconds)
{
    size_t n = (size_t)(seconds * p->rate), base = p->count;
    for (size_t i = 0; i < n; i++) {
        double v = hz > 0 ? amp * sin(2 * M_PI * hz * (double)(base + i) / p->rate) : 0;
        int16_t s = (int16_t)lrint(v * 32767.0);
        pcm_append(p, &s, 1);
    }
}

/* Speech-like: 1 kHz and 3 kHz bursts with a syllable rhythm and pauses. */
static void add_speechlike(struct pcm *p, double amp, double seconds)
{
    size_t n = (size_t)(seconds * p->rate);
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / p->rate;
        double env = fmax(0, sin(2 * M_PI * 4 * t)) * (fmod(t, 1.0) < 0.8 ? 1 : 0);
        double v = amp * env * (0.7 * sin(2 * M_PI * 1000 * t) + 0.3 * sin(2 * M_PI * 3000 * t));
        int16_t s = (int16_t)lrint(v * 32767.0);
        pcm_append(p, &s, 1);
    }
}

static int peak(const struct pcm *p)
{
    int m = 0;
    for (size_t i = 0; i < p->count; i++)
        m = abs(p->samples[i]) > m ? abs(p->samples[i]) : m;
    return m;
}

static void test_reference_signals(void)
{
    /* 997 Hz at -20 dBFS: -23.0 LUFS at every rate (the filter is designed per rate). */
    int rates[] = { 48000, 44100, 22050, 16000, 8000 };
    for (size_t i = 0; i < sizeof rates / sizeof *rates; i++) {
        struct pcm p = { .rate = rates[i] };
        add_tone(&p, 997, 0.1, 10);
        CHECK_NEAR(audio_loudness_lufs(&p), -23.0, 0.1);
        pcm_free(&p);
    }
    struct pcm p = { .rate = 48000 };
    add_tone(&p, 100, 0.1, 10);   /* the high-pass: ffmpeg -24.8 */
    CHECK_NEAR(audio_loudness_lufs(&p), -24.8, 0.1);
    pcm_free(&p);
    p = (struct pcm){ .rate = 48000 };
    add_tone(&p, 10000, 0.1, 10);   /* the high shelf: ffmpeg -19.7 */
    CHECK_NEAR(audio_loudness_lufs(&p), -19.7, 0.1);
    pcm_free(&p);
    /* Absolute gate: silence after the tone does not count (ffmpeg -23.1). */
    p = (struct pcm){ .rate = 48000 };
    add_tone(&p, 997, 0.1, 10);
    add_tone(&p, 0, 0, 10);
    CHECK_NEAR(audio_loudness_lufs(&p), -23.0, 0.15);
    pcm_free(&p);
    /* Relative gate: -36 / -23 / -36 dBFS for 20 s each; ffmpeg -30.4. */
    p = (struct pcm){ .rate = 48000 };
    add_tone(&p, 997, pow(10, -36 / 20.0), 20);
    add_tone(&p, 997, pow(10, -23 / 20.0), 20);
    add_tone(&p, 997, pow(10, -36 / 20.0), 20);
    CHECK_NEAR(audio_loudness_lufs(&p), -30.4, 0.1);
    pcm_free(&p);
    /* ... and with the quiet parts 10 s each, they fall under the relative gate: -26.0
     * (a -23 dBFS sine on one channel). */
    p = (struct pcm){ .rate = 48000 };
    add_tone(&p, 997, pow(10, -36 / 20.0), 10);
    add_tone(&p, 997, pow(10, -23 / 20.0), 60);
    add_tone(&p, 997, pow(10, -36 / 20.0), 10);
    CHECK_NEAR(audio_loudness_lufs(&p), -26.0, 0.1);
    pcm_free(&p);
}

static void test_edge_cases(void)
{
    struct pcm p = { .rate = 22050 };
    CHECK(isinf(audio_loudness_lufs(&p)) && audio_loudness_lufs(&p) < 0);   /* empty */
    CHECK(isinf(audio_loudness_lufs(NULL)));
    add_tone(&p, 0, 0, 2);
    CHECK(isinf(audio_loudness_lufs(&p)));   /* digital silence */
    double measured = 0, gain = 1;
    CHECK_INT(audio_normalize_loudness(&p, -18, &measured, &gain), 0);
    CHECK(isinf(measured) && gain == 0);
    CHECK_INT(peak(&p), 0);                  /* silence stays silence */
    pcm_free(&p);
    /* Shorter than a gating block: the whole signal's loudness. */
    p = (struct pcm){ .rate = 22050 };
    add_tone(&p, 997, 0.1, 0.25);
    CHECK_NEAR(audio_loudness_lufs(&p), -23.0, 0.2);
    pcm_free(&p);
}

static void test_normalize(void)
{
    /* Quiet and loud speech-like input both end at the target, peaks under the ceiling. */
    double amps[] = { 0.02, 0.1, 0.5, 0.99 };
    int ceiling = (int)(32767 * pow(10, AUDIO_LOUDNESS_CEILING_DB / 20.0)) + 1;
    for (size_t i = 0; i < sizeof amps / sizeof *amps; i++) {
        struct pcm p = { .rate = 22050 };
        add_speechlike(&p, amps[i], 6);
        double before = audio_loudness_lufs(&p), measured, gain;
        CHECK_INT(audio_normalize_loudness(&p, AUDIO_LOUDNESS_TARGET, &measured, &gain), 0);
        CHECK_NEAR(measured, before, 1e-9);
        CHECK_NEAR(audio_loudness_lufs(&p), AUDIO_LOUDNESS_TARGET, 0.2);
        CHECK(peak(&p) <= ceiling);
        CHECK_NEAR(gain, AUDIO_LOUDNESS_TARGET - before, 1.0);
        pcm_free(&p);
    }
    /* Plosive-like peaks 5 dB above the speech: the limiter holds them and the makeup pass
     * keeps the level. */
    struct pcm p = { .rate = 16000 };
    add_speechlike(&p, 0.3, 6);
    for (size_t i = 1000; i + 40 < p.count; i += 4000)
        for (int k = 0; k < 40; k++)
            p.samples[i + k] = (int16_t)((k & 8 ? 1 : -1) * 32767 * 0.3 * 1.8);
    CHECK_INT(audio_normalize_loudness(&p, AUDIO_LOUDNESS_TARGET, NULL, NULL), 0);
    CHECK(peak(&p) <= ceiling);
    CHECK_NEAR(audio_loudness_lufs(&p), AUDIO_LOUDNESS_TARGET, 0.3);
    pcm_free(&p);
    /* Clicks 30 dB above quiet speech: the limiter is a guard, not a compressor. The
     * peaks stay under the ceiling and the level stays under the target, never above. */
    p = (struct pcm){ .rate = 16000 };
    add_speechlike(&p, 0.01, 6);
    for (size_t i = 1000; i < p.count; i += 4000)
        p.samples[i] = (int16_t)(i % 8000 ? 30000 : -30000);
    CHECK_INT(audio_normalize_loudness(&p, AUDIO_LOUDNESS_TARGET, NULL, NULL), 0);
    CHECK(peak(&p) <= ceiling);
    CHECK(audio_loudness_lufs(&p) < AUDIO_LOUDNESS_TARGET + 0.2);
    pcm_free(&p);
    /* Near-silent input: the gain is capped, noise is not blown up to full level. */
    p = (struct pcm){ .rate = 16000 };
    add_speechlike(&p, 0.0005, 4);   /* ~ -70 LUFS */
    double m, g;
    CHECK_INT(audio_normalize_loudness(&p, AUDIO_LOUDNESS_TARGET, &m, &g), 0);
    CHECK(g <= AUDIO_LOUDNESS_MAX_GAIN_DB + 1e-9);
    CHECK(audio_loudness_lufs(&p) < AUDIO_LOUDNESS_TARGET - 10);
    pcm_free(&p);
}

static void test_decode(void)
{
    struct pcm src = { .rate = 22050 };
    add_speechlike(&src, 0.3, 2);
    char err[256] = "";

    /* WAV: exact round trip. */
    struct buf wav = { 0 };
    CHECK_INT(audio_encode_wav(&src, &wav, err, sizeof err), 0);
    CHECK_INT(audio_sniff(wav.data, wav.len), AUDIO_WAV);
    struct pcm out;
    CHECK_INT(audio_decode(wav.data, wav.len, &out, err, sizeof err), 0);
    CHECK_INT(out.rate, 22050);
    CHECK_INT(out.count, src.count);
    int same = out.count == src.count;
    for (size_t i = 0; same && i < out.count; i++)
        same = out.samples[i] == src.samples[i];
    CHECK(same);
    pcm_free(&out);
    /* A truncated or foreign body is an error, never a crash. */
    CHECK_INT(audio_decode(wav.data, 20, &out, err, sizeof err), -1);
    CHECK_INT(audio_decode((const unsigned char *)"hello world", 11, &out, err, sizeof err), -1);
    CHECK_INT(audio_sniff((const unsigned char *)"{\"error\":1}", 11), AUDIO_UNKNOWN);
    buf_free(&wav);

    /* MP3 (LAME) decoded by libmpg123: the duration survives within a frame or two. */
    struct buf mp3 = { 0 };
    CHECK_INT(audio_encode_mp3(&src, &mp3, err, sizeof err), 0);
    CHECK_INT(audio_sniff(mp3.data, mp3.len), AUDIO_MP3);
    CHECK_INT(audio_decode(mp3.data, mp3.len, &out, err, sizeof err), 0);
    CHECK_INT(out.rate, 22050);
    CHECK_NEAR((double)pcm_duration_ms(&out), (double)pcm_duration_ms(&src), 60);
    CHECK_NEAR(audio_loudness_lufs(&out), audio_loudness_lufs(&src), 0.5);
    pcm_free(&out);
    buf_free(&mp3);

    /* Ogg Opus: decoded at 48 kHz, mono; the header gain edit changes the decoded level by
     * exactly that much without touching the packets. */
    struct buf ogg = { 0 };
    CHECK_INT(audio_encode_opus(&src, &ogg, err, sizeof err), 0);
    CHECK_INT(audio_sniff(ogg.data, ogg.len), AUDIO_OGG_OPUS);
    CHECK_INT(audio_opus_channels(ogg.data, ogg.len), 1);
    CHECK_INT(audio_decode(ogg.data, ogg.len, &out, err, sizeof err), 0);
    CHECK_INT(out.rate, 48000);
    CHECK_NEAR((double)pcm_duration_ms(&out), (double)pcm_duration_ms(&src), 30);
    double l0 = audio_loudness_lufs(&out);
    pcm_free(&out);
    CHECK_INT(audio_opus_add_gain(ogg.data, ogg.len, -6.0), 0);
    CHECK(audio_opus_duration_ms(ogg.data, ogg.len) > 0);   /* still a valid stream */
    CHECK_INT(audio_decode(ogg.data, ogg.len, &out, err, sizeof err), 0);
    CHECK_NEAR(audio_loudness_lufs(&out), l0 - 6.0, 0.05);
    pcm_free(&out);
    CHECK_INT(audio_opus_add_gain(ogg.data, ogg.len, 200.0), -1);   /* out of Q7.8 range */
    CHECK_INT(audio_opus_add_gain((unsigned char *)"RIFF....WAVE", 12, 1.0), -1);
    buf_free(&ogg);
    pcm_free(&src);
}

/* audio_encode_opus_level (decoding alongside the encoder, on its own thread) gives the
 * very bytes of audio_encode_opus then audio_opus_level: same packets, same header gain. */
static void test_opus_level_alongside(void)
{
    char err[256] = "";
    for (int k = 0; k < 2; k++) {
        /* 2 s (a few Ogg pages) and 20 s (the reader waits on the writer many times);
         * a 9 kHz partial that 32 kbit/s Opus drops, so the level does move the gain */
        struct pcm src = { .rate = 22050 };
        add_speechlike(&src, 0.3, k ? 20 : 2);
        for (size_t i = 0; i < src.count; i++)
            src.samples[i] = (int16_t)(src.samples[i] +
                                       lrint(3000 * sin(2 * M_PI * 9000 * (double)i / src.rate)));
        CHECK_INT(audio_normalize_loudness(&src, AUDIO_LOUDNESS_TARGET, NULL, NULL), 0);
        struct buf a = { 0 }, b = { 0 };
        double db = 0;
        CHECK_INT(audio_encode_opus(&src, &a, err, sizeof err), 0);
        CHECK_INT(audio_opus_level(&a, AUDIO_LOUDNESS_TARGET, &db), 0);
        CHECK(fabs(db) >= 0.02);   /* the gain edit is part of what is compared */
        CHECK_INT(audio_encode_opus_level(&src, AUDIO_LOUDNESS_TARGET, &b, err, sizeof err), 0);
        CHECK_INT(b.len, a.len);
        CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
        buf_free(&a);
        buf_free(&b);
        pcm_free(&src);
    }
    /* opus.c's opus_custom_mode_create (libopus's per-frame CPU probe, see there): CELT's
     * standard mode is libopus's own, the same pointer every time */
    typedef struct OpusCustomMode *(*mode_fn)(opus_int32, int, int *);
    mode_fn lib = (mode_fn)dlsym(RTLD_NEXT, "opus_custom_mode_create");
    if (lib) {   /* a libopus without custom modes neither exports nor calls it */
        int e = -1;
        struct OpusCustomMode *mode = opus_custom_mode_create(48000, 960, &e);
        CHECK(mode != NULL);
        CHECK_INT(e, 0);   /* OPUS_OK */
        CHECK(opus_custom_mode_create(48000, 960, NULL) == mode);
        CHECK(lib(48000, 960, NULL) == mode);
    }
    /* nothing to encode: the encoder's error, the thread joined, nothing written */
    struct pcm empty = { .rate = 22050 };
    struct buf c = { 0 };
    CHECK_INT(audio_encode_opus_level(&empty, AUDIO_LOUDNESS_TARGET, &c, err, sizeof err), -1);
    CHECK(strstr(err, "no audio") != NULL);
    CHECK_INT(c.len, 0);
    buf_free(&c);
}

/* Zero crossings per second: a pitch estimate for a pure tone. */
static double crossings_per_s(const struct pcm *p)
{
    int n = 0;
    for (size_t i = 1; i < p->count; i++)
        n += (p->samples[i - 1] < 0) != (p->samples[i] < 0);
    return (double)n / ((double)p->count / p->rate);
}

static void test_resample_and_stretch(void)
{
    struct pcm p = { .rate = 48000 };
    add_tone(&p, 440, 0.5, 2);
    double l = audio_loudness_lufs(&p);
    CHECK_INT(pcm_resample(&p, 24000), 0);
    CHECK_INT(p.rate, 24000);
    CHECK_NEAR((double)p.count, 48000.0, 2);
    CHECK_NEAR(crossings_per_s(&p), 880, 3);
    CHECK_NEAR(audio_loudness_lufs(&p), l, 0.1);
    /* A tone above the new Nyquist is filtered out, not aliased. */
    struct pcm hi = { .rate = 48000 };
    add_tone(&hi, 15000, 0.5, 1);
    CHECK_INT(pcm_resample(&hi, 24000), 0);
    int hi_peak = 0;   /* away from the edges, where the signal starts abruptly */
    for (size_t i = 200; i + 200 < hi.count; i++)
        hi_peak = abs(hi.samples[i]) > hi_peak ? abs(hi.samples[i]) : hi_peak;
    CHECK(hi_peak < 32767 * 0.5 * 0.01);
    pcm_free(&hi);

    /* Twice as fast: half as long, same pitch, same level. */
    CHECK_INT(pcm_time_stretch(&p, 2.0), 0);
    CHECK_NEAR((double)pcm_duration_ms(&p), 1000, 30);
    CHECK_NEAR(crossings_per_s(&p), 880, 15);
    CHECK_NEAR(audio_loudness_lufs(&p), l, 0.5);
    /* And slower again. */
    CHECK_INT(pcm_time_stretch(&p, 0.5), 0);
    CHECK_NEAR((double)pcm_duration_ms(&p), 2000, 40);
    CHECK_NEAR(crossings_per_s(&p), 880, 15);
    CHECK_INT(pcm_time_stretch(&p, 1.0), 0);   /* no change */
    CHECK_INT(pcm_time_stretch(&p, 9.0), -1);  /* out of range */
    pcm_free(&p);
}

int main(void)
{
    test_reference_signals();
    test_edge_cases();
    test_normalize();
    test_decode();
    test_opus_level_alongside();
    test_resample_and_stretch();
    CHECK_DONE();
}
