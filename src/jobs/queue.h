/* queue — the job queue interface. The service thread submits, evicts and drains events;
 * worker threads take and complete. Backends: in-process (memqueue.c) and Redis
 * (redisqueue.c, which wraps a memqueue core: see the end of this file). Every operation is
 * thread-safe.
 *
 * Dedup contract: one job per variant hash. submit() of a hash that is queued or running
 * adds the requester to that job instead of queuing it twice.
 * Eviction contract: only *queued* requesters are removed; a running job finishes. */
#ifndef RECITE_QUEUE_H
#define RECITE_QUEUE_H
#include "jobs/job.h"

enum submit_state { SUBMIT_QUEUED, SUBMIT_PROCESSING };

/* An evicted requester (for the `evicted` reply). */
struct evicted {
    uint64_t conn_id;
    char doc_id[40];
    int idx;
    char model[32];
    char voice[64];
};

struct queue;
struct queue_ops {
    /* Adds a requester for the variant; creates the job if it doesn't exist. */
    int (*submit)(struct queue *q, const char *hash, const char *model, const char *voice,
                  const char *text, const struct requester *r, enum submit_state *state);
    /* evict_*: WebSocket connections (REQ_CONN) only; conn_id is the connection's id.
     * Sets the cursor of (conn, doc) and evicts its queued requesters outside [lo, hi].
     * Appends evictions to *out (realloc'd), returns how many were added or -1. */
    int (*evict_window)(struct queue *q, uint64_t conn_id, const char *doc_id, int cursor,
                        int lo, int hi, struct evicted **out, int *nout);
    /* Evicts (conn, doc)'s queued requesters whose model/voice differ from the given ones. */
    int (*evict_other_voices)(struct queue *q, uint64_t conn_id, const char *doc_id,
                              const char *model, const char *voice, struct evicted **out,
                              int *nout);
    /* The requester (kind, id) is gone — a connection closed, a waiter's client hung up:
     * drop its requesters (jobs nobody wants are dropped). */
    void (*gone)(struct queue *q, enum requester_kind kind, uint64_t id);
    /* Worker side: blocks until a job is available or shutdown (returns -1). */
    int (*take)(struct queue *q, struct job_ticket *t);
    /* Worker side: reports the result (ownership of result's buffers moves to the queue). */
    void (*finish)(struct queue *q, const struct job_ticket *t, struct job_result *res);
    /* Service thread, periodically: take back jobs running longer than the visibility
     * timeout; after max tries they fail with a recoverable error. */
    void (*reap)(struct queue *q, int64_t now_ms);
    /* Service thread: takes all pending events (a list to free with job_event_free). */
    struct job_event *(*drain)(struct queue *q);
    void (*stats)(struct queue *q, int *queued, int *running);
    /* Wakes every taker with -1; later takes return -1 at once. */
    void (*shutdown)(struct queue *q);
    void (*destroy)(struct queue *q);
    /* Optional (NULL where a backend has no use for it): take() restricted to jobs whose
     * model is `model` (want != 0) or is not `model` (want == 0), in the same fair order.
     * A pool dedicated to one engine uses it: openai jobs wait on the network, not the
     * CPU, so they run on threads of their own (workers_start_for, --openai-concurrency). */
    int (*take_model)(struct queue *q, struct job_ticket *t, const char *model, int want);
};

struct queue {
    const struct queue_ops *ops;
};

/* notify is called (from any thread) after an event was added: the server uses it to
 * call lws_cancel_service(). */
typedef void (*queue_notify_fn)(void *arg);
struct queue *memqueue_create(int visibility_timeout_ms, int max_tries, queue_notify_fn notify,
                              void *notify_arg);

int64_t queue_now_ms(void);   /* monotonic clock used for visibility timeouts */

/* ---- Distributed mode (redisqueue.c): memqueue as the server-side core ------------------
 * The core keeps the requesters, cursors, fair order and tries; redisqueue hands jobs off
 * to Redis one at a time and reports what remote workers did. A handed-off job counts as
 * queued (and is evictable) until a worker claims it. Embedded mode uses none of this. */
struct memqueue_hooks {
    /* Called with the queue lock held when a handed-off job loses its last requester:
     * return 1 if it was withdrawn from the remote queue (the job is dropped), 0 if a
     * worker already claimed it (it stays and its result is still reported). */
    int (*withdraw)(void *arg, const char *hash, uint64_t attempt);
    /* Called with the queue lock held when a job fails for good (the ERROR event). */
    void (*gave_up)(void *arg, const char *hash, const char *model, const char *voice,
                    uint64_t attempt, int tries, const char *error);
    void *arg;
};
void memqueue_set_hooks(struct queue *q, const struct memqueue_hooks *hooks);
/* Never blocks: hands off the next job in fair nearest-first order (a new attempt, one more
 * try, no event) if fewer than max_handed are handed off and unclaimed. 0: *t filled,
 * 1: nothing to hand off, -1: shut down. */
int memqueue_hand_off(struct queue *q, int max_handed, struct job_ticket *t);
/* A worker claimed this attempt: handed off -> running, PROCESSING event, the visibility
 * clock starts. 1 if the attempt is stale (nothing happens). */
int memqueue_claimed(struct queue *q, const char *hash, uint64_t attempt);
/* The remote queue lost this handed-off/running attempt: queue it again. count_try=0 gives
 * the try back; with count_try, the last try fails the job with `why`. 1 if stale. */
int memqueue_requeue(struct queue *q, const char *hash, uint64_t attempt, int count_try,
                     const char *why);
struct queue_inflight {
    char hash[65];
    uint64_t attempt;
    int running;          /* 0: handed off, not claimed yet */
    int64_t since_ms;     /* hand-off or claim time (queue_now_ms) */
};
/* Snapshot of every handed-off or running job (*out malloc'd); count or -1. */
int memqueue_inflight(struct queue *q, struct queue_inflight **out);
/* Fails every job with a recoverable error (e.g. Redis has been unreachable too long). */
void memqueue_fail_all(struct queue *q, const char *error);
#endif
