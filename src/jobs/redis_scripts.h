/* redis_scripts — the Redis key layout of distributed mode and the Lua scripts that change
 * a job's state atomically (see docs/DESIGN.md, "Distributed mode"). Every key starts with
 * `recite:`; one recite server per Redis database.
 *
 *   recite:jobs          list   "<hash>:<attempt>" waiting for a worker (RPUSH / BLPOP)
 *   recite:job:<hash>    hash   state queued|processing|done|evicted|dead, attempt, tries,
 *                               model, voice, text, run (server process), worker, claimed_at
 *   recite:events        list   the server's inbox: P1/R1 messages (redis_wire.h)
 *   recite:dead          list   dead-letter entries (JSON), newest first, capped
 *   recite:workers       zset   worker id -> last seen (Redis clock, seconds)
 *   recite:worker_jobs   hash   worker id -> results delivered (for operators and tests)
 */
#ifndef RECITE_REDIS_SCRIPTS_H
#define RECITE_REDIS_SCRIPTS_H

#define RK_JOBS "recite:jobs"
#define RK_JOB_PREFIX "recite:job:"
#define RK_EVENTS "recite:events"
#define RK_DEAD "recite:dead"
#define RK_WORKERS "recite:workers"
#define RK_WORKER_JOBS "recite:worker_jobs"

/* `run` (ARGV) identifies one server process: a job marked done by an earlier server (whose
 * data directory may be gone) must not stop this one from queuing it. */
/* Server: KEYS job, jobs; ARGV hash, attempt, tries, model, voice, text, ttl_s, run.
 * Queues the attempt unless this run finished the job meanwhile or withdrew this attempt. */
extern const char RS_PUSH[];
/* Worker: KEYS job, events, workers; ARGV attempt, worker, hash. Claims a queued attempt and
 * writes the P1 notice; returns {model, voice, text, tries} or nil if stale/evicted/done. */
extern const char RS_CLAIM[];
/* Server: KEYS job, jobs; ARGV hash, attempt, ttl_s, run. Withdraws an unclaimed attempt
 * (the state becomes evicted, a tombstone even if the push has not arrived yet): 1; 0 if a
 * worker has it or this run finished it. */
extern const char RS_WITHDRAW[];
/* Server: KEYS job; ARGV ttl_s, run. The job is done: later claims of any attempt fail. */
extern const char RS_COMPLETE[];
/* Server: KEYS job, jobs; ARGV hash, attempt, run. 0 lost, 1 waiting in the list, 2 claimed
 * by a worker, 3 done by this run. */
extern const char RS_CHECK[];
/* Server: KEYS job, dead; ARGV entry (JSON), ttl_s, cap. */
extern const char RS_DEAD[];
/* Worker: KEYS workers; ARGV worker. Heartbeat with the Redis clock. */
extern const char RS_HEARTBEAT[];
/* Server: KEYS workers; ARGV max_age_s. Forgets silent workers, returns how many are live. */
extern const char RS_LIVE_WORKERS[];
#endif
