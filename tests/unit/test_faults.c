/* Fault tests (SQLite/curl style): allocation failures injected at every checked
 * allocation of a queue scenario in turn, and start-up failures. What must hold: a take
 * never turns an allocation failure into a shutdown (the worker would exit for good), a
 * job that ends always tells its requesters (the final event is allocated with the job),
 * a submit that fails says so and leaves nothing behind, no job is left that nobody
 * wants, and a worker pool whose store cannot be opened refuses to start. ASan (make
 * SANITIZE=1) checks that nothing leaks on any of these paths. */
#include "check.h"
#include "jobs/queue.h"
#include "jobs/workers.h"
#include "util/err.h"
#include "util/fault.h"
#include "util/log.h"
#include <stdlib.h>
#include <unistd.h>

static void on_notify(void *arg) { (void)arg; }

static int take(struct queue *q, struct job_ticket *t)
{
    return memqueue_source(q)->ops->take(memqueue_source(q), t, NULL);
}

static void finish(struct queue *q, struct job_ticket *t, enum job_event_type type)
{
    struct job_result res = { .type = type, .duration_ms = 10 };
    memqueue_source(q)->ops->finish(memqueue_source(q), t, &res);
    job_ticket_free(t);
}

static int submit(struct queue *q, int n, enum requester_kind kind, uint64_t id, int idx)
{
    char h[65];
    snprintf(h, sizeof h, "%064d", n);
    struct requester r = { .kind = kind, .id = id, .idx = idx };
    snprintf(r.doc_id, sizeof r.doc_id, "doc");
    enum submit_state st;
    return q->ops->submit(q, h, "espeak", "en-us", "some text", &r, &st);
}

/* A take whose ticket cannot be allocated retries; it neither returns -1 nor loses the job. */
static void test_take_survives_oom(void)
{
    struct queue *q = memqueue_create(30000, 3, on_notify, NULL);
    CHECK_INT(submit(q, 1, REQ_CONN, 1, 0), 0);
    long before = fault_alloc_injected();
    fault_alloc_arm(0, 1);   /* the very next checked allocation (the ticket's text) fails */
    struct job_ticket t;
    CHECK_INT(take(q, &t), 0);
    CHECK_INT(fault_alloc_injected(), before + 1);
    CHECK_STR(t.text, "some text");
    CHECK_INT(t.tries, 1);   /* the failed attempt did not count */
    finish(q, &t, JOB_EV_CACHED);
    int cached = 0;
    struct job_event *ev = q->ops->drain(q);
    for (struct job_event *e = ev; e; e = e->next)
        cached += e->type == JOB_EV_CACHED && e->nreqs == 1;
    job_event_free(ev);
    CHECK_INT(cached, 1);
    q->ops->destroy(q);
}

/* With every allocation failing, a job's end still reaches its requesters. */
static void test_final_event_never_lost(void)
{
    struct queue *q = memqueue_create(30000, 3, on_notify, NULL);
    CHECK_INT(submit(q, 1, REQ_CONN, 1, 0), 0);
    CHECK_INT(submit(q, 1, REQ_WAITER, 1, 0), 0);
    struct job_ticket t;
    CHECK_INT(take(q, &t), 0);
    fault_alloc_arm(0, -1);
    finish(q, &t, JOB_EV_SKIPPED);
    fault_alloc_arm(0, 0);
    int reqs = 0;
    struct job_event *ev = q->ops->drain(q);
    for (struct job_event *e = ev; e; e = e->next)
        if (e->type == JOB_EV_SKIPPED)
            reqs += e->nreqs;
    job_event_free(ev);
    CHECK_INT(reqs, 2);
    q->ops->destroy(q);
}

/* The scenario, with the n-th checked allocation failing (once). Returns the number of
 * allocations that were failed (0: n was past the scenario's last allocation). */
static long scenario(int n)
{
    struct queue *q = memqueue_create(30000, 3, on_notify, NULL);
    long before = fault_alloc_injected();
    fault_alloc_arm(n, 1);
    int ok[5];
    ok[0] = submit(q, 1, REQ_CONN, 1, 0) == 0;
    ok[1] = submit(q, 2, REQ_CONN, 1, 1) == 0;
    ok[2] = submit(q, 1, REQ_CONN, 2, 0) == 0;     /* joins job 1 */
    ok[3] = submit(q, 3, REQ_WAITER, 1, 0) == 0;
    ok[4] = submit(q, 4, REQ_CONN, 2, 5) == 0;
    q->ops->gone(q, REQ_CONN, 2);                 /* conn 2 leaves: job 4 goes */
    ok[2] = ok[4] = 0;
    int queued, running;
    for (;;) {
        q->ops->stats(q, &queued, &running);
        if (!queued)
            break;
        struct job_ticket t;
        CHECK_INT(take(q, &t), 0);
        finish(q, &t, JOB_EV_CACHED);
    }
    long failed = fault_alloc_injected() - before;
    fault_alloc_arm(0, 0);
    q->ops->stats(q, &queued, &running);
    CHECK_INT(queued + running, 0);   /* nothing left that nobody wants */
    /* Every requester whose submit succeeded (and who did not leave) got one final event. */
    int got[5] = { 0 };
    struct job_event *ev = q->ops->drain(q);
    for (struct job_event *e = ev; e; e = e->next) {
        if (e->type == JOB_EV_PROCESSING)
            continue;
        for (int i = 0; i < e->nreqs; i++) {
            const struct requester *r = &e->reqs[i];
            if (r->kind == REQ_WAITER)
                got[3]++;
            else if (r->id == 1)
                got[r->idx]++;
            else
                got[r->idx == 0 ? 2 : 4]++;
        }
    }
    job_event_free(ev);
    for (int i = 0; i < 5; i++)
        if (got[i] != ok[i]) {
            fprintf(stderr, "fault at allocation %d: requester %d: %d final events, want %d\n",
                    n, i, got[i], ok[i]);
            check_failures++;
        }
    q->ops->destroy(q);
    return failed;
}

static void test_every_allocation(void)
{
    int n = 0;
    while (scenario(n) > 0 && n < 1000)
        n++;
    CHECK(n > 10);   /* the scenario does allocate, and each one was failed in turn */
}

/* A pool whose store cannot be opened does not start (it used to start, and its threads
 * exited quietly while the server reported success). */
static void test_workers_refuse_without_store(void)
{
    char path[] = "/tmp/recite-fault-XXXXXX";
    int fd = mkstemp(path);   /* a file where a directory should be */
    CHECK(fd >= 0);
    struct queue *q = memqueue_create(30000, 3, on_notify, NULL);
    struct metrics m = { 0 };
    char err[256] = "";
    struct worker_pool *p = workers_start(2, memqueue_source(q), WORKERS_ALL, path, &m, err,
                                          sizeof err);
    CHECK(p == NULL);
    CHECK(err[0] != '\0');
    q->ops->destroy(q);
    close(fd);
    unlink(path);
}

/* One error convention: every code has a name; the store's are the same codes. */
static void test_error_names(void)
{
    CHECK_STR(recite_err_str(RECITE_ENOTFOUND), "not found");
    CHECK_STR(recite_err_str(RECITE_EFULL), "out of disk space");
    CHECK_STR(recite_err_str(RECITE_EFAIL), "failed");
    CHECK_STR(recite_err_str(12345), "unknown error");
    for (int e = RECITE_EEMPTY; e < 0; e++)
        CHECK(strcmp(recite_err_str(e), "unknown error") != 0);
}

int main(void)
{
    log_set_level(0);
    test_error_names();   /* the injected failures are logged as warnings */
    test_take_survives_oom();
    test_final_event_never_lost();
    test_every_allocation();
    test_workers_refuse_without_store();
    CHECK_DONE();
}
