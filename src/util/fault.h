/* fault — allocation-failure injection, in the style of SQLite's and curl's fault tests.
 * Only the job queue allocates through fault_malloc & co. (normally malloc & co. plus one
 * relaxed atomic load), so only its allocations can be made to fail:
 *   - jobs/memqueue.c: jobs, their text and final event, requester lists, evicted lists,
 *     job events, tickets' text, the job table's growth;
 *   - jobs/memqueue_pick.c: the fair-order index (its nodes, requesters, models, entries,
 *     heaps and bucket growth);
 *   - jobs/redisqueue.c: one point, the feeder's pending operations (add_pending).
 * Nothing else does: the workers, the offload pool, the HTTP and WebSocket code, the
 * store, the document readers and the engines call malloc & co. directly, and no test
 * makes those fail. A test arms the injector: after `after` more checked allocations,
 * the next `count` of them fail (count < 0: all of them), then allocation works again —
 * so a test can check that the code both survives the failure and recovers from it
 * (tests/unit/test_faults.c, over the in-memory queue).
 *
 * Arming: fault_alloc_arm() in unit tests; RECITE_FAIL_ALLOC_AFTER=N (and optionally
 * RECITE_FAIL_ALLOC_COUNT=M, default 1) in the environment of a process, read once (no
 * test sets them at present). */
#ifndef RECITE_FAULT_H
#define RECITE_FAULT_H
#include <stdlib.h>
#include <string.h>

void fault_alloc_arm(long after, long count);   /* count 0: disarm */
/* A slow disk, for tests: with RECITE_FAULT_SLOW_DISK_MS=N in the environment (read once),
 * each call sleeps N ms; otherwise it returns at once. Called before each upload spool write
 * (server/spool.c), so a test can make the network outrun the disk, and before each save of
 * an export's state (server/exports.c, save_work). */
void fault_slow_disk(void);
int fault_alloc_fails(void);                    /* 1: behave as if the allocation failed */
long fault_alloc_injected(void);                /* failures injected so far (tests) */

static inline void *fault_malloc(size_t n)
{
    return fault_alloc_fails() ? NULL : malloc(n);
}

static inline void *fault_calloc(size_t n, size_t size)
{
    return fault_alloc_fails() ? NULL : calloc(n, size);
}

static inline void *fault_realloc(void *p, size_t n)
{
    return fault_alloc_fails() ? NULL : realloc(p, n);
}

static inline char *fault_strdup(const char *s)
{
    return fault_alloc_fails() ? NULL : strdup(s);
}
#endif
