/* redisqueue — the server side of distributed mode.
 *
 * The server alone knows its connections, so the requester bookkeeping stays here: a
 * memqueue *core* (memqueue.c) keeps jobs, requesters, cursors, fair nearest-first order,
 * tries and visibility timeouts exactly as in embedded mode, and events reach the service
 * thread through the core's event list as before. Redis only sees a short window of jobs:
 *
 *   feeder thread ("pump", its own Redis connection): hands the core's next jobs off (at most
 *     one waiting per live worker, at least one) as RS_PUSH (recite:job:<hash> + an entry in
 *     recite:jobs), so order and eviction stay almost entirely local;
 *     runs withdrawals (asked by the core's hook, answered with memqueue_withdrawn) and
 *     dead-letter entries; once a second counts live workers and checks
 *     handed-off jobs that have waited longer than the visibility timeout; reconnects with
 *     backoff; on reconnect re-queues what Redis lost; after a whole visibility timeout
 *     without Redis fails every job with a recoverable error.
 *   reader thread (its own Redis connection and its own SQLite connection): BLPOPs
 *     recite:events. P1 (claimed) -> core claimed (PROCESSING event). R1 (result) -> stores
 *     the audio (INSERT OR IGNORE; counted in the metrics only when it was new, so a slow
 *     original and its retry are counted once), marks the job done in Redis (RS_COMPLETE:
 *     a queued retry can no longer be claimed), and calls the core's finish().
 *   service thread: submit/evict/gone/reap/drain on the core, never a Redis round trip.
 *     When a handed-off job loses its last requester, the core marks it withdrawing and
 *     its hook queues the withdrawal for the feeder (no I/O under the core lock); the
 *     feeder runs RS_WITHDRAW, which succeeds only while no worker has claimed the attempt
 *     (so a worker never synthesizes an evicted job), and reports the answer to the core.
 *
 * Attempt ids sent to Redis are the core's plus a per-process base (start time), so a late
 * message from an earlier server run never matches a live attempt.
 * Locks: core lock -> rq->lock (the hooks); never the reverse. */
#include "jobs/redisqueue.h"
#include "jobs/memqueue_core.h"
#include "jobs/redis_conn.h"
#include "jobs/redis_scripts.h"
#include "jobs/redis_wire.h"
#include "store/store.h"
#include "util/fault.h"
#include "util/log.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define JOB_TTL_S "86400"       /* a job key outlives any sane queue wait */
#define DEAD_CAP "10000"        /* dead-letter entries kept */
#define WORKER_MAX_AGE_S "15"   /* a worker silent this long is not counted live */
#define TICK_MS 1000            /* lost hand-off checks */
#define LIVE_MS 250             /* live worker count (sizes the window) */

enum { PEND_DEAD, PEND_WITHDRAW };

struct pending {
    int kind;
    char hash[65];
    uint64_t attempt;           /* remote attempt id */
    char model[32];
    char voice[64];
    int tries;
    char error[256];
    struct pending *next;
};

struct redisqueue {
    struct queue base;
    struct queue *core;
    struct redis_url url;
    char where[300];
    char *data_dir;
    struct metrics *m;
    int visibility_ms;
    char done_ttl[16];          /* seconds a finished job's key keeps refusing claims */
    uint64_t attempt_base;
    char run[24];               /* this server process in Redis (attempt_base in decimal) */

    pthread_mutex_t lock;       /* guards stopping, kick, pending */
    pthread_cond_t cond;        /* wakes the pump */
    int stopping;
    int kick;
    struct pending *pending, *pending_tail;

    atomic_int up;              /* the pump's view of Redis; submit() fails while 0 */
    atomic_int live_workers;
    atomic_int reader_stop;

    struct rconn *pump_conn;    /* owned by the pump thread once it runs */
    pthread_t pump, reader;
    int pump_started, reader_started;
};

static uint64_t remote_attempt(struct redisqueue *rq, uint64_t core_attempt)
{
    return rq->attempt_base + core_attempt;
}

static uint64_t core_attempt(struct redisqueue *rq, uint64_t remote)
{
    return remote > rq->attempt_base ? remote - rq->attempt_base : 0;   /* 0 matches nothing */
}

static void job_key(char out[80], const char *hash)
{
    snprintf(out, 80, RK_JOB_PREFIX "%s", hash);
}

static void kick(struct redisqueue *rq)
{
    pthread_mutex_lock(&rq->lock);
    rq->kick = 1;
    pthread_cond_signal(&rq->cond);
    pthread_mutex_unlock(&rq->lock);
}

/* Queues an operation for the feeder. 0, or -1 when out of memory (logged). */
static int add_pending(struct redisqueue *rq, const struct pending *p)
{
    struct pending *n = fault_malloc(sizeof *n);
    if (!n) {
        log_error("redis: out of memory; dropped a %s for job %.12s",
                  p->kind == PEND_DEAD ? "dead-letter entry" : "withdrawal", p->hash);
        return -1;
    }
    *n = *p;
    n->next = NULL;
    pthread_mutex_lock(&rq->lock);
    if (rq->pending_tail)
        rq->pending_tail->next = n;
    else
        rq->pending = n;
    rq->pending_tail = n;
    rq->kick = 1;
    pthread_cond_signal(&rq->cond);
    pthread_mutex_unlock(&rq->lock);
    return 0;
}

static int reply_int(redisReply *r, long long *out)
{
    if (!r)
        return -1;
    if (r->type == REDIS_REPLY_ERROR) {
        log_error("redis: script error: %.*s", (int)r->len, r->str);
        return -1;
    }
    if (r->type != REDIS_REPLY_INTEGER)
        return -1;
    *out = r->integer;
    return 0;
}

/* ---- core hooks (service thread or reader, core lock held) ---------------------------- */

/* A handed-off job nobody wants: the feeder withdraws it (run_one) and tells the core. */
static int hook_withdraw(void *arg, const char *hash, uint64_t attempt)
{
    struct redisqueue *rq = arg;
    struct pending p = { .kind = PEND_WITHDRAW, .attempt = remote_attempt(rq, attempt) };
    memcpy(p.hash, hash, sizeof p.hash);
    return add_pending(rq, &p);
}

static void hook_gave_up(void *arg, const char *hash, const char *model, const char *voice,
                         uint64_t attempt, int tries, const char *error)
{
    struct redisqueue *rq = arg;
    struct pending p = { .kind = PEND_DEAD, .attempt = remote_attempt(rq, attempt),
                         .tries = tries };
    memcpy(p.hash, hash, sizeof p.hash);
    snprintf(p.model, sizeof p.model, "%s", model);
    snprintf(p.voice, sizeof p.voice, "%s", voice);
    snprintf(p.error, sizeof p.error, "%s", error ? error : "");
    add_pending(rq, &p);
}

/* ---- pump thread ----------------------------------------------------------------------- */

/* Runs one pending operation. 0 done (or pointless), -1 Redis is down (keep it). */
static int run_one(struct redisqueue *rq, struct rconn *c, const struct pending *p)
{
    char key[80], att[24];
    job_key(key, p->hash);
    snprintf(att, sizeof att, "%llu", (unsigned long long)p->attempt);
    redisReply *r;
    if (p->kind == PEND_WITHDRAW) {
        const char *a[] = { key, RK_JOBS, p->hash, att, rq->done_ttl, rq->run };
        r = RCONN_EVAL(c, RS_WITHDRAW, 2, a);
        if (!r)
            return -1;   /* kept: retried once Redis is back (the job stays withdrawing) */
        long long v = 0;
        if (reply_int(r, &v))
            v = 0;       /* a script error: leave the job to the worker (it runs for nobody) */
        freeReplyObject(r);
        memqueue_withdrawn(rq->core, p->hash, core_attempt(rq, p->attempt), v != 0);
        return 0;
    } else {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "hash", p->hash);
        cJSON_AddStringToObject(o, "model", p->model);
        cJSON_AddStringToObject(o, "voice", p->voice);
        cJSON_AddNumberToObject(o, "attempt", (double)p->attempt);
        cJSON_AddNumberToObject(o, "tries", p->tries);
        cJSON_AddStringToObject(o, "error", p->error);
        cJSON_AddNumberToObject(o, "at", (double)time(NULL));
        char *json = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (!json)
            return 0;
        const char *a[] = { key, RK_DEAD, json, JOB_TTL_S, DEAD_CAP };
        r = RCONN_EVAL(c, RS_DEAD, 2, a);
        free(json);
        log_warn("job %.12s (%s/%s) failed after %d tries: %s; moved to " RK_DEAD, p->hash,
                 p->model, p->voice, p->tries, p->error);
    }
    if (!r)
        return -1;
    long long v;
    reply_int(r, &v);
    freeReplyObject(r);
    return 0;
}

static void run_pending(struct redisqueue *rq, struct rconn *c)
{
    pthread_mutex_lock(&rq->lock);
    struct pending *list = rq->pending;
    rq->pending = rq->pending_tail = NULL;
    pthread_mutex_unlock(&rq->lock);
    while (list) {
        if (run_one(rq, c, list)) {
            /* down: put the rest back in front, in order */
            pthread_mutex_lock(&rq->lock);
            struct pending *tail = list;
            while (tail->next)
                tail = tail->next;
            tail->next = rq->pending;
            if (!rq->pending)
                rq->pending_tail = tail;
            rq->pending = list;
            pthread_mutex_unlock(&rq->lock);
            return;
        }
        struct pending *next = list->next;
        free(list);
        list = next;
    }
}

/* RS_CHECK for one in-flight job: 0 lost, 1 waiting, 2 claimed, 3 done; -1 Redis down. */
static int check_job(struct rconn *c, struct redisqueue *rq, const struct queue_inflight *j)
{
    char key[80], att[24];
    job_key(key, j->hash);
    snprintf(att, sizeof att, "%llu", (unsigned long long)remote_attempt(rq, j->attempt));
    const char *a[] = { key, RK_JOBS, j->hash, att, rq->run };
    redisReply *r = RCONN_EVAL(c, RS_CHECK, 2, a);
    if (!r)
        return -1;
    long long v = 0;
    int rc = reply_int(r, &v) ? 1 : (int)v;   /* a script error: leave the job alone */
    freeReplyObject(r);
    return rc;
}

/* After (re)connecting: forget stale entries from an earlier server (first time only) and
 * queue again whatever Redis lost (a restarted Redis keeps nothing). 0, or -1 if the
 * connection failed again. */
static int on_connect(struct redisqueue *rq, struct rconn *c, int first)
{
    if (first) {
        redisReply *r = rconn_cmd(c, "DEL", RK_JOBS, NULL);
        if (!r)
            return -1;
        freeReplyObject(r);
    }
    struct queue_inflight *jobs;
    int n = memqueue_inflight(rq->core, &jobs), requeued = 0;
    for (int i = 0; i < n; i++) {
        int st = check_job(c, rq, &jobs[i]);
        if (st < 0) {
            free(jobs);
            return -1;
        }
        if (st == 0 && !memqueue_requeue(rq->core, jobs[i].hash, jobs[i].attempt, 0, NULL))
            requeued++;
    }
    free(jobs);
    if (requeued)
        log_info("redis: queued %d job(s) again that Redis no longer had", requeued);
    return 0;
}

/* How many workers have been seen lately: the window follows workers joining and leaving. */
static void count_workers(struct redisqueue *rq, struct rconn *c)
{
    const char *a[] = { RK_WORKERS, WORKER_MAX_AGE_S };
    redisReply *r = RCONN_EVAL(c, RS_LIVE_WORKERS, 1, a);
    long long live;
    if (!reply_int(r, &live))
        atomic_store(&rq->live_workers, (int)live);
    if (r)
        freeReplyObject(r);
}

/* Once a second: handed-off jobs waiting longer than the visibility timeout (a worker
 * popped the entry and died before claiming it, or Redis lost it). */
static void tick(struct redisqueue *rq, struct rconn *c)
{
    struct queue_inflight *jobs;
    int n = memqueue_inflight(rq->core, &jobs);
    int64_t now = queue_now_ms();
    for (int i = 0; i < n; i++) {
        if (jobs[i].running || now - jobs[i].since_ms <= rq->visibility_ms)
            continue;
        int st = check_job(c, rq, &jobs[i]);
        if (st < 0)
            break;
        if (st == 2)
            memqueue_claimed(rq->core, jobs[i].hash, jobs[i].attempt);   /* missed notice */
        else if (st == 0 || st == 3)
            memqueue_requeue(rq->core, jobs[i].hash, jobs[i].attempt, 1,
                             "the job was lost between Redis and the workers");
    }
    free(jobs);
}

/* Hands jobs off while the window has room. */
static void feed(struct redisqueue *rq, struct rconn *c)
{
    int live = atomic_load(&rq->live_workers);
    int window = live > 1 ? live : 1;   /* one job waiting per live worker */
    struct job_ticket t;
    while (memqueue_hand_off(rq->core, window, &t) == RECITE_OK) {
        char key[80], att[24], tries[16];
        job_key(key, t.hash);
        snprintf(att, sizeof att, "%llu", (unsigned long long)remote_attempt(rq, t.attempt));
        snprintf(tries, sizeof tries, "%d", t.tries);
        const char *a[] = { key, RK_JOBS, t.hash, att, tries, t.model, t.voice, t.text, JOB_TTL_S,
                            rq->run };
        redisReply *r = RCONN_EVAL(c, RS_PUSH, 2, a);
        long long v = 0;
        if (!r) {
            memqueue_requeue(rq->core, t.hash, t.attempt, 0, NULL);   /* not our worker's fault */
            job_ticket_free(&t);
            return;
        }
        if (reply_int(r, &v) == 0 && v == 0)
            log_debug("redis: job %.12s not pushed (done or withdrawn meanwhile)", t.hash);
        freeReplyObject(r);
        job_ticket_free(&t);
    }
}

/* Waits up to ms for a kick or shutdown. Returns 1 when stopping. */
static int pump_wait(struct redisqueue *rq, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&rq->lock);
    while (!rq->kick && !rq->stopping)
        if (pthread_cond_timedwait(&rq->cond, &rq->lock, &ts) == ETIMEDOUT)
            break;
    rq->kick = 0;
    int stopping = rq->stopping;
    pthread_mutex_unlock(&rq->lock);
    return stopping;
}

static void *pump_main(void *arg)
{
    struct redisqueue *rq = arg;
    struct rconn *c = rq->pump_conn;
    int64_t last_tick = 0, last_count = 0, down_since = atomic_load(&rq->up) ? 0 : queue_now_ms();
    int first = !atomic_load(&rq->up), failed_this_outage = 0;
    unsigned gen = rconn_generation(c);
    for (;;) {
        if (atomic_load(&rq->up) && gen != rconn_generation(c)) {
            atomic_store(&rq->up, 0);   /* reconnected behind our back: resync first */
            down_since = queue_now_ms();
        }
        if (!atomic_load(&rq->up)) {
            if (rconn_ready(c) == 0 && on_connect(rq, c, first) == 0) {
                gen = rconn_generation(c);
                first = 0;
                failed_this_outage = 0;
                down_since = 0;
                atomic_store(&rq->up, 1);
                log_info("redis: job queue available again");
            } else {
                if (!failed_this_outage && queue_now_ms() - down_since >= rq->visibility_ms) {
                    log_warn("redis: unreachable for %d s; failing the queued jobs",
                             rq->visibility_ms / 1000);
                    memqueue_fail_all(rq->core, "the job queue (Redis) is unavailable");
                    failed_this_outage = 1;
                }
                int ms = rconn_retry_in_ms(c);
                if (pump_wait(rq, ms < 50 ? 50 : ms > 500 ? 500 : ms))
                    break;
                continue;
            }
        }
        run_pending(rq, c);
        int64_t now = queue_now_ms();
        if (now - last_count >= LIVE_MS) {
            count_workers(rq, c);
            last_count = now;
        }
        if (now - last_tick >= TICK_MS) {
            tick(rq, c);
            last_tick = now;
        }
        feed(rq, c);
        if (!rconn_is_up(c)) {
            atomic_store(&rq->up, 0);
            down_since = queue_now_ms();
            continue;
        }
        if (pump_wait(rq, LIVE_MS))
            break;
    }
    /* Unclaimed entries are nobody's any more; claimed jobs finish and their results wait
     * in recite:events for the next start. */
    if (rconn_is_up(c)) {
        redisReply *r = rconn_cmd(c, "DEL", RK_JOBS, NULL);
        if (r)
            freeReplyObject(r);
    }
    return NULL;
}

/* ---- reader thread --------------------------------------------------------------------- */

static void handle_result(struct redisqueue *rq, struct store *st, struct rconn *c,
                          const struct redis_msg *m)
{
    struct job_result res = { .type = m->type, .duration_ms = m->duration_ms };
    snprintf(res.error, sizeof res.error, "%s", m->error);
    if (res.type == JOB_EV_CACHED) {
        struct audio_record rec = { 0 };
        int have = store_audio_meta(st, m->hash, &rec) == 0;
        audio_record_free(&rec);
        res.word_timings = m->timings_len ? strndup(m->word_timings, m->timings_len) : NULL;
        if (!m->audio_len) {
            res.type = JOB_EV_ERROR;
            snprintf(res.error, sizeof res.error, "the worker sent no audio");
        } else if (!have) {
            struct audio_record a = { .duration_ms = m->duration_ms,
                                      .data = (unsigned char *)m->audio, .len = m->audio_len,
                                      .word_timings = res.word_timings };
            memcpy(a.hash, m->hash, sizeof a.hash);
            memcpy(a.model, m->model, sizeof a.model);
            memcpy(a.voice, m->voice, sizeof a.voice);
            int rc = store_audio_put(st, &a);
            if (rc) {
                res.type = JOB_EV_ERROR;
                snprintf(res.error, sizeof res.error, "%s", store_audio_put_error(rc));
            } else if (core_attempt(rq, m->attempt)) {
                /* The first copy of this variant: counted once, however many tries ran.
                 * (A result left over from an earlier server run is stored, not counted.) */
                res.synthesized = true;
                METRIC_ADD(rq->m, syntheses, 1);
                METRIC_ADD(rq->m, synthesis_us, (uint64_t)m->synthesis_us);
                METRIC_ADD(rq->m, audio_ms, (uint64_t)m->duration_ms);
            }
        }
        if (res.type == JOB_EV_CACHED && (res.audio = malloc(m->audio_len))) {
            memcpy(res.audio, m->audio, m->audio_len);
            res.audio_len = m->audio_len;
        }
    }
    if (res.type != JOB_EV_ERROR) {
        char key[80];
        job_key(key, m->hash);
        const char *a[] = { key, rq->done_ttl, rq->run };
        redisReply *r = RCONN_EVAL(c, RS_COMPLETE, 1, a);
        if (r)
            freeReplyObject(r);
    } else {
        log_warn("job %.12s (%s/%s) failed on worker %s: %s", m->hash, m->model, m->voice,
                 m->worker, res.error);
    }
    struct job_ticket t = { .attempt = core_attempt(rq, m->attempt) };
    memcpy(t.hash, m->hash, sizeof t.hash);
    memqueue_finish(rq->core, &t, &res);
}

static void handle_message(struct redisqueue *rq, struct store *st, struct rconn *c,
                           const char *buf, size_t len)
{
    struct redis_msg m;
    if (redis_wire_decode(buf, len, &m)) {
        log_warn("redis: dropped a malformed message from " RK_EVENTS " (%zu bytes)", len);
        return;
    }
    if (m.kind == 'P')
        memqueue_claimed(rq->core, m.hash, core_attempt(rq, m.attempt));
    else
        handle_result(rq, st, c, &m);
    kick(rq);   /* the window moved, or a retry needs pushing */
}

static void *reader_main(void *arg)
{
    struct redisqueue *rq = arg;
    char err[256] = "";
    struct store *st = store_open(rq->data_dir, err, sizeof err);
    if (!st) {
        log_error("redis result reader: cannot open the store: %s", err);
        return NULL;
    }
    struct rconn *c = rconn_create(&rq->url, "results", 5000);
    while (c && !atomic_load(&rq->reader_stop)) {
        if (rconn_ready(c)) {
            int ms = rconn_retry_in_ms(c);
            struct timespec ts = { 0, (long)(ms < 50 ? 50 : ms > 200 ? 200 : ms) * 1000000L };
            nanosleep(&ts, NULL);
            continue;
        }
        redisReply *r = rconn_cmd(c, "BLPOP", RK_EVENTS, "0.5", NULL);
        if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
            r->element[1]->type == REDIS_REPLY_STRING)
            handle_message(rq, st, c, r->element[1]->str, r->element[1]->len);
        if (r)
            freeReplyObject(r);
    }
    /* Shutdown: results already delivered (e.g. by this process's own workers) are stored. */
    for (int i = 0; c && i < 100000; i++) {
        redisReply *r = rconn_cmd(c, "LPOP", RK_EVENTS, NULL);
        int more = r && r->type == REDIS_REPLY_STRING;
        if (more)
            handle_message(rq, st, c, r->str, r->len);
        if (r)
            freeReplyObject(r);
        if (!more)
            break;
    }
    rconn_destroy(c);
    store_close(st);
    return NULL;
}

/* ---- queue operations (service thread) ----------------------------------------------- */

static int rq_submit(struct queue *q, const char *hash, const char *model, const char *voice,
                     const char *text, const struct requester *r, enum submit_state *state)
{
    struct redisqueue *rq = (struct redisqueue *)q;
    if (!atomic_load(&rq->up))
        return -1;   /* the client gets a recoverable error now rather than a wait */
    int rc = rq->core->ops->submit(rq->core, hash, model, voice, text, r, state);
    if (rc == 0)
        kick(rq);
    return rc;
}

static int rq_evict_window(struct queue *q, uint64_t conn_id, const char *doc_id, int cursor,
                           int lo, int hi, struct evicted **out, int *nout)
{
    struct queue *core = ((struct redisqueue *)q)->core;
    return core->ops->evict_window(core, conn_id, doc_id, cursor, lo, hi, out, nout);
}

static int rq_evict_other_voices(struct queue *q, uint64_t conn_id, const char *doc_id,
                                 const char *model, const char *voice, int skip_refs,
                                 struct evicted **out, int *nout)
{
    struct queue *core = ((struct redisqueue *)q)->core;
    return core->ops->evict_other_voices(core, conn_id, doc_id, model, voice, skip_refs, out, nout);
}

static void rq_gone(struct queue *q, enum requester_kind kind, uint64_t id)
{
    struct queue *core = ((struct redisqueue *)q)->core;
    core->ops->gone(core, kind, id);
}

static void rq_reap(struct queue *q, int64_t now_ms)
{
    struct redisqueue *rq = (struct redisqueue *)q;
    rq->core->ops->reap(rq->core, now_ms);
    kick(rq);
}

static struct job_event *rq_drain(struct queue *q)
{
    struct queue *core = ((struct redisqueue *)q)->core;
    return core->ops->drain(core);
}

static void rq_stats(struct queue *q, int *queued, int *running)
{
    struct queue *core = ((struct redisqueue *)q)->core;
    core->ops->stats(core, queued, running);
}

static void rq_shutdown(struct queue *q)
{
    struct redisqueue *rq = (struct redisqueue *)q;
    pthread_mutex_lock(&rq->lock);
    int already = rq->stopping;
    rq->stopping = 1;
    pthread_cond_broadcast(&rq->cond);
    pthread_mutex_unlock(&rq->lock);
    if (already)
        return;
    if (rq->pump_started)
        pthread_join(rq->pump, NULL);
    rq->pump_started = 0;
    atomic_store(&rq->reader_stop, 1);
    if (rq->reader_started)
        pthread_join(rq->reader, NULL);
    rq->reader_started = 0;
    if (rq->core)
        rq->core->ops->shutdown(rq->core);
}

static void rq_destroy(struct queue *q)
{
    struct redisqueue *rq = (struct redisqueue *)q;
    if (!rq)
        return;
    rq_shutdown(q);
    if (rq->core)
        rq->core->ops->destroy(rq->core);
    while (rq->pending) {
        struct pending *n = rq->pending->next;
        free(rq->pending);
        rq->pending = n;
    }
    rconn_destroy(rq->pump_conn);
    pthread_mutex_destroy(&rq->lock);
    pthread_cond_destroy(&rq->cond);
    free(rq->data_dir);
    free(rq);
}

static const struct queue_ops redisqueue_ops = {
    .submit = rq_submit,
    .evict_window = rq_evict_window,
    .evict_other_voices = rq_evict_other_voices,
    .gone = rq_gone,
    .reap = rq_reap,
    .drain = rq_drain,
    .stats = rq_stats,
    .shutdown = rq_shutdown,
    .destroy = rq_destroy,
};

struct queue *redisqueue_create(const struct redis_url *url, const char *data_dir,
                                int visibility_timeout_ms, int max_tries, struct metrics *m,
                                queue_notify_fn notify, void *notify_arg, char *err,
                                size_t errlen)
{
    struct redisqueue *rq = calloc(1, sizeof *rq);
    if (!rq) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    rq->base.ops = &redisqueue_ops;
    pthread_mutex_init(&rq->lock, NULL);
    pthread_cond_init(&rq->cond, NULL);
    rq->url = *url;
    redis_url_describe(url, rq->where, sizeof rq->where);
    rq->m = m;
    rq->visibility_ms = visibility_timeout_ms;
    int ttl = 2 * visibility_timeout_ms / 1000;
    snprintf(rq->done_ttl, sizeof rq->done_ttl, "%d", ttl < 60 ? 60 : ttl);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    rq->attempt_base = ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000) << 20;
    snprintf(rq->run, sizeof rq->run, "%llu", (unsigned long long)rq->attempt_base);
    rq->data_dir = strdup(data_dir);
    rq->core = memqueue_create(visibility_timeout_ms, max_tries, notify, notify_arg);
    rq->pump_conn = rconn_create(url, "queue", 2000);
    if (!rq->data_dir || !rq->core || !rq->pump_conn) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    struct memqueue_hooks hooks = { .withdraw = hook_withdraw, .gave_up = hook_gave_up, .arg = rq };
    memqueue_set_hooks(rq->core, &hooks);
    /* Connect now, so a server that starts with Redis up accepts jobs from its first request. */
    if (rconn_ready(rq->pump_conn) == 0 && on_connect(rq, rq->pump_conn, 1) == 0)
        atomic_store(&rq->up, 1);
    if (pthread_create(&rq->reader, NULL, reader_main, rq)) {
        snprintf(err, errlen, "cannot start the Redis result reader");
        goto fail;
    }
    rq->reader_started = 1;
    if (pthread_create(&rq->pump, NULL, pump_main, rq)) {
        snprintf(err, errlen, "cannot start the Redis feeder");
        goto fail;
    }
    rq->pump_started = 1;
    log_info("distributed mode: jobs go to Redis at %s", rq->where);
    return &rq->base;
fail:
    rq_destroy(&rq->base);
    return NULL;
}
