/* redisqueue — the distributed queue backend (`recite serve --redis URL`): the same
 * `struct queue` operations as memqueue, with the work done by `recite worker` processes
 * that pull from Redis. See redisqueue.c for the threads and docs/DESIGN.md for the design. */
#ifndef RECITE_REDISQUEUE_H
#define RECITE_REDISQUEUE_H
#include "jobs/queue.h"
#include "jobs/redis_url.h"
#include "util/metrics.h"

/* Creates the queue and starts its two threads (feeder, result reader). data_dir: the
 * reader opens its own store connection there to save the audio workers send back. If
 * Redis is unreachable the queue still starts (and keeps reconnecting); submit() fails
 * while it is down. NULL with err only for bad arguments or resources. Syntheses, synthesis
 * time and audio seconds are counted in m once per variant. take() is not supported (there
 * are no local takers: in-process workers pull from Redis like remote ones). */
struct queue *redisqueue_create(const struct redis_url *url, const char *data_dir,
                                int visibility_timeout_ms, int max_tries, struct metrics *m,
                                queue_notify_fn notify, void *notify_arg, char *err,
                                size_t errlen);
#endif
