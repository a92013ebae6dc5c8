/* workers — the pool of TTS worker threads (embedded mode, and `recite worker`). */
#ifndef RECITE_WORKERS_H
#define RECITE_WORKERS_H
#include "jobs/queue.h"
#include "util/metrics.h"

struct worker_pool;
/* Starts n threads taking jobs from q. data_dir: each thread opens its own store
 * connection there (NULL: no store, e.g. a Redis worker that returns audio by value). */
struct worker_pool *workers_start(int n, struct queue *q, const char *data_dir,
                                  struct metrics *m);
/* Like workers_start, for the jobs of one model only (want != 0) or of every model but one
 * (want == 0), through q->ops->take_model (NULL if the queue has none). Embedded mode runs
 * openai jobs on a pool of their own: see docs/DESIGN.md, "Engines". */
struct worker_pool *workers_start_for(int n, struct queue *q, const char *data_dir,
                                      struct metrics *m, const char *model, int want);
/* Call after q->ops->shutdown(q): waits for running jobs to finish, frees the pool. */
void workers_stop(struct worker_pool *p);

/* Runs one job to a result (synthesize, encode, store). Used by worker threads; exposed
 * for tests and for `recite say`-like one-shot use. store may be NULL. */
struct store;
struct engine_cache;
void workers_run_job(struct store *st, struct engine_cache *ec, const struct job_ticket *t,
                     struct metrics *m, struct job_result *res);
#endif
