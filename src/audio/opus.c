/* opus — PCM to Ogg Opus with libopusenc, written into a caller-owned struct buf.
 * Any thread: each call creates and destroys its own encoder. The caller owns `p` and
 * `out`; on failure `out` may hold a partial stream, which the caller discards.
 *
 * audio_encode_opus_level also starts one thread for the call (joined before it returns):
 * the exact level check (audio_opus_level) decodes the pages while the encoder writes
 * them, so on a core that would otherwise idle its decoding overlaps the encoding instead
 * of following it (docs/BENCHMARKS.md 7). The encoder
 * appends to `out` under the tap's mutex; the thread copies what is new under it.
 *
 * Also here: opus_custom_mode_create, standing in for libopus's to spare its per-frame CPUID
 * probes (see there).
 *
 * Empty PCM is an error ("no audio to encode"), not an empty stream: a block with nothing
 * to say is reported as `skipped` and never encoded, so an empty stream here would only
 * hide a bug upstream. */
#include "audio/audio.h"
#include <dlfcn.h>
#include <limits.h>
#include <opus/opusenc.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* libopus's CPU probe, per frame. libopus (1.3.1, Debian 12's, built with custom modes and
 * run-time CPU detection) looks up CELT's standard mode with opus_custom_mode_create(48000,
 * 960) whenever it needs a stream's size — on every frame its multistream encoder and
 * decoder handle and on every multistream ctl, which libopusenc issues twice a frame — and
 * that function starts by probing the CPU with two CPUID instructions. On a physical CPU
 * those are ~100 cycles; in a virtual machine each one traps to the hypervisor: 7 us apiece
 * measured here, ~500 probes per second of audio encoded and level-checked, ~7 ms of a
 * block's ~17 ms after the model (docs/BENCHMARKS.md 7). The standard mode is a constant
 * (a pointer into libopus's static tables), so this definition asks libopus once and hands
 * the same pointer back afterwards; any other mode goes to libopus as before. It reaches
 * libopus's own calls because they go through its PLT and the linker exports a name that a
 * linked library defines from the executable too (`nm -D build/recite`); where a libopus
 * binds the call internally it is simply not used. Same mode, same bytes (checked: `recite
 * say` byte-identical with and without it for espeak, flite and piper). */
struct OpusCustomMode;   /* opus_custom.h's, declared here: only builds with custom modes install it */
struct OpusCustomMode *opus_custom_mode_create(opus_int32 Fs, int frame_size, int *error);
typedef struct OpusCustomMode *(*mode_create_fn)(opus_int32, int, int *);
static mode_create_fn real_mode_create;
static struct OpusCustomMode *standard_mode;
static pthread_once_t mode_once = PTHREAD_ONCE_INIT;

static void mode_init(void)
{
    real_mode_create = (mode_create_fn)dlsym(RTLD_NEXT, "opus_custom_mode_create");
    if (real_mode_create)
        standard_mode = real_mode_create(48000, 960, NULL);
}

struct OpusCustomMode *opus_custom_mode_create(opus_int32 Fs, int frame_size, int *error)
{
    pthread_once(&mode_once, mode_init);
    if (Fs == 48000 && frame_size == 960 && standard_mode) {
        if (error)
            *error = OPUS_OK;
        return standard_mode;
    }
    if (!real_mode_create) {
        if (error)
            *error = OPUS_INTERNAL_ERROR;
        return NULL;
    }
    return real_mode_create(Fs, frame_size, error);
}

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

/* The encoder with recite's settings, writing through cbs to user. */
static int encode_with(const struct pcm *p, int bitrate, int complexity,
                       const OpusEncCallbacks *cbs, void *user, char *err, size_t errlen)
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
    enc = ope_encoder_create_callbacks(cbs, user, comments, p->rate, 1, 0, &e);
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

int audio_encode_opus_params(const struct pcm *p, int bitrate, int complexity, struct buf *out,
                             char *err, size_t errlen)
{
    const OpusEncCallbacks cbs = { write_cb, close_cb };
    return encode_with(p, bitrate, complexity, &cbs, out, err, errlen);
}

int audio_encode_opus(const struct pcm *p, struct buf *out, char *err, size_t errlen)
{
    return audio_encode_opus_params(p, AUDIO_OPUS_BITRATE, AUDIO_OPUS_COMPLEXITY, out, err,
                                    errlen);
}

/* The encoder's output, shared with the level thread reading it as a stream. */
struct tap {
    pthread_mutex_t mu;
    pthread_cond_t more;   /* bytes appended, or done */
    struct buf *out;
    size_t pos;            /* what the reader has taken */
    int done;              /* the encoder has finished (or failed) */
    double target, db;
    int rc;
};

static int tap_write(void *user, const unsigned char *ptr, opus_int32 len)
{
    struct tap *t = user;
    pthread_mutex_lock(&t->mu);
    int rc = buf_append(t->out, ptr, (size_t)len) < 0 ? 1 : 0;
    pthread_cond_signal(&t->more);
    pthread_mutex_unlock(&t->mu);
    return rc;
}

static int tap_read(void *stream, unsigned char *ptr, int nbytes)
{
    struct tap *t = stream;
    pthread_mutex_lock(&t->mu);
    while (t->pos == t->out->len && !t->done)
        pthread_cond_wait(&t->more, &t->mu);
    size_t n = t->out->len - t->pos;
    if (n > (size_t)nbytes)
        n = (size_t)nbytes;
    if (n)
        memcpy(ptr, t->out->data + t->pos, n);
    t->pos += n;
    pthread_mutex_unlock(&t->mu);
    return (int)n;
}

static void *tap_main(void *arg)
{
    struct tap *t = arg;
    t->rc = audio_opus_level_stream(tap_read, t, t->target, &t->db);
    return NULL;
}

int audio_encode_opus_level(const struct pcm *p, double target_lufs, struct buf *out,
                            char *err, size_t errlen)
{
    struct tap t = { .out = out, .target = target_lufs, .rc = -1 };
    pthread_t th;
    int threaded = pthread_mutex_init(&t.mu, NULL) == 0;
    if (threaded && pthread_cond_init(&t.more, NULL) != 0) {
        pthread_mutex_destroy(&t.mu);
        threaded = 0;
    }
    if (threaded && pthread_create(&th, NULL, tap_main, &t) != 0) {
        pthread_cond_destroy(&t.more);
        pthread_mutex_destroy(&t.mu);
        threaded = 0;
    }
    if (!threaded) {   /* no thread to spare: the same, one after the other */
        if (audio_encode_opus(p, out, err, errlen))
            return -1;
        audio_opus_level(out, target_lufs, NULL);
        return 0;
    }
    const OpusEncCallbacks cbs = { tap_write, close_cb };
    int rc = encode_with(p, AUDIO_OPUS_BITRATE, AUDIO_OPUS_COMPLEXITY, &cbs, &t, err, errlen);
    pthread_mutex_lock(&t.mu);
    t.done = 1;
    pthread_cond_signal(&t.more);
    pthread_mutex_unlock(&t.mu);
    pthread_join(th, NULL);
    pthread_cond_destroy(&t.more);
    pthread_mutex_destroy(&t.mu);
    /* as audio_opus_level: a gain that does not fit leaves the bytes as they are */
    if (rc == 0 && t.rc == 0 && t.db != 0)
        audio_opus_add_gain(out->data, out->len, t.db);
    return rc;
}
