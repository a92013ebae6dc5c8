/* waiters — HTTP requests that wait for a job to end (POST /v1/audio/speech, voice
 * previews), with no thread blocked: the request registers a waiter, submits a queue
 * requester of kind REQ_WAITER with the waiter's id, and the service thread returns to its
 * loop. pipeline_drain hands each REQ_WAITER requester of a job event to waiters_on_event,
 * which calls the endpoint's on_event for it; the endpoint answers (waiter_reply_*) or
 * keeps it (e.g. while an offload task converts the audio: set `busy`).
 *
 * Threads: service thread only. Ownership: the registry owns its waiters; a waiter holds
 * its wsi and session until it is answered or its connection closes (waiters_closed, from
 * CLOSED_HTTP), and its endpoint data (freed with data_free). Code that finishes later
 * (an offload completion) must look the waiter up again by id: it may be gone. */
#ifndef RECITE_WAITERS_H
#define RECITE_WAITERS_H
#include <stdint.h>

struct app;
struct http_req;
struct job_event;
struct lws;
struct session;
struct waiter;
struct waiters;

/* A final job event (CACHED, SKIPPED, ERROR) for w. It must answer w (waiter_finish /
 * waiter_error) or mark it busy; a waiter neither answered nor busy is answered 500. */
typedef void (*waiter_event_fn)(struct app *app, struct waiter *w, const struct job_event *ev);

struct waiter {
    uint64_t id;                 /* the queue requester's id (kind REQ_WAITER) */
    struct lws *wsi;
    struct session *s;
    int method;
    waiter_event_fn on_event;
    void *data;                  /* the endpoint's, freed with data_free (may be NULL) */
    void (*data_free)(void *data);
    int busy;                    /* being answered by other means: job events pass it by */
    struct waiter *next;
};

struct waiters *waiters_create(void);     /* NULL when out of memory */
void waiters_destroy(struct waiters *ws); /* accepts NULL; after the lws context is gone */
int waiters_count(const struct waiters *ws);

/* 503 with Retry-After (into *rc) when --speech-max-pending requests wait already: 1;
 * else 0. */
int waiters_full(struct http_req *r, int *rc);
/* A new waiter for r, owning data (NULL: out of memory; data is freed). The connection now
 * waits on us, not on the client: lws's idle timeout becomes the waiter timeout (300 s). */
struct waiter *waiters_add(struct http_req *r, waiter_event_fn on_event, void *data,
                           void (*data_free)(void *));
/* waiters_full + waiters_add + a queue requester for (hash, model, voice, text). Returns
 * what the HTTP callback must return: 0 while waiting, or the answered error. With
 * quota_free (a voice preview: the server's own sentence, one synthesis per voice for all
 * users) the user's --quota-chars is neither checked, reserved nor charged. */
int waiters_wait(struct http_req *r, const char *hash, const char *model, const char *voice,
                 const char *text, int quota_free, waiter_event_fn on_event, void *data,
                 void (*data_free)(void *));
struct waiter *waiters_find(struct waiters *ws, uint64_t id);
void waiters_remove(struct waiters *ws, struct waiter *w);   /* frees w */

/* The request w answers, as http_reply expects it. */
void waiter_request(struct app *app, const struct waiter *w, struct http_req *r);
/* An offload completion's way back to its request: the waiter `id` if the task ran
 * (status 0) and the client is still there, with *r filled; else NULL (only free). */
struct waiter *waiters_resume(struct app *app, uint64_t id, int status, struct http_req *r);
/* After answering w outside its connection's callback (rc: what http_reply returned): a
 * failure closes the connection asynchronously. w is freed. */
void waiter_finish(struct app *app, struct waiter *w, int rc);
/* Answers w with an HTTP error and a JSON message; w is freed. */
void waiter_error(struct app *app, struct waiter *w, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* pipeline_drain: a job event for the REQ_WAITER requester `id`. */
void waiters_on_event(struct app *app, const struct job_event *ev, uint64_t id);
/* CLOSED_HTTP: the session's waiters go, and their queue requesters with them. */
void waiters_closed(struct app *app, struct session *s);
#endif
