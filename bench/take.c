/* take — what one worker take costs with many queued jobs and many requesters: memqueue's
 * indexed pick (src/jobs/memqueue_pick.c) against the original scan of every queued job ×
 * requester (tests/unit/pick_ref.h, the reference test_pick checks the order against), on
 * the same queue contents, in the same run.
 *
 *   take [takes=300]
 *
 * For each size (100, 1,000, 10,000 queued jobs) and each number of requesters (1, 10,
 * 100 connections; every five of them one user, so both round robins run) the queue is
 * filled, then `takes` times: one take, timed; the job finishes and the same requester
 * submits a new block further ahead, so the size stays. Prints the median take in µs for
 * each and the ratio scan/index, and checks both picked the same jobs. Then `takes` cursor
 * moves (evict_window with the whole document in the window: the cursor of one connection's
 * queued requesters changes, nothing is evicted), timed the same way: memqueue visits that
 * connection's entries, the original walked every job's requesters.
 *
 * What is timed: the index side is memqueue's whole take (lock, pick, ticket copy,
 * PROCESSING event); the scan side only the three passes and the state change — the ratio
 * favours the scan a little. Built by `make bench-tools` (build/bench/take). */
#include "../tests/unit/pick_ref.h"
#include "jobs/queue.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *models[] = { "espeak", "flite", "openai" };

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void nop_notify(void *arg) { (void)arg; }

/* Job `id` lives in slot id % njobs and belongs to connection slot % nreq + 1, block
 * id / nreq of its document: each connection's blocks, further and further ahead. */
static struct requester requester_of(long id, int njobs, int nreq)
{
    int slot = (int)(id % njobs);
    struct requester r = { .kind = REQ_CONN, .id = (uint64_t)(slot % nreq) + 1 };
    r.user_id = (int64_t)((slot % nreq) / 5) + 1;
    snprintf(r.doc_id, sizeof r.doc_id, "d");
    r.idx = (int)(id / nreq);
    r.chars = 10;
    return r;
}

static void submit_both(struct queue *q, long id, int njobs, int nreq)
{
    struct requester r = requester_of(id, njobs, nreq);
    char h[65];
    enum submit_state st;
    int slot = (int)(id % njobs);
    snprintf(h, sizeof h, "%064ld", id);
    if (q->ops->submit(q, h, models[model_of(slot)], "v", "text", &r, &st) < 0) {
        fprintf(stderr, "submit failed\n");
        exit(1);
    }
    ref_submit(slot, &r);
}

/* The original cursor move: every job's requesters, the connection's get the new cursor
 * (nothing is evicted with the whole document in the window). */
static void ref_cursor_moved(uint64_t conn, int cursor)
{
    for (int n = 0; n < ref.cap; n++) {
        struct rjob *j = &ref.jobs[n];
        for (int i = 0; ref.live[n] && i < j->nreqs; i++) {
            struct requester *r = &j->reqs[i];
            if (r->kind != REQ_CONN || r->id != conn || strcmp(r->doc_id, "d"))
                continue;
            r->cursor = cursor;
            if (r->idx != cursor)
                r->first = 0;
        }
    }
}

static void run(int njobs, int nreq, int takes)
{
    struct queue *q = memqueue_create(600000, 3, nop_notify, NULL);
    struct job_source *src = memqueue_source(q);
    ref_init(njobs);
    for (long id = 0; id < njobs; id++)
        submit_both(q, id, njobs, nreq);
    double *tnew = malloc((size_t)takes * sizeof *tnew), *told = malloc((size_t)takes * sizeof *told);
    int differ = 0, warm = 20;
    long next_id = njobs;
    for (int k = -warm; k < takes; k++) {
        struct job_ticket t;
        double t0 = now_us();
        src->ops->take(src, &t, NULL);
        double t1 = now_us();
        int slot = ref_pick(7);
        ref.jobs[slot].state = RR;
        double t2 = now_us();
        if (k >= 0) {
            tnew[k] = t1 - t0;
            told[k] = t2 - t1;
        }
        long id = atol(t.hash);
        differ += id % njobs != slot;
        struct job_result res = { .type = JOB_EV_CACHED };
        src->ops->finish(src, &t, &res);
        job_ticket_free(&t);
        job_event_free(q->ops->drain(q));
        ref_remove(slot);
        /* the same connection asks for its next block: a new job in the same slot */
        long nid = next_id - next_id % njobs + slot;
        if (nid < next_id)
            nid += njobs;
        next_id = nid + 1;
        submit_both(q, nid, njobs, nreq);
    }
    double mn = median(tnew, takes), mo = median(told, takes);
    for (int k = 0; k < takes; k++) {
        uint64_t conn = (uint64_t)(k % nreq) + 1;
        int cursor = (int)(next_id / nreq) - 10 + k % 20;
        struct evicted *ev = NULL;
        int nev = 0;
        double t0 = now_us();
        q->ops->evict_window(q, conn, "d", cursor, INT_MIN, INT_MAX, &ev, &nev);
        double t1 = now_us();
        ref_cursor_moved(conn, cursor);
        double t2 = now_us();
        free(ev);
        tnew[k] = t1 - t0;
        told[k] = t2 - t1;
    }
    double cn = median(tnew, takes), co = median(told, takes);
    printf("%7d %6d %10.2f %10.2f %7.1fx %10.2f %10.2f %7.1fx  %s\n", njobs, nreq, mo, mn,
           mo / mn, co, cn, co / cn, differ ? "PICKS DIFFER" : "same picks");
    free(tnew);
    free(told);
    ref_free();
    q->ops->shutdown(q);
    q->ops->destroy(q);
}

int main(int argc, char **argv)
{
    int takes = argc > 1 ? atoi(argv[1]) : 300;
    if (takes < 1)
        takes = 1;
    static const int sizes[] = { 100, 1000, 10000 }, reqs[] = { 1, 10, 100 };
    printf("# median µs per take / per cursor move over %d of each (scan: the original; index: memqueue)\n", takes);
    printf("%7s %6s %10s %10s %8s %10s %10s %8s\n", "queued", "conns", "take_scan", "take_idx",
           "ratio", "move_scan", "move_idx", "ratio");
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            run(sizes[i], reqs[j], takes);
    return 0;
}
