/* stream — one audio file written incrementally (Ogg Opus, WAV or MP3), so that a document
 * of any length is exported with memory bounded by one block, not by the whole book.
 * One thread at a time per stream (export: the main thread); the stream owns its encoder
 * and its FILE; audio_stream_close frees everything.
 *
 * Opus goes through libopusenc's own file writer (it resamples to 48 kHz itself). WAV
 * writes a header with placeholder sizes and patches them at the end (sizes over 4 GiB
 * are capped at the RIFF maximum, as other tools do). MP3 streams LAME frames and, when
 * the file is seekable, rewrites the leading LAME/Xing tag at the end with the exact frame
 * count, so players show the true duration. */
#include "audio/audio.h"
#include <lame/lame.h>
#include <opus/opusenc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MP3_CHUNK 8192
#define MP3_VBR_QUALITY 5.0f

struct audio_stream {
    enum audio_format fmt;
    int rate;
    int64_t samples;
    FILE *f;                    /* WAV, MP3 */
    OggOpusEnc *ope;            /* Opus */
    OggOpusComments *comments;
    lame_global_flags *lame;
    unsigned char *mp3;         /* LAME output buffer */
    size_t mp3cap;
};

/* lame_init/lame_init_params set up shared tables without a lock (see mp3.c). */
static pthread_mutex_t lame_init_lock = PTHREAD_MUTEX_INITIALIZER;

int audio_format_for(const char *path, enum audio_format *out)
{
    const char *ext = path ? strrchr(path, '.') : NULL;
    if (!ext)
        return -1;
    if (!strcmp(ext, ".ogg") || !strcmp(ext, ".opus"))
        *out = AUDIO_FMT_OPUS;
    else if (!strcmp(ext, ".wav"))
        *out = AUDIO_FMT_WAV;
    else if (!strcmp(ext, ".mp3"))
        *out = AUDIO_FMT_MP3;
    else
        return -1;
    return 0;
}

static void put_le(unsigned char *b, uint32_t v, int n)
{
    for (int i = 0; i < n; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

static void wav_header(unsigned char h[44], int rate, int64_t samples)
{
    int64_t data = samples * 2;
    uint32_t d = data > (int64_t)UINT32_MAX - 36 ? UINT32_MAX - 36 : (uint32_t)data;
    memcpy(h, "RIFF", 4);
    put_le(h + 4, 36 + d, 4);
    memcpy(h + 8, "WAVEfmt ", 8);
    put_le(h + 16, 16, 4);
    put_le(h + 20, 1, 2);                       /* PCM */
    put_le(h + 22, 1, 2);                       /* mono */
    put_le(h + 24, (uint32_t)rate, 4);
    put_le(h + 28, (uint32_t)rate * 2, 4);
    put_le(h + 32, 2, 2);
    put_le(h + 34, 16, 2);
    memcpy(h + 36, "data", 4);
    put_le(h + 40, d, 4);
}

static int open_opus(struct audio_stream *s, const char *path, char *err, size_t errlen)
{
    int e = OPE_ALLOC_FAIL;
    s->comments = ope_comments_create();
    if (s->comments)
        s->ope = ope_encoder_create_file(path, s->comments, s->rate, 1, 0, &e);
    if (!s->ope) {
        snprintf(err, errlen, "cannot write %s: %s", path, ope_strerror(e));
        return -1;
    }
    if ((e = ope_encoder_ctl(s->ope, OPUS_SET_BITRATE(AUDIO_OPUS_BITRATE))) != OPE_OK ||
        (e = ope_encoder_ctl(s->ope, OPUS_SET_COMPLEXITY(AUDIO_OPUS_COMPLEXITY))) != OPE_OK ||
        (e = ope_encoder_ctl(s->ope, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE))) != OPE_OK) {
        snprintf(err, errlen, "opus configure: %s", ope_strerror(e));
        return -1;
    }
    return 0;
}

static int open_mp3(struct audio_stream *s, char *err, size_t errlen)
{
    if (s->rate < 8000 || s->rate > 48000) {
        snprintf(err, errlen, "mp3: unsupported sample rate %d", s->rate);
        return -1;
    }
    pthread_mutex_lock(&lame_init_lock);
    s->lame = lame_init();
    int ok = s->lame != NULL;
    if (ok) {
        lame_set_in_samplerate(s->lame, s->rate);
        lame_set_num_channels(s->lame, 1);
        lame_set_mode(s->lame, MONO);
        lame_set_VBR(s->lame, vbr_default);
        lame_set_VBR_quality(s->lame, MP3_VBR_QUALITY);
        lame_set_bWriteVbrTag(s->lame, 1);
        lame_set_write_id3tag_automatic(s->lame, 0);
        ok = lame_init_params(s->lame) >= 0;
    }
    pthread_mutex_unlock(&lame_init_lock);
    s->mp3cap = MP3_CHUNK + MP3_CHUNK / 4 + 7200;   /* LAME's documented worst case */
    s->mp3 = malloc(s->mp3cap);
    if (!ok || !s->mp3) {
        snprintf(err, errlen, "mp3: encoder set-up failed");
        return -1;
    }
    return 0;
}

struct audio_stream *audio_stream_open(const char *path, enum audio_format fmt, int rate,
                                       char *err, size_t errlen)
{
    struct audio_stream *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->fmt = fmt;
    s->rate = rate;
    int rc;
    if (fmt == AUDIO_FMT_OPUS) {
        rc = open_opus(s, path, err, errlen);
    } else {
        s->f = fopen(path, "wb");
        if (!s->f) {
            snprintf(err, errlen, "cannot write %s", path);
            rc = -1;
        } else if (fmt == AUDIO_FMT_WAV) {
            unsigned char h[44];
            wav_header(h, rate, 0);
            rc = fwrite(h, 1, sizeof h, s->f) == sizeof h ? 0 : -1;
            if (rc)
                snprintf(err, errlen, "cannot write %s", path);
        } else {
            rc = open_mp3(s, err, errlen);
        }
    }
    if (rc) {
        audio_stream_close(s, NULL, 0);
        return NULL;
    }
    return s;
}

int audio_stream_rate(const struct audio_stream *s) { return s->rate; }
int64_t audio_stream_samples(const struct audio_stream *s) { return s->samples; }

static int write_wav(struct audio_stream *s, const int16_t *x, size_t n)
{
    unsigned char chunk[4096];
    for (size_t i = 0; i < n;) {
        size_t k = 0;
        for (; k + 2 <= sizeof chunk && i < n; k += 2, i++)
            put_le(chunk + k, (uint16_t)x[i], 2);
        if (fwrite(chunk, 1, k, s->f) != k)
            return -1;
    }
    return 0;
}

static int write_mp3(struct audio_stream *s, const int16_t *x, size_t n)
{
    for (size_t i = 0; i < n; i += MP3_CHUNK) {
        int k = (int)(n - i < MP3_CHUNK ? n - i : MP3_CHUNK);
        int got = lame_encode_buffer(s->lame, x + i, x + i, k, s->mp3, (int)s->mp3cap);
        if (got < 0 || fwrite(s->mp3, 1, (size_t)got, s->f) != (size_t)got)
            return -1;
    }
    return 0;
}

int audio_stream_write(struct audio_stream *s, const int16_t *x, size_t n, char *err,
                       size_t errlen)
{
    int rc = 0;
    switch (s->fmt) {
    case AUDIO_FMT_OPUS:
        for (size_t i = 0; i < n && !rc; i += 1 << 20) {   /* ope takes an int count */
            int k = (int)(n - i < (size_t)1 << 20 ? n - i : (size_t)1 << 20);
            int e = ope_encoder_write(s->ope, x + i, k);
            if (e != OPE_OK) {
                snprintf(err, errlen, "opus encode: %s", ope_strerror(e));
                return -1;
            }
        }
        break;
    case AUDIO_FMT_WAV:
        rc = write_wav(s, x, n);
        break;
    case AUDIO_FMT_MP3:
        rc = write_mp3(s, x, n);
        break;
    }
    if (rc) {
        snprintf(err, errlen, "cannot write the output (disk full?)");
        return -1;
    }
    s->samples += (int64_t)n;
    return 0;
}

int audio_stream_silence(struct audio_stream *s, int ms, char *err, size_t errlen)
{
    static const int16_t zeros[4800];
    int64_t n = (int64_t)ms * s->rate / 1000;
    while (n > 0) {
        size_t k = n < 4800 ? (size_t)n : 4800;
        if (audio_stream_write(s, zeros, k, err, errlen))
            return -1;
        n -= (int64_t)k;
    }
    return 0;
}

/* Finishes the MP3: flush, then the exact tag over the placeholder frame at the start. */
static int close_mp3(struct audio_stream *s)
{
    int got = lame_encode_flush(s->lame, s->mp3, (int)s->mp3cap);
    if (got < 0 || fwrite(s->mp3, 1, (size_t)got, s->f) != (size_t)got)
        return -1;
    size_t tag = lame_get_lametag_frame(s->lame, s->mp3, s->mp3cap);
    if (tag > 0 && tag <= s->mp3cap && fseek(s->f, 0, SEEK_SET) == 0
        && fwrite(s->mp3, 1, tag, s->f) != tag)
        return -1;
    return 0;
}

int audio_stream_close(struct audio_stream *s, char *err, size_t errlen)
{
    if (!s)
        return 0;
    int rc = 0;
    bool finish = err != NULL;   /* NULL err: abandon (error path), just free */
    if (s->ope) {
        if (finish) {
            int e = ope_encoder_drain(s->ope);
            if (e != OPE_OK) {
                snprintf(err, errlen, "opus: %s", ope_strerror(e));
                rc = -1;
            }
        }
        ope_encoder_destroy(s->ope);
    }
    if (s->comments)
        ope_comments_destroy(s->comments);
    if (finish && s->f && s->fmt == AUDIO_FMT_WAV) {
        unsigned char h[44];
        wav_header(h, s->rate, s->samples);
        if (fseek(s->f, 0, SEEK_SET) == 0 && fwrite(h, 1, sizeof h, s->f) != sizeof h)
            rc = -1;
    }
    if (finish && s->f && s->fmt == AUDIO_FMT_MP3 && close_mp3(s))
        rc = -1;
    if (s->f && fclose(s->f) && finish)
        rc = -1;
    if (rc && finish && !err[0])
        snprintf(err, errlen, "cannot write the output (disk full?)");
    if (s->lame)
        lame_close(s->lame);
    free(s->mp3);
    free(s);
    return rc;
}
