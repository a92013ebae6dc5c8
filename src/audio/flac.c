/* flac — PCM to a FLAC file with libFLAC (16-bit mono, compression level 5), for the
 * OpenAI-compatible endpoint (response_format "flac"). The stream encoder writes into a
 * memory buffer through seek/tell callbacks, so libFLAC rewrites STREAMINFO at the end with
 * the sample count and MD5, as in a file. Any thread; the caller owns `p` and `out`. */
#include "audio/audio.h"
#include <FLAC/stream_encoder.h>
#include <stdio.h>
#include <string.h>

struct sink {
    struct buf *out;
    size_t base;    /* where this stream starts in out (out is appended to) */
    size_t pos;     /* write position relative to base */
};

static FLAC__StreamEncoderWriteStatus on_write(const FLAC__StreamEncoder *enc,
                                               const FLAC__byte buffer[], size_t bytes,
                                               uint32_t samples, uint32_t frame, void *data)
{
    struct sink *s = data;
    size_t at = s->base + s->pos;   /* where these bytes go in out */
    /* overwrite what is already there (the STREAMINFO rewrite at the end), append the rest */
    size_t overlap = s->out->len > at ? s->out->len - at : 0;
    if (overlap > bytes)
        overlap = bytes;
    if (overlap)
        memcpy(s->out->data + at, buffer, overlap);
    if (overlap < bytes && buf_append(s->out, buffer + overlap, bytes - overlap) < 0)
        return FLAC__STREAM_ENCODER_WRITE_STATUS_FATAL_ERROR;
    s->pos += bytes;
    return FLAC__STREAM_ENCODER_WRITE_STATUS_OK;
}

static FLAC__StreamEncoderSeekStatus on_seek(const FLAC__StreamEncoder *enc,
                                             FLAC__uint64 offset, void *data)
{
    struct sink *s = data;
    if (offset > s->out->len - s->base)
        return FLAC__STREAM_ENCODER_SEEK_STATUS_ERROR;
    s->pos = (size_t)offset;
    return FLAC__STREAM_ENCODER_SEEK_STATUS_OK;
}

static FLAC__StreamEncoderTellStatus on_tell(const FLAC__StreamEncoder *enc,
                                             FLAC__uint64 *offset, void *data)
{
    *offset = ((struct sink *)data)->pos;
    return FLAC__STREAM_ENCODER_TELL_STATUS_OK;
}

#define CHUNK 4096

int audio_encode_flac(const struct pcm *p, struct buf *out, char *err, size_t errlen)
{
    if (!p || p->rate <= 0) {
        snprintf(err, errlen, "flac: invalid sample rate");
        return -1;
    }
    FLAC__StreamEncoder *enc = FLAC__stream_encoder_new();
    if (!enc) {
        snprintf(err, errlen, "flac: out of memory");
        return -1;
    }
    struct sink sink = { .out = out, .base = out->len };
    int rc = -1;
    FLAC__stream_encoder_set_channels(enc, 1);
    FLAC__stream_encoder_set_bits_per_sample(enc, 16);
    FLAC__stream_encoder_set_sample_rate(enc, (uint32_t)p->rate);
    FLAC__stream_encoder_set_compression_level(enc, 5);
    FLAC__stream_encoder_set_total_samples_estimate(enc, p->count);
    FLAC__StreamEncoderInitStatus st =
        FLAC__stream_encoder_init_stream(enc, on_write, on_seek, on_tell, NULL, &sink);
    if (st != FLAC__STREAM_ENCODER_INIT_STATUS_OK) {
        snprintf(err, errlen, "flac: %s", FLAC__StreamEncoderInitStatusString[st]);
        goto out;
    }
    FLAC__int32 block[CHUNK];
    for (size_t i = 0; i < p->count;) {
        size_t n = p->count - i < CHUNK ? p->count - i : CHUNK;
        for (size_t k = 0; k < n; k++)
            block[k] = p->samples[i + k];
        if (!FLAC__stream_encoder_process_interleaved(enc, block, (uint32_t)n)) {
            snprintf(err, errlen, "flac: %s",
                     FLAC__StreamEncoderStateString[FLAC__stream_encoder_get_state(enc)]);
            goto out;
        }
        i += n;
    }
    if (!FLAC__stream_encoder_finish(enc)) {
        snprintf(err, errlen, "flac: %s",
                 FLAC__StreamEncoderStateString[FLAC__stream_encoder_get_state(enc)]);
        goto out;
    }
    rc = 0;
out:
    FLAC__stream_encoder_delete(enc);
    if (rc < 0)
        out->len = sink.base;
    return rc;
}
