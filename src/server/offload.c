/* offload — the pool of threads for request work that is not TTS (see offload.h).
 *
 * Redis bio.c's shape: one FIFO of submitted tasks under a mutex + condvar, taken by
 * `threads` pool threads; a finished task goes onto a done FIFO under the same mutex and
 * the pool calls notify() (lws_cancel_service) so the service thread wakes and, in
 * LWS_CALLBACK_EVENT_WAIT_CANCELLED, swaps the done list out and runs each completion
 * without the lock — the same event path as the TTS workers' results.
 *
 * Threads: offload_submit/offload_drain on the service thread; work() on pool threads;
 * offload_create/offload_destroy on the main thread before/after the loop runs.
 * Ownership: a task is the pool's from submit until its done() call, which frees it. Each
 * pool thread's context (thread_init) is made and finished here, used only by that thread. */
#include "server/offload.h"
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>

struct pool_thread {
    pthread_t thread;
    struct offload *o;
    void *ctx;
};

struct offload {
    struct offload_config cfg;
    pthread_mutex_t lock;                  /* guards everything below */
    pthread_cond_t cond;                   /* a task was queued, or stopping */
    struct offload_task *todo, *todo_tail; /* submitted, not yet taken */
    struct offload_task *done, *done_tail; /* finished, not yet drained */
    int pending;                           /* submitted and not drained */
    int stopping;
    struct pool_thread *t;
    int nthreads;                          /* started */
};

static void list_push(struct offload_task **head, struct offload_task **tail,
                      struct offload_task *t)
{
    t->next = NULL;
    if (*tail)
        (*tail)->next = t;
    else
        *head = t;
    *tail = t;
}

/* Pool work is bulk work (a 10 MiB import, an export's encoding) next to the service
 * thread's many short answers: on a busy machine the pool threads yield the CPU to it.
 * Linux nice values are per thread; raising ours needs no privilege. */
#define POOL_NICE 10

static void *pool_main(void *arg)
{
    struct pool_thread *pt = arg;
    struct offload *o = pt->o;
    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), POOL_NICE);
    pthread_mutex_lock(&o->lock);
    for (;;) {
        while (!o->todo && !o->stopping)
            pthread_cond_wait(&o->cond, &o->lock);
        struct offload_task *t = o->todo;
        if (!t)
            break;   /* stopping and nothing left to run */
        o->todo = t->next;
        if (!o->todo)
            o->todo_tail = NULL;
        pthread_mutex_unlock(&o->lock);

        t->work(t, pt->ctx);

        pthread_mutex_lock(&o->lock);
        list_push(&o->done, &o->done_tail, t);
        pthread_mutex_unlock(&o->lock);
        if (o->cfg.notify)
            o->cfg.notify(o->cfg.notify_arg);
        pthread_mutex_lock(&o->lock);
    }
    pthread_mutex_unlock(&o->lock);
    return NULL;
}

struct offload *offload_create(const struct offload_config *cfg, char *err, size_t errlen)
{
    struct offload *o = calloc(1, sizeof *o);
    int n = cfg->threads > 0 ? cfg->threads : 1;
    if (!o || !(o->t = calloc((size_t)n, sizeof *o->t))) {
        free(o);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    o->cfg = *cfg;
    pthread_mutex_init(&o->lock, NULL);
    pthread_cond_init(&o->cond, NULL);
    for (int i = 0; i < n; i++) {
        struct pool_thread *pt = &o->t[i];
        pt->o = o;
        if (cfg->thread_init && !(pt->ctx = cfg->thread_init(cfg->thread_arg, err, errlen)))
            goto fail;
        if (pthread_create(&pt->thread, NULL, pool_main, pt)) {
            if (cfg->thread_fini)
                cfg->thread_fini(pt->ctx);
            snprintf(err, errlen, "cannot start a thread");
            goto fail;
        }
        o->nthreads++;
    }
    return o;
fail:
    offload_destroy(o);
    return NULL;
}

int offload_submit(struct offload *o, struct offload_task *t,
                   void (*work)(struct offload_task *, void *),
                   void (*done)(struct offload_task *, int))
{
    if (!o)
        return RECITE_ESTOPPED;
    t->work = work;
    t->done = done;
    pthread_mutex_lock(&o->lock);
    if (o->stopping) {
        pthread_mutex_unlock(&o->lock);
        return RECITE_ESTOPPED;
    }
    list_push(&o->todo, &o->todo_tail, t);
    o->pending++;
    pthread_cond_signal(&o->cond);
    pthread_mutex_unlock(&o->lock);
    return RECITE_OK;
}

/* Runs done(t, status) for every finished task; returns how many. */
static int run_done(struct offload *o, int status)
{
    pthread_mutex_lock(&o->lock);
    struct offload_task *list = o->done;
    o->done = o->done_tail = NULL;
    pthread_mutex_unlock(&o->lock);
    int n = 0;
    while (list) {
        struct offload_task *t = list;
        list = t->next;
        t->done(t, status);   /* frees t */
        n++;
    }
    pthread_mutex_lock(&o->lock);
    o->pending -= n;
    pthread_mutex_unlock(&o->lock);
    return n;
}

void offload_drain(struct offload *o)
{
    if (o)
        run_done(o, 0);
}

int offload_pending(struct offload *o)
{
    pthread_mutex_lock(&o->lock);
    int n = o->pending;
    pthread_mutex_unlock(&o->lock);
    return n;
}

void offload_destroy(struct offload *o)
{
    if (!o)
        return;
    pthread_mutex_lock(&o->lock);
    o->stopping = 1;
    pthread_cond_broadcast(&o->cond);
    pthread_mutex_unlock(&o->lock);
    for (int i = 0; i < o->nthreads; i++)
        pthread_join(o->t[i].thread, NULL);   /* the queue is empty when the last returns */
    run_done(o, OFFLOAD_STOPPED);
    for (int i = 0; i < o->nthreads; i++)
        if (o->cfg.thread_fini)
            o->cfg.thread_fini(o->t[i].ctx);
    pthread_mutex_destroy(&o->lock);
    pthread_cond_destroy(&o->cond);
    free(o->t);
    free(o);
}
