/* job_source — the worker's side of a queue: take a job, finish it. Nothing else.
 * The in-process queue provides one (memqueue_source), and so does the Redis pulling side
 * (redis_worker.c: BLPOP + claim, RPUSH of the result); workers.c runs on either without
 * knowing which. The server's side (submit, evict, gone, reap, drain) is queue.h.
 *
 * Threads: any number of worker threads call take/finish at once. */
#ifndef RECITE_JOB_SOURCE_H
#define RECITE_JOB_SOURCE_H
#include "jobs/job.h"

/* Which jobs a taker accepts, by model slug (NULL filter: every job). accept() runs with
 * the queue's lock held: it must be quick, take no lock and not call back into the queue.
 * A source that cannot filter (Redis: every worker runs every model) ignores it. */
struct take_filter {
    int (*accept)(const char *model, void *arg);
    void *arg;
};

struct job_source;
struct job_source_ops {
    /* Blocks until a job is available (0: *t filled, the caller frees it with
     * job_ticket_free) or the source is shut down (-1: the worker exits). Transient
     * failures (out of memory, a lost connection) are handled inside: they never look
     * like a shutdown. */
    int (*take)(struct job_source *s, struct job_ticket *t, const struct take_filter *f);
    /* Reports the result; ownership of res's buffers moves to the source. */
    void (*finish)(struct job_source *s, const struct job_ticket *t, struct job_result *res);
};

struct job_source {
    const struct job_source_ops *ops;
};
#endif
