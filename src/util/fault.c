/* fault — the allocation-failure injector and the slow-disk delay (see fault.h). Thread-safe: the counters are
 * atomics, so worker threads and the service thread draw from one sequence. */
#include "util/fault.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

static atomic_long armed;        /* 0: off (the fast path) */
static atomic_long skip;         /* checked allocations left before failures start */
static atomic_long to_fail;      /* failures left (< 0: unlimited) */
static atomic_long injected;
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

void fault_alloc_arm(long after, long count)
{
    atomic_store(&armed, 0);
    atomic_store(&skip, after < 0 ? 0 : after);
    atomic_store(&to_fail, count);
    atomic_store(&armed, count != 0);
}

static void read_env(void)
{
    const char *a = getenv("RECITE_FAIL_ALLOC_AFTER"), *c = getenv("RECITE_FAIL_ALLOC_COUNT");
    if (a && *a)
        fault_alloc_arm(atol(a), c && *c ? atol(c) : 1);
}

int fault_alloc_fails(void)
{
    pthread_once(&env_once, read_env);
    if (!atomic_load_explicit(&armed, memory_order_relaxed))
        return 0;
    if (atomic_fetch_sub(&skip, 1) > 0)
        return 0;
    long left = atomic_load(&to_fail);
    if (left == 0) {
        atomic_store(&armed, 0);
        return 0;
    }
    if (left > 0 && atomic_fetch_sub(&to_fail, 1) <= 0)
        return 0;
    atomic_fetch_add(&injected, 1);
    return 1;
}

static long slow_disk_ms;
static pthread_once_t slow_once = PTHREAD_ONCE_INIT;

static void read_slow_env(void)
{
    const char *v = getenv("RECITE_FAULT_SLOW_DISK_MS");
    slow_disk_ms = v && *v ? atol(v) : 0;
}

void fault_slow_disk(void)
{
    pthread_once(&slow_once, read_slow_env);
    if (slow_disk_ms > 0)
        nanosleep(&(struct timespec){ .tv_sec = slow_disk_ms / 1000,
                                      .tv_nsec = slow_disk_ms % 1000 * 1000000L }, NULL);
}

long fault_alloc_injected(void)
{
    return atomic_load(&injected);
}
