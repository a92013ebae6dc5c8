/* auth — who is asking (SPEC section 7). With --auth every /v1 request and WebSocket needs
 * a credential: a user's API token or a guest's anonymous id + token; a missing, malformed,
 * unknown, rotated or removed one gets the same 401 (never a hint whether a user exists).
 * Without --auth every request is user 1 (STORE_FIRST_USER). Service thread only: it reads
 * users through the service thread's store on every request, so `recite user remove` or
 * `token` on a running server takes effect at once. */
#ifndef RECITE_AUTH_H
#define RECITE_AUTH_H
#include <stdint.h>
#include <stddef.h>

struct app;
struct lws;
struct http_req;
struct auth;

/* With --auth: loads (or creates) the server secret in the data directory. NULL with err. */
struct auth *auth_create(struct app *app, char *err, size_t errlen);
void auth_destroy(struct auth *a);   /* accepts NULL */

/* Whether an HTTP path is served to anyone (the page, /healthz, guest creation, and
 * /metrics with --metrics-public). */
int auth_path_open(const struct app *app, const char *path);
/* /metrics with --auth (and no --metrics-public) is for users with a token, not guests:
 * anyone may become a guest. 1 if path is not /metrics. */
int auth_metrics_allowed(struct app *app, const char *path, int64_t user);
/* The user of a request or WebSocket upgrade: 0 with *user, or -1 (answer 401). */
int auth_identify(struct app *app, struct lws *wsi, int64_t *user);
/* auth_identify for a WebSocket being established: also keeps the credential in the
 * session, so auth_recheck can find out later that it was rotated or removed. */
struct session;
int auth_identify_session(struct app *app, struct lws *wsi, struct session *s);
/* The service thread's one-second timer: re-checks the credentials of a slice of the open
 * WebSockets (AUTH_RECHECK_PER_TICK); a socket whose token was rotated or removed, or whose
 * guest expired, is closed with 1008 "signed out". */
void auth_recheck(struct app *app);
/* Refuses a WebSocket upgrade with a complete 401 JSON response; returns what the filter
 * callback must return. */
int auth_refuse_upgrade(struct lws *wsi);
/* The 401 JSON answer of an HTTP request. */
int auth_reply_401(struct http_req *r);

/* POST /v1/users/anonymous -> {"anonymous_id","anonymous_token"} (api_users). */
int api_users(struct http_req *r, const char *rest);
/* GET /v1/me -> {"user","quota_chars","used_chars","resets_at"}. */
int api_me(struct http_req *r);
/* Once an hour (and at start): guests idle for 30 days go, with their documents. */
void auth_expire_guests(struct app *app);
#endif
