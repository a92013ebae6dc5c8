/* workers — the pool of TTS worker threads (embedded mode, and `recite worker`). */
#ifndef RECITE_WORKERS_H
#define RECITE_WORKERS_H
#include "jobs/job_source.h"
#include "util/metrics.h"

struct worker_pool;

/* Which jobs a pool takes. Engines that wait on the network (ENGINE_NETWORK: openai) run
 * on threads of their own (--openai-concurrency), so slow upstreams never hold the CPU
 * workers and a CPU pool sized for the cores is never idle waiting on them. */
enum worker_lane {
    WORKERS_ALL,       /* every job (Redis workers; embedded mode without network engines) */
    WORKERS_CPU,       /* jobs of engines without ENGINE_NETWORK */
    WORKERS_NETWORK,   /* jobs of ENGINE_NETWORK engines */
};

/* Starts n threads taking jobs of `lane` from src. data_dir: each thread gets its own
 * store connection there, opened before any thread starts (NULL: no store, e.g. a Redis
 * worker that returns audio by value). NULL with err filled when a store cannot be opened
 * or memory runs out; if a thread cannot be created, err is filled and the pool runs
 * fewer than n (workers_count): the caller refuses to run, shuts the source down and
 * calls workers_stop. */
struct worker_pool *workers_start(int n, struct job_source *src, enum worker_lane lane,
                                  const char *data_dir, struct metrics *m, char *err,
                                  size_t errlen);
int workers_count(const struct worker_pool *p);   /* threads running */
/* Call after the source is shut down (queue ops->shutdown): waits for running jobs to
 * finish, frees the pool. Accepts NULL. */
void workers_stop(struct worker_pool *p);

/* Runs one job to a result (synthesize, encode, store). Used by worker threads; exposed
 * for tests and for `recite say`-like one-shot use. store may be NULL. */
struct store;
struct engine_cache;
void workers_run_job(struct store *st, struct engine_cache *ec, const struct job_ticket *t,
                     struct metrics *m, struct job_result *res);
#endif
