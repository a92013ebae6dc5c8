/* ws — the WebSocket side of the protocol callback: frames in (size and UTF-8 limits),
 * a bounded send queue per connection, written on SERVER_WRITEABLE. Service thread. */
#ifndef RECITE_WS_H
#define RECITE_WS_H
#include <stddef.h>
#include <stdint.h>
struct app;
struct lws;
struct session;
int ws_callback(struct app *app, struct lws *wsi, int reason, struct session *s, void *in,
                size_t len);
/* Queues a text message for a connection; silently dropped if the connection is gone. */
void ws_send(struct app *app, uint64_t conn_id, const char *text, size_t len);
#endif
