/* http — HTTP request collection, routing and responses on libwebsockets. Service thread
 * only. Handlers get a struct http_req and answer with one of the http_reply* calls, whose
 * return value is what the lws callback must return. */
#ifndef RECITE_HTTP_H
#define RECITE_HTTP_H
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

struct app;
struct lws;
struct session;

/* HTTP/1.1 keep-alive needs libwebsockets >= 4.3 (Debian 13): 4.1 (Debian 12) mishandles a
 * request with a body pipelined behind another on a kept-alive connection (a busy loop and
 * bodies re-read from freed memory; tests/fuzz-regressions/fuzz_http/pipelined-*), so with
 * it every response closes its connection. Decided when compiling, from lws_config.h. */
#include <lws_config.h>
#if LWS_LIBRARY_VERSION_MAJOR > 4 || (LWS_LIBRARY_VERSION_MAJOR == 4 && LWS_LIBRARY_VERSION_MINOR >= 3)
#define HTTP_KEEPALIVE 1
#else
#define HTTP_KEEPALIVE 0
#endif

struct http_req {
    struct app *app;
    struct lws *wsi;
    struct session *s;
    int64_t user_id;          /* the requesting user (users.id; 1 in single-user mode) */
    int method;               /* LWSHUMETH_* */
    const char *path;
    const unsigned char *body;
    size_t body_len;
    /* multipart upload (POST /v1/documents with a `file` part) */
    int is_multipart;
    const unsigned char *upload;
    size_t upload_len;
    int upload_fd;            /* >= 0: the `file` part is in this spool file (upload_len bytes,
                                 upload NULL); the handler may take it (spool_take) */
    const char *upload_name;
    const char *form_format;  /* form fields, or NULL */
    const char *form_title;
    /* Set when the reply is made inside this connection's own HTTP callback (not by a
     * waiter answering later): the body can then be written at once (http_reply). */
    int in_callback;
};

struct http_header { const char *name; const char *value; };  /* name without ':' */

/* Sends a complete response; takes ownership of body (malloc'd, may be NULL). */
int http_reply(struct http_req *r, int status, const char *ctype, unsigned char *body,
               size_t len, const struct http_header *extra, int nextra);
/* The same with a body it does not own (the hot cache's bytes): copied once, straight into
 * the buffer the response is written from — or not at all when `headroom` bytes in front
 * of data may be overwritten (the headers are put there; 0: none). */
int http_reply_copy(struct http_req *r, int status, const char *ctype, const unsigned char *data,
                    size_t len, size_t headroom, const struct http_header *extra, int nextra);
int http_reply_json(struct http_req *r, int status, cJSON *json);   /* consumes json */
int http_reply_error(struct http_req *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Takes the spooled upload's descriptor from the request's session (the caller closes it);
 * -1 if there is none. */
int http_spool_take(struct http_req *r);

/* The end of a response that is complete on the wire: 0 keeps the connection for the next
 * request (keep-alive), -1 closes it. What the lws callback returns. */
int http_end(struct http_req *r);
/* Whether this response may leave its connection open; if not, it says `connection: close`. */
int http_keep(struct http_req *r);
/* The client's address: the TCP peer, or, when the peer is one of --trusted-proxy, the
 * last X-Forwarded-For entry that is not a trusted proxy itself (what nginx or Caddy append). */
void http_client_addr(struct http_req *r, char *buf, size_t len);
/* Copies a request header (lws token) into buf; returns length or -1 if absent. */
int http_header(struct http_req *r, int token, char *buf, int len);

/* The lws callback part for HTTP reasons (called from the protocol callback). */
int http_callback(struct app *app, struct lws *wsi, int reason, struct session *s, void *in,
                  size_t len);

/* Route handlers (api_*.c, static.c). */
int api_documents(struct http_req *r, const char *rest);   /* /v1/documents... */
int api_audio(struct http_req *r, const char *rest);       /* /v1/audio... */
int api_upload(struct http_req *r);                        /* POST /v1/audio */
/* CLOSED_HTTP: an upload still being processed will find nobody to answer. */
void upload_closed(struct session *s);
int api_models(struct http_req *r);
int api_healthz(struct http_req *r);
int api_metrics(struct http_req *r);
int static_serve(struct http_req *r);
#endif
