/* offload — a small fixed pool of threads for request work that is not TTS and must not
 * run on the service thread: format conversions, document parsing and imports, upload
 * decoding, store writes that can wait behind a worker's insert (position saves), exports.
 * The libuv uv_queue_work shape, with the completion handed back like a queue event.
 *
 * Usage (service thread):
 *
 *     struct convert { struct offload_task task; uint64_t waiter_id; ...in/out... };
 *
 *     static void convert_work(struct offload_task *t, void *thread_ctx)   // pool thread
 *     {
 *         struct convert *c = offload_container(t, struct convert, task);
 *         ... compute from c's inputs into c's outputs; no lws, no app state ...
 *     }
 *     static void convert_done(struct offload_task *t, int status)       // service thread
 *     {
 *         struct convert *c = offload_container(t, struct convert, task);
 *         if (status == 0 && (w = waiter_find(c->waiter_id)))   // still connected?
 *             ... answer it ...
 *         free_convert(c);          // always: done is the task's last owner
 *     }
 *     if (offload_submit(app->offload, &c->task, convert_work, convert_done) < 0)
 *         ... answer 503 / free c (done will never be called) ...
 *
 * Rules:
 * - The task (the struct that embeds struct offload_task) belongs to the pool from
 *   offload_submit until done() is called, exactly once, on the service thread; done()
 *   frees it. A failed submit (-1: the pool is stopping) never calls done.
 * - work() runs on a pool thread: it may block (SQLite busy timeout, disk, network, CPU),
 *   it must not call lws_* or touch service-thread state (sessions, hot cache, the service
 *   thread's store connection). It gets its thread's context (thread_init's result: the
 *   server gives each pool thread its own SQLite connection).
 * - A task refers to the request that wants its result by an id (a waiter id, a conn_id),
 *   never by a wsi or session pointer: the client may be gone when done() runs, and done()
 *   looks the id up and only frees the result when nobody is there.
 * - done(t, OFFLOAD_STOPPED) is called from offload_destroy, after the loop has stopped:
 *   the work ran, but there is no loop and no connection to answer; free only.
 * - Tasks run in submission order per pool but concurrently across threads: two tasks
 *   that must not overtake each other (two saves of one document's position) are the
 *   caller's to serialize (one in flight at a time, the next submitted from done()). */
#ifndef RECITE_OFFLOAD_H
#define RECITE_OFFLOAD_H
#include "util/err.h"
#include <stddef.h>

struct offload;

#define OFFLOAD_STOPPED 1   /* done() status when called from offload_destroy */

struct offload_task {
    void (*work)(struct offload_task *t, void *thread_ctx);
    void (*done)(struct offload_task *t, int status);
    struct offload_task *next;   /* the pool's */
};

#define offload_container(ptr, type, member) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

struct offload_config {
    int threads;                          /* at least 1 */
    void (*notify)(void *arg);            /* any thread: wake the service loop */
    void *notify_arg;
    /* Optional per-thread context, made on the caller's thread by offload_create (so a
     * failure fails the creation, loudly) and handed to every work() the thread runs;
     * thread_fini(ctx) at destroy. E.g. a SQLite connection per pool thread. */
    void *(*thread_init)(void *arg, char *err, size_t errlen);
    void (*thread_fini)(void *ctx);
    void *thread_arg;
};

/* Starts the threads. NULL with err filled on failure (nothing left running). */
struct offload *offload_create(const struct offload_config *cfg, char *err, size_t errlen);
/* Service thread. Queues t: RECITE_OK, or RECITE_ESTOPPED if the pool is stopping or NULL
 * (then done will never be called). */
int offload_submit(struct offload *o, struct offload_task *t,
                   void (*work)(struct offload_task *, void *),
                   void (*done)(struct offload_task *, int));
/* Service thread, on every wake-up: calls done(t, 0) for each finished task, in order. */
void offload_drain(struct offload *o);
/* Tasks submitted and not yet drained (for metrics and tests). */
int offload_pending(struct offload *o);
/* After the loop has stopped: every submitted task's work runs to the end (queued ones
 * too: a position save must not be lost to a shutdown), then the undrained ones get
 * done(t, OFFLOAD_STOPPED), the threads are joined and their contexts finished. Accepts
 * NULL. */
void offload_destroy(struct offload *o);
#endif
