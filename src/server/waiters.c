/* waiters — the registry of HTTP requests waiting for a job (see waiters.h).
 *
 * Threads: service thread only. Ownership: the registry owns each waiter and its endpoint
 * data; a waiter's wsi and session are lws's and stay valid until CLOSED_HTTP, which calls
 * waiters_closed before lws frees them. Ids count up from 1 in their own kind
 * (REQ_WAITER), so they never meet WebSocket conn_ids in the queue. */
#include "server/waiters.h"
#include "server/app.h"
#include "server/http.h"
#include "server/session.h"
#include "server/limits.h"
#include "jobs/queue.h"
#include "util/utf8.h"
#include <cjson/cJSON.h>
#include <libwebsockets.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAIT_TIMEOUT_S 300     /* a waiter's connection is closed after this long */

struct waiters {
    struct waiter *head;
    int count;
    uint64_t next_id;
};

struct waiters *waiters_create(void)
{
    return calloc(1, sizeof(struct waiters));
}

static void waiter_free(struct waiter *w)
{
    if (w->data_free)
        w->data_free(w->data);
    free(w);
}

void waiters_destroy(struct waiters *ws)
{
    if (!ws)
        return;
    while (ws->head) {
        struct waiter *w = ws->head;
        ws->head = w->next;
        waiter_free(w);
    }
    free(ws);
}

int waiters_count(const struct waiters *ws)
{
    return ws ? ws->count : 0;
}

struct waiter *waiters_find(struct waiters *ws, uint64_t id)
{
    for (struct waiter *w = ws ? ws->head : NULL; w; w = w->next)
        if (w->id == id)
            return w;
    return NULL;
}

void waiters_remove(struct waiters *ws, struct waiter *w)
{
    for (struct waiter **pp = &ws->head; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            ws->count--;
            waiter_free(w);
            return;
        }
}

int waiters_full(struct http_req *r, int *rc)
{
    struct waiters *ws = r->app->waiters;
    if (!ws) {
        *rc = http_reply_error(r, 503, "speech synthesis is not available");
        return 1;
    }
    if (ws->count < r->app->cfg->speech_max_pending)
        return 0;
    struct http_header h[] = { { "retry-after", "1" } };
    char msg[160];
    snprintf(msg, sizeof msg, "the server is busy (%d speech requests waiting); try again shortly",
             ws->count);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    char *t = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    *rc = t ? http_reply(r, 503, "application/json", (unsigned char *)t, strlen(t), h, 1) : -1;
    return 1;
}

struct waiter *waiters_add(struct http_req *r, waiter_event_fn on_event, void *data,
                           void (*data_free)(void *))
{
    struct waiters *ws = r->app->waiters;
    struct waiter *w = calloc(1, sizeof *w);
    if (!w) {
        if (data_free)
            data_free(data);
        return NULL;
    }
    w->id = ++ws->next_id;
    w->wsi = r->wsi;
    w->s = r->s;
    w->method = r->method;
    w->on_event = on_event;
    w->data = data;
    w->data_free = data_free;
    w->next = ws->head;
    ws->head = w;
    ws->count++;
    lws_set_timeout(r->wsi, PENDING_TIMEOUT_USER_OK, WAIT_TIMEOUT_S);
    return w;
}

int waiters_wait(struct http_req *r, const char *hash, const char *model, const char *voice,
                 const char *text, int quota_free, waiter_event_fn on_event, void *data,
                 void (*data_free)(void *))
{
    struct app *app = r->app;
    int rc;
    if (waiters_full(r, &rc)) {
        if (data_free)
            data_free(data);
        return rc;
    }
    char why[192];
    if (!quota_free && limits_quota_check(app, r->user_id, why, sizeof why)) {   /* --quota-chars spent */
        if (data_free)
            data_free(data);
        return http_reply_error(r, 429, "%s", why);
    }
    struct waiter *w = waiters_add(r, on_event, data, data_free);
    if (!w)
        return http_reply_error(r, 500, "out of memory");
    /* the user's: fair share and quota count it like one of their blocks (a free one is
     * charged 0 chars: charge() stops at the job's first requester with a user) */
    struct requester req = { .kind = REQ_WAITER, .id = w->id, .user_id = r->user_id,
                             .chars = quota_free ? 0 : (int)utf8_codepoints(text, strlen(text)) };
    enum submit_state st;
    if (app->queue->ops->submit(app->queue, hash, model, voice, text, &req, &st)) {
        waiters_remove(app->waiters, w);
        lws_set_timeout(r->wsi, NO_PENDING_TIMEOUT, 0);
        return http_reply_error(r, 500, "could not queue the synthesis");
    }
    limits_reserve(app, r->user_id, req.chars);
    return 0;
}

void waiter_request(struct app *app, const struct waiter *w, struct http_req *r)
{
    memset(r, 0, sizeof *r);
    r->upload_fd = -1;
    r->app = app;
    r->wsi = w->wsi;
    r->s = w->s;
    r->method = w->method;
    r->path = w->s->http.path;
}

struct waiter *waiters_resume(struct app *app, uint64_t id, int status, struct http_req *r)
{
    struct waiter *w = status == 0 ? waiters_find(app->waiters, id) : NULL;
    if (w)
        waiter_request(app, w, r);
    return w;
}

void waiter_finish(struct app *app, struct waiter *w, int rc)
{
    if (rc < 0)   /* we cannot return -1 for the connection from here */
        lws_set_timeout(w->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
    waiters_remove(app->waiters, w);
}

void waiter_error(struct app *app, struct waiter *w, int status, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct http_req r;
    waiter_request(app, w, &r);
    waiter_finish(app, w, http_reply_error(&r, status, "%s", msg));
}

void waiters_on_event(struct app *app, const struct job_event *ev, uint64_t id)
{
    struct waiter *w = waiters_find(app->waiters, id);
    if (!w || w->busy || !w->on_event || ev->type == JOB_EV_PROCESSING)
        return;
    w->on_event(app, w, ev);
    /* A final event must end the wait one way or another: never leave a client hanging. */
    if ((w = waiters_find(app->waiters, id)) && !w->busy)
        waiter_error(app, w, 500, "the request could not be answered");
}

void waiters_closed(struct app *app, struct session *s)
{
    struct waiters *ws = app->waiters;
    if (!ws)
        return;
    for (struct waiter *w = ws->head, *next; w; w = next) {
        next = w->next;
        if (w->s == s) {
            app->queue->ops->gone(app->queue, REQ_WAITER, w->id);   /* nobody else: job dropped */
            waiters_remove(ws, w);
        }
    }
}
