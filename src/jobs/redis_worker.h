/* redis_worker — the pulling side of distributed mode: worker threads (workers.c, with no
 * store) whose queue is Redis. Used by `recite worker` and by `recite serve --redis` with
 * --workers N > 0 (in-process workers pull exactly like remote ones). */
#ifndef RECITE_REDIS_WORKER_H
#define RECITE_REDIS_WORKER_H
#include "jobs/redis_url.h"
#include <stdint.h>

struct redis_workers;

/* Starts n worker threads pulling from Redis (each thread has its own connection, created
 * lazily, reconnecting with backoff). Never waits for Redis. NULL with err on failure.
 * Fault injection for tests, read once here: RECITE_WORKER_DELAY_MS (sleep after claiming
 * each job) and RECITE_WORKER_FAIL=1 (report every job as failed without synthesizing). */
struct redis_workers *redis_workers_start(const struct redis_url *u, int n, char *err,
                                          size_t errlen);
/* Stops taking jobs, lets running ones finish and deliver their results, frees everything.
 * Accepts NULL. jobs/audio_ms (may be NULL): results delivered and the audio they carried. */
void redis_workers_stop(struct redis_workers *w, uint64_t *jobs, uint64_t *audio_ms);
#endif
