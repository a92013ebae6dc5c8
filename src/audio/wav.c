/* wav — PCM to a RIFF/WAVE file (16-bit little-endian mono), for export and the
 * OpenAI-compatible endpoint. Any thread; the caller owns `p` and `out`. */
#include "audio/audio.h"
#include <stdio.h>
#include <string.h>

static void put_le32(unsigned char *b, uint32_t v)
{
    b[0] = (unsigned char)v;
    b[1] = (unsigned char)(v >> 8);
    b[2] = (unsigned char)(v >> 16);
    b[3] = (unsigned char)(v >> 24);
}

static void put_le16(unsigned char *b, uint16_t v)
{
    b[0] = (unsigned char)v;
    b[1] = (unsigned char)(v >> 8);
}

int audio_encode_wav(const struct pcm *p, struct buf *out, char *err, size_t errlen)
{
    if (!p || p->rate <= 0) {
        snprintf(err, errlen, "wav: invalid sample rate");
        return -1;
    }
    /* RIFF sizes are 32-bit: the data chunk plus 36 header bytes must fit. */
    if (p->count > (UINT32_MAX - 36) / 2) {
        snprintf(err, errlen, "wav: audio too long for a WAV file");
        return -1;
    }
    uint32_t data_len = (uint32_t)p->count * 2;
    unsigned char h[44];
    memcpy(h, "RIFF", 4);
    put_le32(h + 4, 36 + data_len);
    memcpy(h + 8, "WAVEfmt ", 8);
    put_le32(h + 16, 16);                       /* fmt chunk size */
    put_le16(h + 20, 1);                        /* PCM */
    put_le16(h + 22, 1);                        /* mono */
    put_le32(h + 24, (uint32_t)p->rate);
    put_le32(h + 28, (uint32_t)p->rate * 2);    /* byte rate */
    put_le16(h + 32, 2);                        /* block align */
    put_le16(h + 34, 16);                       /* bits per sample */
    memcpy(h + 36, "data", 4);
    put_le32(h + 40, data_len);
    if (buf_append(out, h, sizeof h) < 0)
        goto nomem;
    /* Samples are host-endian int16; WAV wants little-endian. Convert in chunks so the
     * code is right on big-endian hosts too without a full copy. */
    unsigned char chunk[4096];
    size_t i = 0;
    while (i < p->count) {
        size_t n = 0;
        for (; n + 2 <= sizeof chunk && i < p->count; n += 2, i++)
            put_le16(chunk + n, (uint16_t)p->samples[i]);
        if (buf_append(out, chunk, n) < 0)
            goto nomem;
    }
    return 0;
nomem:
    snprintf(err, errlen, "wav: out of memory");
    return -1;
}
