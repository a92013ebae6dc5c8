/* redis_conn — see redis_conn.h. Backoff: 100 ms, doubling to 5 s, reset by a successful
 * connect. After connecting: AUTH (if the URL has a password) and SELECT (if db != 0).
 * Used by whichever thread owns the connection; nothing here is shared. */
#include "jobs/redis_conn.h"
#include "jobs/queue.h"
#include "util/log.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

struct rconn {
    struct redis_url url;
    char where[300];
    char name[48];
    redisContext *ctx;
    int timeout_ms;
    int backoff_ms;
    int64_t next_try_ms;
    int ever_up;        /* for log wording */
    int down_logged;    /* the current outage was logged */
    unsigned generation;
};

struct rconn *rconn_create(const struct redis_url *u, const char *name, int timeout_ms)
{
    struct rconn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->url = *u;
    redis_url_describe(u, c->where, sizeof c->where);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->timeout_ms = timeout_ms;
    c->backoff_ms = BACKOFF_MIN_MS;
    return c;
}

void rconn_destroy(struct rconn *c)
{
    if (!c)
        return;
    if (c->ctx)
        redisFree(c->ctx);
    free(c);
}

static struct timeval tv_of(int ms)
{
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    return tv;
}

static void went_down(struct rconn *c, const char *why)
{
    if (c->ctx) {
        redisFree(c->ctx);
        c->ctx = NULL;
    }
    if (!c->down_logged) {
        if (c->ever_up)
            log_warn("redis (%s): connection to %s lost: %s; reconnecting", c->name, c->where, why);
        else
            log_warn("redis (%s): cannot connect to %s: %s; retrying", c->name, c->where, why);
        c->down_logged = 1;
    } else {
        log_debug("redis (%s): still down: %s", c->name, why);
    }
    c->next_try_ms = queue_now_ms() + c->backoff_ms;
    c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
}

void rconn_drop(struct rconn *c, const char *why)
{
    if (c->ctx) {
        went_down(c, why);
        c->next_try_ms = 0;   /* an explicit drop reconnects at once */
    }
}

/* A reply that is an error, or NULL: describes it into why. */
static int reply_failed(redisContext *ctx, redisReply *r, char *why, size_t n)
{
    if (!r) {
        snprintf(why, n, "%s", ctx->errstr[0] ? ctx->errstr : "no reply");
        return 1;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(why, n, "%.*s", (int)r->len, r->str);
        return 1;
    }
    return 0;
}

static int try_connect(struct rconn *c)
{
    char why[256] = "";
    redisContext *ctx = redisConnectWithTimeout(c->url.host, c->url.port, tv_of(c->timeout_ms));
    if (!ctx || ctx->err) {
        snprintf(why, sizeof why, "%s", ctx ? ctx->errstr : "out of memory");
        goto fail;
    }
    redisSetTimeout(ctx, tv_of(c->timeout_ms));
    redisEnableKeepAlive(ctx);
    if (c->url.password[0]) {
        redisReply *r = c->url.user[0]
            ? redisCommand(ctx, "AUTH %s %s", c->url.user, c->url.password)
            : redisCommand(ctx, "AUTH %s", c->url.password);
        int bad = reply_failed(ctx, r, why, sizeof why);
        if (r)
            freeReplyObject(r);
        if (bad)
            goto fail;
    }
    if (c->url.db) {
        redisReply *r = redisCommand(ctx, "SELECT %d", c->url.db);
        int bad = reply_failed(ctx, r, why, sizeof why);
        if (r)
            freeReplyObject(r);
        if (bad)
            goto fail;
    }
    c->ctx = ctx;
    c->generation++;
    if (c->down_logged || !c->ever_up)
        log_info("redis (%s): connected to %s", c->name, c->where);
    c->ever_up = 1;
    c->down_logged = 0;
    c->backoff_ms = BACKOFF_MIN_MS;
    return 0;
fail:
    if (ctx)
        redisFree(ctx);
    went_down(c, why);
    return -1;
}

int rconn_ready(struct rconn *c)
{
    if (c->ctx)
        return 0;
    if (queue_now_ms() < c->next_try_ms)
        return -1;
    return try_connect(c);
}

int rconn_retry_in_ms(const struct rconn *c)
{
    if (c->ctx)
        return 0;
    int64_t d = c->next_try_ms - queue_now_ms();
    return d > 0 ? (int)d : 0;
}

int rconn_is_up(const struct rconn *c)
{
    return c->ctx != NULL;
}

unsigned rconn_generation(const struct rconn *c)
{
    return c->generation;
}

redisReply *rconn_argv(struct rconn *c, int argc, const char **argv, const size_t *lens)
{
    if (rconn_ready(c))
        return NULL;
    redisReply *r = redisCommandArgv(c->ctx, argc, argv, lens);
    if (!r || c->ctx->err) {
        char why[160];
        snprintf(why, sizeof why, "%s", c->ctx->errstr[0] ? c->ctx->errstr : "no reply");
        if (r)
            freeReplyObject(r);
        went_down(c, why);
        return NULL;
    }
    return r;
}

redisReply *rconn_cmd(struct rconn *c, const char *arg0, ...)
{
    const char *argv[32];
    size_t lens[32];
    int n = 0;
    va_list ap;
    va_start(ap, arg0);
    for (const char *a = arg0; a && n < 32; a = va_arg(ap, const char *)) {
        argv[n] = a;
        lens[n++] = strlen(a);
    }
    va_end(ap);
    return rconn_argv(c, n, argv, lens);
}

redisReply *rconn_eval(struct rconn *c, const char *script, int nkeys, int nargs, const char **a)
{
    const char *argv[19];
    size_t lens[19];
    char nk[12];
    if (nargs > 16)
        return NULL;
    snprintf(nk, sizeof nk, "%d", nkeys);
    argv[0] = "EVAL";
    argv[1] = script;
    argv[2] = nk;
    for (int i = 0; i < nargs; i++)
        argv[3 + i] = a[i];
    for (int i = 0; i < 3 + nargs; i++)
        lens[i] = strlen(argv[i]);
    return rconn_argv(c, 3 + nargs, argv, lens);
}
