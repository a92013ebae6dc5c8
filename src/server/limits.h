/* limits — per-user quotas (--quota-chars per rolling 30 days) and the per-block rate
 * limit (--rate-blocks a minute), SPEC section 7. Service thread only.
 * Usage is counted once, when a worker actually synthesized a block for the user (the
 * CACHED event with `synthesized`): cache hits and joining a job already queued are free.
 * Charges are kept in memory and written to the store once a second (limits_flush) in one
 * transaction by the writer thread, so a busy server neither fsyncs per block nor waits
 * for the database on the service thread. */
#ifndef RECITE_LIMITS_H
#define RECITE_LIMITS_H
#include <stddef.h>
#include <stdint.h>

struct app;
struct limits;

#define LIMITS_WINDOW_SECONDS (30 * 86400)

struct limits *limits_create(void);
void limits_destroy(struct limits *l);   /* accepts NULL; does not flush */
/* How many users' state is held (bounded: see limits.c). */
size_t limits_tracked(const struct limits *l);

struct limits_usage {
    int64_t used_chars;   /* in the last 30 days, this second's charges included */
    int64_t resets_at;    /* unix seconds when the oldest counted use leaves the window; 0: none */
};
void limits_usage(struct app *app, int64_t user, struct limits_usage *out);
/* One block requested: 0, or -1 past --rate-blocks with *retry_s (seconds to wait). */
int limits_take_block(struct app *app, int64_t user, int *retry_s);
/* limits_take_block for an HTTP request's user (an upload, a voice preview): 0 if allowed,
 * else 1 with r answered 429 + Retry-After and *rc what the HTTP callback must return. */
struct http_req;
int limits_http_block(struct http_req *r, int *rc);
/* Whether a new synthesis may start for the user: 0, or -1 with the reason in msg. */
int limits_quota_check(struct app *app, int64_t user, char *msg, size_t msglen);
/* Reservations: a block queued for the user counts against the quota until its job ends
 * (limits_release from the final event), so one batch of requests cannot overshoot the
 * quota by everything it queued at once. A reservation whose release never comes (the block
 * was evicted, the socket closed) is forgotten RESERVE_TTL_S after the user's last one. */
void limits_reserve(struct app *app, int64_t user, int chars);
void limits_release(struct app *app, int64_t user, int chars);
/* A worker synthesized `chars` characters for the user. */
void limits_charge(struct app *app, int64_t user, int64_t chars);
/* Hands pending charges to the writer thread (the one-second timer, and at shutdown, where
 * offload_destroy(app->writer) writes them); without a writer, writes them here. */
void limits_flush(struct app *app);
#endif
