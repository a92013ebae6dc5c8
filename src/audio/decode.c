/* decode — audio that comes back from an upstream TTS server, to mono PCM: Ogg Opus
 * (libopusfile), WAV (parsed here: PCM 8/16/24/32-bit, IEEE float, WAVE_FORMAT_EXTENSIBLE)
 * and MP3 (libmpg123). Also the in-place OpusHead output-gain edit that levels an Ogg Opus
 * stream without re-encoding it.
 *
 * Pure functions on caller-owned buffers; any thread (each call has its own decoder). */
#include "audio/audio.h"
#include <math.h>
#include <mpg123.h>
#include <opusfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum audio_container audio_sniff(const unsigned char *d, size_t len)
{
    if (len >= 36 && !memcmp(d, "OggS", 4) && !memcmp(d + 28, "OpusHead", 8))
        return AUDIO_OGG_OPUS;
    if (len >= 12 && !memcmp(d, "RIFF", 4) && !memcmp(d + 8, "WAVE", 4))
        return AUDIO_WAV;
    if (len >= 3 && !memcmp(d, "ID3", 3))
        return AUDIO_MP3;
    if (len >= 2 && d[0] == 0xff && (d[1] & 0xe0) == 0xe0 && (d[1] & 0x06) != 0)
        return AUDIO_MP3;   /* frame sync, layer != reserved */
    return AUDIO_UNKNOWN;
}

/* Appends interleaved frames averaged to mono. */
static int append_mix(struct pcm *out, const float *x, size_t frames, int ch)
{
    int16_t tmp[1024];
    size_t n = 0;
    for (size_t f = 0; f < frames; f++) {
        float s = 0;
        for (int c = 0; c < ch; c++)
            s += x[f * (size_t)ch + (size_t)c];
        s = s / (float)ch * 32768.0f;
        long v = lrintf(s);
        tmp[n++] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
        if (n == sizeof tmp / sizeof tmp[0] || f + 1 == frames) {
            if (pcm_append(out, tmp, n) < 0)
                return -1;
            n = 0;
        }
    }
    return 0;
}

/* ---- Ogg Opus -------------------------------------------------------------------- */

/* Every sample of an opened stream, read the same way for memory and for a stream still
 * being written (audio_opus_level_stream), so both measure the same samples. */
static int decode_opus_file(OggOpusFile *of, struct pcm *out, char *err, size_t errlen)
{
    out->rate = 48000;
    float buf[5760 * 2];
    for (;;) {
        /* Stereo downmix by opusfile for any channel count; we then average L and R. */
        int n = op_read_float_stereo(of, buf, (int)(sizeof buf / sizeof buf[0]));
        if (n == OP_HOLE)
            continue;   /* a gap in the stream: keep what follows */
        if (n < 0) {
            snprintf(err, errlen, "Ogg Opus decoding failed (opusfile error %d)", n);
            return -1;
        }
        if (n == 0)
            return 0;
        if (append_mix(out, buf, (size_t)n, 2) < 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
}

static int decode_opus(const unsigned char *data, size_t len, struct pcm *out, char *err,
                       size_t errlen)
{
    int e = 0;
    OggOpusFile *of = op_open_memory(data, len, &e);
    if (!of) {
        snprintf(err, errlen, "not a valid Ogg Opus stream (opusfile error %d)", e);
        return -1;
    }
    int rc = decode_opus_file(of, out, err, errlen);
    op_free(of);
    return rc;
}

int audio_opus_channels(const unsigned char *data, size_t len)
{
    if (audio_sniff(data, len) != AUDIO_OGG_OPUS || len < 28 + 19)
        return -1;
    return data[28 + 9];
}

int audio_opus_add_gain(unsigned char *data, size_t len, double gain_db)
{
    if (audio_sniff(data, len) != AUDIO_OGG_OPUS || len < 27)
        return -1;
    /* The first page holds exactly the OpusHead packet (RFC 7845 section 3). */
    int nseg = data[26];
    size_t hdr = 27 + (size_t)nseg, body = 0;
    if (len < hdr)
        return -1;
    for (int i = 0; i < nseg; i++)
        body += data[27 + i];
    if (len < hdr + body || body < 19 || memcmp(data + hdr, "OpusHead", 8))
        return -1;
    unsigned char *head = data + hdr;
    int16_t q = (int16_t)(head[16] | head[17] << 8);   /* Q7.8 dB */
    long nq = lrint(q + gain_db * 256.0);
    if (nq < -32768 || nq > 32767)
        return -1;
    head[16] = (unsigned char)(nq & 0xff);
    head[17] = (unsigned char)((nq >> 8) & 0xff);
    uint32_t crc = audio_ogg_crc(data, hdr + body);
    data[22] = (unsigned char)(crc & 0xff);
    data[23] = (unsigned char)(crc >> 8 & 0xff);
    data[24] = (unsigned char)(crc >> 16 & 0xff);
    data[25] = (unsigned char)(crc >> 24 & 0xff);
    return 0;
}

/* audio_opus_level's rule: the header gain that brings the decoded samples to target_lufs
 * (at most +-AUDIO_OPUS_TRIM_DB, never past a decoded peak of -0.1 dBFS); 0: leave it. */
static double trim_db(const struct pcm *p, double target_lufs)
{
    double l = audio_loudness_lufs(p);
    int peak = 1;
    for (size_t i = 0; i < p->count; i++)
        if (abs(p->samples[i]) > peak)
            peak = abs(p->samples[i]);
    if (!isfinite(l))
        return 0;
    double db = target_lufs - l, room = -0.1 - 20.0 * log10(peak / 32767.0);
    if (db > AUDIO_OPUS_TRIM_DB)
        db = AUDIO_OPUS_TRIM_DB;
    if (db < -AUDIO_OPUS_TRIM_DB)
        db = -AUDIO_OPUS_TRIM_DB;
    if (db > room)
        db = room > 0 ? room : 0;
    return fabs(db) < 0.02 ? 0 : db;
}

int audio_opus_level(struct buf *ogg, double target_lufs, double *applied_db)
{
    if (applied_db)
        *applied_db = 0;
    struct pcm p;
    char err[160];
    if (audio_sniff(ogg->data, ogg->len) != AUDIO_OGG_OPUS ||
        audio_decode(ogg->data, ogg->len, &p, err, sizeof err) < 0)
        return -1;
    double db = trim_db(&p, target_lufs);
    pcm_free(&p);
    if (db == 0)
        return 0;
    if (audio_opus_add_gain(ogg->data, ogg->len, db) < 0)
        return -1;
    if (applied_db)
        *applied_db = db;
    return 0;
}

int audio_opus_level_stream(audio_read_fn read, void *stream, double target_lufs, double *db)
{
    *db = 0;
    /* no seek: opusfile reads the stream once, front to back, as it arrives */
    OpusFileCallbacks cb = { read, NULL, NULL, NULL };
    int e = 0;
    OggOpusFile *of = op_open_callbacks(stream, &cb, NULL, 0, &e);
    if (!of)
        return -1;
    struct pcm p = { 0 };
    char err[160];
    int rc = decode_opus_file(of, &p, err, sizeof err);
    op_free(of);
    if (rc == 0)
        *db = trim_db(&p, target_lufs);
    pcm_free(&p);
    return rc;
}

/* ---- WAV ------------------------------------------------------------------------- */

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static int decode_wav(const unsigned char *d, size_t len, struct pcm *out, char *err,
                      size_t errlen)
{
    const unsigned char *fmt = NULL, *samples = NULL;
    size_t nbytes = 0;
    for (size_t off = 12; off + 8 <= len;) {
        uint32_t sz = le32(d + off + 4);
        const unsigned char *chunk = d + off + 8;
        size_t avail = len - off - 8;
        if (!memcmp(d + off, "fmt ", 4) && sz >= 16 && sz <= avail) {
            fmt = chunk;
        } else if (!memcmp(d + off, "data", 4)) {
            samples = chunk;
            /* Streaming servers write 0 or 0xffffffff as the size: take what is there. */
            nbytes = sz == 0 || sz > avail ? avail : sz;
            break;
        }
        if (sz > avail)
            break;
        off += 8 + (size_t)sz + (sz & 1);
    }
    if (!fmt || !samples) {
        snprintf(err, errlen, "WAV without a fmt or data chunk");
        return -1;
    }
    unsigned tag = le16(fmt), ch = le16(fmt + 2), bits = le16(fmt + 14);
    uint32_t rate = le32(fmt + 4);
    if (tag == 0xfffe && le32(fmt - 4) >= 40)   /* WAVE_FORMAT_EXTENSIBLE: sub-format GUID */
        tag = le16(fmt + 24);
    int is_float = tag == 3;
    if ((tag != 1 && tag != 3) || ch < 1 || ch > 16 || rate < 1000 || rate > 384000 ||
        (is_float ? bits != 32 && bits != 64 : bits != 8 && bits != 16 && bits != 24 && bits != 32)) {
        snprintf(err, errlen, "unsupported WAV encoding (format %u, %u bits, %u channels, %u Hz)",
                 tag, bits, ch, (unsigned)rate);
        return -1;
    }
    out->rate = (int)rate;
    size_t bps = bits / 8, frame = bps * ch, frames = nbytes / frame;
    float buf[1024 * 16];
    size_t per = sizeof buf / sizeof buf[0] / ch;
    for (size_t f0 = 0; f0 < frames; f0 += per) {
        size_t nf = frames - f0 < per ? frames - f0 : per;
        for (size_t i = 0; i < nf * ch; i++) {
            const unsigned char *p = samples + (f0 * ch + i) * bps;
            float v;
            if (is_float && bits == 32) {
                uint32_t u = le32(p);
                memcpy(&v, &u, 4);
            } else if (is_float) {
                uint64_t u = le32(p) | (uint64_t)le32(p + 4) << 32;
                double dv;
                memcpy(&dv, &u, 8);
                v = (float)dv;
            } else if (bits == 8) {
                v = ((float)p[0] - 128.0f) / 128.0f;
            } else if (bits == 16) {
                v = (float)(int16_t)le16(p) / 32768.0f;
            } else if (bits == 24) {
                int32_t s = (int32_t)((uint32_t)p[0] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 24);
                v = (float)(s / 256) / 8388608.0f;
            } else {
                v = (float)((double)(int32_t)le32(p) / 2147483648.0);
            }
            if (!(v == v))
                v = 0;   /* NaN in a float WAV */
            buf[i] = v > 1.0f ? 1.0f : v < -1.0f ? -1.0f : v;
        }
        if (append_mix(out, buf, nf, (int)ch) < 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

/* ---- MP3 ------------------------------------------------------------------------- */

static int decode_mp3(const unsigned char *data, size_t len, struct pcm *out, char *err,
                      size_t errlen)
{
    int e = MPG123_OK, rc = -1;
    mpg123_handle *mh = mpg123_new(NULL, &e);
    if (!mh) {
        snprintf(err, errlen, "mpg123: %s", mpg123_plain_strerror(e));
        return -1;
    }
    /* ADD: keep the default flags, gapless decoding (LAME's delay and padding) among them. */
    mpg123_param(mh, MPG123_ADD_FLAGS, MPG123_QUIET | MPG123_MONO_MIX | MPG123_FORCE_FLOAT, 0);
    mpg123_format_none(mh);
    const long *rates;
    size_t nrates;
    mpg123_rates(&rates, &nrates);
    for (size_t i = 0; i < nrates; i++)
        mpg123_format(mh, rates[i], MPG123_MONO, MPG123_ENC_FLOAT_32);
    if (mpg123_open_feed(mh) != MPG123_OK || mpg123_feed(mh, data, len) != MPG123_OK) {
        snprintf(err, errlen, "mpg123: %s", mpg123_strerror(mh));
        goto out;
    }
    float buf[4096];
    for (;;) {
        size_t done = 0;
        int r = mpg123_read(mh, buf, sizeof buf, &done);
        if (r == MPG123_NEW_FORMAT) {
            long rate;
            int ch, enc;
            mpg123_getformat(mh, &rate, &ch, &enc);
            out->rate = (int)rate;
        }
        if (done && append_mix(out, buf, done / sizeof(float), 1) < 0) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        if (r == MPG123_NEED_MORE || r == MPG123_DONE)
            break;
        if (r != MPG123_OK && r != MPG123_NEW_FORMAT) {
            snprintf(err, errlen, "mpg123: %s", mpg123_strerror(mh));
            goto out;
        }
    }
    if (out->rate <= 0 || out->count == 0) {
        snprintf(err, errlen, "no MP3 audio frames in the response");
        goto out;
    }
    rc = 0;
out:
    mpg123_delete(mh);
    return rc;
}

int audio_decode(const unsigned char *data, size_t len, struct pcm *out, char *err,
                 size_t errlen)
{
    memset(out, 0, sizeof *out);
    int rc;
    switch (audio_sniff(data, len)) {
    case AUDIO_OGG_OPUS:
        rc = decode_opus(data, len, out, err, errlen);
        break;
    case AUDIO_WAV:
        rc = decode_wav(data, len, out, err, errlen);
        break;
    case AUDIO_MP3:
        rc = decode_mp3(data, len, out, err, errlen);
        break;
    default:
        snprintf(err, errlen, "unrecognised audio format (neither Ogg Opus, WAV nor MP3)");
        rc = -1;
    }
    if (rc < 0)
        pcm_free(out);
    return rc;
}
