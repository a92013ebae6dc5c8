/* aac — PCM to AAC-LC in an ADTS stream (what OpenAI's response_format "aac" returns) with
 * libavcodec's native AAC encoder and libavformat's ADTS muxer writing into memory. Mono,
 * 64 kbit/s, at the PCM's own rate. Any thread; the caller owns `p` and `out`. */
#include "audio/audio.h"
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <stdio.h>

#define AAC_BITRATE 64000
#define IOBUF 4096

/* FFmpeg 7 (Debian 13) made the write callback's buffer const; FFmpeg 5 (Debian 12) not. */
#if LIBAVFORMAT_VERSION_MAJOR >= 61
static int write_out(void *opaque, const uint8_t *data, int n)
#else
static int write_out(void *opaque, uint8_t *data, int n)
#endif
{
    return buf_append(opaque, data, (size_t)n) < 0 ? AVERROR(ENOMEM) : n;
}

/* Sends one frame (NULL: flush) and muxes every packet the encoder has ready. */
static int encode(AVCodecContext *ctx, AVFormatContext *oc, AVFrame *frame, AVPacket *pkt)
{
    int rc = avcodec_send_frame(ctx, frame);
    while (rc >= 0) {
        rc = avcodec_receive_packet(ctx, pkt);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
            return 0;
        if (rc < 0)
            break;
        av_packet_rescale_ts(pkt, ctx->time_base, oc->streams[0]->time_base);
        pkt->stream_index = 0;
        rc = av_write_frame(oc, pkt);
        av_packet_unref(pkt);
    }
    return rc;
}

int audio_encode_aac(const struct pcm *p, struct buf *out, char *err, size_t errlen)
{
    if (!p || p->rate <= 0) {
        snprintf(err, errlen, "aac: invalid sample rate");
        return -1;
    }
    size_t base = out->len;
    av_log_set_level(AV_LOG_ERROR);   /* the encoder's statistics (Qavg...) are not news */
    const char *what = "out of memory";
    int rc = AVERROR(ENOMEM);
    AVCodecContext *ctx = NULL;
    AVFormatContext *oc = NULL;
    AVFrame *frame = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_AAC);
    if (!codec) {
        what = "no AAC encoder in this libavcodec";
        goto out;
    }
    if (!frame || !pkt || !(ctx = avcodec_alloc_context3(codec)))
        goto out;
    ctx->sample_rate = p->rate;
    ctx->sample_fmt = AV_SAMPLE_FMT_FLTP;
    ctx->bit_rate = AAC_BITRATE;
    ctx->time_base = (AVRational){ 1, p->rate };
    av_channel_layout_default(&ctx->ch_layout, 1);
    if ((rc = avformat_alloc_output_context2(&oc, NULL, "adts", NULL)) < 0 || !oc) {
        what = "no ADTS muxer in this libavformat";
        goto out;
    }
    ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;   /* the muxer reads the AudioSpecificConfig */
    if ((rc = avcodec_open2(ctx, codec, NULL)) < 0) {
        what = "cannot open the encoder";
        goto out;
    }
    AVStream *st = avformat_new_stream(oc, NULL);
    unsigned char *iobuf = av_malloc(IOBUF);
    if (!st || !iobuf || avcodec_parameters_from_context(st->codecpar, ctx) < 0) {
        av_free(iobuf);
        rc = AVERROR(ENOMEM);
        goto out;
    }
    st->time_base = ctx->time_base;
    if (!(oc->pb = avio_alloc_context(iobuf, IOBUF, 1, out, NULL, write_out, NULL))) {
        av_free(iobuf);
        rc = AVERROR(ENOMEM);
        goto out;
    }
    what = "writing the stream";
    if ((rc = avformat_write_header(oc, NULL)) < 0)
        goto out;
    frame->format = AV_SAMPLE_FMT_FLTP;
    frame->sample_rate = p->rate;
    frame->nb_samples = ctx->frame_size;
    if ((rc = av_channel_layout_copy(&frame->ch_layout, &ctx->ch_layout)) < 0 ||
        (rc = av_frame_get_buffer(frame, 0)) < 0)
        goto out;
    what = "encoding";
    for (size_t i = 0; i < p->count; i += (size_t)ctx->frame_size) {
        size_t n = p->count - i < (size_t)ctx->frame_size ? p->count - i : (size_t)ctx->frame_size;
        if ((rc = av_frame_make_writable(frame)) < 0)
            goto out;
        float *f = (float *)frame->data[0];
        for (size_t k = 0; k < n; k++)
            f[k] = (float)p->samples[i + k] / 32768.0f;
        frame->nb_samples = (int)n;   /* the encoder takes a short last frame */
        frame->pts = (int64_t)i;
        if ((rc = encode(ctx, oc, frame, pkt)) < 0)
            goto out;
    }
    if ((rc = encode(ctx, oc, NULL, pkt)) < 0 || (rc = av_write_trailer(oc)) < 0)
        goto out;
    avio_flush(oc->pb);
    rc = 0;
out:
    if (rc < 0) {
        char msg[128];
        av_strerror(rc, msg, sizeof msg);
        snprintf(err, errlen, "aac: %s: %s", what, msg);
        out->len = base;
    }
    if (oc) {
        if (oc->pb)
            av_freep(&oc->pb->buffer);
        avio_context_free(&oc->pb);
        avformat_free_context(oc);
    }
    avcodec_free_context(&ctx);
    av_frame_free(&frame);
    av_packet_free(&pkt);
    return rc < 0 ? -1 : 0;
}
