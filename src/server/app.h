/* app — the one struct handed down from main to every part of the server. Service-thread
 * state (store, hot cache, connection table) is only touched on the service thread; the
 * queue and metrics are thread-safe. */
#ifndef RECITE_APP_H
#define RECITE_APP_H
#include <stdint.h>
#include "config.h"
#include "util/metrics.h"

struct lws_context;
struct store;
struct queue;
struct worker_pool;
struct hotcache;
struct conns;
struct auth;
struct limits;
struct waiters;
struct offload;
struct exports;

struct app {
    const struct config *cfg;
    struct lws_context *ctx;
    struct store *store;          /* the service thread's own connection */
    struct queue *queue;
    struct worker_pool *workers;
    struct hotcache *hot;
    struct conns *conns;          /* WebSocket connection ids -> sessions */
    struct offload *offload;      /* threads for request work that is not TTS (offload.h) */
    struct offload *writer;       /* one thread: small store writes, in arrival order */
    struct offload *spooler;      /* one thread: multipart uploads written to disk (spool.h) */
    struct voicemap *voicemap;    /* OpenAI voice names -> local voices (voicemap.h) */
    struct waiters *waiters;      /* HTTP requests waiting for a job: speech, previews (waiters.h) */
    struct exports *exports;      /* "Export audio" jobs (exports.h) */
    struct auth *auth;            /* --auth: the server secret, guest creation limits (auth.h) */
    struct limits *limits;        /* quotas and rate limits per user (limits.h) */
    struct metrics metrics;
    char web_dir[1024];
    uint64_t next_conn_id;
    volatile int stopping;
};
#endif
