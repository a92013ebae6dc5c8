/* opus — PCM to Ogg Opus with libopusenc, written into a caller-owned struct buf.
 * Any thread: each call creates and destroys its own encoder. The caller owns `p` and
 * `out`; on failure `out` may hold a partial stream, which the caller discards.
 *
 * Empty PCM is an error ("no audio to encode"), not an empty stream: a block with nothing
 * to say is reported as `skipped` and never encoded, so an empty stream here would only
 * hide a bug upstream. */
#include "audio/audio.h"
#include <limits.h>
#include <opus/opusenc.h>
#include <stdio.h>

static int write_cb(void *user, const unsigned char *ptr, opus_int32 len)
{
    /* libopusenc: non-zero return means the write failed. */
    return buf_append(user, ptr, (size_t)len) < 0 ? 1 : 0;
}

static int close_cb(void *user)
{
    return 0;
}

/* A serial number derived from the samples (FNV-1a): the same PCM always gives the same
 * bytes (libopusenc would call rand()), yet different blocks get different serials, so
 * concatenated block files still form a valid chained Ogg stream. */
static opus_int32 serial_for(const struct pcm *p)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < p->count; i++) {
        uint16_t s = (uint16_t)p->samples[i];
        h = (h ^ (s & 0xff)) * 16777619u;
        h = (h ^ (s >> 8)) * 16777619u;
    }
    return (opus_int32)(h & 0x7fffffff);
}

int audio_encode_opus(const struct pcm *p, struct buf *out, char *err, size_t errlen)
{
    return audio_encode_opus_params(p, AUDIO_OPUS_BITRATE, AUDIO_OPUS_COMPLEXITY, out, err,
                                    errlen);
}

int audio_encode_opus_params(const struct pcm *p, int bitrate, int complexity, struct buf *out,
                             char *err, size_t errlen)
{
    if (!p || p->count == 0) {
        snprintf(err, errlen, "no audio to encode");
        return -1;
    }
    /* libopusenc accepts 100 Hz .. 768 kHz and resamples anything Opus does not take
     * natively to 48 kHz itself (espeak-ng: 22050 Hz). */
    if (p->rate < 100 || p->rate > 768000) {
        snprintf(err, errlen, "opus: unsupported sample rate %d", p->rate);
        return -1;
    }
    if (p->count > INT_MAX) {
        snprintf(err, errlen, "opus: audio too long");
        return -1;
    }
    int rc = -1, e = OPE_OK;
    const char *what = "create";
    OggOpusEnc *enc = NULL;
    OggOpusComments *comments = ope_comments_create();
    if (!comments) {
        e = OPE_ALLOC_FAIL;
        goto out;
    }
    OpusEncCallbacks cbs = { write_cb, close_cb };
    enc = ope_encoder_create_callbacks(&cbs, out, comments, p->rate, 1, 0, &e);
    if (!enc)
        goto out;
    what = "configure";
    /* No comment padding: libopusenc reserves 512 bytes for later tag edits by default,
     * several percent of a typical block, and nobody edits our tags. */
    if ((e = ope_encoder_ctl(enc, OPE_SET_COMMENT_PADDING(0))) != OPE_OK ||
        (e = ope_encoder_ctl(enc, OPE_SET_SERIALNO(serial_for(p)))) != OPE_OK ||
        (e = ope_encoder_ctl(enc, OPUS_SET_BITRATE(bitrate))) != OPE_OK ||
        (e = ope_encoder_ctl(enc, OPUS_SET_COMPLEXITY(complexity))) != OPE_OK ||
        (e = ope_encoder_ctl(enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE))) != OPE_OK)
        goto out;
    what = "encode";
    if ((e = ope_encoder_write(enc, p->samples, (int)p->count)) != OPE_OK)
        goto out;
    if ((e = ope_encoder_drain(enc)) != OPE_OK)
        goto out;
    rc = 0;
out:
    if (rc < 0)
        snprintf(err, errlen, "opus %s: %s", what, ope_strerror(e));
    if (enc)   /* neither destroy function accepts NULL */
        ope_encoder_destroy(enc);
    if (comments)
        ope_comments_destroy(comments);
    return rc;
}
