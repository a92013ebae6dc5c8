/* test_audio — PCM buffers, silence trimming, the three encoders and the Ogg Opus probe.
 * Self-contained: external tools (ffprobe) are used for an extra check only when present. */
#include "audio/audio.h"
#include "check.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static void add_silence(struct pcm *p, size_t n, int16_t level)
{
    for (size_t i = 0; i < n; i++) {
        int16_t s = (int16_t)((i & 1) ? level : -level);   /* low noise, below threshold */
        pcm_append(p, &s, 1);
    }
}

static void add_square(struct pcm *p, size_t n, int16_t amp)
{
    for (size_t i = 0; i < n; i++) {
        int16_t s = (int16_t)(((i / 20) & 1) ? amp : -amp);
        pcm_append(p, &s, 1);
    }
}

static void add_sine(struct pcm *p, size_t n, double hz, double amp)
{
    for (size_t i = 0; i < n; i++) {
        int16_t s = (int16_t)lrint(amp * sin(2 * M_PI * hz * (double)i / p->rate));
        pcm_append(p, &s, 1);
    }
}

static void test_buffers(void)
{
    struct pcm p = { .rate = 22050 };
    int16_t s[1000];
    for (int i = 0; i < 1000; i++)
        s[i] = (int16_t)i;
    for (int i = 0; i < 100; i++)
        CHECK_INT(pcm_append(&p, s, 1000), 0);
    CHECK_INT(p.count, 100000);
    CHECK_INT(p.samples[99999], 999);
    CHECK_INT(p.samples[12345], 345);
    CHECK_INT(pcm_append(&p, NULL, 0), 0);
    p.count = 22050;
    CHECK_INT(pcm_duration_ms(&p), 1000);
    p.count = 22049;
    CHECK_INT(pcm_duration_ms(&p), 999);   /* floor, not rounded */
    p.count = 33075;
    CHECK_INT(pcm_duration_ms(&p), 1500);
    p.rate = 48000;
    p.count = 48;
    CHECK_INT(pcm_duration_ms(&p), 1);
    p.rate = 0;
    CHECK_INT(pcm_duration_ms(&p), 0);
    pcm_free(&p);
    CHECK(p.samples == NULL && p.count == 0 && p.cap == 0);
    pcm_free(&p);   /* twice is harmless */
    pcm_free(NULL);

    struct buf b = { 0 };
    for (int i = 0; i < 5000; i++)
        CHECK_INT(buf_append(&b, "abc", 3), 0);
    CHECK_INT(b.len, 15000);
    CHECK(memcmp(b.data + 14997, "abc", 3) == 0);
    CHECK_INT(buf_append(&b, NULL, 0), 0);
    buf_free(&b);
    CHECK(b.data == NULL && b.len == 0);
    buf_free(NULL);
}

static void test_trim(void)
{
    const int rate = 22050;
    const size_t pad_s = (size_t)AUDIO_PAD_START_MS * rate / 1000;
    const size_t pad_e = (size_t)AUDIO_PAD_END_MS * rate / 1000;

    /* 1 s of faint noise, 0.5 s of loud square wave, 1 s of faint noise. */
    struct pcm p = { .rate = rate };
    add_silence(&p, 22050, 200);
    add_square(&p, 11025, 10000);
    add_silence(&p, 22050, 200);
    size_t removed = pcm_trim_silence(&p, AUDIO_PAD_START_MS, AUDIO_PAD_END_MS);
    CHECK_INT(removed, 22050 - pad_s);
    CHECK_INT(p.count, pad_s + 11025 + pad_e);
    CHECK_INT(p.samples[pad_s], -10000);          /* speech starts right after the pad */
    CHECK_INT(p.samples[pad_s - 1], 200);         /* the pad is the original silence */
    CHECK_INT(p.samples[pad_s + 11024], 10000);
    CHECK(abs(p.samples[pad_s + 11025]) == 200);
    /* Trimming again changes nothing: the pads are exactly what is kept. */
    size_t n = p.count;
    CHECK_INT(pcm_trim_silence(&p, AUDIO_PAD_START_MS, AUDIO_PAD_END_MS), 0);
    CHECK_INT(p.count, n);
    pcm_free(&p);

    /* A sine starts below the threshold; the detected onset is within a fraction of a
     * cycle (440 Hz: 50 samples) of the true one. */
    p = (struct pcm){ .rate = rate };
    add_silence(&p, 10000, 0);
    add_sine(&p, 22050, 440, 8000);
    add_silence(&p, 10000, 0);
    removed = pcm_trim_silence(&p, AUDIO_PAD_START_MS, AUDIO_PAD_END_MS);
    CHECK(removed >= 10000 - pad_s && removed <= 10000 - pad_s + 5);
    CHECK(p.count >= pad_s + 22050 - 10 + pad_e && p.count <= pad_s + 22050 + pad_e);
    pcm_free(&p);

    /* Less silence than the pads: nothing is removed and nothing is invented. */
    p = (struct pcm){ .rate = rate };
    add_silence(&p, 100, 0);
    add_square(&p, 5000, 10000);
    add_silence(&p, 100, 0);
    CHECK_INT(pcm_trim_silence(&p, AUDIO_PAD_START_MS, AUDIO_PAD_END_MS), 0);
    CHECK_INT(p.count, 5200);
    pcm_free(&p);

    /* All silent (with a lone click in it) becomes empty. */
    p = (struct pcm){ .rate = rate };
    add_silence(&p, 20000, 300);
    p.samples[5000] = 30000;
    CHECK_INT(pcm_trim_silence(&p, AUDIO_PAD_START_MS, AUDIO_PAD_END_MS), 20000);
    CHECK_INT(p.count, 0);
    CHECK_INT(pcm_duration_ms(&p), 0);
    CHECK_INT(pcm_trim_silence(&p, AUDIO_PAD_START_MS, AUDIO_PAD_END_MS), 0);
    pcm_free(&p);

    /* Zero pads: exactly the loud part. */
    p = (struct pcm){ .rate = rate };
    add_silence(&p, 3000, 0);
    add_square(&p, 4000, 5000);
    add_silence(&p, 3000, 0);
    CHECK_INT(pcm_trim_silence(&p, 0, 0), 3000);
    CHECK_INT(p.count, 4000);
    pcm_free(&p);

    CHECK_INT(pcm_trim_silence(NULL, 40, 120), 0);
}

static void test_fit(void)
{
    const int rate = 22050;
    const size_t pad_s = (size_t)AUDIO_PAD_START_MS * rate / 1000;
    const size_t pad_e = (size_t)AUDIO_PAD_END_MS * rate / 1000;
    int64_t shift;

    /* Too little silence (like espeak-ng): padded with zeros to exactly the pads. */
    struct pcm p = { .rate = rate };
    add_silence(&p, 100, 7);
    add_square(&p, 5000, 10000);
    add_silence(&p, 50, 7);
    CHECK_INT(pcm_fit_silence(&p, AUDIO_PAD_START_MS, AUDIO_PAD_END_MS, &shift), 0);
    CHECK_INT(shift, 100 - (int64_t)pad_s);             /* negative: speech moved later */
    CHECK_INT(p.count, pad_s + 5000 + pad_e);
    CHECK_INT(p.samples[0], 0);
    CHECK_INT(p.samples[pad_s - 101], 0);
    CHECK_INT(p.samples[pad_s - 100], -7);               /* original room tone kept */
    CHECK_INT(p.samples[pad_s], -10000);
    CHECK_INT(p.samples[pad_s + 4999], 10000);
    CHECK_INT(abs(p.samples[pad_s + 5000]), 7);
    CHECK_INT(p.samples[pad_s + 5050], 0);
    CHECK_INT(p.samples[p.count - 1], 0);
    /* Fitting again is a no-op. */
    CHECK_INT(pcm_fit_silence(&p, AUDIO_PAD_START_MS, AUDIO_PAD_END_MS, &shift), 0);
    CHECK_INT(shift, 0);
    CHECK_INT(p.count, pad_s + 5000 + pad_e);
    pcm_free(&p);

    /* Too much silence: same as trimming. */
    p = (struct pcm){ .rate = rate };
    add_silence(&p, 22050, 100);
    add_square(&p, 11025, 10000);
    add_silence(&p, 22050, 100);
    CHECK_INT(pcm_fit_silence(&p, AUDIO_PAD_START_MS, AUDIO_PAD_END_MS, &shift), 0);
    CHECK_INT(shift, 22050 - (int64_t)pad_s);
    CHECK_INT(p.count, pad_s + 11025 + pad_e);
    CHECK_INT(p.samples[pad_s], -10000);
    pcm_free(&p);

    /* No silence at all, and all silence. */
    p = (struct pcm){ .rate = rate };
    add_square(&p, 3000, 10000);
    CHECK_INT(pcm_fit_silence(&p, AUDIO_PAD_START_MS, AUDIO_PAD_END_MS, &shift), 0);
    CHECK_INT(shift, -(int64_t)pad_s);
    CHECK_INT(p.count, pad_s + 3000 + pad_e);
    pcm_free(&p);
    p = (struct pcm){ .rate = rate };
    add_silence(&p, 3000, 20);
    CHECK_INT(pcm_fit_silence(&p, AUDIO_PAD_START_MS, AUDIO_PAD_END_MS, &shift), 0);
    CHECK_INT(p.count, 0);
    CHECK_INT(pcm_fit_silence(&p, AUDIO_PAD_START_MS, AUDIO_PAD_END_MS, &shift), 0);
    CHECK_INT(shift, 0);
    pcm_free(&p);
}

/* Ogg CRC, to build well-formed but hostile pages for the probe. */
static uint32_t ogg_crc(const unsigned char *d, size_t n)
{
    uint32_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint32_t)d[i] << 24;
        for (int j = 0; j < 8; j++)
            crc = (crc & 0x80000000u) ? (crc << 1) ^ 0x04c11db7u : crc << 1;
    }
    return crc;
}

static void fix_crc(unsigned char *page, size_t len)
{
    memset(page + 22, 0, 4);
    uint32_t c = ogg_crc(page, len);
    for (int i = 0; i < 4; i++)
        page[22 + i] = (unsigned char)(c >> (8 * i));
}

static size_t page_len(const unsigned char *pg)
{
    size_t n = 27 + pg[26];
    for (int i = 0; i < pg[26]; i++)
        n += pg[27 + i];
    return n;
}

static int64_t ffprobe_ms(const char *path)
{
    if (system("command -v ffprobe >/dev/null 2>&1") != 0)
        return -2;
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "ffprobe -v error -show_entries format=duration -of csv=p=0 %s", path);
    FILE *f = popen(cmd, "r");
    if (!f)
        return -2;
    double d = -1;
    if (fscanf(f, "%lf", &d) != 1)
        d = -1;
    pclose(f);
    return d < 0 ? -1 : (int64_t)llround(d * 1000);
}

static void write_file(const char *path, const struct buf *b)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(b->data, 1, b->len, f);
        fclose(f);
    }
}

static void test_opus(void)
{
    char err[256] = "";
    int rates[] = { 48000, 22050, 24000, 16000 };
    for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
        struct pcm p = { .rate = rates[r] };
        add_sine(&p, (size_t)rates[r], 440, 10000);   /* exactly 1 s */
        struct buf b = { 0 };
        CHECK_INT(audio_encode_opus(&p, &b, err, sizeof err), 0);
        CHECK(b.len > 1000 && b.len < 8000);          /* ~32 kbit/s for 1 s */
        CHECK(b.len >= 4 && memcmp(b.data, "OggS", 4) == 0);
        int64_t ms = audio_opus_duration_ms(b.data, b.len);
        CHECK(ms >= 999 && ms <= 1001);
        if (ms < 999 || ms > 1001)
            fprintf(stderr, "  rate %d: duration %lld\n", rates[r], (long long)ms);

        /* Same PCM, same bytes (the serial number is derived from the samples). */
        struct buf b2 = { 0 };
        CHECK_INT(audio_encode_opus(&p, &b2, err, sizeof err), 0);
        CHECK(b2.len == b.len && memcmp(b.data, b2.data, b.len) == 0);
        buf_free(&b2);

        if (r == 1) {
            /* Optional: an independent decoder agrees. */
            char path[64];
            snprintf(path, sizeof path, "/tmp/recite-test-%d.ogg", (int)getpid());
            write_file(path, &b);
            int64_t f = ffprobe_ms(path);
            if (f == -2)
                printf("(ffprobe not installed: skipping external Opus check)\n");
            else
                CHECK(f >= 990 && f <= 1010);
            if (system("command -v opusinfo >/dev/null 2>&1") == 0) {
                char cmd[256];
                snprintf(cmd, sizeof cmd, "! opusinfo %s 2>&1 | grep -qiE 'warning|error' && "
                         "opusinfo %s | grep -q 'Playback length: 0m:01.000s'", path, path);
                CHECK_INT(system(cmd), 0);
            }
            unlink(path);
        }
        buf_free(&b);
        pcm_free(&p);
    }

    /* Empty PCM is a clear error, and leaves `out` alone. */
    struct pcm empty = { .rate = 22050 };
    struct buf b = { 0 };
    err[0] = '\0';
    CHECK_INT(audio_encode_opus(&empty, &b, err, sizeof err), -1);
    CHECK(err[0] != '\0');
    CHECK_INT(b.len, 0);
    struct pcm bad = { .rate = 0 };
    add_square(&bad, 100, 1000);
    bad.rate = 0;
    CHECK_INT(audio_encode_opus(&bad, &b, err, sizeof err), -1);
    pcm_free(&bad);
    buf_free(&b);
}

static void test_probe(void)
{
    char err[256];
    struct pcm p = { .rate = 48000 };
    add_sine(&p, 48000 * 3, 300, 9000);   /* 3 s: several audio pages */
    struct buf b = { 0 };
    CHECK_INT(audio_encode_opus(&p, &b, err, sizeof err), 0);
    CHECK_INT(audio_opus_duration_ms(b.data, b.len), 3000);

    /* Every truncation is rejected. */
    int bad = 0;
    for (size_t n = 0; n < b.len; n++)
        if (audio_opus_duration_ms(b.data, n) != -1)
            bad++;
    CHECK_INT(bad, 0);
    CHECK_INT(audio_opus_duration_ms(NULL, 0), -1);
    CHECK_INT(audio_opus_duration_ms((const unsigned char *)"OggS", 4), -1);

    /* Trailing junk, and any flipped bit (the CRC catches it). */
    unsigned char *m = malloc(b.len + 16);
    memcpy(m, b.data, b.len);
    memcpy(m + b.len, "garbagegarbage!!", 16);
    CHECK_INT(audio_opus_duration_ms(m, b.len + 16), -1);
    bad = 0;
    srand(1);
    for (int i = 0; i < 2000; i++) {
        memcpy(m, b.data, b.len);
        size_t at = (size_t)rand() % b.len;
        m[at] ^= (unsigned char)(1u << (rand() % 8));
        int64_t d = audio_opus_duration_ms(m, b.len);
        if (d != -1 && d != 3000)
            bad++;
    }
    CHECK_INT(bad, 0);

    /* Hostile but CRC-correct pages: structural checks, not just the checksum. */
    size_t first = page_len(b.data);
    memcpy(m, b.data, b.len);
    memcpy(m + 28, "OpusHeaX", 8);            /* not an OpusHead packet */
    fix_crc(m, first);
    CHECK_INT(audio_opus_duration_ms(m, b.len), -1);
    memcpy(m, b.data, b.len);
    m[5] = 0;                                  /* first page without BOS */
    fix_crc(m, first);
    CHECK_INT(audio_opus_duration_ms(m, b.len), -1);
    memcpy(m, b.data, b.len);
    m[27 + 8] = 0x10;                          /* OpusHead version 16: incompatible */
    fix_crc(m, first);
    CHECK_INT(audio_opus_duration_ms(m, b.len), -1);
    memcpy(m, b.data, b.len);
    m[27 + 1 + 10] = 0xff;                     /* pre-skip larger than the stream */
    m[27 + 1 + 11] = 0xff;
    fix_crc(m, first);
    CHECK(audio_opus_duration_ms(m, b.len) < 3000);
    memcpy(m, b.data, b.len);
    size_t second = page_len(m + first);
    m[first + 18] ^= 1;                        /* sequence number gap */
    fix_crc(m + first, second);
    CHECK_INT(audio_opus_duration_ms(m, b.len), -1);
    memcpy(m, b.data, b.len);
    m[first + 14] ^= 1;                        /* another stream's serial */
    fix_crc(m + first, second);
    CHECK_INT(audio_opus_duration_ms(m, b.len), -1);
    memcpy(m, b.data, b.len);
    m[first + 26] = 255;                       /* segment table runs past the data */
    fix_crc(m + first, second);
    CHECK_INT(audio_opus_duration_ms(m, b.len), -1);

    /* Random bytes, and random bytes behind a valid capture pattern. */
    bad = 0;
    unsigned char junk[4096];
    for (int i = 0; i < 500; i++) {
        size_t n = (size_t)rand() % sizeof junk;
        for (size_t k = 0; k < n; k++)
            junk[k] = (unsigned char)rand();
        if (i & 1 && n >= 27) {
            memcpy(junk, "OggS", 4);
            junk[4] = 0;
            junk[5] = 2;
            junk[26] = (unsigned char)(n > 60 ? 30 : 0);
            fix_crc(junk, n < page_len(junk) ? n : page_len(junk));
        }
        if (audio_opus_duration_ms(junk, n) != -1)
            bad++;
    }
    CHECK_INT(bad, 0);
    free(m);
    buf_free(&b);
    pcm_free(&p);
}

static uint32_t rd32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void test_wav(void)
{
    char err[256];
    struct pcm p = { .rate = 22050 };
    add_square(&p, 1000, 1234);
    struct buf b = { 0 };
    buf_append(&b, "x", 1);   /* encoders append */
    CHECK_INT(audio_encode_wav(&p, &b, err, sizeof err), 0);
    CHECK_INT(b.len, 1 + 44 + 2000);
    const unsigned char *h = b.data + 1;
    CHECK(memcmp(h, "RIFF", 4) == 0 && memcmp(h + 8, "WAVEfmt ", 8) == 0);
    CHECK_INT(rd32(h + 4), 36 + 2000);
    CHECK_INT(rd32(h + 16), 16);
    CHECK_INT(h[20] | h[21] << 8, 1);          /* PCM */
    CHECK_INT(h[22] | h[23] << 8, 1);          /* mono */
    CHECK_INT(rd32(h + 24), 22050);
    CHECK_INT(rd32(h + 28), 44100);
    CHECK_INT(h[32] | h[33] << 8, 2);
    CHECK_INT(h[34] | h[35] << 8, 16);
    CHECK(memcmp(h + 36, "data", 4) == 0);
    CHECK_INT(rd32(h + 40), 2000);
    CHECK_INT((int16_t)(h[44] | h[45] << 8), -1234);
    CHECK_INT((int16_t)(h[44 + 40] | h[45 + 40] << 8), 1234);
    buf_free(&b);

    struct pcm empty = { .rate = 16000 };
    CHECK_INT(audio_encode_wav(&empty, &b, err, sizeof err), 0);
    CHECK_INT(b.len, 44);
    buf_free(&b);
    pcm_free(&p);
}

static void test_mp3(void)
{
    char err[256];
    struct pcm p = { .rate = 22050 };
    add_sine(&p, 22050, 440, 10000);
    struct buf b = { 0 };
    CHECK_INT(audio_encode_mp3(&p, &b, err, sizeof err), 0);
    CHECK(b.len > 1000);
    int id3 = b.len >= 3 && memcmp(b.data, "ID3", 3) == 0;
    int sync = b.len >= 2 && b.data[0] == 0xff && (b.data[1] & 0xe0) == 0xe0;
    CHECK(id3 || sync);
    /* The first frame carries the LAME/Xing tag (exact length for players). */
    int tag = 0;
    for (size_t i = 0; i + 4 <= b.len && i < 200; i++)
        if (!memcmp(b.data + i, "Xing", 4) || !memcmp(b.data + i, "Info", 4))
            tag = 1;
    CHECK(tag);
    char path[64];
    snprintf(path, sizeof path, "/tmp/recite-test-%d.mp3", (int)getpid());
    write_file(path, &b);
    int64_t f = ffprobe_ms(path);
    if (f != -2)
        CHECK(f >= 950 && f <= 1100);
    unlink(path);
    buf_free(&b);

    p.rate = 1000;
    CHECK_INT(audio_encode_mp3(&p, &b, err, sizeof err), -1);   /* below any MP3 rate */
    buf_free(&b);
    pcm_free(&p);
}

/* Streaming to a file: the same bytes as the one-shot encoder for WAV (sizes patched at
 * the end), a decodable Ogg Opus and MP3 of the summed length, silence counted. */
static void test_stream(void)
{
    char err[256] = "", path[64];
    struct pcm p = { .rate = 22050 };
    add_square(&p, 22050, 3000);
    struct buf want = { 0 };
    CHECK_INT(audio_encode_wav(&p, &want, err, sizeof err), 0);
    static const char *const ext[] = { "wav", "ogg", "mp3" };
    for (int k = 0; k < 3; k++) {
        snprintf(path, sizeof path, "/tmp/recite-test-stream-%d.%s", (int)getpid(), ext[k]);
        enum audio_format fmt;
        CHECK_INT(audio_format_for(path, &fmt), 0);
        struct audio_stream *s = audio_stream_open(path, fmt, p.rate, err, sizeof err);
        CHECK(s != NULL);
        if (!s)
            continue;
        /* two halves and no silence for WAV (compared byte for byte), else 500 ms more */
        CHECK_INT(audio_stream_write(s, p.samples, 10000, err, sizeof err), 0);
        CHECK_INT(audio_stream_write(s, p.samples + 10000, p.count - 10000, err, sizeof err), 0);
        if (k > 0)
            CHECK_INT(audio_stream_silence(s, 500, err, sizeof err), 0);
        CHECK_INT(audio_stream_samples(s), (int64_t)p.count + (k > 0 ? 11025 : 0));
        CHECK_INT(audio_stream_close(s, err, sizeof err), 0);
        FILE *f = fopen(path, "rb");
        struct buf got = { 0 };
        CHECK(f && buf_read_stream(&got, f) == 0);
        if (f)
            fclose(f);
        if (k == 0) {
            CHECK_INT(got.len, want.len);
            CHECK(got.len == want.len && memcmp(got.data, want.data, got.len) == 0);
        } else {
            struct pcm d = { 0 };
            CHECK_INT(audio_decode(got.data, got.len, &d, err, sizeof err), 0);
            int64_t ms = pcm_duration_ms(&d);
            CHECK(ms >= 1450 && ms <= 1600);   /* 1.5 s (MP3 may add a frame) */
            pcm_free(&d);
        }
        buf_free(&got);
        unlink(path);
    }
    enum audio_format fmt;
    CHECK(audio_format_for("x.flac", &fmt) != 0 && audio_format_for("noext", &fmt) != 0);
    CHECK(audio_stream_open("/nonexistent-dir/x.wav", AUDIO_FMT_WAV, 16000, err, sizeof err) == NULL);
    CHECK(strstr(err, "cannot write") != NULL);
    buf_free(&want);
    pcm_free(&p);
}

int main(void)
{
    test_buffers();
    test_trim();
    test_fit();
    test_opus();
    test_probe();
    test_wav();
    test_mp3();
    test_stream();
    CHECK_DONE();
}
