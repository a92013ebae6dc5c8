/* memqueue_core — memqueue as the server-side core of the Redis backend (redisqueue.c
 * only; embedded mode uses none of this). The core keeps the requesters, cursors, fair
 * order and tries; redisqueue hands jobs off to Redis one at a time and reports what
 * remote workers did. A handed-off job counts as queued (and is evictable) until a worker
 * claims it. */
#ifndef RECITE_MEMQUEUE_CORE_H
#define RECITE_MEMQUEUE_CORE_H
#include "jobs/queue.h"
#include "util/err.h"

struct memqueue_hooks {
    /* Called with the queue lock held when a handed-off job loses its last requester. It
     * must not block (no I/O: the caller may be the service thread): it hands the
     * withdrawal to the feeder thread, which answers with memqueue_withdrawn. 0: asked
     * (the job is "withdrawing" meanwhile); -1: could not (the job stays handed off and
     * runs for nobody if a worker claims it). */
    int (*withdraw)(void *arg, const char *hash, uint64_t attempt);
    /* Called with the queue lock held when a job fails for good (the ERROR event). */
    void (*gave_up)(void *arg, const char *hash, const char *model, const char *voice,
                    uint64_t attempt, int tries, const char *error);
    void *arg;
};
void memqueue_set_hooks(struct queue *q, const struct memqueue_hooks *hooks);
/* Never blocks: hands off the next job in fair nearest-first order (a new attempt, one more
 * try, no event) if fewer than max_handed are handed off and unclaimed. RECITE_OK: *t
 * filled; RECITE_EEMPTY: nothing to hand off now; RECITE_ESTOPPED: shut down. */
int memqueue_hand_off(struct queue *q, int max_handed, struct job_ticket *t);
/* A worker claimed this attempt: handed off -> running, PROCESSING event, the visibility
 * clock starts. 1 if the attempt is stale (nothing happens). */
int memqueue_claimed(struct queue *q, const char *hash, uint64_t attempt);
/* The feeder's answer to a withdraw hook: 1 withdrawn (no worker will run this attempt;
 * the job goes, or is queued again if a requester joined meanwhile), 0 a worker claimed it
 * first (it runs). Anything but a withdrawing job with this attempt is ignored. */
void memqueue_withdrawn(struct queue *q, const char *hash, uint64_t attempt, int withdrawn);
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
/* A remote worker's result for this attempt (the reader thread): as a worker's finish()
 * in embedded mode — the job completes and its event goes out, a stale attempt's error
 * is dropped. */
void memqueue_finish(struct queue *q, const struct job_ticket *t, struct job_result *res);
#endif
