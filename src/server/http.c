/* http — the HTTP side of the lws protocol callback: collects the method, path and body
 * (bounded by --max-body-mb, 413 beyond), parses multipart uploads with lws_spa, routes,
 * and writes responses from a heap buffer on HTTP_WRITEABLE. Service thread only. */
#include "server/http.h"
#include "server/api_openai.h"
#include "server/app.h"
#include "server/auth.h"
#include "server/session.h"
#include "server/spool.h"
#include "store/store.h"
#include "server/waiters.h"
#include "util/log.h"
#include <errno.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WRITE_CHUNK 65536
/* Bodies up to this size are written with their headers (http_reply); bigger ones go out
 * WRITE_CHUNK at a time as the socket drains, so one big answer cannot hog the loop. */
#define IMMEDIATE_MAX (256 * 1024)

static const char *const form_fields[] = { "file", "format", "title" };
enum { FORM_FILE, FORM_FORMAT, FORM_TITLE };

int http_header(struct http_req *r, int token, char *buf, int len)
{
    if (lws_hdr_total_length(r->wsi, (enum lws_token_indexes)token) <= 0)
        return -1;
    return lws_hdr_copy(r->wsi, buf, len, (enum lws_token_indexes)token);
}

/* Whether addr is one of the comma-separated addresses in list. */
static int in_list(const char *list, const char *addr, size_t alen)
{
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, ", ");
        if (n && n == alen && !strncmp(p, addr, n))
            return 1;
        p += n;
        p += strspn(p, ", ");
    }
    return 0;
}

void http_client_addr(struct http_req *r, char *buf, size_t len)
{
    buf[0] = '\0';
    lws_get_peer_simple(r->wsi, buf, len);
    const char *trusted = r->app->cfg->trusted_proxy;
    char xff[512];
    if (!trusted || !in_list(trusted, buf, strlen(buf)) ||
        http_header(r, WSI_TOKEN_X_FORWARDED_FOR, xff, sizeof xff) <= 0)
        return;
    /* right to left: each proxy appends the address it got the request from */
    for (char *end = xff + strlen(xff); end > xff;) {
        char *start = end;
        while (start > xff && start[-1] != ',')
            start--;
        char *a = start + strspn(start, " "), *e = end;
        while (e > a && e[-1] == ' ')
            e--;
        if (e > a && !in_list(trusted, a, (size_t)(e - a))) {
            snprintf(buf, len, "%.*s", (int)(e - a), a);
            return;
        }
        end = start > xff ? start - 1 : xff;
    }
}

/* Keep-alive. Built against libwebsockets >= 4.3 (HTTP_KEEPALIVE, see http.h), a
 * connection serves up to --keepalive-requests requests and waits --keepalive-timeout
 * seconds idle between them (lws closes it then). A response leaves the connection open
 * only when its request was read whole: an early answer (413 while the body still comes)
 * closes, as every response does on libwebsockets 4.1, where a body pipelined behind another
 * request on a kept-alive connection makes lws busy-loop and re-deliver freed memory
 * (fuzz/fuzz_http.c found both; tests/fuzz-regressions/fuzz_http/pipelined-*). There the
 * cost is a TCP handshake per request (docs/BENCHMARKS.md, benchmark 3). */
int http_keep(struct http_req *r)
{
    struct http_state *h = &r->s->http;
    const struct conn_meta *cm = lws_get_opaque_user_data(r->wsi);
    return HTTP_KEEPALIVE && cm && !(h->expect_body && !h->body_done) &&
           cm->requests < r->app->cfg->keepalive_requests;
}

static int end_transaction(struct lws *wsi, struct session *s)
{
    if (!HTTP_KEEPALIVE || s->http.close_after)
        return -1;
    /* nonzero: the client asked to close (or HTTP/1.0 without keep-alive) */
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int http_end(struct http_req *r)
{
    return end_transaction(r->wsi, r->s);
}

/* The buffer a response is assembled in when it goes out in one write: grown as needed and
 * reused, since lws_write has either sent it or kept its own copy of the rest when it
 * returns (service thread only; a malloc + free of the whole response each time showed in
 * the profile of benchmark 3). */
static unsigned char *out_buf;
static size_t out_cap;

static unsigned char *out_reserve(size_t n)
{
    if (n > out_cap) {
        unsigned char *b = realloc(out_buf, n);
        if (!b)
            return NULL;
        out_buf = b;
        out_cap = n;
    }
    return out_buf;
}

/* A header name with its ':' into buf (lws wants it so); snprintf did this per header. */
static const unsigned char *header_name(char *buf, size_t size, const char *name)
{
    size_t n = strlen(name);
    if (n + 2 > size)
        n = size - 2;
    memcpy(buf, name, n);
    buf[n] = ':';
    buf[n + 1] = '\0';
    return (const unsigned char *)buf;
}

/* http_reply and http_reply_copy: the body is either owned (malloc'd, freed here) or
 * borrowed (data, valid for this call: copied if it has to wait for WRITEABLE). A borrowed
 * body with `headroom` writable bytes in front of it (the hot cache's, hotcache.h) gets the
 * headers written there and goes out without being copied at all. */
static int reply(struct http_req *r, int status, const char *ctype, unsigned char *owned,
                 const unsigned char *data, size_t len, size_t headroom,
                 const struct http_header *extra, int nextra)
{
    unsigned char hdr[LWS_PRE + 4096], *start = hdr + LWS_PRE, *p = start,
                                        *end = hdr + sizeof hdr - 1;
    struct http_state *h = &r->s->http;
    if (lws_add_http_common_headers(r->wsi, (unsigned int)status, ctype, (lws_filepos_t)len, &p, end))
        goto fail;
    for (int i = 0; i < nextra; i++) {
        char name[96];
        if (lws_add_http_header_by_name(r->wsi, header_name(name, sizeof name, extra[i].name),
                                        (const unsigned char *)extra[i].value,
                                        (int)strlen(extra[i].value), &p, end))
            goto fail;
    }
    h->close_after = !http_keep(r);
    if ((h->close_after && lws_add_http_header_by_name(r->wsi, (const unsigned char *)"connection:",
                                                       (const unsigned char *)"close", 5, &p, end)) ||
        lws_finalize_http_header(r->wsi, &p, end))
        goto fail;
    size_t hlen = (size_t)(p - start);
    h->answered = 1;
    if (r->method == LWSHUMETH_HEAD || !data)   /* the headers (content-length included), no body */
        len = 0;
    int complete = !(h->expect_body && !h->body_done);
    if (!len || (r->in_callback && complete && len <= IMMEDIATE_MAX)) {
        /* Headers and a small body in one write and one send, from the request's own
         * callback, instead of a second trip through the event loop for the body (an
         * epoll_ctl, a wakeup and a callback per response; docs/BENCHMARKS.md, 3). */
        unsigned char *out = hdr;
        if (len && !owned && headroom >= LWS_PRE + hlen) {
            out = (unsigned char *)data - hlen - LWS_PRE;
            memcpy(out + LWS_PRE, start, hlen);
        } else if (len) {
            if (!(out = out_reserve(LWS_PRE + hlen + len)))
                goto fail;
            memcpy(out + LWS_PRE, start, hlen);
            memcpy(out + LWS_PRE + hlen, data, len);
        }
        int sent = lws_write(r->wsi, out + LWS_PRE, hlen + len, LWS_WRITE_HTTP_HEADERS);
        free(owned);
        if (sent != (int)(hlen + len))
            return -1;
        if (!complete)
            return 0;   /* answered early (413): the body is drained, then the transaction ends */
        return end_transaction(r->wsi, r->s);
    }
    /* Bigger bodies, and answers made later (a waiter), go out from WRITEABLE callbacks. */
    if (!owned) {
        if (!(owned = malloc(len)))
            goto fail;
        memcpy(owned, data, len);
    }
    if (lws_write(r->wsi, start, hlen, LWS_WRITE_HTTP_HEADERS) != (int)hlen)
        goto fail;
    free(h->resp);
    h->resp = owned;
    h->resp_len = len;
    h->resp_off = 0;
    lws_callback_on_writable(r->wsi);
    return 0;
fail:
    free(owned);
    return -1;
}

int http_reply(struct http_req *r, int status, const char *ctype, unsigned char *body,
               size_t len, const struct http_header *extra, int nextra)
{
    return reply(r, status, ctype, body, body, len, 0, extra, nextra);
}

int http_reply_copy(struct http_req *r, int status, const char *ctype, const unsigned char *data,
                    size_t len, size_t headroom, const struct http_header *extra, int nextra)
{
    return reply(r, status, ctype, NULL, data, len, headroom, extra, nextra);
}

int http_reply_json(struct http_req *r, int status, cJSON *json)
{
    char *text = cJSON_PrintUnformatted(json);
    cJSON_Delete(json);
    if (!text)
        return -1;
    return http_reply(r, status, "application/json", (unsigned char *)text, strlen(text), NULL, 0);
}

int http_reply_error(struct http_req *r, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    return http_reply_json(r, status, o);
}

static int route(struct http_req *r)
{
    const char *p = r->path;
    METRIC_ADD(&r->app->metrics, http_requests, 1);
    if (!strncmp(p, "/v1/documents", 13) && (p[13] == '\0' || p[13] == '/'))
        return api_documents(r, p + 13);
    if (!strncmp(p, "/v1/audio", 9) && (p[9] == '\0' || p[9] == '/'))
        return api_audio(r, p + 9);
    if (!strcmp(p, "/v1/models"))
        return r->method == LWSHUMETH_GET ? api_models(r)
                                          : http_reply_error(r, 405, "use GET for %s", p);
    if (!strncmp(p, "/v1/models/", 11))
        return api_preview(r, p + 10);   /* /v1/models/{model}/voices/{voice}/preview */
    if (!strncmp(p, "/v1/users", 9) && (p[9] == '\0' || p[9] == '/'))
        return api_users(r, p + 9);
    if (!strcmp(p, "/v1/me"))
        return api_me(r);
    if (!strcmp(p, "/healthz"))
        return api_healthz(r);
    if (!strcmp(p, "/metrics"))
        return api_metrics(r);
    if (!strncmp(p, "/v1/", 4) || !strcmp(p, "/v1"))
        return http_reply_error(r, 404, "no such endpoint: %s", p);
    return static_serve(r);
}

static void fill_req(struct http_req *r, struct app *app, struct lws *wsi, struct session *s)
{
    memset(r, 0, sizeof *r);
    r->upload_fd = -1;
    r->app = app;
    r->wsi = wsi;
    r->s = s;
    r->user_id = s->user_id;
    r->method = s->http.method;
    r->path = s->http.path;
    r->body = s->http.body.data;
    r->body_len = s->http.body.len;
    r->in_callback = 1;
}

/* The `file` part goes to a spool file as it arrives, written by the spooler thread
 * (spool.h): the service thread neither holds the upload in memory nor waits for the disk. */
static int upload_cb(void *data, const char *name, const char *filename, char *buf, int len,
                     enum lws_spa_fileupload_states state)
{
    struct session *s = data;
    struct http_state *h = &s->http;
    if (state == LWS_UFS_OPEN) {
        snprintf(h->upload_name, sizeof h->upload_name, "%s", filename ? filename : "");
        spool_close(h->spool);   /* a second `file` part replaces the first */
        h->spool = spool_open(h->app, s->wsi, h->app->cfg->data_dir);
        if (!h->spool) {
            log_warn("cannot spool an upload in %s: %s", h->app->cfg->data_dir, strerror(errno));
            h->upload_failed = 1;
            return -1;
        }
        return 0;
    }
    if ((state == LWS_UFS_CONTENT || state == LWS_UFS_FINAL_CONTENT) && len > 0 && h->spool &&
        spool_write(h->spool, buf, (size_t)len)) {
        h->upload_failed = 1;
        return -1;
    }
    return 0;
}

int http_spool_take(struct http_req *r)
{
    struct http_state *h = &r->s->http;
    int fd = spool_take_fd(h->spool);
    spool_close(h->spool);
    h->spool = NULL;
    return fd;
}

static void http_state_reset(struct http_state *h)
{
    buf_free(&h->body);
    buf_free(&h->upload);
    spool_close(h->spool);
    if (h->spa)
        lws_spa_destroy(h->spa);
    free(h->resp);
    memset(h, 0, sizeof *h);
}

#define SPOOL_FAILED "the server could not store the upload (is its disk full?)"

/* The body is complete. With an upload still being written, the answer waits for its last
 * write (spool.h wakes the connection; on_writeable comes back here). */
static int finish_body(struct app *app, struct lws *wsi, struct session *s)
{
    struct http_state *h = &s->http;
    struct http_req r;
    fill_req(&r, app, wsi, s);
    if (h->spa && !h->finish_wanted) {
        lws_spa_finalize(h->spa);
        if (h->spool && spool_flush(h->spool)) {
            h->finish_wanted = 1;
            return 0;
        }
    }
    h->finish_wanted = 0;
    if (h->upload_failed || (h->spool && spool_error(h->spool)))
        return http_reply_error(&r, 507, SPOOL_FAILED);
    if (h->spa) {
        r.is_multipart = 1;
        r.upload = NULL;
        r.upload_fd = h->spool ? spool_fd(h->spool) : -1;
        r.upload_len = h->spool ? spool_size(h->spool) : 0;
        r.upload_name = s->http.upload_name;
        r.form_format = lws_spa_get_string(s->http.spa, FORM_FORMAT);
        r.form_title = lws_spa_get_string(s->http.spa, FORM_TITLE);
        if (r.upload_fd < 0 && lws_spa_get_string(s->http.spa, FORM_FILE)) {
            /* a `file` field sent as a plain form value */
            r.upload = (const unsigned char *)lws_spa_get_string(s->http.spa, FORM_FILE);
            r.upload_len = (size_t)lws_spa_get_length(s->http.spa, FORM_FILE);
        }
    }
    return route(&r);
}

static int begin_request(struct app *app, struct lws *wsi, struct session *s, const char *in)
{
    struct http_state *h = &s->http;
    http_state_reset(h);
    s->wsi = wsi;
    struct conn_meta *cm = lws_get_opaque_user_data(wsi);
    if (cm)
        cm->requests++;
    s->user_id = app->cfg->auth ? 0 : STORE_FIRST_USER;   /* 0: nobody, until auth says */
    char *uri = NULL;
    int ulen = 0;
    h->method = lws_http_get_uri_and_method(wsi, &uri, &ulen);
    h->started_us = (int64_t)lws_now_usecs();
    snprintf(h->path, sizeof h->path, "%s", in ? in : "/");
    h->app = app;
    struct http_req r;
    fill_req(&r, app, wsi, s);

    size_t limit = (size_t)app->cfg->max_body_mb << 20;
    char cl[32];
    int has_cl = lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0;
    h->content_length = has_cl ? strtoull(cl, NULL, 10) : 0;
    int chunked = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;
    h->expect_body = (h->method == LWSHUMETH_POST || h->method == LWSHUMETH_PATCH ||
                      h->method == LWSHUMETH_PUT) && (h->content_length > 0 || chunked);
    if (h->method < 0)
        return http_reply_error(&r, 405, "unsupported method");
    if (h->content_length > limit) {
        return http_reply_error(&r, 413, "request body is larger than %d MiB", app->cfg->max_body_mb);
    }
    /* --auth: who is asking, before any body is read (server/auth.h) */
    if (!auth_path_open(app, h->path)) {
        if (auth_identify(app, wsi, &s->user_id) || !auth_metrics_allowed(app, h->path, s->user_id))
            return auth_reply_401(&r);
        r.user_id = s->user_id;
    }
    if (!h->expect_body)
        return route(&r);

    char ctype[128] = "";
    lws_hdr_copy(wsi, ctype, sizeof ctype, WSI_TOKEN_HTTP_CONTENT_TYPE);
    if (!strncmp(ctype, "multipart/form-data", 19)) {
        lws_spa_create_info_t info = { 0 };
        info.param_names = form_fields;
        info.count_params = 3;
        info.max_storage = 4096;
        info.opt_cb = upload_cb;
        info.opt_data = s;
        h->spa = lws_spa_create_via_info(wsi, &info);
        if (!h->spa)
            return http_reply_error(&r, 400, "malformed multipart/form-data request");
    }
    return 0;  /* wait for HTTP_BODY */
}

/* Writes what is left of the response in one lws_write (lws keeps whatever the socket does
 * not take and sends it first). 0, or -1 if the connection must close. */
static int flush_now(struct lws *wsi, struct http_state *h)
{
    size_t n = h->resp_len - h->resp_off;
    unsigned char *out = malloc(LWS_PRE + (n ? n : 1));
    int rc = -1;
    if (out) {
        memcpy(out + LWS_PRE, h->resp + h->resp_off, n);
        rc = lws_write(wsi, out + LWS_PRE, n, LWS_WRITE_HTTP_FINAL) == (int)n ? 0 : -1;
        free(out);
    }
    free(h->resp);
    h->resp = NULL;
    return rc;
}

/* A body trickled in a byte at a time would keep its connection forever: lws restarts its
 * 20 s idle timeout on every byte. So once BODY_GRACE_US has passed, the body must have
 * arrived at BODY_MIN_RATE bytes/s on average, else 408 and close (slow-POST defence; see
 * docs/RELIABILITY.md). A stalled body is still closed by lws after 20 s of silence. */
/* Whether the first body bytes of a request are its own request line ("POST /path "), the
 * sign of the libwebsockets bug described in on_body. Only on a reused connection. */
static int relayed_request(struct lws *wsi, const struct http_state *h, const void *in, size_t len)
{
    const struct conn_meta *cm = lws_get_opaque_user_data(wsi);
    const char *m = h->method == LWSHUMETH_POST ? "POST " : h->method == LWSHUMETH_PUT ? "PUT "
                  : h->method == LWSHUMETH_PATCH ? "PATCH " : NULL;
    size_t ml = m ? strlen(m) : 0, pl = strlen(h->path);
    return cm && cm->requests > 1 && m && len > ml + pl && !memcmp(in, m, ml) &&
           !memcmp((const char *)in + ml, h->path, pl);
}

#define BODY_GRACE_US 20000000
#define BODY_MIN_RATE 1024

static int on_body(struct app *app, struct lws *wsi, struct session *s, const void *in, size_t len)
{
    struct http_state *h = &s->http;
    size_t limit = (size_t)app->cfg->max_body_mb << 20;
    if (h->content_length && h->received + len > h->content_length) {
        /* More body than Content-Length can only be libwebsockets 4.1 handing a request that
         * was pipelined behind another a stale (freed) buffer again (found by fuzz_http;
         * tests/fuzz-regressions/fuzz_http/pipelined-body-use-after-free): never read it. */
        log_warn("closing a connection: the request body overran its Content-Length");
        return -1;
    }
    if (!h->received && relayed_request(wsi, h, in, len)) {
        /* libwebsockets 4.3.5 still has the other half of that bug: a request with a body
         * pipelined behind another on a kept-alive connection is handed to HTTP_BODY whole,
         * its request line and headers first (seen in .ci/debian13's keepalive tests). Its
         * own headers are never its body: close (the earlier answers are already sent). */
        log_warn("closing a connection: libwebsockets passed a pipelined request as its own body");
        return -1;
    }
    int64_t us = (int64_t)lws_now_usecs() - h->started_us;
    h->received += len;
    if (us > BODY_GRACE_US && (double)h->received * 1e6 / (double)us < BODY_MIN_RATE) {
        log_warn("closing a connection whose request body arrives too slowly (%zu bytes in %.0f s)",
                 h->received, (double)us / 1e6);
        if (!h->answered) {
            struct http_req r;
            fill_req(&r, app, wsi, s);
            http_reply_error(&r, 408, "the request body arrived too slowly");
            if (h->resp)
                flush_now(wsi, h);
        }
        return -1;
    }
    if (h->answered) {
        /* Answered early (413): read and drop the rest so the client sees the answer
         * instead of a reset, but only up to a bound — then close. */
        h->discarded += len;
        return h->discarded > 2 * limit ? -1 : 0;
    }
    if (h->body.len + (h->spool ? spool_size(h->spool) : 0) + len > limit) {
        struct http_req r;
        fill_req(&r, app, wsi, s);
        return http_reply_error(&r, 413, "request body is larger than %d MiB", app->cfg->max_body_mb);
    }
    if (h->spa) {
        if ((h->spool && spool_error(h->spool)) || lws_spa_process(h->spa, in, (int)len)) {
            struct http_req r;
            fill_req(&r, app, wsi, s);
            if (h->upload_failed || (h->spool && spool_error(h->spool))) {
                spool_close(h->spool);   /* its disk space comes back now, not at the close */
                h->spool = NULL;
                h->upload_failed = 1;
                return http_reply_error(&r, 507, SPOOL_FAILED);
            }
            return http_reply_error(&r, 400, "malformed multipart/form-data body");
        }
        return 0;
    }
    if (buf_append(&h->body, in, len))
        return -1;
    return 0;
}

static int on_writeable(struct app *app, struct lws *wsi, struct session *s)
{
    static unsigned char out[LWS_PRE + WRITE_CHUNK];
    struct http_state *h = &s->http;
    if (!h->resp && h->finish_wanted && !h->answered && !spool_busy(h->spool))
        return finish_body(app, wsi, s);   /* the upload is on disk now */
    if (!h->resp)
        return 0;
    size_t n = h->resp_len - h->resp_off;
    if (n > WRITE_CHUNK)
        n = WRITE_CHUNK;
    memcpy(out + LWS_PRE, h->resp + h->resp_off, n);
    h->resp_off += n;
    int final = h->resp_off == h->resp_len;
    if (lws_write(wsi, out + LWS_PRE, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
        return -1;
    if (!final) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    free(h->resp);
    h->resp = NULL;
    if (h->expect_body && !h->body_done)
        return 0;   /* answered early: BODY_COMPLETION ends the transaction */
    return end_transaction(wsi, s);
}

/* The body has been read. libwebsockets 4.1 has a bug: for a request with a body that
 * arrived pipelined behind another request, it calls HTTP_BODY_COMPLETION again and again in
 * a busy loop (100% CPU, every other client starved, SIGTERM ignored; found by
 * fuzz/fuzz_http.c, kept in tests/fuzz-regressions/fuzz_http/). A second completion of the
 * same request is that loop: the response is written out at once and the connection closed,
 * which ends it. */
static int on_body_completion(struct app *app, struct lws *wsi, struct session *s)
{
    struct http_state *h = &s->http;
    if (h->body_done) {
        if (h->resp)
            flush_now(wsi, h);
        return -1;
    }
    h->body_done = 1;
    if (!h->expect_body)   /* a POST with no body: routed at LWS_CALLBACK_HTTP already, and
                            * maybe still waiting (a writer-thread task): never route twice */
        return h->answered && !h->resp ? end_transaction(wsi, s) : 0;
    if (h->answered)   /* answered early (413, multipart error) */
        return h->resp ? 0 : end_transaction(wsi, s);
    return finish_body(app, wsi, s);
}

int http_callback(struct app *app, struct lws *wsi, int reason, struct session *s, void *in,
                  size_t len)
{
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return begin_request(app, wsi, s, in);
    case LWS_CALLBACK_HTTP_BODY:
        return on_body(app, wsi, s, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return on_body_completion(app, wsi, s);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return on_writeable(app, wsi, s);
    case LWS_CALLBACK_HTTP_FILE_COMPLETION:
        return end_transaction(wsi, s);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        waiters_closed(app, s);   /* a speech/preview request still waiting for its audio */
        upload_closed(s);         /* an upload (POST /v1/audio) still being processed */
        http_state_reset(&s->http);
        return 0;
    default:
        return 0;
    }
}
