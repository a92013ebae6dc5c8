/* redis_conn — one hiredis connection with reconnect and capped exponential backoff. A
 * connection belongs to one thread (hiredis contexts are not thread-safe). A command that
 * fails at the I/O level drops the context; the next rconn_ready() after the backoff delay
 * reconnects. Transitions are logged once (lost, back), not every retry. */
#ifndef RECITE_REDIS_CONN_H
#define RECITE_REDIS_CONN_H
#include "jobs/redis_url.h"
#include <hiredis/hiredis.h>
#include <stdint.h>

struct rconn;

/* name appears in log lines; timeout_ms bounds connect and every command (a blocking
 * command's own timeout must be shorter). Never fails except out of memory (NULL). */
struct rconn *rconn_create(const struct redis_url *u, const char *name, int timeout_ms);
void rconn_destroy(struct rconn *c);   /* accepts NULL */

/* 0 if connected, connecting now if the backoff delay has passed; -1 if still down. */
int rconn_ready(struct rconn *c);
/* Milliseconds until the next reconnect attempt (0 when connected or due). */
int rconn_retry_in_ms(const struct rconn *c);
/* Connected (as far as we know)? */
int rconn_is_up(const struct rconn *c);
/* Counts successful connects: a change means state kept in Redis may have been lost. */
unsigned rconn_generation(const struct rconn *c);
/* Drops the context (the next rconn_ready reconnects at once). */
void rconn_drop(struct rconn *c, const char *why);

/* Runs one command (argv form, binary-safe). Returns the reply (the caller frees it with
 * freeReplyObject; it may be a REDIS_REPLY_ERROR), or NULL when not connected or on an I/O
 * error (the connection is dropped and the backoff starts). */
redisReply *rconn_argv(struct rconn *c, int argc, const char **argv, const size_t *lens);
/* EVAL script with nkeys keys; a holds the keys then the arguments (nargs in all, <= 16). */
redisReply *rconn_eval(struct rconn *c, const char *script, int nkeys, int nargs, const char **a);
#define RCONN_EVAL(c, script, nkeys, a) \
    rconn_eval((c), (script), (nkeys), (int)(sizeof(a) / sizeof((a)[0])), (a))
/* Convenience: NULL-terminated list of C strings. */
redisReply *rconn_cmd(struct rconn *c, const char *arg0, ...) __attribute__((sentinel));
#endif
