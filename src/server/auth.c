/* auth — see auth.h. The credential parsing itself is auth/credentials.c (pure, fuzzed);
 * this file reads it off the connection, looks the user up, and serves the two account
 * endpoints. Guest creation is limited per client address (http_client_addr: the TCP
 * peer, or X-Forwarded-For only from a --trusted-proxy, since any client could forge it;
 * behind an untrusted proxy every guest shares the proxy's budget). The counts are an exact
 * map by address (util/idlemap.h): an address quiet for an hour is forgotten (its window is
 * over, so that loses nothing), and at most MAX_PEERS addresses are held, so a client
 * cycling addresses cannot grow memory without bound; only past MAX_PEERS addresses within
 * one hour is the quietest one forgotten early. Service thread only; its store writes
 * (a new guest, a guest marked seen, the hourly expiry) run on the writer thread
 * (app->writer), since each can wait behind a worker's insert up to the busy timeout. */
#include "server/auth.h"
#include "server/exports.h"
#include "server/app.h"
#include "server/http.h"
#include "server/conns.h"
#include "server/session.h"
#include "server/limits.h"
#include "server/offload.h"
#include "server/waiters.h"
#include "auth/credentials.h"
#include "store/store.h"
#include "util/idlemap.h"
#include "util/ids.h"
#include "util/log.h"
#include <libwebsockets.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GUEST_IDLE_SECONDS (30 * 86400)
#define MAX_PEERS 65536            /* client addresses remembered for the guest rate limit */

struct peer { int64_t window; int count; };

struct auth {
    unsigned char secret[CRED_SECRET_LEN];
    struct idlemap *peers;         /* client address -> struct peer */
};

struct auth *auth_create(struct app *app, char *err, size_t errlen)
{
    struct auth *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!(a->peers = idlemap_create(sizeof(struct peer), MAX_PEERS, 3600))) {
        snprintf(err, errlen, "out of memory");
        free(a);
        return NULL;
    }
    if (cred_secret_load(app->cfg->data_dir, a->secret, err, errlen)) {
        auth_destroy(a);
        return NULL;
    }
    return a;
}

void auth_destroy(struct auth *a)
{
    if (!a)
        return;
    OPENSSL_cleanse(a->secret, sizeof a->secret);
    idlemap_destroy(a->peers);
    free(a);
}

int auth_path_open(const struct app *app, const char *path)
{
    if (!app->cfg->auth)
        return 1;
    if (!strcmp(path, "/metrics"))
        return app->cfg->metrics_public;
    if (!strcmp(path, "/healthz") || !strcmp(path, "/v1/users/anonymous"))
        return 1;
    return strncmp(path, "/v1/", 4) && strcmp(path, "/v1");   /* the page's files */
}

int auth_metrics_allowed(struct app *app, const char *path, int64_t user)
{
    struct user_info u;
    if (strcmp(path, "/metrics"))
        return 1;
    return store_user_get(app->store, user, &u) == 0 && !u.is_guest;
}

/* The query string of the request as lws split it (fragments joined with '&'). */
static size_t query_of(struct lws *wsi, char *buf, size_t cap)
{
    size_t used = 0;
    for (int i = 0; used + 1 < cap; i++) {
        int n = lws_hdr_copy_fragment(wsi, buf + used + (used ? 1 : 0),
                                      (int)(cap - used - (used ? 1 : 0)), WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n <= 0)
            break;
        if (used)
            buf[used] = '&';
        used += (size_t)n + (used ? 1 : 0);
    }
    buf[used] = '\0';
    return used;
}

/* ---- store writes on the writer thread -------------------------------------------- */

enum guest_op { G_ADD, G_SEEN, G_EXPIRE };
struct guest_write {
    struct offload_task task;
    struct app *app;
    enum guest_op op;
    uint64_t waiter_id;            /* G_ADD: the POST waiting for its guest */
    char guest_id[37];
    int64_t user, now;
    int rc, removed;               /* out */
};

static void guest_work(struct offload_task *t, void *thread_ctx)
{
    struct guest_write *g = offload_container(t, struct guest_write, task);
    struct store *st = thread_ctx;
    switch (g->op) {
    case G_ADD:
        g->rc = store_guest_add(st, g->guest_id, g->now, &g->user);
        break;
    case G_SEEN:
        g->rc = store_guest_seen(st, g->user, g->now);   /* best effort: retried next hour */
        break;
    case G_EXPIRE:
        g->rc = store_guests_expire(st, g->now - GUEST_IDLE_SECONDS, &g->removed);
        break;
    }
}

static void expired(struct app *app, int removed)
{
    if (!removed)
        return;
    log_info("removed %d guest%s idle for 30 days, with their documents", removed,
             removed == 1 ? "" : "s");
    exports_prune(app);   /* and their exports (the rows went with the documents) */
}

static void guest_done(struct offload_task *t, int status)
{
    struct guest_write *g = offload_container(t, struct guest_write, task);
    struct app *app = g->app;
    if (g->op == G_EXPIRE && status == 0 && g->rc == 0) {
        expired(app, g->removed);
    } else if (g->op == G_ADD) {
        struct http_req r;
        struct waiter *w = waiters_resume(app, g->waiter_id, status, &r);
        if (w && g->rc) {
            waiter_error(app, w, 500, "could not create the guest");
        } else if (w) {
            char token[65];
            cred_guest_token(app->auth->secret, g->guest_id, token);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "anonymous_id", g->guest_id);
            cJSON_AddStringToObject(o, "anonymous_token", token);
            waiter_finish(app, w, http_reply_json(&r, 201, o));
        }
    }
    free(g);
}

static struct guest_write *guest_write_new(struct app *app, enum guest_op op, int64_t user)
{
    struct guest_write *g = calloc(1, sizeof *g);
    if (g) {
        g->app = app;
        g->op = op;
        g->user = user;
        g->now = (int64_t)time(NULL);
    }
    return g;
}

static int guest_submit(struct app *app, struct guest_write *g)
{
    if (app->writer && offload_submit(app->writer, &g->task, guest_work, guest_done) == 0)
        return 0;
    free(g);
    return -1;
}

/* A guest's last_seen is written at most hourly (a busy guest costs no write per request),
 * and only while the writer keeps up: it is a hint for the 30-day expiry, retried on the
 * guest's next request. */
#define SEEN_BACKLOG_MAX 64

static void mark_seen(struct app *app, int64_t user, int64_t seen)
{
    if ((int64_t)time(NULL) - seen < STORE_GUEST_SEEN_EVERY || !app->writer ||
        offload_pending(app->writer) >= SEEN_BACKLOG_MAX)
        return;
    struct guest_write *g = guest_write_new(app, G_SEEN, user);
    if (g)
        guest_submit(app, g);
}

/* Who is asking, and by which credential (key: the token's sha256, or the guest's id). */
static int identify(struct app *app, struct lws *wsi, int64_t *user, char key[65], int *guest)
{
    *user = STORE_FIRST_USER;
    key[0] = '\0';
    *guest = 0;
    if (!app->cfg->auth)
        return 0;
    struct cred c;
    char buf[512];
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (n > 0) {
        if (n >= (int)sizeof buf)
            return -1;
        n = lws_hdr_copy(wsi, buf, sizeof buf, WSI_TOKEN_HTTP_AUTHORIZATION);
        cred_parse_bearer(buf, n > 0 ? (size_t)n : 0, &c);
    } else {
        size_t len = query_of(wsi, buf, sizeof buf);
        cred_parse_query(buf, len, &c);
    }
    if (c.kind == CRED_TOKEN) {
        cred_token_hash(c.token, key);
        return store_user_by_token(app->store, key, user, NULL) == 0 ? 0 : -1;
    }
    if (c.kind == CRED_GUEST && !strcmp(app->cfg->guests, "on") &&
        cred_guest_valid(app->auth->secret, c.guest_id, c.guest_token)) {
        snprintf(key, 65, "%s", c.guest_id);
        *guest = 1;
        int64_t seen = 0;
        if (store_guest_find(app->store, c.guest_id, user, &seen))
            return -1;
        mark_seen(app, *user, seen);
        return 0;
    }
    return -1;
}

int auth_identify(struct app *app, struct lws *wsi, int64_t *user)
{
    char key[65];
    int guest;
    return identify(app, wsi, user, key, &guest);
}

int auth_identify_session(struct app *app, struct lws *wsi, struct session *s)
{
    return identify(app, wsi, &s->user_id, s->cred_key, &s->cred_guest);
}

/* Sessions re-checked per second: bounded work on the service thread (one indexed lookup
 * each), so with N open sockets each is re-checked every N / AUTH_RECHECK_PER_TICK s. */
#define AUTH_RECHECK_PER_TICK 200

static void recheck_one(struct session *s, void *arg)
{
    struct app *app = arg;
    if (!s->is_ws || s->ws.closing || s->ws.revoked || !s->cred_key[0])
        return;
    int64_t now_user = 0;
    int rc = s->cred_guest
        ? (strcmp(app->cfg->guests, "on") ? STORE_NOT_FOUND
           : store_guest_find(app->store, s->cred_key, &now_user, NULL))
        : store_user_by_token(app->store, s->cred_key, &now_user, NULL);
    if (rc == STORE_NOT_FOUND || (rc == 0 && now_user != s->user_id)) {
        s->ws.revoked = 1;   /* ws.c closes it with 1008 at its next WRITEABLE */
        lws_callback_on_writable(s->wsi);
    }
}

void auth_recheck(struct app *app)
{
    static size_t cursor;   /* service thread only */
    if (app->cfg->auth && app->conns)
        cursor = conns_scan(app->conns, cursor, AUTH_RECHECK_PER_TICK, recheck_one, app);
}

#define UNAUTHORIZED_JSON \
    "{\"error\":\"sign in: send a valid API token (Authorization: Bearer TOKEN, or ?token= on " \
    "the WebSocket) or a guest's anonymous_id and anonymous_token\"}"

int auth_refuse_upgrade(struct lws *wsi)
{
    unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    size_t blen = strlen(UNAUTHORIZED_JSON);
    if (lws_add_http_common_headers(wsi, 401, "application/json", blen, &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"www-authenticate:",
                                    (const unsigned char *)"Bearer", 6, &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"connection:",
                                    (const unsigned char *)"close", 5, &p, end) ||
        lws_finalize_http_header(wsi, &p, end) || p + blen >= end)
        return -1;
    memcpy(p, UNAUTHORIZED_JSON, blen);
    p += blen;
    lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_FINAL);
    return -1;
}

int auth_reply_401(struct http_req *r)
{
    static const struct http_header www = { "www-authenticate", "Bearer" };
    char *body = strdup(UNAUTHORIZED_JSON);
    if (!body)
        return -1;
    return http_reply(r, 401, "application/json", (unsigned char *)body, strlen(body), &www, 1);
}

/* Whether this client address may create another guest now (fixed one-hour windows). */
static int guest_allowed(struct auth *a, const char *addr, int per_hour)
{
    int64_t now = (int64_t)time(NULL), window = now / 3600;
    int created;
    struct peer *slot = idlemap_get(a->peers, addr, strlen(addr), now, &created);
    if (!slot)
        return 0;
    if (slot->window != window) {
        slot->window = window;
        slot->count = 0;
    }
    if (slot->count >= per_hour)
        return 0;
    slot->count++;
    return 1;
}

int api_users(struct http_req *r, const char *rest)
{
    struct app *app = r->app;
    if (strcmp(rest, "/anonymous"))
        return http_reply_error(r, 404, "no such endpoint: %s", r->path);
    if (r->method != LWSHUMETH_POST)
        return http_reply_error(r, 405, "use POST on /v1/users/anonymous");
    if (!app->cfg->auth)
        return http_reply_error(r, 404, "this server has no accounts (single-user mode): no guest is needed");
    if (strcmp(app->cfg->guests, "on"))
        return http_reply_error(r, 403, "this server does not accept guests: ask its owner for an API token");
    char addr[64] = "";
    http_client_addr(r, addr, sizeof addr);
    if (!guest_allowed(app->auth, addr, app->cfg->guest_rate)) {
        static const struct http_header retry = { "retry-after", "3600" };
        char *body = strdup("{\"error\":\"too many guests from this address: try again in an hour\"}");
        return body ? http_reply(r, 429, "application/json", (unsigned char *)body, strlen(body),
                                 &retry, 1) : -1;
    }
    /* the row is written on the writer thread; the request waits for guest_done */
    struct guest_write *g = guest_write_new(app, G_ADD, 0);
    if (!g)
        return http_reply_error(r, 500, "out of memory");
    ids_uuid(g->guest_id);
    struct waiter *w = waiters_add(r, NULL, NULL, NULL);
    if (!w) {
        free(g);
        return http_reply_error(r, 500, "out of memory");
    }
    g->waiter_id = w->id;
    if (guest_submit(app, g)) {
        waiters_remove(app->waiters, w);
        return http_reply_error(r, 503, "the server is shutting down");
    }
    return 0;
}

int api_me(struct http_req *r)
{
    if (r->method != LWSHUMETH_GET)
        return http_reply_error(r, 405, "use GET on /v1/me");
    struct user_info u;
    if (store_user_get(r->app->store, r->user_id, &u))
        return http_reply_error(r, 500, "could not read the user");
    struct limits_usage use;
    limits_usage(r->app, r->user_id, &use);
    cJSON *o = cJSON_CreateObject();
    if (u.is_guest)
        cJSON_AddStringToObject(o, "user", "guest");
    else if (u.name[0])
        cJSON_AddStringToObject(o, "user", u.name);
    else
        cJSON_AddNullToObject(o, "user");
    cJSON_AddBoolToObject(o, "guest", u.is_guest);
    cJSON_AddBoolToObject(o, "auth", r->app->cfg->auth);
    if (r->app->cfg->quota_chars > 0)
        cJSON_AddNumberToObject(o, "quota_chars", r->app->cfg->quota_chars);
    else
        cJSON_AddNullToObject(o, "quota_chars");
    cJSON_AddNumberToObject(o, "used_chars", (double)use.used_chars);
    if (use.resets_at) {
        char when[32];
        time_t t = (time_t)use.resets_at;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        cJSON_AddStringToObject(o, "resets_at", when);
    } else {
        cJSON_AddNullToObject(o, "resets_at");
    }
    return http_reply_json(r, 200, o);
}

void auth_expire_guests(struct app *app)
{
    if (!app->cfg->auth)
        return;
    if (app->writer) {   /* the loop runs: one guest per transaction on the writer thread */
        struct guest_write *g = guest_write_new(app, G_EXPIRE, 0);
        if (!g || guest_submit(app, g))
            log_error("could not start removing idle guests (next try in an hour)");
        return;
    }
    int removed = 0;     /* at start-up, before the loop: nobody to keep waiting */
    if (store_guests_expire(app->store, (int64_t)time(NULL) - GUEST_IDLE_SECONDS, &removed) == 0)
        expired(app, removed);
}
