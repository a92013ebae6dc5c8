/* session — per-connection state (lws "pss"), one struct for both roles because the TTS
 * protocol is the default protocol and also receives the HTTP callbacks. Service thread
 * only. A WebSocket session is known to the rest of the server only by its conn_id. */
#ifndef RECITE_SESSION_H
#define RECITE_SESSION_H
#include <stddef.h>
#include <stdint.h>
#include "audio/audio.h"

struct app;
struct lws;
struct lws_spa;
struct spool;

struct out_msg {
    struct out_msg *next;
    size_t len;
    unsigned char data[];   /* LWS_PRE bytes of headroom, then the payload */
};

struct http_state {
    int method;                 /* LWSHUMETH_* */
    char path[512];
    size_t content_length;      /* declared, if any */
    int expect_body;
    int body_done;
    int answered;               /* a response was already started */
    int close_after;            /* the response said `connection: close` */
    size_t discarded;           /* body bytes read and dropped after an early answer */
    int64_t started_us;         /* when the request's headers were complete (lws_now_usecs) */
    size_t received;            /* body bytes received so far (for the minimum rate) */
    struct buf body;
    struct lws_spa *spa;        /* multipart/form-data parser */
    struct buf upload;          /* the uploaded `file` part (in memory: not used for files) */
    /* The `file` part streams to an unnamed file in the data directory instead of memory
     * (a 50 MiB book), written by the spooler thread (spool.h). Closed by http_state_reset
     * unless its descriptor was handed on. */
    struct spool *spool;
    struct app *app;            /* for upload_cb, which lws calls with the session only */
    int upload_failed;          /* the spool file could not be made or written (disk full) */
    int finish_wanted;          /* the body is complete; answer once the spool is on disk */
    char upload_name[256];
    void *pending;              /* an upload being processed off the thread (api_upload.c) */
    /* response body being written */
    unsigned char *resp;
    size_t resp_len, resp_off;
};

struct ws_state {
    uint64_t conn_id;
    struct buf rx;              /* fragments of the message being received */
    struct out_msg *out_head, *out_tail;
    size_t out_bytes;
    int closing;
    int revoked;                /* its credential was revoked: close at the next WRITEABLE */
    int64_t reserved;           /* quota chars of its blocks queued and not yet finished */
};

/* What outlives one HTTP transaction on a connection: libwebsockets >= 4.3 hands each
 * request on a kept-alive connection a fresh struct session, so this hangs on the wsi
 * (lws_set_opaque_user_data) from accept to WSI_DESTROY (server.c). */
struct conn_meta {
    int requests;               /* HTTP requests begun on this connection (keep-alive cap) */
};

struct session {
    struct lws *wsi;
    int is_ws;
    /* Who this request or WebSocket is (a users.id): set when an HTTP request begins and
     * when a WebSocket is established; STORE_FIRST_USER (1) in single-user mode. */
    int64_t user_id;
    /* --auth, WebSocket: the credential it was let in with, re-checked while it stays open
     * (auth_recheck): the token's sha256, or the guest's anonymous id. */
    char cred_key[65];
    int cred_guest;
    struct http_state http;
    struct ws_state ws;
};
#endif
