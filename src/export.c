/* export — render a run of blocks on worker threads and stream them, in order, to one audio
 * file (export.h).
 *
 * Threads: the caller's thread writes; `threads` workers render. Each worker creates its
 * own engine instance and opens its own SQLite connection (read-only use: cached audio).
 * Memory is bounded by a window of WINDOW_PER_THREAD * threads blocks: a worker may take
 * block i only while i < written + window, so at most `window` rendered blocks wait for
 * the writer (a 5-hour book costs the same few MB as a page). Block i lives in slot
 * i % window; the writer empties it before any worker can take block i + window.
 * Ownership: a slot's PCM belongs to the worker until `ready`, then to the writer. */
#include "export.h"
#include "engines/engine.h"
#include "store/store.h"
#include "util/ids.h"
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WINDOW_PER_THREAD 2
#define WINDOW_EXTRA 2

enum slot_kind { SLOT_EMPTY, SLOT_CACHED, SLOT_SYNTHESIZED, SLOT_FAILED };

struct slot {
    bool ready;
    enum slot_kind kind;
    struct pcm pcm;
    char err[200];
};

struct pool {
    const struct export_opts *o;
    const struct export_block *blocks;
    int n, window;
    pthread_mutex_t lock;
    pthread_cond_t can_take, done;   /* workers wait on can_take, the writer on done */
    int next, written;
    bool stop;
    struct slot *slots;
    const char *db_dir;              /* data_dir if its database exists, else NULL */
};

/* The stored audio of this variant, decoded; 0 if found, 1 if not. */
static int render_cached(struct store *st, const struct export_opts *o, const char *text,
                         struct pcm *out)
{
    if (!st)
        return 1;
    char hash[65];
    ids_variant_hash(text, o->model->ops->slug, o->voice, "", hash);
    struct audio_record a = { 0 };
    if (store_audio_get(st, hash, &a) != 0)
        return 1;
    char err[128];
    int rc = audio_decode(a.data, a.len, out, err, sizeof err) == 0 ? 0 : 1;
    audio_record_free(&a);
    return rc;
}

static void render(struct pool *p, struct engine *e, struct store *st, int i, struct slot *s)
{
    const struct export_opts *o = p->o;
    const char *text = p->blocks[i].text ? p->blocks[i].text : "";
    if (!e) {
        s->kind = SLOT_FAILED;
        return;
    }
    if (render_cached(st, o, text, &s->pcm) == 0) {
        s->kind = SLOT_CACHED;
        return;
    }
    struct synth_result sr = { 0 };
    if (engine_render(o->model, e, o->voice, text, &sr, s->err, sizeof s->err)) {
        s->kind = SLOT_FAILED;
        return;
    }
    s->pcm = sr.pcm;   /* taken over: no copy */
    sr.pcm = (struct pcm){ 0 };
    synth_result_free(&sr);
    s->kind = s->pcm.count ? SLOT_SYNTHESIZED : SLOT_EMPTY;
}

static void *worker(void *arg)
{
    struct pool *p = arg;
    char err[200] = "";
    struct engine *e = p->o->model->ops->create(err, sizeof err);
    struct store *st = p->db_dir ? store_open(p->db_dir, err, sizeof err) : NULL;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        while (!p->stop && p->next < p->n && p->next >= p->written + p->window)
            pthread_cond_wait(&p->can_take, &p->lock);
        if (p->stop || p->next >= p->n) {
            pthread_mutex_unlock(&p->lock);
            break;
        }
        int i = p->next++;
        pthread_mutex_unlock(&p->lock);

        struct slot *s = &p->slots[i % p->window];
        render(p, e, st, i, s);
        if (s->kind == SLOT_FAILED && !s->err[0])
            snprintf(s->err, sizeof s->err, "%s", err[0] ? err : "the engine failed to start");
        pthread_mutex_lock(&p->lock);
        s->ready = true;
        pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->lock);
    }
    if (e)
        p->o->model->ops->destroy(e);
    store_close(st);
    return NULL;
}

/* Writes one rendered block (and the pause after it), opening the file at the first audio. */
static int write_block(struct audio_stream **out, const char *path, enum audio_format fmt,
                       struct pcm *pcm, int pause_ms, char *err, size_t errlen)
{
    if (!pcm->count)
        return 0;
    if (!*out && !(*out = audio_stream_open(path, fmt, pcm->rate, err, errlen)))
        return -1;
    int rate = audio_stream_rate(*out);
    if (pcm->rate != rate && pcm_resample(pcm, rate)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (audio_stream_write(*out, pcm->samples, pcm->count, err, errlen))
        return -1;
    return pause_ms > 0 ? audio_stream_silence(*out, pause_ms, err, errlen) : 0;
}

static const char *existing_db(const char *dir, char *path, size_t len)
{
    if (!dir || !dir[0])
        return NULL;
    snprintf(path, len, "%s/recite.db", dir);
    return access(path, R_OK) == 0 ? dir : NULL;
}

int export_run(const struct export_opts *o, const struct export_block *blocks, int n,
               const char *path, enum audio_format fmt, struct export_stats *st, char *err,
               size_t errlen)
{
    char dbpath[4096];
    int threads = o->threads < 1 ? 1 : o->threads;
    if (threads > n && n > 0)
        threads = n;
    struct pool p = { .o = o, .blocks = blocks, .n = n,
                      .window = threads * WINDOW_PER_THREAD + WINDOW_EXTRA,
                      .db_dir = existing_db(o->data_dir, dbpath, sizeof dbpath) };
    *st = (struct export_stats){ 0 };
    p.slots = calloc((size_t)p.window, sizeof *p.slots);
    pthread_t *tids = calloc((size_t)threads, sizeof *tids);
    if (!p.slots || !tids) {
        free(p.slots);
        free(tids);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.can_take, NULL);
    pthread_cond_init(&p.done, NULL);
    int started = 0;
    for (; started < threads; started++)
        if (pthread_create(&tids[started], NULL, worker, &p))
            break;
    int rc = started ? 0 : -1;
    if (rc)
        snprintf(err, errlen, "cannot start a worker thread");
    struct audio_stream *out = NULL;
    for (int i = 0; i < n && rc == 0; i++) {
        struct slot *s = &p.slots[i % p.window];
        pthread_mutex_lock(&p.lock);
        while (!s->ready)
            pthread_cond_wait(&p.done, &p.lock);
        pthread_mutex_unlock(&p.lock);
        if (s->kind == SLOT_FAILED) {
            snprintf(err, errlen, "block %d: %s", i, s->err);
            rc = -1;
        } else {
            st->cached += s->kind == SLOT_CACHED;
            st->synthesized += s->kind == SLOT_SYNTHESIZED;
            st->skipped += s->kind == SLOT_EMPTY;
            if (o->block_start)
                o->block_start(o->ctx, i, out ? audio_stream_samples(out) * 1000 / audio_stream_rate(out) : 0);
            rc = write_block(&out, path, fmt, &s->pcm, blocks[i].pause_ms, err, errlen);
        }
        pcm_free(&s->pcm);
        pthread_mutex_lock(&p.lock);
        *s = (struct slot){ 0 };
        p.written = i + 1;
        pthread_cond_broadcast(&p.can_take);
        pthread_mutex_unlock(&p.lock);
        if (rc == 0 && o->progress)
            o->progress(o->ctx, i + 1, n);
    }
    pthread_mutex_lock(&p.lock);
    p.stop = true;
    pthread_cond_broadcast(&p.can_take);
    pthread_mutex_unlock(&p.lock);
    for (int t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    for (int k = 0; k < p.window; k++)   /* blocks rendered past a failure */
        pcm_free(&p.slots[k].pcm);
    if (out) {
        st->duration_ms = audio_stream_samples(out) * 1000 / audio_stream_rate(out);
        if (audio_stream_close(out, rc ? NULL : err, errlen))
            rc = -1;
    } else if (rc == 0) {
        snprintf(err, errlen, "the document has nothing to say");
        rc = -1;
    }
    pthread_cond_destroy(&p.done);
    pthread_cond_destroy(&p.can_take);
    pthread_mutex_destroy(&p.lock);
    free(p.slots);
    free(tids);
    return rc;
}
