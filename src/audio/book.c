/* book — chapters and metadata into .m4b / .mp3 / .ogg with libavformat (see book.h).
 * Any thread; everything allocated here is freed before returning. */
#include "audio/book.h"
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define BOOK_BITRATE 64000

int book_format_for(const char *path, enum book_format *fmt)
{
    const char *ext = path ? strrchr(path, '.') : NULL;
    if (!ext)
        return -1;
    if (!strcasecmp(ext, ".m4b"))
        *fmt = BOOK_M4B;
    else if (!strcasecmp(ext, ".mp3"))
        *fmt = BOOK_MP3;
    else if (!strcasecmp(ext, ".ogg") || !strcasecmp(ext, ".opus"))
        *fmt = BOOK_OGG;
    else
        return -1;
    return 0;
}

struct job {
    AVFormatContext *ic, *oc;
    AVStream *ist, *ost;
    AVCodecContext *dec, *enc;
    SwrContext *swr;
    AVAudioFifo *fifo;
    AVFrame *frame, *out;
    AVPacket *pkt;
    int64_t next_pts;
    char *err;
    size_t errlen;
};

static int fail(struct job *j, const char *what, int averr)
{
    char buf[128] = "";
    if (averr < 0)
        av_strerror(averr, buf, sizeof buf);
    snprintf(j->err, j->errlen, "%s%s%s", what, buf[0] ? ": " : "", buf);
    return -1;
}

static int set_chapters(AVFormatContext *oc, const struct book_chapter *ch, int n)
{
    oc->chapters = av_calloc((size_t)n, sizeof *oc->chapters);
    if (!oc->chapters)
        return -1;
    for (int i = 0; i < n; i++) {
        AVChapter *c = av_mallocz(sizeof *c);
        if (!c)
            return -1;
        oc->chapters[oc->nb_chapters++] = c;
        c->id = i + 1;
        c->time_base = (AVRational){ 1, 1000 };
        c->start = ch[i].start_ms;
        c->end = ch[i].end_ms;
        if (av_dict_set(&c->metadata, "title", ch[i].title ? ch[i].title : "", 0) < 0)
            return -1;
    }
    return 0;
}

/* Ogg: the chapter comments written here (CHAPTERnnn=HH:MM:SS.mmm, CHAPTERnnnNAME), not by
 * libavformat, whose writer rounds the seconds to the nearest instead of truncating them
 * (ffmpeg 5.1: a chapter at 1.879 s came out as 00:00:02.879). */
static int set_ogg_chapters(AVDictionary **d, const struct book_chapter *ch, int n)
{
    for (int i = 0; i < n && i < 1000; i++) {
        char key[32], val[32];
        int64_t t = ch[i].start_ms < 0 ? 0 : ch[i].start_ms;
        snprintf(key, sizeof key, "CHAPTER%03d", i);
        snprintf(val, sizeof val, "%02d:%02d:%02d.%03d", (int)(t / 3600000), (int)(t / 60000 % 60),
                 (int)(t / 1000 % 60), (int)(t % 1000));
        if (av_dict_set(d, key, val, 0) < 0)
            return -1;
        snprintf(key, sizeof key, "CHAPTER%03dNAME", i);
        if (av_dict_set(d, key, ch[i].title ? ch[i].title : "", 0) < 0)
            return -1;
    }
    return 0;
}

/* The encoder's sample formats (AV_SAMPLE_FMT_NONE-terminated, or NULL: any). FFmpeg 7.1
 * (Debian 13) deprecates AVCodec.sample_fmts for avcodec_get_supported_config(). */
static const enum AVSampleFormat *encoder_formats(const AVCodec *enc)
{
#if LIBAVCODEC_VERSION_INT >= AV_VERSION_INT(61, 13, 100)
    const void *fmts = NULL;
    int n = 0;
    if (avcodec_get_supported_config(NULL, enc, AV_CODEC_CONFIG_SAMPLE_FORMAT, 0, &fmts, &n) < 0)
        return NULL;
    return fmts;
#else
    return enc->sample_fmts;
#endif
}

static int open_encoder(struct job *j, enum book_format fmt)
{
    const AVCodec *enc = fmt == BOOK_M4B ? avcodec_find_encoder(AV_CODEC_ID_AAC)
                                         : avcodec_find_encoder_by_name("libmp3lame");
    if (!enc)
        return fail(j, fmt == BOOK_M4B ? "this ffmpeg has no AAC encoder" : "this ffmpeg has no MP3 encoder", 0);
    const AVCodec *dec = avcodec_find_decoder(j->ist->codecpar->codec_id);
    if (!dec || !(j->dec = avcodec_alloc_context3(dec)) ||
        avcodec_parameters_to_context(j->dec, j->ist->codecpar) < 0 || avcodec_open2(j->dec, dec, NULL) < 0)
        return fail(j, "cannot decode the rendered audio", 0);
    if (!(j->enc = avcodec_alloc_context3(enc)))
        return fail(j, "out of memory", 0);
    j->enc->sample_rate = j->dec->sample_rate;
    av_channel_layout_default(&j->enc->ch_layout, 1);
    const enum AVSampleFormat *fmts = encoder_formats(enc);
    j->enc->sample_fmt = fmts ? fmts[0] : AV_SAMPLE_FMT_FLTP;
    for (const enum AVSampleFormat *f = fmts; f && *f != AV_SAMPLE_FMT_NONE; f++)
        if (*f == AV_SAMPLE_FMT_FLTP)
            j->enc->sample_fmt = *f;
    j->enc->bit_rate = BOOK_BITRATE;
    j->enc->time_base = (AVRational){ 1, j->enc->sample_rate };
    if (j->oc->oformat->flags & AVFMT_GLOBALHEADER)
        j->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    int rc = avcodec_open2(j->enc, enc, NULL);
    if (rc < 0)
        return fail(j, "cannot open the encoder", rc);
    if ((rc = avcodec_parameters_from_context(j->ost->codecpar, j->enc)) < 0)
        return fail(j, "encoder parameters", rc);
    j->ost->time_base = j->enc->time_base;
    rc = swr_alloc_set_opts2(&j->swr, &j->enc->ch_layout, j->enc->sample_fmt, j->enc->sample_rate,
                             &j->dec->ch_layout, j->dec->sample_fmt, j->dec->sample_rate, 0, NULL);
    if (rc < 0 || swr_init(j->swr) < 0)
        return fail(j, "cannot set up the sample conversion", rc);
    j->fifo = av_audio_fifo_alloc(j->enc->sample_fmt, 1, 4096);
    j->out = av_frame_alloc();
    if (!j->fifo || !j->out)
        return fail(j, "out of memory", 0);
    return 0;
}

/* Sends one frame (or NULL: flush) to the encoder and writes what comes out. */
static int encode(struct job *j, AVFrame *f)
{
    int rc = avcodec_send_frame(j->enc, f);
    if (rc < 0)
        return fail(j, "encoding", rc);
    for (;;) {
        AVPacket *p = av_packet_alloc();
        if (!p)
            return fail(j, "out of memory", 0);
        rc = avcodec_receive_packet(j->enc, p);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) {
            av_packet_free(&p);
            return 0;
        }
        if (rc < 0) {
            av_packet_free(&p);
            return fail(j, "encoding", rc);
        }
        p->stream_index = 0;
        av_packet_rescale_ts(p, j->enc->time_base, j->ost->time_base);
        rc = av_interleaved_write_frame(j->oc, p);
        av_packet_free(&p);
        if (rc < 0)
            return fail(j, "writing", rc);
    }
}

/* Encodes whole encoder frames from the FIFO (all that is left when `last`). */
static int drain_fifo(struct job *j, int last)
{
    int fs = j->enc->frame_size > 0 ? j->enc->frame_size : 1152;
    while (av_audio_fifo_size(j->fifo) >= fs || (last && av_audio_fifo_size(j->fifo) > 0)) {
        int n = FFMIN(fs, av_audio_fifo_size(j->fifo));
        av_frame_unref(j->out);
        j->out->nb_samples = n;
        j->out->format = j->enc->sample_fmt;
        j->out->sample_rate = j->enc->sample_rate;
        if (av_channel_layout_copy(&j->out->ch_layout, &j->enc->ch_layout) < 0 ||
            av_frame_get_buffer(j->out, 0) < 0)
            return fail(j, "out of memory", 0);
        if (av_audio_fifo_read(j->fifo, (void **)j->out->data, n) < n)
            return fail(j, "sample buffer", 0);
        j->out->pts = j->next_pts;
        j->next_pts += n;
        if (encode(j, j->out))
            return -1;
    }
    return 0;
}

/* Decoded frames -> converted samples -> FIFO -> encoder. pkt NULL flushes the decoder. */
static int transcode(struct job *j, AVPacket *pkt)
{
    int rc = avcodec_send_packet(j->dec, pkt);
    if (rc < 0 && rc != AVERROR_INVALIDDATA)
        return fail(j, "decoding", rc);
    while ((rc = avcodec_receive_frame(j->dec, j->frame)) >= 0) {
        int max = swr_get_out_samples(j->swr, j->frame->nb_samples);
        uint8_t *buf[1] = { NULL };
        if (max <= 0 || av_samples_alloc(buf, NULL, 1, max, j->enc->sample_fmt, 0) < 0)
            return fail(j, "out of memory", 0);
        int got = swr_convert(j->swr, buf, max, (const uint8_t **)j->frame->extended_data, j->frame->nb_samples);
        if (got > 0 && av_audio_fifo_write(j->fifo, (void **)buf, got) < got) {
            av_freep(&buf[0]);
            return fail(j, "out of memory", 0);
        }
        av_freep(&buf[0]);
        av_frame_unref(j->frame);
        if (drain_fifo(j, 0))
            return -1;
    }
    if (rc != AVERROR(EAGAIN) && rc != AVERROR_EOF)
        return fail(j, "decoding", rc);
    return 0;
}

static void set_meta(AVDictionary **d, const struct book_meta *m, enum book_format fmt)
{
    if (m && m->title && *m->title) {
        av_dict_set(d, "title", m->title, 0);
        av_dict_set(d, "album", m->title, 0);
    }
    if (m && m->author && *m->author) {
        av_dict_set(d, "artist", m->author, 0);
        av_dict_set(d, "album_artist", m->author, 0);
    }
    if (fmt != BOOK_OGG)
        av_dict_set(d, "genre", "Audiobook", 0);
}

int book_write(const char *in, const char *out, enum book_format fmt,
               const struct book_chapter *ch, int n, const struct book_meta *meta,
               char *err, size_t errlen)
{
    static const char *const muxers[] = { [BOOK_M4B] = "ipod", [BOOK_MP3] = "mp3", [BOOK_OGG] = "ogg" };
    struct job j = { .err = err, .errlen = errlen };
    int rc = avformat_open_input(&j.ic, in, NULL, NULL);
    if (rc < 0 || (rc = avformat_find_stream_info(j.ic, NULL)) < 0) {
        fail(&j, "cannot read the rendered audio", rc);
        goto out;
    }
    int si = av_find_best_stream(j.ic, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
    if (si < 0) {
        fail(&j, "the rendered audio has no audio stream", 0);
        goto out;
    }
    j.ist = j.ic->streams[si];
    rc = avformat_alloc_output_context2(&j.oc, NULL, muxers[fmt], out);
    if (rc < 0 || !(j.ost = avformat_new_stream(j.oc, NULL))) {
        fail(&j, "cannot create the output", rc);
        goto out;
    }
    rc = -1;
    if (fmt == BOOK_OGG) {   /* the Opus packets as they are: no second encoding */
        if (avcodec_parameters_copy(j.ost->codecpar, j.ist->codecpar) < 0) {
            fail(&j, "out of memory", 0);
            goto out;
        }
        j.ost->codecpar->codec_tag = 0;
        j.ost->time_base = j.ist->time_base;
    } else if (open_encoder(&j, fmt)) {
        goto out;
    }
    set_meta(&j.oc->metadata, meta, fmt);
    if (fmt == BOOK_OGG ? set_ogg_chapters(&j.ost->metadata, ch, n) : set_chapters(j.oc, ch, n)) {
        fail(&j, "out of memory", 0);
        goto out;
    }
    if ((rc = avio_open(&j.oc->pb, out, AVIO_FLAG_WRITE)) < 0) {
        fail(&j, "cannot create the output file", rc);
        goto out;
    }
    if ((rc = avformat_write_header(j.oc, NULL)) < 0) {
        fail(&j, "cannot write the file header", rc);
        goto out;
    }
    j.pkt = av_packet_alloc();
    j.frame = av_frame_alloc();
    if (!j.pkt || !j.frame) {
        rc = fail(&j, "out of memory", 0);
        goto out;
    }
    rc = 0;
    while (rc == 0 && av_read_frame(j.ic, j.pkt) >= 0) {
        if (j.pkt->stream_index == si) {
            if (fmt == BOOK_OGG) {
                j.pkt->stream_index = 0;
                av_packet_rescale_ts(j.pkt, j.ist->time_base, j.ost->time_base);
                j.pkt->pos = -1;
                if (av_interleaved_write_frame(j.oc, j.pkt) < 0)
                    rc = fail(&j, "writing", 0);
            } else {
                rc = transcode(&j, j.pkt);
            }
        }
        av_packet_unref(j.pkt);
    }
    if (rc == 0 && fmt != BOOK_OGG)
        rc = transcode(&j, NULL) || drain_fifo(&j, 1) || encode(&j, NULL) ? -1 : 0;
    if (rc == 0 && (rc = av_write_trailer(j.oc)) < 0)
        rc = fail(&j, "cannot finish the file", rc);
out:
    if (j.oc && j.oc->pb)
        avio_closep(&j.oc->pb);
    if (rc && j.oc)
        unlink(out);
    avformat_free_context(j.oc);   /* frees the chapters too */
    avformat_close_input(&j.ic);
    avcodec_free_context(&j.dec);
    avcodec_free_context(&j.enc);
    swr_free(&j.swr);
    if (j.fifo)
        av_audio_fifo_free(j.fifo);
    av_frame_free(&j.frame);
    av_frame_free(&j.out);
    av_packet_free(&j.pkt);
    return rc ? -1 : 0;
}
