/* memqueue — the in-process job queue (embedded mode).
 *
 * Threads: the service thread calls submit/evict/gone/reap/drain; worker threads
 * block in take() and report with finish(). One mutex guards everything; a condvar wakes
 * takers; events go to a list that the service thread swaps out in drain(), after the
 * notify callback (lws_cancel_service) woke it. Workers receive copies (tickets), never
 * pointers into the queue, so eviction can free a job at any time.
 *
 * Order: fair share by user first (SPEC section 7: one user with ten tabs cannot starve
 * another): users are served round-robin; within a user, that user's requesters
 * (connections, by (kind, id)) round-robin; a requester without a user (user_id 0: an
 * HTTP waiter) is a "user" of its own. Within a connection the job nearest to that
 * connection's cursor runs first (ahead of the cursor wins a tie). So one reader's long prefetch never delays another reader's
 * first block. A requester marked `first` (the cursor block of a new synthesize) runs before
 * the rest of its connection's jobs, the newest one first: the block 0 of a document just
 * opened never waits behind the same reader's prefetch of the document before. The order is
 * kept by an index (memqueue_pick.c), so a take does not scan the queue. */
#include "jobs/memqueue_core.h"
#include "jobs/memqueue_pick.h"
#include "util/fault.h"
#include "util/log.h"
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Only in distributed mode (memqueue as redisqueue's core, see the end of this file):
 * MJOB_HANDED: given to a remote queue, not yet claimed by a worker; evictable like QUEUED.
 * MJOB_WITHDRAWING: handed off, then unwanted; the feeder is withdrawing it from the remote
 * queue. A requester may join it meanwhile; memqueue_withdrawn settles it (dropped, queued
 * again, or back to handed off when a worker had claimed it first). */
enum { MJOB_QUEUED, MJOB_RUNNING, MJOB_HANDED, MJOB_WITHDRAWING };

struct mjob {
    char hash[65];
    char model[32];
    char voice[64];
    char *text;
    int state;
    int tries;
    uint64_t attempt;
    int64_t taken_at;
    uint64_t seq;
    struct requester *reqs;
    struct pick_ent **ents;    /* ents[i]: reqs[i] in the pick index, which keeps its
                                  current cursor (reqs[i].cursor stays as submitted) */
    int nreqs, cap;
    struct job_event *final;   /* the job's last event, allocated with the job: a job that
                                  ends can always tell its requesters (never dropped) */
    struct mjob *next, *prev;  /* every job, newest first */
    struct mjob *hnext;        /* the hash bucket's chain */
};

static int same_requester(const struct requester *r, enum requester_kind kind, uint64_t id)
{
    return r->kind == kind && r->id == id;
}

struct memqueue {
    struct queue base;
    struct job_source source;        /* the workers' side (embedded mode) */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct mjob *jobs;
    struct mjob **buckets;           /* jobs by variant hash (nbuckets: a power of two) */
    size_t nbuckets, njobs;
    int nqueued, nhanded;            /* jobs in MJOB_QUEUED / in_remote() */
    struct job_event *ev_head, *ev_tail;
    uint64_t next_attempt, next_seq;
    struct pick_index *pick;         /* the order of queued jobs; every requester */
    int visibility_ms, max_tries;
    int shutting_down;
    queue_notify_fn notify;
    void *notify_arg;
    struct memqueue_hooks hooks;   /* distributed mode only; zero in embedded mode */
};

int64_t queue_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* FNV-1a of the hash's first 16 hex digits: sha256 output is uniform already. */
static size_t bucket_of(const struct memqueue *mq, const char *hash)
{
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < 16 && hash[i]; i++)
        h = (h ^ (unsigned char)hash[i]) * 1099511628211ULL;
    return (size_t)h & (mq->nbuckets - 1);
}

static struct mjob *find_job(struct memqueue *mq, const char *hash)
{
    for (struct mjob *j = mq->buckets[bucket_of(mq, hash)]; j; j = j->hnext)
        if (!strcmp(j->hash, hash))
            return j;
    return NULL;
}

/* Doubles the bucket array when jobs outnumber buckets; keeps the old one (slower, still
 * correct) when memory is short. */
static void maybe_grow(struct memqueue *mq)
{
    if (mq->njobs <= mq->nbuckets)
        return;
    struct mjob **nb = fault_calloc(mq->nbuckets * 2, sizeof *nb);
    if (!nb)
        return;
    mq->nbuckets *= 2;
    free(mq->buckets);
    mq->buckets = nb;
    for (struct mjob *j = mq->jobs; j; j = j->next) {
        size_t b = bucket_of(mq, j->hash);
        j->hnext = nb[b];
        nb[b] = j;
    }
}

static void link_job(struct memqueue *mq, struct mjob *job)
{
    job->prev = NULL;
    job->next = mq->jobs;
    if (mq->jobs)
        mq->jobs->prev = job;
    mq->jobs = job;
    size_t b = bucket_of(mq, job->hash);
    job->hnext = mq->buckets[b];
    mq->buckets[b] = job;
    mq->njobs++;
    mq->nqueued += job->state == MJOB_QUEUED;
    maybe_grow(mq);
}

/* Handed off and not claimed: it holds a place in the remote queue's window. */
static int in_remote(int state)
{
    return state == MJOB_HANDED || state == MJOB_WITHDRAWING;
}

/* Every state change goes through here, so the counters stay true. */
static void set_state(struct memqueue *mq, struct mjob *job, int state)
{
    int was = job->state == MJOB_QUEUED, is = state == MJOB_QUEUED;
    mq->nqueued += is - was;
    mq->nhanded += in_remote(state) - in_remote(job->state);
    job->state = state;
    for (int i = 0; was != is && i < job->nreqs; i++)
        (is ? pick_queue : pick_unqueue)(mq->pick, job->ents[i]);
}

/* Removes job->reqs[i]; the last requester takes its place. */
static void remove_requester(struct memqueue *mq, struct mjob *job, int i)
{
    pick_remove(mq->pick, job->ents[i]);
    int last = --job->nreqs;
    if (i != last) {
        job->reqs[i] = job->reqs[last];
        job->ents[i] = job->ents[last];
        job->ents[i]->slot = i;
    }
}

static void unlink_job(struct memqueue *mq, struct mjob *job)
{
    if (job->prev)
        job->prev->next = job->next;
    else
        mq->jobs = job->next;
    if (job->next)
        job->next->prev = job->prev;
    for (struct mjob **pp = &mq->buckets[bucket_of(mq, job->hash)]; *pp; pp = &(*pp)->hnext)
        if (*pp == job) {
            *pp = job->hnext;
            break;
        }
    mq->njobs--;
    mq->nqueued -= job->state == MJOB_QUEUED;
    mq->nhanded -= in_remote(job->state);
    while (job->nreqs)
        remove_requester(mq, job, job->nreqs - 1);
    job_event_free(job->final);
    free(job->text);
    free(job->reqs);
    free(job->ents);
    free(job);
}

/* Queues an event carrying a snapshot (or, with `move`, the job's own list) of requesters.
 * A final event (`move`: the job ends) uses the one allocated with the job, so it is never
 * lost; a PROCESSING event that cannot be allocated is skipped, loudly (the requesters
 * still get the final status). */
static void push_event(struct memqueue *mq, enum job_event_type type, struct mjob *job, int move,
                       struct job_result *res, int recoverable)
{
    struct job_event *ev = move ? job->final : fault_calloc(1, sizeof *ev);
    if (move)
        job->final = NULL;
    if (!ev) {
        log_warn("queue: out of memory: the `%s` status of job %.12s is skipped",
                 type == JOB_EV_PROCESSING ? "processing" : "final", job->hash);
        if (res)
            job_result_free(res);
        return;
    }
    ev->type = type;
    memcpy(ev->hash, job->hash, sizeof ev->hash);
    memcpy(ev->model, job->model, sizeof ev->model);
    memcpy(ev->voice, job->voice, sizeof ev->voice);
    if (move) {
        for (int i = 0; i < job->nreqs; i++)   /* the job ends: they leave the index */
            pick_remove(mq->pick, job->ents[i]);
        ev->reqs = job->reqs;
        ev->nreqs = job->nreqs;
        job->reqs = NULL;
        job->nreqs = job->cap = 0;
    } else if (job->nreqs) {
        ev->reqs = fault_malloc((size_t)job->nreqs * sizeof *ev->reqs);
        if (ev->reqs) {
            memcpy(ev->reqs, job->reqs, (size_t)job->nreqs * sizeof *ev->reqs);
            ev->nreqs = job->nreqs;
        }
    }
    if (res) {
        ev->result = *res;
        memset(res, 0, sizeof *res);
    }
    ev->recoverable = recoverable;
    if (mq->ev_tail)
        mq->ev_tail->next = ev;
    else
        mq->ev_head = ev;
    mq->ev_tail = ev;
}

/* A job lost its last requester. Queued: it goes. Handed off (distributed mode): it is
 * withdrawn from the remote queue asynchronously — the hook only asks the feeder thread,
 * which answers with memqueue_withdrawn (no Redis round trip here, under the lock, on the
 * service thread). Running (or already withdrawing): it finishes for nobody. */
static void drop_unwanted(struct memqueue *mq, struct mjob *job)
{
    if (job->state == MJOB_QUEUED || (job->state == MJOB_HANDED && !mq->hooks.withdraw)) {
        unlink_job(mq, job);
    } else if (job->state == MJOB_HANDED) {
        set_state(mq, job, MJOB_WITHDRAWING);
        if (mq->hooks.withdraw(mq->hooks.arg, job->hash, job->attempt) < 0)
            set_state(mq, job, MJOB_HANDED);   /* runs for nobody if a worker claims it */
    }
}

static void gave_up(struct memqueue *mq, struct mjob *job, const char *error)
{
    if (mq->hooks.gave_up)
        mq->hooks.gave_up(mq->hooks.arg, job->hash, job->model, job->voice, job->attempt,
                          job->tries, error);
}

/* A running attempt ended without audio (engine error, visibility timeout, lost worker).
 * Nobody waits for it: drop it. Out of tries (and may_fail): a recoverable error to every
 * requester. Otherwise it is queued again. res carries the error text and is consumed.
 * Returns 1 when an event was pushed (the caller notifies after unlocking). */
static int retry_or_fail(struct memqueue *mq, struct mjob *job, int may_fail,
                         struct job_result *res)
{
    if (job->nreqs == 0) {
        job_result_free(res);
        unlink_job(mq, job);
        return 0;
    }
    if (may_fail && job->tries >= mq->max_tries) {
        gave_up(mq, job, res->error);
        push_event(mq, JOB_EV_ERROR, job, 1, res, 1);
        unlink_job(mq, job);
        return 1;
    }
    job_result_free(res);
    set_state(mq, job, MJOB_QUEUED);
    pthread_cond_broadcast(&mq->cond);   /* takers may filter by model */
    return 0;
}

static int mq_submit(struct queue *q, const char *hash, const char *model, const char *voice,
                     const char *text, const struct requester *r, enum submit_state *state)
{
    struct memqueue *mq = (struct memqueue *)q;
    int rc = 0;
    if (r->kind == REQ_NONE)
        return -1;
    pthread_mutex_lock(&mq->lock);
    struct mjob *job = find_job(mq, hash);
    int created = 0;
    if (!job) {
        job = fault_calloc(1, sizeof *job);
        if (!job || !(job->text = fault_strdup(text)) ||
            !(job->final = fault_calloc(1, sizeof *job->final))) {
            if (job)
                free(job->text);
            free(job);
            rc = -1;   /* the client is told at once (a recoverable error), nothing is lost */
            goto out;
        }
        memcpy(job->hash, hash, 65);
        snprintf(job->model, sizeof job->model, "%s", model);
        snprintf(job->voice, sizeof job->voice, "%s", voice);
        job->state = MJOB_QUEUED;
        job->seq = mq->next_seq++;
        link_job(mq, job);
        created = 1;
    }
    *state = job->state == MJOB_RUNNING ? SUBMIT_PROCESSING : SUBMIT_QUEUED;
    for (int i = 0; i < job->nreqs; i++) {
        struct requester *e = &job->reqs[i];
        if (same_requester(e, r->kind, r->id) && e->idx == r->idx && !strcmp(e->doc_id, r->doc_id)) {
            e->cursor = r->cursor;
            e->skip_refs = r->skip_refs;   /* the same audio either way: the latest ask names it */
            if (r->first)
                e->first = ++mq->next_seq;
            pick_reorder(mq->pick, job->ents[i], e);
            goto out;
        }
    }
    if (job->nreqs == job->cap) {
        int cap = job->cap ? job->cap * 2 : 4;
        struct requester *n = fault_realloc(job->reqs, (size_t)cap * sizeof *n);
        if (n)
            job->reqs = n;
        struct pick_ent **ne = n ? fault_realloc(job->ents, (size_t)cap * sizeof *ne) : NULL;
        if (ne) {
            job->ents = ne;
            job->cap = cap;
        }
    }
    struct requester *nr = &job->reqs[job->nreqs];
    struct pick_ent *ent = NULL;
    if (job->nreqs < job->cap) {
        *nr = *r;
        if (r->first)
            nr->first = ++mq->next_seq;
        ent = pick_add(mq->pick, job, job->nreqs, job->model, job->seq, nr);
    }
    if (!ent) {
        if (created)
            unlink_job(mq, job);   /* never a job that nobody wants */
        rc = -1;
        goto out;
    }
    job->ents[job->nreqs++] = ent;
    if (job->state == MJOB_QUEUED)
        pick_queue(mq->pick, ent);
    if (created)
        pthread_cond_broadcast(&mq->cond);   /* takers may filter by model */
out:
    pthread_mutex_unlock(&mq->lock);
    return rc;
}

static int add_evicted(struct evicted **out, int *nout, const struct mjob *job,
                       const struct requester *r)
{
    struct evicted *n = fault_realloc(*out, (size_t)(*nout + 1) * sizeof *n);
    if (!n)
        return -1;
    *out = n;
    struct evicted *e = &n[(*nout)++];
    e->conn_id = r->id;
    memcpy(e->doc_id, r->doc_id, sizeof e->doc_id);
    e->idx = r->idx;
    e->user_id = r->user_id;
    e->chars = r->chars;
    e->skip_refs = r->skip_refs;
    memcpy(e->model, job->model, sizeof e->model);
    memcpy(e->voice, job->voice, sizeof e->voice);
    return 0;
}

/* Removes queued requesters of (conn, doc) that `drop` selects; frees jobs left unwanted.
 * Only the connection's own requesters are looked at (the index's by-requester list). */
static int evict_where(struct memqueue *mq, uint64_t conn_id, const char *doc_id, int cursor,
                       int lo, int hi, const char *model, const char *voice, int skip_refs,
                       struct evicted **out, int *nout)
{
    int added = 0;
    pthread_mutex_lock(&mq->lock);
    int outside = 1;
    if (!model) {   /* the cursor move first, all of it: the index then rebuilds each heap once */
        outside = 0;
        for (struct pick_ent *e = pick_entries_of(mq->pick, REQ_CONN, conn_id); e; e = e->wnext) {
            if (strcmp(e->doc_id, doc_id))
                continue;
            if (pick_move_cursor(mq->pick, e, cursor))
                ((struct mjob *)e->job)->reqs[e->slot].first = 0;   /* moved on: nearest-first */
            outside += e->idx < lo || e->idx > hi;
        }
        pick_settle(mq->pick);
    }
    /* the evictions: a second walk only when some entry lies outside the window (touching
     * each entry is what a move costs: they are spread over the heap) */
    for (struct pick_ent *e = outside ? pick_entries_of(mq->pick, REQ_CONN, conn_id) : NULL, *next;
         e; e = next) {
        next = e->wnext;   /* e may go; nothing else of this requester does */
        struct mjob *job = e->job;
        /* A cursor move touches only the index's entries (no job) unless one is evicted. */
        if (strcmp(e->doc_id, doc_id))
            continue;
        if (!model && e->idx >= lo && e->idx <= hi)
            continue;
        struct requester *r = &job->reqs[e->slot];
        int other_variant = model && (strcmp(job->model, model) || strcmp(job->voice, voice) ||
                                      (skip_refs >= 0 && r->skip_refs != skip_refs));
        /* Handed off (distributed mode) counts as queued until a worker claims it. */
        int drop = job->state != MJOB_RUNNING &&
                   (model ? other_variant : (r->idx < lo || r->idx > hi));
        /* Out of memory: it stays (an eviction nobody is told of would leave the client
         * waiting for a status that never comes). */
        if (!drop || add_evicted(out, nout, job, r) < 0)
            continue;
        added++;
        remove_requester(mq, job, e->slot);
        if (job->nreqs == 0)
            drop_unwanted(mq, job);
    }
    pthread_mutex_unlock(&mq->lock);
    return added;
}

static int mq_evict_window(struct queue *q, uint64_t conn_id, const char *doc_id, int cursor,
                           int lo, int hi, struct evicted **out, int *nout)
{
    return evict_where((struct memqueue *)q, conn_id, doc_id, cursor, lo, hi, NULL, NULL, -1, out, nout);
}

static int mq_evict_other_voices(struct queue *q, uint64_t conn_id, const char *doc_id,
                                 const char *model, const char *voice, int skip_refs,
                                 struct evicted **out, int *nout)
{
    return evict_where((struct memqueue *)q, conn_id, doc_id, 0, 0, 0, model, voice, skip_refs, out, nout);
}

static void mq_gone(struct queue *q, enum requester_kind kind, uint64_t id)
{
    struct memqueue *mq = (struct memqueue *)q;
    pthread_mutex_lock(&mq->lock);
    struct pick_ent *e;
    while ((e = pick_entries_of(mq->pick, kind, id))) {
        struct mjob *job = e->job;
        remove_requester(mq, job, e->slot);
        if (job->nreqs == 0)
            drop_unwanted(mq, job);
    }
    pthread_mutex_unlock(&mq->lock);
}

/* Picks the next job in fair order (memqueue_pick.c) among those the filter accepts.
 * Nothing queued (everything running or handed off): not even the index is asked. */
static struct mjob *pick_where(struct memqueue *mq, const struct take_filter *f)
{
    return mq->nqueued ? pick_next(mq->pick, f) : NULL;
}

static struct memqueue *of_source(struct job_source *s)
{
    return (struct memqueue *)((char *)s - offsetof(struct memqueue, source));
}

static int ms_take(struct job_source *s, struct job_ticket *t, const struct take_filter *f)
{
    struct memqueue *mq = of_source(s);
    pthread_mutex_lock(&mq->lock);
    struct mjob *job = NULL;
    for (;;) {
        while (!mq->shutting_down && !(job = pick_where(mq, f)))
            pthread_cond_wait(&mq->cond, &mq->lock);
        if (mq->shutting_down) {
            pthread_mutex_unlock(&mq->lock);
            return -1;
        }
        memset(t, 0, sizeof *t);
        if ((t->text = fault_strdup(job->text)))
            break;
        /* Out of memory: the job stays queued, untouched, and this taker tries again in a
         * moment. (-1 would read as shutdown: the worker would exit for good.) */
        log_warn("queue: out of memory taking job %.12s; retrying", job->hash);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&mq->cond, &mq->lock, &ts);
    }
    set_state(mq, job, MJOB_RUNNING);
    job->tries++;
    job->attempt = ++mq->next_attempt;
    job->taken_at = queue_now_ms();
    memcpy(t->hash, job->hash, sizeof t->hash);
    memcpy(t->model, job->model, sizeof t->model);
    memcpy(t->voice, job->voice, sizeof t->voice);
    t->attempt = job->attempt;
    t->tries = job->tries;
    push_event(mq, JOB_EV_PROCESSING, job, 0, NULL, 0);
    pthread_mutex_unlock(&mq->lock);
    mq->notify(mq->notify_arg);
    return 0;
}

void memqueue_finish(struct queue *q, const struct job_ticket *t, struct job_result *res)
{
    struct memqueue *mq = (struct memqueue *)q;
    int notify = 0;
    pthread_mutex_lock(&mq->lock);
    struct mjob *job = find_job(mq, t->hash);
    if (!job) {
        /* Already finished by another attempt (a slow original and its retry). */
        job_result_free(res);
    } else if (res->type == JOB_EV_ERROR) {
        if (job->attempt != t->attempt) {
            job_result_free(res);           /* a newer attempt is in charge */
        } else {
            notify = retry_or_fail(mq, job, 1, res);
        }
    } else {
        push_event(mq, res->type, job, 1, res, 0);
        unlink_job(mq, job);
        notify = 1;
    }
    pthread_mutex_unlock(&mq->lock);
    if (notify)
        mq->notify(mq->notify_arg);
}

static void ms_finish(struct job_source *s, const struct job_ticket *t, struct job_result *res)
{
    memqueue_finish(&of_source(s)->base, t, res);
}

static void mq_reap(struct queue *q, int64_t now_ms)
{
    struct memqueue *mq = (struct memqueue *)q;
    int notify = 0;
    pthread_mutex_lock(&mq->lock);
    struct mjob *job = mq->jobs;
    while (job) {
        struct mjob *next = job->next;
        if (job->state == MJOB_RUNNING && now_ms - job->taken_at > mq->visibility_ms) {
            struct job_result res = { .type = JOB_EV_ERROR };
            snprintf(res.error, sizeof res.error, "synthesis timed out %d times", job->tries);
            notify |= retry_or_fail(mq, job, 1, &res);
        }
        job = next;
    }
    pthread_mutex_unlock(&mq->lock);
    if (notify)
        mq->notify(mq->notify_arg);
}

static struct job_event *mq_drain(struct queue *q)
{
    struct memqueue *mq = (struct memqueue *)q;
    pthread_mutex_lock(&mq->lock);
    struct job_event *ev = mq->ev_head;
    mq->ev_head = mq->ev_tail = NULL;
    pthread_mutex_unlock(&mq->lock);
    return ev;
}

static void mq_stats(struct queue *q, int *queued, int *running)
{
    struct memqueue *mq = (struct memqueue *)q;
    int nq = 0, nr = 0;
    pthread_mutex_lock(&mq->lock);
    for (struct mjob *j = mq->jobs; j; j = j->next) {
        if (j->state == MJOB_RUNNING)
            nr++;
        else if (j->state != MJOB_WITHDRAWING || j->nreqs)
            nq++;   /* handed off = still queued for a worker; withdrawing for nobody: gone */
    }
    pthread_mutex_unlock(&mq->lock);
    *queued = nq;
    *running = nr;
}

static void mq_shutdown(struct queue *q)
{
    struct memqueue *mq = (struct memqueue *)q;
    pthread_mutex_lock(&mq->lock);
    mq->shutting_down = 1;
    pthread_cond_broadcast(&mq->cond);
    pthread_mutex_unlock(&mq->lock);
}

static void mq_destroy(struct queue *q)
{
    struct memqueue *mq = (struct memqueue *)q;
    if (!mq)
        return;
    while (mq->jobs)
        unlink_job(mq, mq->jobs);
    job_event_free(mq->ev_head);
    free(mq->buckets);
    pick_destroy(mq->pick);
    pthread_mutex_destroy(&mq->lock);
    pthread_cond_destroy(&mq->cond);
    free(mq);
}

static const struct queue_ops memqueue_ops = {
    .submit = mq_submit,
    .evict_window = mq_evict_window,
    .evict_other_voices = mq_evict_other_voices,
    .gone = mq_gone,
    .reap = mq_reap,
    .drain = mq_drain,
    .stats = mq_stats,
    .shutdown = mq_shutdown,
    .destroy = mq_destroy,
};

static const struct job_source_ops memqueue_source_ops = {
    .take = ms_take,
    .finish = ms_finish,
};

struct job_source *memqueue_source(struct queue *q)
{
    return &((struct memqueue *)q)->source;
}

struct queue *memqueue_create(int visibility_timeout_ms, int max_tries, queue_notify_fn notify,
                              void *notify_arg)
{
    struct memqueue *mq = calloc(1, sizeof *mq);
    if (!mq)
        return NULL;
    mq->base.ops = &memqueue_ops;
    mq->source.ops = &memqueue_source_ops;
    pthread_mutex_init(&mq->lock, NULL);
    pthread_cond_init(&mq->cond, NULL);
    mq->visibility_ms = visibility_timeout_ms;
    mq->max_tries = max_tries;
    mq->notify = notify;
    mq->notify_arg = notify_arg;
    mq->nbuckets = 64;
    if (!(mq->buckets = calloc(mq->nbuckets, sizeof *mq->buckets)) ||
        !(mq->pick = pick_create())) {
        free(mq->buckets);
        free(mq);
        return NULL;
    }
    return &mq->base;
}

/* ---- Distributed mode: memqueue as the server-side core of redisqueue.c -----------------
 * The core keeps what only the server can know (who wants which variant, cursors, fair
 * order, tries); redisqueue's feeder hands jobs off one by one and reports what the remote
 * workers did. A handed-off job is evictable until a worker claims it (the withdraw hook
 * asks the remote side atomically); its visibility clock starts at the claim. */

void memqueue_set_hooks(struct queue *q, const struct memqueue_hooks *hooks)
{
    struct memqueue *mq = (struct memqueue *)q;
    pthread_mutex_lock(&mq->lock);
    mq->hooks = *hooks;
    pthread_mutex_unlock(&mq->lock);
}

int memqueue_hand_off(struct queue *q, int max_handed, struct job_ticket *t)
{
    struct memqueue *mq = (struct memqueue *)q;
    int rc = RECITE_EEMPTY;
    pthread_mutex_lock(&mq->lock);
    if (mq->shutting_down) {
        rc = RECITE_ESTOPPED;
        goto out;
    }
    struct mjob *job;
    if (mq->nhanded >= max_handed || !(job = pick_where(mq, NULL)))
        goto out;
    memset(t, 0, sizeof *t);
    if (!(t->text = fault_strdup(job->text)))
        goto out;   /* stays queued: the feeder comes back */
    set_state(mq, job, MJOB_HANDED);
    job->tries++;
    job->attempt = ++mq->next_attempt;
    job->taken_at = queue_now_ms();
    memcpy(t->hash, job->hash, sizeof t->hash);
    memcpy(t->model, job->model, sizeof t->model);
    memcpy(t->voice, job->voice, sizeof t->voice);
    t->attempt = job->attempt;
    t->tries = job->tries;
    rc = RECITE_OK;
out:
    pthread_mutex_unlock(&mq->lock);
    return rc;
}

int memqueue_claimed(struct queue *q, const char *hash, uint64_t attempt)
{
    struct memqueue *mq = (struct memqueue *)q;
    int rc = 1;
    pthread_mutex_lock(&mq->lock);
    struct mjob *job = find_job(mq, hash);
    if (job && job->attempt == attempt &&
        (job->state == MJOB_HANDED || job->state == MJOB_WITHDRAWING)) {
        /* A withdrawal that lost the race to a worker: the job runs (for whoever still
         * wants it) and memqueue_withdrawn will find it running. */
        set_state(mq, job, MJOB_RUNNING);
        job->taken_at = queue_now_ms();
        if (job->nreqs)
            push_event(mq, JOB_EV_PROCESSING, job, 0, NULL, 0);
        rc = 0;
    }
    pthread_mutex_unlock(&mq->lock);
    if (rc == 0)
        mq->notify(mq->notify_arg);
    return rc;
}

void memqueue_withdrawn(struct queue *q, const char *hash, uint64_t attempt, int withdrawn)
{
    struct memqueue *mq = (struct memqueue *)q;
    pthread_mutex_lock(&mq->lock);
    struct mjob *job = find_job(mq, hash);
    if (job && job->attempt == attempt && job->state == MJOB_WITHDRAWING) {
        if (!withdrawn) {
            set_state(mq, job, MJOB_HANDED);   /* a worker has it: its claim notice follows */
        } else if (job->nreqs == 0) {
            unlink_job(mq, job);
        } else {
            /* Wanted again while it was being withdrawn: queue it anew, the try given back. */
            if (job->tries > 0)
                job->tries--;
            set_state(mq, job, MJOB_QUEUED);
            pthread_cond_broadcast(&mq->cond);
        }
    }
    pthread_mutex_unlock(&mq->lock);
}

int memqueue_requeue(struct queue *q, const char *hash, uint64_t attempt, int count_try,
                     const char *why)
{
    struct memqueue *mq = (struct memqueue *)q;
    int rc = 1, notify = 0;
    pthread_mutex_lock(&mq->lock);
    struct mjob *job = find_job(mq, hash);
    if (!job || job->attempt != attempt || job->state == MJOB_QUEUED)
        goto out;
    rc = 0;
    if (!count_try && job->tries > 0)
        job->tries--;
    struct job_result res = { .type = JOB_EV_ERROR };
    snprintf(res.error, sizeof res.error, "%s (%d tries)", why ? why : "job lost", job->tries);
    notify = retry_or_fail(mq, job, count_try, &res);
out:
    pthread_mutex_unlock(&mq->lock);
    if (notify)
        mq->notify(mq->notify_arg);
    return rc;
}

int memqueue_inflight(struct queue *q, struct queue_inflight **out)
{
    struct memqueue *mq = (struct memqueue *)q;
    int n = 0, cap = 0;
    *out = NULL;
    pthread_mutex_lock(&mq->lock);
    for (struct mjob *j = mq->jobs; j; j = j->next) {
        if (j->state == MJOB_QUEUED)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            struct queue_inflight *m = realloc(*out, (size_t)cap * sizeof *m);
            if (!m) {
                n = -1;
                break;
            }
            *out = m;
        }
        struct queue_inflight *e = &(*out)[n++];
        memcpy(e->hash, j->hash, sizeof e->hash);
        e->attempt = j->attempt;
        e->running = j->state == MJOB_RUNNING;
        e->since_ms = j->taken_at;
    }
    pthread_mutex_unlock(&mq->lock);
    if (n < 0) {
        free(*out);
        *out = NULL;
    }
    return n;
}

void memqueue_fail_all(struct queue *q, const char *error)
{
    struct memqueue *mq = (struct memqueue *)q;
    int notify = 0;
    pthread_mutex_lock(&mq->lock);
    while (mq->jobs) {
        struct mjob *job = mq->jobs;
        if (job->nreqs) {
            struct job_result res = { .type = JOB_EV_ERROR };
            snprintf(res.error, sizeof res.error, "%s", error);
            push_event(mq, JOB_EV_ERROR, job, 1, &res, 1);
            notify = 1;
        }
        unlink_job(mq, job);
    }
    pthread_mutex_unlock(&mq->lock);
    if (notify)
        mq->notify(mq->notify_arg);
}
