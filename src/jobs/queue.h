/* queue — the job queue interface. The service thread submits, evicts and drains events;
 * worker threads take and complete. Backends: in-process (memqueue.c); Redis comes later
 * behind the same operations. Every operation is thread-safe.
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
    /* Sets the cursor of (conn, doc) and evicts its queued requesters outside [lo, hi].
     * Appends evictions to *out (realloc'd), returns how many were added or -1. */
    int (*evict_window)(struct queue *q, uint64_t conn_id, const char *doc_id, int cursor,
                        int lo, int hi, struct evicted **out, int *nout);
    /* Evicts (conn, doc)'s queued requesters whose model/voice differ from the given ones. */
    int (*evict_other_voices)(struct queue *q, uint64_t conn_id, const char *doc_id,
                              const char *model, const char *voice, struct evicted **out,
                              int *nout);
    /* The connection is gone: drop its requesters (jobs nobody wants are dropped). */
    void (*conn_gone)(struct queue *q, uint64_t conn_id);
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
#endif
