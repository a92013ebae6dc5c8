/* queue — the job queue, as the server sees it: the service thread submits, evicts, drops
 * requesters that went away, reaps and drains events. Workers see only a job_source
 * (job_source.h: take and finish). Backends: in-process (memqueue.c, which is also the
 * workers' job source in embedded mode) and Redis (redisqueue.c, which wraps a memqueue
 * core: memqueue_core.h). Every operation is thread-safe.
 *
 * Dedup contract: one job per variant hash. submit() of a hash that is queued or running
 * adds the requester to that job instead of queuing it twice.
 * Eviction contract: only *queued* requesters are removed; a running job finishes. */
#ifndef RECITE_QUEUE_H
#define RECITE_QUEUE_H
#include "jobs/job.h"
#include "jobs/job_source.h"

enum submit_state { SUBMIT_QUEUED, SUBMIT_PROCESSING };

/* An evicted requester (for the `evicted` reply). */
struct evicted {
    uint64_t conn_id;
    char doc_id[40];
    int idx;
    char model[32];
    char voice[64];
    int64_t user_id;    /* the requester's user and block size: its quota reservation */
    int chars;          /* is released (server/limits.h) */
    int skip_refs;      /* the requester's skip_references (echoed in `evicted`) */
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
    /* Evicts (conn, doc)'s queued requesters whose model/voice differ from the given ones,
     * and, when skip_refs >= 0, those whose skip_refs differs (the reader flipped the
     * setting: that audio is no longer wanted). */
    int (*evict_other_voices)(struct queue *q, uint64_t conn_id, const char *doc_id,
                              const char *model, const char *voice, int skip_refs,
                              struct evicted **out, int *nout);
    /* The requester (kind, id) is gone — a connection closed, a waiter's client hung up:
     * drop its requesters (jobs nobody wants are dropped). */
    void (*gone)(struct queue *q, enum requester_kind kind, uint64_t id);
    /* Service thread, periodically: take back jobs running longer than the visibility
     * timeout; after max tries they fail with a recoverable error. */
    void (*reap)(struct queue *q, int64_t now_ms);
    /* Service thread: takes all pending events (a list to free with job_event_free). */
    struct job_event *(*drain)(struct queue *q);
    void (*stats)(struct queue *q, int *queued, int *running);
    /* Wakes every taker of the queue's job source with -1; later takes return -1 at once. */
    void (*shutdown)(struct queue *q);
    void (*destroy)(struct queue *q);
};

struct queue {
    const struct queue_ops *ops;
};

/* notify is called (from any thread) after an event was added: the server uses it to
 * call lws_cancel_service(). */
typedef void (*queue_notify_fn)(void *arg);
struct queue *memqueue_create(int visibility_timeout_ms, int max_tries, queue_notify_fn notify,
                              void *notify_arg);
/* The in-process queue's worker side (embedded mode's workers take from it). */
struct job_source *memqueue_source(struct queue *q);

int64_t queue_now_ms(void);   /* monotonic clock used for visibility timeouts */

#endif
