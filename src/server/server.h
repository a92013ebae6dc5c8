/* server — the libwebsockets context: one port for HTTP and /v1/ws/tts, the service loop,
 * signals and the periodic visibility-timeout check. */
#ifndef RECITE_SERVER_H
#define RECITE_SERVER_H
struct app;
/* Runs until SIGINT/SIGTERM. Returns 0 on a clean stop, -1 if it could not listen. */
int server_run(struct app *app);
/* Any thread: wakes the service loop so it drains queue and pool events (a no-op while
 * there is no context). The notify callback of the queue and the offload pools. */
void server_wake(struct app *app);
/* Closes every connection and frees the context (after the workers have stopped). */
void server_destroy_context(struct app *app);
#endif
