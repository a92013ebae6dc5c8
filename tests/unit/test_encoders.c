/* The library encoders behind POST /v1/audio/speech's flac and aac: FLAC (libFLAC) decodes
 * back bit-exact with libFLAC's own decoder, STREAMINFO rewritten with the sample count;
 * AAC (libavcodec) is a chain of ADTS frames (MPEG-4 AAC-LC, 24 kHz, mono) to the last byte. */
#include "check.h"
#include "audio/audio.h"
#include <FLAC/stream_decoder.h>
#include <math.h>
#include <stdlib.h>

#define RATE 24000

struct rd {
    const struct buf *in;
    size_t pos;
    int16_t *out;
    size_t n, cap;
    unsigned rate, channels, bps;
    FLAC__uint64 total;
};

static FLAC__StreamDecoderReadStatus on_read(const FLAC__StreamDecoder *d, FLAC__byte b[],
                                             size_t *bytes, void *data)
{
    struct rd *r = data;
    size_t n = r->in->len - r->pos < *bytes ? r->in->len - r->pos : *bytes;
    memcpy(b, r->in->data + r->pos, n);
    r->pos += n;
    *bytes = n;
    return n ? FLAC__STREAM_DECODER_READ_STATUS_CONTINUE : FLAC__STREAM_DECODER_READ_STATUS_END_OF_STREAM;
}

static FLAC__StreamDecoderWriteStatus on_write(const FLAC__StreamDecoder *d, const FLAC__Frame *f,
                                               const FLAC__int32 *const ch[], void *data)
{
    struct rd *r = data;
    for (unsigned i = 0; i < f->header.blocksize && r->n < r->cap; i++)
        r->out[r->n++] = (int16_t)ch[0][i];
    return FLAC__STREAM_DECODER_WRITE_STATUS_CONTINUE;
}

static void on_meta(const FLAC__StreamDecoder *d, const FLAC__StreamMetadata *m, void *data)
{
    struct rd *r = data;
    if (m->type == FLAC__METADATA_TYPE_STREAMINFO) {
        r->rate = m->data.stream_info.sample_rate;
        r->channels = m->data.stream_info.channels;
        r->bps = m->data.stream_info.bits_per_sample;
        r->total = m->data.stream_info.total_samples;
    }
}

static void on_error(const FLAC__StreamDecoder *d, FLAC__StreamDecoderErrorStatus s, void *data)
{
    (void)data;
    fprintf(stderr, "flac decode error: %s\n", FLAC__StreamDecoderErrorStatusString[s]);
    check_failures++;
}

static void test_flac(const struct pcm *p)
{
    struct buf out = { 0 };
    char err[200];
    buf_append(&out, "x", 1);   /* encoders append: an earlier byte stays */
    CHECK_INT(audio_encode_flac(p, &out, err, sizeof err), 0);
    CHECK(out.len > 4 && !memcmp(out.data + 1, "fLaC", 4));
    CHECK(!p->count || out.len < p->count * 2);   /* it compresses */
    struct buf flac = { .data = out.data + 1, .len = out.len - 1 };
    struct rd r = { .in = &flac, .out = calloc(p->count + 1, sizeof(int16_t)), .cap = p->count + 1 };
    FLAC__StreamDecoder *d = FLAC__stream_decoder_new();
    CHECK(FLAC__stream_decoder_init_stream(d, on_read, NULL, NULL, NULL, NULL, on_write, on_meta,
                                           on_error, &r) == FLAC__STREAM_DECODER_INIT_STATUS_OK);
    CHECK(FLAC__stream_decoder_process_until_end_of_stream(d));
    FLAC__stream_decoder_delete(d);
    CHECK_INT(r.rate, RATE);
    CHECK_INT(r.channels, 1);
    CHECK_INT(r.bps, 16);
    CHECK_INT(r.total, p->count);   /* STREAMINFO rewritten at the end */
    CHECK_INT(r.n, p->count);
    CHECK(r.n == p->count && (!p->count || !memcmp(r.out, p->samples, p->count * sizeof(int16_t))));
    free(r.out);
    buf_free(&out);
}

static void test_aac(const struct pcm *p)
{
    struct buf out = { 0 };
    char err[200];
    CHECK_INT(audio_encode_aac(p, &out, err, sizeof err), 0);
    size_t pos = 0, frames = 0;
    while (pos + 7 <= out.len) {
        const unsigned char *h = out.data + pos;
        if (h[0] != 0xff || (h[1] & 0xf6) != 0xf0)   /* syncword, MPEG-4, layer 0 */
            break;
        CHECK_INT((h[2] >> 6) + 1, 2);               /* AAC LC */
        CHECK_INT((h[2] >> 2) & 0xf, 6);             /* sampling index 6: 24 kHz */
        CHECK_INT(((h[2] & 1) << 2) | (h[3] >> 6), 1);   /* mono */
        size_t len = ((size_t)(h[3] & 3) << 11) | ((size_t)h[4] << 3) | (h[5] >> 5);
        if (len < 7)
            break;
        pos += len;
        frames++;
    }
    CHECK_INT(pos, out.len);   /* ADTS frames to the last byte */
    /* one frame per 1024 samples, plus the encoder's delay and the flush */
    CHECK(frames >= p->count / 1024 && frames <= p->count / 1024 + 3);
    buf_free(&out);
}

int main(void)
{
    struct pcm p = { .rate = RATE };
    int16_t s[RATE];
    for (int i = 0; i < RATE; i++)   /* a second of a 440 Hz tone with a rising edge */
        s[i] = (int16_t)(8000.0 * sin(2 * M_PI * 440.0 * i / RATE) * (i < 2400 ? i / 2400.0 : 1.0));
    CHECK_INT(pcm_append(&p, s, RATE), 0);
    test_flac(&p);
    test_aac(&p);
    struct pcm empty = { .rate = RATE };
    test_flac(&empty);
    pcm_free(&p);
    CHECK_DONE();
}
