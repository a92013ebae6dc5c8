/* ws — WebSocket frames for /v1/ws/tts. A message is collected from its fragments (64 KiB
 * cap -> close 1009; invalid UTF-8 -> close 1007), handed to the pipeline by conn_id, and
 * answers are queued per connection and written one per SERVER_WRITEABLE, as lws requires.
 * The send queue is bounded: a client that never reads is closed instead of growing the
 * server without limit. Service thread only. */
#include "server/ws.h"
#include "server/app.h"
#include "server/auth.h"
#include "server/conns.h"
#include "server/pipeline.h"
#include "server/protocol.h"
#include "server/session.h"
#include "store/store.h"
#include "util/log.h"
#include "util/utf8.h"
#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

static void close_with(struct lws *wsi, enum lws_close_status code, const char *why)
{
    lws_close_reason(wsi, code, (unsigned char *)why, strlen(why));
}

void ws_send(struct app *app, uint64_t conn_id, const char *text, size_t len)
{
    struct session *s = conns_get(app->conns, conn_id);
    if (!s || s->ws.closing)
        return;
    if (s->ws.out_bytes + len > WS_MAX_SEND_QUEUE) {
        log_warn("ws %llu: client is not reading (%zu bytes queued), closing",
                 (unsigned long long)conn_id, s->ws.out_bytes);
        s->ws.closing = 1;
        lws_set_timeout(s->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
        return;
    }
    struct out_msg *m = malloc(sizeof *m + LWS_PRE + len);
    if (!m)
        return;
    m->next = NULL;
    m->len = len;
    memcpy(m->data + LWS_PRE, text, len);
    if (s->ws.out_tail)
        s->ws.out_tail->next = m;
    else
        s->ws.out_head = m;
    s->ws.out_tail = m;
    s->ws.out_bytes += len;
    lws_callback_on_writable(s->wsi);
}

static void free_queue(struct ws_state *w)
{
    while (w->out_head) {
        struct out_msg *n = w->out_head->next;
        free(w->out_head);
        w->out_head = n;
    }
    w->out_tail = NULL;
    w->out_bytes = 0;
    buf_free(&w->rx);
}

static int on_receive(struct app *app, struct lws *wsi, struct session *s, void *in, size_t len)
{
    struct ws_state *w = &s->ws;
    if (w->rx.len + len > WS_MAX_MESSAGE) {
        close_with(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message larger than 64 KiB");
        return -1;
    }
    if (buf_append(&w->rx, in, len))
        return -1;
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
        return 0;
    if (lws_frame_is_binary(wsi)) {
        w->rx.len = 0;
        close_with(wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, "binary messages are not accepted");
        return -1;
    }
    if (!utf8_valid((const char *)w->rx.data, w->rx.len)) {
        close_with(wsi, LWS_CLOSE_STATUS_INVALID_PAYLOAD, "message is not valid UTF-8");
        return -1;
    }
    pipeline_on_message(app, w->conn_id, s->user_id, (const char *)w->rx.data, w->rx.len);
    w->rx.len = 0;
    return 0;
}

static int on_writeable(struct lws *wsi, struct session *s)
{
    struct ws_state *w = &s->ws;
    if (w->revoked) {   /* auth_recheck: the token was rotated or removed, the guest expired */
        close_with(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, "signed out: the credential is no longer valid");
        return -1;
    }
    struct out_msg *m = w->out_head;
    if (!m)
        return 0;
    if (lws_write(wsi, m->data + LWS_PRE, m->len, LWS_WRITE_TEXT) < (int)m->len)
        return -1;
    w->out_head = m->next;
    if (!w->out_head)
        w->out_tail = NULL;
    w->out_bytes -= m->len;
    free(m);
    if (w->out_head)
        lws_callback_on_writable(wsi);
    return 0;
}

int ws_callback(struct app *app, struct lws *wsi, int reason, struct session *s, void *in,
                size_t len)
{
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        memset(&s->ws, 0, sizeof s->ws);
        s->wsi = wsi;
        s->is_ws = 1;
        s->ws.conn_id = ++app->next_conn_id;
        /* the upgrade was let through by the same check (server.c, FILTER_PROTOCOL_CONNECTION);
         * asking again here (the headers are still there) gives the session its user */
        if (auth_identify_session(app, wsi, s))
            return -1;
        if (conns_add(app->conns, s->ws.conn_id, s))
            return -1;
        METRIC_ADD(&app->metrics, ws_connections, 1);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        return on_receive(app, wsi, s, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return on_writeable(wsi, s);
    case LWS_CALLBACK_CLOSED:
        if (s->is_ws) {
            pipeline_on_close(app, s->ws.conn_id);   /* reads the session: before removal */
            conns_remove(app->conns, s->ws.conn_id);
            free_queue(&s->ws);
            s->is_ws = 0;
            METRIC_SUB(&app->metrics, ws_connections, 1);
        }
        return 0;
    default:
        return 0;
    }
}
