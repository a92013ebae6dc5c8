/* redis_worker — a job source (job_source.h) whose take() and finish() talk to Redis,
 * driven by the ordinary worker threads of workers.c (with a NULL store: the audio travels
 * back by value).
 *
 * take(): BLPOP recite:jobs (half a second at a time, so shutdown is prompt), then RS_CLAIM,
 *   which succeeds only if the attempt is still the queued one (not evicted, not done, not
 *   superseded) and atomically writes the P1 notice; a stale entry is simply skipped.
 * finish(): encodes the R1 message (redis_wire.h) and RPUSHes it to recite:events, retrying
 *   through outages (the server tolerates a duplicate); then counts it in recite:worker_jobs.
 * Threads: each worker thread gets its own slot (connection, worker id) on its first take();
 * nothing else is shared but the totals (atomics). Heartbeats (recite:workers) let the server
 * size its hand-off window to the live workers. */
#include "jobs/redis_worker.h"
#include "jobs/job_source.h"
#include "jobs/queue.h"
#include "jobs/redis_conn.h"
#include "jobs/redis_scripts.h"
#include "jobs/redis_wire.h"
#include "jobs/workers.h"
#include "util/log.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HEARTBEAT_MS 2000
#define FINISH_GIVE_UP_MS 10000   /* when stopping, how long to keep trying to deliver */

struct slot {
    struct rconn *c;
    char id[96];
    int64_t last_beat_ms;
    int64_t taken_ms;
    struct slot *next;
};

struct rwq {
    struct job_source base;      /* first: rw_take/rw_finish cast back */
    struct redis_url url;
    char id_prefix[80];
    atomic_int stopping;
    pthread_mutex_t lock;        /* guards slots, nslots */
    struct slot *slots;
    int nslots;
    pthread_key_t key;           /* this thread's slot */
    atomic_uint_fast64_t jobs, audio_ms;
    int delay_ms, fail;
};

struct redis_workers {
    struct rwq *q;
    struct worker_pool *pool;
    struct metrics m;            /* this pool's own: the server counts syntheses from results */
};

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static struct slot *my_slot(struct rwq *q)
{
    struct slot *s = pthread_getspecific(q->key);
    if (s)
        return s;
    s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    pthread_mutex_lock(&q->lock);
    int n = q->nslots++;
    s->next = q->slots;
    q->slots = s;
    pthread_mutex_unlock(&q->lock);
    snprintf(s->id, sizeof s->id, "%s:%d", q->id_prefix, n);
    char name[32];
    snprintf(name, sizeof name, "worker %d", n);
    s->c = rconn_create(&q->url, name, 5000);
    pthread_setspecific(q->key, s);
    return s;
}


static void heartbeat(struct slot *s)
{
    int64_t now = queue_now_ms();
    if (now - s->last_beat_ms < HEARTBEAT_MS)
        return;
    const char *a[] = { RK_WORKERS, s->id };
    redisReply *r = RCONN_EVAL(s->c, RS_HEARTBEAT, 1, a);
    if (r) {
        freeReplyObject(r);
        s->last_beat_ms = now;
    }
}

/* Parses "<hash>:<attempt>". */
static int parse_entry(const redisReply *e, char hash[65], char attempt[24])
{
    if (e->type != REDIS_REPLY_STRING || e->len < 66 || e->len > 64 + 1 + 20 || e->str[64] != ':')
        return -1;
    memcpy(hash, e->str, 64);
    hash[64] = '\0';
    size_t an = e->len - 65;
    memcpy(attempt, e->str + 65, an);
    attempt[an] = '\0';
    if (!redis_wire_is_hash(hash) || strspn(attempt, "0123456789") != an)
        return -1;
    return 0;
}

static int claim(struct rwq *q, struct slot *s, const redisReply *entry, struct job_ticket *t)
{
    char hash[65], attempt[24], key[80];
    if (parse_entry(entry, hash, attempt)) {
        log_warn("worker: skipped a malformed entry in " RK_JOBS);
        return -1;
    }
    snprintf(key, sizeof key, RK_JOB_PREFIX "%s", hash);
    const char *a[] = { key, RK_EVENTS, RK_WORKERS, attempt, s->id, hash };
    redisReply *r = RCONN_EVAL(s->c, RS_CLAIM, 3, a);
    int rc = -1;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 4) {
        const redisReply *const *f = (const redisReply *const *)r->element;
        int ok = 1;
        for (int i = 0; i < 4; i++)
            ok &= f[i]->type == REDIS_REPLY_STRING;
        if (ok && f[0]->len < sizeof t->model && f[1]->len < sizeof t->voice) {
            memset(t, 0, sizeof *t);
            memcpy(t->hash, hash, sizeof t->hash);
            memcpy(t->model, f[0]->str, f[0]->len);
            memcpy(t->voice, f[1]->str, f[1]->len);
            t->text = strndup(f[2]->str, f[2]->len);
            t->tries = atoi(f[3]->str);
            t->attempt = strtoull(attempt, NULL, 10);
            rc = t->text ? 0 : -1;
        }
    } else if (r && r->type == REDIS_REPLY_ERROR) {
        log_error("worker: claim script error: %.*s", (int)r->len, r->str);
    }
    if (r)
        freeReplyObject(r);
    return rc;   /* nil: evicted, done or superseded meanwhile: skip it */
}

/* Redis workers run every model: the filter is not used (job_source.h). */
static int rw_take(struct job_source *src, struct job_ticket *t, const struct take_filter *f)
{
    (void)f;
    struct rwq *q = (struct rwq *)src;
    struct slot *s = my_slot(q);
    if (!s || !s->c)
        return -1;
    while (!atomic_load(&q->stopping)) {
        if (rconn_ready(s->c)) {
            int ms = rconn_retry_in_ms(s->c);
            sleep_ms(ms < 50 ? 50 : ms > 200 ? 200 : ms);
            continue;
        }
        heartbeat(s);
        redisReply *r = rconn_cmd(s->c, "BLPOP", RK_JOBS, "0.5", NULL);
        int got = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
                  claim(q, s, r->element[1], t) == 0;
        if (r)
            freeReplyObject(r);
        if (!got)
            continue;
        s->last_beat_ms = queue_now_ms();   /* the claim script counts as a heartbeat */
        for (int waited = 0; waited < q->delay_ms && !atomic_load(&q->stopping); waited += 50)
            sleep_ms(50);                   /* fault injection: a slow worker */
        s->taken_ms = queue_now_ms();
        return 0;
    }
    return -1;
}

static void rw_finish(struct job_source *src, const struct job_ticket *t, struct job_result *res)
{
    struct rwq *q = (struct rwq *)src;
    struct slot *s = my_slot(q);
    if (q->fail) {   /* fault injection: every try fails */
        job_result_free(res);
        res->type = JOB_EV_ERROR;
        res->duration_ms = 0;
        res->audio_len = 0;
        snprintf(res->error, sizeof res->error, "injected failure (RECITE_WORKER_FAIL)");
    }
    struct redis_msg m = { .kind = 'R', .attempt = t->attempt, .type = res->type,
                           .duration_ms = res->duration_ms,
                           .word_timings = res->word_timings,
                           .timings_len = res->word_timings ? strlen(res->word_timings) : 0,
                           .audio = res->audio, .audio_len = res->audio_len };
    memcpy(m.hash, t->hash, sizeof m.hash);
    snprintf(m.model, sizeof m.model, "%s", t->model);
    snprintf(m.voice, sizeof m.voice, "%s", t->voice);
    snprintf(m.worker, sizeof m.worker, "%s", s ? s->id : q->id_prefix);
    snprintf(m.error, sizeof m.error, "%s", res->error);
    if (s)
        m.synthesis_us = (queue_now_ms() - s->taken_ms) * 1000;
    if (m.type == JOB_EV_CACHED && !m.audio_len) {
        m.type = JOB_EV_ERROR;
        snprintf(m.error, sizeof m.error, "no audio was produced");
    }
    char *buf = NULL;
    size_t len = 0;
    if (!s || redis_wire_encode_result(&m, &buf, &len)) {
        log_error("worker: cannot encode the result of job %.12s", t->hash);
        job_result_free(res);
        return;
    }
    int64_t give_up_at = 0;
    for (;;) {
        const char *argv[] = { "RPUSH", RK_EVENTS, buf };
        size_t lens[] = { 5, strlen(RK_EVENTS), len };
        redisReply *r = rconn_argv(s->c, 3, argv, lens);
        if (r) {
            freeReplyObject(r);
            r = rconn_cmd(s->c, "HINCRBY", RK_WORKER_JOBS, s->id, "1", NULL);
            if (r)
                freeReplyObject(r);
            atomic_fetch_add(&q->jobs, 1);
            atomic_fetch_add(&q->audio_ms, (uint64_t)(res->duration_ms > 0 ? res->duration_ms : 0));
            break;
        }
        if (atomic_load(&q->stopping)) {
            if (!give_up_at)
                give_up_at = queue_now_ms() + FINISH_GIVE_UP_MS;
            else if (queue_now_ms() > give_up_at) {
                log_error("worker: Redis is down; the result of job %.12s is lost", t->hash);
                break;
            }
        }
        int ms = rconn_retry_in_ms(s->c);
        sleep_ms(ms < 50 ? 50 : ms > 500 ? 500 : ms);
    }
    free(buf);
    job_result_free(res);
}

static void rw_shutdown(struct rwq *q)
{
    atomic_store(&q->stopping, 1);
}

static void rw_destroy(struct rwq *q)
{
    if (!q)
        return;
    while (q->slots) {
        struct slot *s = q->slots;
        q->slots = s->next;
        if (rconn_is_up(s->c)) {
            redisReply *r = rconn_cmd(s->c, "ZREM", RK_WORKERS, s->id, NULL);
            if (r)
                freeReplyObject(r);
        }
        rconn_destroy(s->c);
        free(s);
    }
    pthread_key_delete(q->key);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

static const struct job_source_ops rwq_ops = {
    .take = rw_take,
    .finish = rw_finish,
};

struct redis_workers *redis_workers_start(const struct redis_url *u, int n, char *err,
                                          size_t errlen)
{
    struct redis_workers *w = calloc(1, sizeof *w);
    struct rwq *q = calloc(1, sizeof *q);
    if (!w || !q || pthread_key_create(&q->key, NULL)) {
        snprintf(err, errlen, "out of memory");
        free(w);
        free(q);
        return NULL;
    }
    q->base.ops = &rwq_ops;
    q->url = *u;
    pthread_mutex_init(&q->lock, NULL);
    char host[64] = "localhost";
    gethostname(host, sizeof host - 1);
    host[strcspn(host, " \t\r\n")] = '\0';
    snprintf(q->id_prefix, sizeof q->id_prefix, "%.60s:%ld", host, (long)getpid());
    const char *d = getenv("RECITE_WORKER_DELAY_MS"), *f = getenv("RECITE_WORKER_FAIL");
    q->delay_ms = d ? atoi(d) : 0;
    q->fail = f && *f && strcmp(f, "0");
    w->q = q;
    w->pool = workers_start(n, &q->base, WORKERS_ALL, NULL, &w->m, err, errlen);
    if (workers_count(w->pool) < n) {
        rw_shutdown(q);
        workers_stop(w->pool);
        rw_destroy(q);
        free(w);
        return NULL;
    }
    return w;
}

void redis_workers_stop(struct redis_workers *w, uint64_t *jobs, uint64_t *audio_ms)
{
    if (!w)
        return;
    rw_shutdown(w->q);
    workers_stop(w->pool);
    if (jobs)
        *jobs = atomic_load(&w->q->jobs);
    if (audio_ms)
        *audio_ms = atomic_load(&w->q->audio_ms);
    rw_destroy(w->q);
    free(w);
}
