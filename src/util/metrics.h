/* metrics — process-wide counters for GET /metrics. Written from any thread with relaxed
 * atomics; the struct lives in `struct app` and is handed to whoever counts. */
#ifndef RECITE_METRICS_H
#define RECITE_METRICS_H
#include <stdatomic.h>
#include <stdint.h>

struct metrics {
    atomic_uint_fast64_t jobs_done;        /* jobs that finished cached or skipped */
    atomic_uint_fast64_t jobs_failed;      /* jobs reported as error */
    atomic_uint_fast64_t syntheses;        /* engine runs actually performed (dedup shows here) */
    atomic_uint_fast64_t synthesis_us;     /* wall time inside engine + encoder */
    atomic_uint_fast64_t audio_ms;         /* audio produced */
    atomic_uint_fast64_t cache_hits;       /* requested blocks answered `cached` at once */
    atomic_uint_fast64_t cache_misses;     /* requested blocks that needed a job */
    atomic_uint_fast64_t ws_connections;   /* currently open WebSockets (gauge) */
    atomic_uint_fast64_t ws_messages;      /* client messages received */
    atomic_uint_fast64_t http_requests;
    atomic_uint_fast64_t evictions;
    atomic_uint_fast64_t upload_pauses;    /* uploads paused because the disk fell behind (spool.h) */
};

#define METRIC_ADD(m, field, n) atomic_fetch_add_explicit(&(m)->field, (n), memory_order_relaxed)
#define METRIC_SUB(m, field, n) atomic_fetch_sub_explicit(&(m)->field, (n), memory_order_relaxed)
#define METRIC_GET(m, field) atomic_load_explicit(&(m)->field, memory_order_relaxed)
#endif
