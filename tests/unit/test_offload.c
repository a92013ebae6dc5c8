/* Unit tests of the offload pool: work runs on pool threads with their own context,
 * completions run on the draining thread in submission order after a wake-up, a
 * completion for a requester that has gone only frees, a stopping pool runs what was
 * queued and hands the rest back with OFFLOAD_STOPPED, and a failed thread_init fails
 * the creation and stops the threads already started. */
#include "check.h"
#include "server/offload.h"
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

/* The "service loop": notify posts to a condition the test waits on. */
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cond = PTHREAD_COND_INITIALIZER;
static int wakes;

static void notify(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&wake_lock);
    wakes++;
    pthread_cond_broadcast(&wake_cond);
    pthread_mutex_unlock(&wake_lock);
}

static pthread_t main_thread;
static int ctx_made, ctx_freed;
static int fail_init_after = -1;   /* thread_init fails once this many have succeeded */

static void *thread_init(void *arg, char *err, size_t errlen)
{
    if (fail_init_after >= 0 && ctx_made >= fail_init_after) {
        snprintf(err, errlen, "no connection for you");
        return NULL;
    }
    int *ctx = malloc(sizeof *ctx);
    *ctx = 1000 + ctx_made++;
    return ctx;
}

static void thread_fini(void *ctx)
{
    free(ctx);
    ctx_freed++;
}

/* A task as a user would write it: inputs, outputs, and the id of who wants the result. */
struct square {
    struct offload_task task;
    int requester;          /* looked up again in done() */
    int in, out;
    int ctx_seen;
    int on_pool_thread;
};

static int order[64], norder;
static int live[64];           /* requesters still "connected" */
static int answered, freed_only, stopped;
static int done_on_main = 1;
static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;   /* holds work back when locked */

static void square_work(struct offload_task *t, void *ctx)
{
    struct square *s = offload_container(t, struct square, task);
    pthread_mutex_lock(&gate);
    pthread_mutex_unlock(&gate);
    s->out = s->in * s->in;
    s->ctx_seen = ctx ? *(int *)ctx : -1;
    s->on_pool_thread = !pthread_equal(pthread_self(), main_thread);
}

static void square_done(struct offload_task *t, int status)
{
    struct square *s = offload_container(t, struct square, task);
    if (!pthread_equal(pthread_self(), main_thread))
        done_on_main = 0;
    CHECK_INT(s->out, s->in * s->in);   /* the work always ran */
    CHECK(s->on_pool_thread);
    CHECK(s->ctx_seen >= 1000);
    if (status == OFFLOAD_STOPPED)
        stopped++;
    else if (live[s->requester]) {
        order[norder++] = s->in;
        answered++;
    } else {
        freed_only++;
    }
    free(s);
}

static struct square *square_new(int in, int requester)
{
    struct square *s = calloc(1, sizeof *s);
    s->in = in;
    s->requester = requester;
    return s;
}

static struct offload *pool(int threads)
{
    struct offload_config cfg = { .threads = threads, .notify = notify,
                                  .thread_init = thread_init, .thread_fini = thread_fini };
    char err[128] = "";
    struct offload *o = offload_create(&cfg, err, sizeof err);
    CHECK(o != NULL);
    return o;
}

/* Waits (on a condition, not a sleep) until every submitted task has finished, draining
 * as a service loop would on each wake-up. */
static void drain_all(struct offload *o)
{
    for (;;) {
        offload_drain(o);
        if (offload_pending(o) == 0)
            return;
        pthread_mutex_lock(&wake_lock);
        int seen = wakes;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;   /* a lost wake-up only costs a second; the loop re-checks */
        while (wakes == seen)
            if (pthread_cond_timedwait(&wake_cond, &wake_lock, &ts))
                break;
        pthread_mutex_unlock(&wake_lock);
    }
}

static void test_runs_and_completes_in_order(void)
{
    ctx_made = ctx_freed = 0;
    answered = freed_only = stopped = norder = 0;
    struct offload *o = pool(1);   /* one thread: completions in submission order */
    for (int i = 0; i < 20; i++) {
        live[i] = 1;
        CHECK_INT(offload_submit(o, &square_new(i, i)->task, square_work, square_done), 0);
    }
    drain_all(o);
    CHECK_INT(answered, 20);
    for (int i = 0; i < 20; i++)
        CHECK_INT(order[i], i);
    CHECK(done_on_main);
    CHECK(wakes > 0);
    offload_destroy(o);
    CHECK_INT(ctx_made, 1);
    CHECK_INT(ctx_freed, 1);
}

static void test_gone_requester_frees_only(void)
{
    answered = freed_only = stopped = norder = 0;
    struct offload *o = pool(3);
    pthread_mutex_lock(&gate);   /* hold the work while the "clients" disconnect */
    for (int i = 0; i < 30; i++) {
        live[i] = 1;
        CHECK_INT(offload_submit(o, &square_new(i, i)->task, square_work, square_done), 0);
    }
    for (int i = 0; i < 30; i += 2)
        live[i] = 0;
    pthread_mutex_unlock(&gate);
    drain_all(o);
    CHECK_INT(answered, 15);
    CHECK_INT(freed_only, 15);
    offload_destroy(o);
}

static void test_stop_runs_queued_work(void)
{
    answered = freed_only = stopped = norder = 0;
    struct offload *o = pool(2);
    pthread_mutex_lock(&gate);
    for (int i = 0; i < 10; i++) {
        live[i] = 1;
        CHECK_INT(offload_submit(o, &square_new(i, i)->task, square_work, square_done), 0);
    }
    CHECK_INT(offload_pending(o), 10);
    pthread_mutex_unlock(&gate);
    offload_destroy(o);   /* no drain: every task still runs and gets OFFLOAD_STOPPED */
    CHECK_INT(stopped, 10);
    CHECK_INT(answered, 0);
}

static void test_init_failure_fails_create(void)
{
    ctx_made = ctx_freed = 0;
    fail_init_after = 2;
    struct offload_config cfg = { .threads = 4, .notify = notify,
                                  .thread_init = thread_init, .thread_fini = thread_fini };
    char err[128] = "";
    CHECK(offload_create(&cfg, err, sizeof err) == NULL);
    CHECK_STR(err, "no connection for you");
    CHECK_INT(ctx_made, 2);
    CHECK_INT(ctx_freed, 2);   /* the threads already started are stopped, their ctx freed */
    fail_init_after = -1;
}

static int never_done;
static void count_done(struct offload_task *t, int status)
{
    (void)t;
    (void)status;
    never_done++;
}

static void test_no_context(void)
{
    struct offload_config cfg = { .threads = 1, .notify = notify };
    char err[64];
    struct offload *o = offload_create(&cfg, err, sizeof err);
    CHECK(o != NULL);
    struct square *s = square_new(3, 0);
    live[0] = 1;
    answered = 0;
    /* without thread_init the context is NULL */
    CHECK_INT(offload_submit(o, &s->task, square_work, count_done), 0);
    drain_all(o);
    CHECK_INT(never_done, 1);
    CHECK_INT(s->ctx_seen, -1);
    free(s);
    offload_destroy(o);
    offload_destroy(NULL);
}

int main(void)
{
    main_thread = pthread_self();
    test_runs_and_completes_in_order();
    test_gone_requester_frees_only();
    test_stop_runs_queued_work();
    test_init_failure_fails_create();
    test_no_context();
    CHECK_DONE();
}
