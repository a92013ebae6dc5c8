/* pipeline — the TTS protocol logic: synthesize / cursor_moved requests, immediate status
 * answers (cache check, dedup via the queue), and turning queue events into status
 * messages. Service thread only; talks to connections only through ws_send(conn_id). */
#ifndef RECITE_PIPELINE_H
#define RECITE_PIPELINE_H
#include <stddef.h>
#include <stdint.h>
struct app;
/* user_id: the connection's user (session.h); every document it names must be theirs. */
void pipeline_on_message(struct app *app, uint64_t conn_id, int64_t user_id, const char *msg,
                         size_t len);
void pipeline_on_close(struct app *app, uint64_t conn_id);
/* Drains queue events (called on LWS_CALLBACK_EVENT_WAIT_CANCELLED). */
void pipeline_drain(struct app *app);
#endif
