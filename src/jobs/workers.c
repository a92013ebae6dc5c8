/* workers — TTS worker threads.
 *
 * Each thread has its own store connection (SQLite handles are per thread; opened by
 * workers_start so a failure stops the start-up) and creates its own engine instances
 * lazily, one per registered model. A thread loops: take a ticket from its job source
 * (job_source.h: the in-process queue or Redis; a copy, no pointer into the queue, no
 * socket) for its lane, skip the work if the variant is
 * already stored, else synthesize, trim, encode to Ogg Opus, store, and report the result
 * with finish(); the queue turns that into an event for the service thread. */
#include "jobs/workers.h"
#include "audio/audio.h"
#include "engines/engine.h"
#include "store/store.h"
#include "util/log.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A thread's engine instances, one per registered model (created on first use). */
struct engine_cache {
    struct engine **by_model;   /* engines_count() entries */
    int n;
};

struct worker {
    pthread_t thread;
    struct worker_pool *pool;
    struct store *st;        /* opened by workers_start, used and closed by this thread */
    int id;
};

struct worker_pool {
    struct job_source *src;
    enum worker_lane lane;
    struct take_filter filter;
    struct metrics *m;
    struct worker *w;
    int n;
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static struct engine *engine_for(struct engine_cache *ec, const struct model **mout,
                                 const char *model, char *err, size_t errlen)
{
    for (int i = 0; i < engines_count() && i < ec->n; i++) {
        const struct model *m = engines_get(i);
        if (strcmp(m->ops->slug, model))
            continue;
        *mout = m;
        if (!ec->by_model[i])
            ec->by_model[i] = m->ops->create(err, errlen);
        return ec->by_model[i];
    }
    snprintf(err, errlen, "unknown model '%s'", model);
    return NULL;
}

void workers_run_job(struct store *st, struct engine_cache *ec, const struct job_ticket *t,
                     struct metrics *m, struct job_result *res)
{
    memset(res, 0, sizeof *res);
    struct audio_record rec = { 0 };
    if (st && store_audio_meta(st, t->hash, &rec) == 0) {
        /* Finished by someone else between the request and now: never synthesize twice. */
        res->type = JOB_EV_CACHED;
        res->duration_ms = rec.duration_ms;
        res->word_timings = rec.word_timings;
        rec.word_timings = NULL;
        audio_record_free(&rec);
        return;
    }
    const struct model *model = NULL;
    struct synth_result sr = { 0 };
    struct buf opus = { 0 };
    int64_t t0 = now_us();
    struct engine *e = engine_for(ec, &model, t->model, res->error, sizeof res->error);
    if (!e) {
        res->type = JOB_EV_ERROR;
        if (!res->error[0])
            snprintf(res->error, sizeof res->error, "engine '%s' failed to start", t->model);
        return;
    }
    if (engine_render(model, e, t->voice, t->text, &sr, res->error, sizeof res->error)) {
        res->type = JOB_EV_ERROR;
        goto out;
    }
    METRIC_ADD(m, syntheses, 1);
    if (sr.pcm.count == 0) {
        res->type = JOB_EV_SKIPPED;
        goto out;
    }
    if (engine_encode(&sr, &opus, res->error, sizeof res->error)) {
        res->type = JOB_EV_ERROR;
        goto out;
    }
    res->duration_ms = pcm_duration_ms(&sr.pcm);
    res->word_timings = engine_word_timings_json(&sr);
    METRIC_ADD(m, synthesis_us, (uint64_t)(now_us() - t0));
    METRIC_ADD(m, audio_ms, (uint64_t)res->duration_ms);
    if (st) {
        struct audio_record a = { .duration_ms = res->duration_ms, .data = opus.data,
                                  .len = opus.len, .word_timings = res->word_timings };
        memcpy(a.hash, t->hash, sizeof a.hash);
        snprintf(a.model, sizeof a.model, "%s", t->model);
        snprintf(a.voice, sizeof a.voice, "%s", t->voice);
        int rc = store_audio_put(st, &a);
        if (rc) {
            res->type = JOB_EV_ERROR;
            snprintf(res->error, sizeof res->error, "%s", store_audio_put_error(rc));
            goto out;
        }
    }
    res->type = JOB_EV_CACHED;
    res->synthesized = true;
    res->audio = opus.data;
    res->audio_len = opus.len;
    opus.data = NULL;
out:
    buf_free(&opus);
    synth_result_free(&sr);
}

/* The lane filter (job_source.h): network-bound engines run on their own threads. */
static int lane_accepts(const char *model, void *arg)
{
    const struct worker_pool *p = arg;
    const struct model *m = engines_find(model);
    int network = m && (m->ops->flags & ENGINE_NETWORK);
    return p->lane == WORKERS_NETWORK ? network : !network;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct worker_pool *p = w->pool;
    struct engine_cache ec = { .n = engines_count() };
    ec.by_model = calloc((size_t)(ec.n > 0 ? ec.n : 1), sizeof *ec.by_model);
    if (!ec.by_model)
        ec.n = 0;   /* every job then fails with "unknown model", loudly, and is retried */
    struct job_ticket t;
    while (p->src->ops->take(p->src, &t, p->lane == WORKERS_ALL ? NULL : &p->filter) == 0) {
        struct job_result res;
        workers_run_job(w->st, &ec, &t, p->m, &res);
        if (res.type == JOB_EV_ERROR)
            log_warn("worker %d: job %.12s (%s/%s) failed: %s", w->id, t.hash, t.model, t.voice,
                     res.error);
        p->src->ops->finish(p->src, &t, &res);
        job_ticket_free(&t);
    }
    for (int i = 0; i < ec.n; i++)
        if (ec.by_model[i])
            engines_get(i)->ops->destroy(ec.by_model[i]);
    free(ec.by_model);
    store_close(w->st);
    return NULL;
}

struct worker_pool *workers_start(int n, struct job_source *src, enum worker_lane lane,
                                  const char *data_dir, struct metrics *m, char *err,
                                  size_t errlen)
{
    struct worker_pool *p = calloc(1, sizeof *p);
    if (!p || !(p->w = calloc((size_t)(n > 0 ? n : 1), sizeof *p->w))) {
        free(p);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->src = src;
    p->lane = lane;
    p->filter = (struct take_filter){ lane_accepts, p };
    p->m = m;
    /* Every store is opened here, before any thread starts: a worker that cannot open it
     * fails the start-up (and the server refuses to run) instead of exiting quietly. */
    for (int i = 0; i < n && data_dir; i++)
        if (!(p->w[i].st = store_open(data_dir, err, errlen))) {
            for (int k = 0; k < i; k++)
                store_close(p->w[k].st);
            free(p->w);
            free(p);
            return NULL;
        }
    for (int i = 0; i < n; i++) {
        p->w[i].pool = p;
        p->w[i].id = i;
        if (pthread_create(&p->w[i].thread, NULL, worker_main, &p->w[i])) {
            snprintf(err, errlen, "cannot start worker thread %d of %d", i + 1, n);
            for (int k = i; k < n; k++)
                store_close(p->w[k].st);
            break;   /* the caller sees workers_count(p) < n and stops the rest */
        }
        p->n++;
    }
    return p;
}

int workers_count(const struct worker_pool *p)
{
    return p ? p->n : 0;
}

void workers_stop(struct worker_pool *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n; i++)
        pthread_join(p->w[i].thread, NULL);
    free(p->w);
    free(p);
}
