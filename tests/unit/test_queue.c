/* Unit tests of the in-process job queue: dedup, eviction (window and voice), fair and
 * nearest-first ordering, retries, visibility timeout, stale completions. */
#include "check.h"
#include "jobs/queue.h"
#include <stdlib.h>

/* The workers' side of the queue (job_source.h), no filter. */
static int src_take(struct queue *q, struct job_ticket *t)
{
    return memqueue_source(q)->ops->take(memqueue_source(q), t, NULL);
}

static void src_finish(struct queue *q, const struct job_ticket *t, struct job_result *res)
{
    memqueue_source(q)->ops->finish(memqueue_source(q), t, res);
}

static int notified;
static void on_notify(void *arg) { (void)arg; notified++; }

static struct requester req(uint64_t conn, const char *doc, int idx, int cursor)
{
    struct requester r = { .kind = REQ_CONN, .id = conn, .idx = idx, .cursor = cursor };
    snprintf(r.doc_id, sizeof r.doc_id, "%s", doc);
    return r;
}

static void hash_of(int n, char out[65])
{
    snprintf(out, 65, "%064d", n);
}

static int submit(struct queue *q, int n, const char *voice, uint64_t conn, const char *doc,
                  int idx, int cursor)
{
    char h[65];
    hash_of(n, h);
    struct requester r = req(conn, doc, idx, cursor);
    enum submit_state st;
    CHECK_INT(q->ops->submit(q, h, "espeak", voice, "text", &r, &st), 0);
    return st;
}

static int take_idx(struct queue *q, struct job_ticket *t)
{
    CHECK_INT(src_take(q, t), 0);
    return atoi(t->hash);
}

static void finish_ok(struct queue *q, struct job_ticket *t)
{
    struct job_result res = { .type = JOB_EV_CACHED, .duration_ms = 100 };
    src_finish(q, t, &res);
    job_ticket_free(t);
}

static int count_events(struct queue *q, enum job_event_type type, int *nreqs)
{
    int n = 0;
    struct job_event *ev = q->ops->drain(q);
    for (struct job_event *e = ev; e; e = e->next)
        if (e->type == type) {
            n++;
            if (nreqs)
                *nreqs += e->nreqs;
        }
    job_event_free(ev);
    return n;
}

static void test_dedup(void)
{
    struct queue *q = memqueue_create(30000, 3, on_notify, NULL);
    CHECK_INT(submit(q, 1, "en-us", 1, "docA", 0, 0), SUBMIT_QUEUED);
    CHECK_INT(submit(q, 1, "en-us", 2, "docB", 5, 5), SUBMIT_QUEUED);   /* joins */
    CHECK_INT(submit(q, 1, "en-us", 1, "docA", 0, 0), SUBMIT_QUEUED);   /* same requester again */
    int queued, running;
    q->ops->stats(q, &queued, &running);
    CHECK_INT(queued, 1);
    struct job_ticket t;
    CHECK_INT(take_idx(q, &t), 1);
    CHECK_INT(submit(q, 1, "en-us", 3, "docC", 0, 0), SUBMIT_PROCESSING);
    finish_ok(q, &t);
    int nreqs = 0;
    CHECK_INT(count_events(q, JOB_EV_CACHED, &nreqs), 1);
    CHECK_INT(nreqs, 3);    /* three requesters, one job */
    q->ops->stats(q, &queued, &running);
    CHECK_INT(queued + running, 0);
    q->ops->destroy(q);
}

static void test_window_eviction(void)
{
    struct queue *q = memqueue_create(30000, 3, on_notify, NULL);
    for (int i = 0; i < 40; i++)
        submit(q, i, "en-us", 1, "doc", i, 0);
    submit(q, 5, "en-us", 2, "doc", 5, 0);   /* another reader shares block 5 */
    struct job_ticket t;
    CHECK_INT(take_idx(q, &t), 0);            /* running: never evicted */
    struct evicted *ev = NULL;
    int nev = 0;
    int n = q->ops->evict_window(q, 1, "doc", 30, 22, 46, &ev, &nev);
    CHECK_INT(n, 21);                         /* 1..21 queued, outside the window */
    CHECK_INT(nev, 21);
    for (int i = 0; i < nev; i++)
        CHECK(ev[i].idx >= 1 && ev[i].idx <= 21);
    free(ev);
    int queued, running;
    q->ops->stats(q, &queued, &running);
    CHECK_INT(running, 1);
    CHECK_INT(queued, 18 + 1);                /* 22..39 plus block 5 (still wanted by conn 2) */
    finish_ok(q, &t);
    q->ops->destroy(q);
}

/* The reader flipped skip_references: this connection's queued jobs asked with the other
 * setting go; a job asked for again with the new setting (a block without references: the
 * same audio) stays, and every eviction names the setting it was asked with. */
static void test_skip_setting_eviction(void)
{
    struct queue *q = memqueue_create(30000, 3, on_notify, NULL);
    for (int i = 0; i < 4; i++)
        submit(q, i, "en-us", 1, "doc", i, 0);          /* asked without skipping */
    char h[65];
    hash_of(2, h);                                       /* block 2 asked again, skipping */
    struct requester r = req(1, "doc", 2, 0);
    r.skip_refs = 1;
    enum submit_state st;
    CHECK_INT(q->ops->submit(q, h, "espeak", "en-us", "text", &r, &st), 0);
    hash_of(9, h);                                       /* block 0's skipping variant */
    r.idx = 0;
    CHECK_INT(q->ops->submit(q, h, "espeak", "en-us", "text", &r, &st), 0);
    struct evicted *ev = NULL;
    int nev = 0;
    CHECK_INT(q->ops->evict_other_voices(q, 1, "doc", "espeak", "en-us", -1, &ev, &nev), 0);
    CHECK_INT(q->ops->evict_other_voices(q, 1, "doc", "espeak", "en-us", 1, &ev, &nev), 3);
    int seen[4] = { 0 };
    for (int i = 0; i < nev; i++) {
        CHECK_INT(ev[i].skip_refs, 0);
        seen[ev[i].idx]++;
    }
    CHECK(seen[0] == 1 && seen[1] == 1 && seen[2] == 0 && seen[3] == 1);
    free(ev);
    int queued, running;
    q->ops->stats(q, &queued, &running);
    CHECK_INT(queued, 2);                                /* block 2's job and block 0's new one */
    q->ops->destroy(q);
}

static void test_voice_eviction(void)
{
    struct queue *q = memqueue_create(30000, 3, on_notify, NULL);
    for (int i = 0; i < 8; i++)
        submit(q, i, "en-us", 1, "doc", i, 0);
    struct evicted *ev = NULL;
    int nev = 0;
    CHECK_INT(q->ops->evict_other_voices(q, 1, "doc", "espeak", "en-us", -1, &ev, &nev), 0);
    CHECK_INT(q->ops->evict_other_voices(q, 1, "doc", "espeak", "de", -1, &ev, &nev), 8);
    CHECK_STR(ev[0].voice, "en-us");
    free(ev);
    int queued, running;
    q->ops->stats(q, &queued, &running);
    CHECK_INT(queued, 0);
    q->ops->destroy(q);
}

static void test_order_fair_and_nearest(void)
{
    struct queue *q = memqueue_create(30000, 3, on_notify, NULL);
    /* reader 1 prefetches 20 blocks around cursor 10; reader 2 asks for one block later */
    for (int i = 0; i < 20; i++)
        submit(q, i, "en-us", 1, "a", i, 10);
    submit(q, 100, "en-us", 2, "b", 0, 0);
    struct job_ticket t;
    int first = take_idx(q, &t);
    finish_ok(q, &t);
    int second = take_idx(q, &t);
    finish_ok(q, &t);
    /* round robin: one job of each reader before anything else */
    CHECK((first == 10 && second == 100) || (first == 100 && second == 10));
    /* then nearest to cursor 10, ahead first: 11, 9, 12, 8 */
    CHECK_INT(take_idx(q, &t), 11);
    finish_ok(q, &t);
    CHECK_INT(take_idx(q, &t), 9);
    finish_ok(q, &t);
    CHECK_INT(take_idx(q, &t), 12);
    finish_ok(q, &t);
    job_event_free(q->ops->drain(q));
    q->ops->destroy(q);
}

/* Fair share by user (SPEC section 7): user 1 reads in three tabs (connections 1-3) with a
 * long prefetch each, user 2 in one tab. Users take turns, then tabs within a user: user 2
 * gets every other job, and user 1's tabs share the rest round-robin. */
static void test_fair_share_by_user(void)
{
    struct queue *q = memqueue_create(30000, 3, on_notify, NULL);
    char h[65];
    enum submit_state st;
    for (int conn = 1; conn <= 4; conn++)
        for (int i = 0; i < 6; i++) {
            struct requester r = req((uint64_t)conn, "d", i, 0);
            r.user_id = conn == 4 ? 2 : 1;
            hash_of(conn * 100 + i, h);
            CHECK_INT(q->ops->submit(q, h, "espeak", "en-us", "text", &r, &st), 0);
        }
    int user2 = 0, tabs[4] = { 0 };
    struct job_ticket t;
    for (int k = 0; k < 8; k++) {
        int n = take_idx(q, &t);
        finish_ok(q, &t);
        if (n / 100 == 4)
            user2++;
        else
            tabs[n / 100]++;
    }
    CHECK_INT(user2, 4);
    /* user 1's four turns went round its three tabs */
    CHECK(tabs[1] >= 1 && tabs[2] >= 1 && tabs[3] >= 1);
    job_event_free(q->ops->drain(q));
    q->ops->destroy(q);
}

static int submit_first(struct queue *q, int n, uint64_t conn, const char *doc, int idx)
{
    char h[65];
    hash_of(n, h);
    struct requester r = req(conn, doc, idx, idx);
    r.first = 1;
    enum submit_state st;
    CHECK_INT(q->ops->submit(q, h, "espeak", "en-us", "text", &r, &st), 0);
    return st;
}

/* A reader opens document b while its prefetch of document a still waits: b's block 0 runs
 * next, even ahead of a's own cursor block (older, same distance). Then nearest-first
 * again; and moving the cursor of b away takes the jump back. */
static void test_first_block_first(void)
{
    struct queue *q = memqueue_create(30000, 3, on_notify, NULL);
    submit_first(q, 40, 1, "a", 40);
    for (int i = 41; i < 48; i++)
        submit(q, i, "en-us", 1, "a", i, 40);
    submit_first(q, 100, 1, "b", 0);
    for (int i = 1; i < 8; i++)
        submit(q, 100 + i, "en-us", 1, "b", i, 0);
    struct job_ticket t;
    CHECK_INT(take_idx(q, &t), 100);
    finish_ok(q, &t);
    CHECK_INT(take_idx(q, &t), 40);   /* a's older first block, then nearest-first */
    finish_ok(q, &t);
    CHECK_INT(take_idx(q, &t), 41);
    finish_ok(q, &t);
    /* an older first block whose reader moved on loses its jump */
    submit_first(q, 200, 1, "c", 5);
    struct evicted *ev = NULL;
    int nev = 0;
    q->ops->evict_window(q, 1, "c", 0, -100, 100, &ev, &nev);
    free(ev);
    int next = take_idx(q, &t);
    CHECK(next != 200);
    finish_ok(q, &t);
    job_event_free(q->ops->drain(q));
    q->ops->destroy(q);
}

static void test_retry_and_timeout(void)
{
    struct queue *q = memqueue_create(1000, 3, on_notify, NULL);
    job_event_free(q->ops->drain(q));
    submit(q, 7, "en-us", 1, "doc", 0, 0);
    struct job_ticket t;
    /* engine error twice → retried; third failure → error event */
    for (int i = 0; i < 3; i++) {
        CHECK_INT(take_idx(q, &t), 7);
        CHECK_INT(t.tries, i + 1);
        struct job_result res = { .type = JOB_EV_ERROR };
        snprintf(res.error, sizeof res.error, "boom");
        src_finish(q, &t, &res);
        job_ticket_free(&t);
    }
    int n = count_events(q, JOB_EV_ERROR, NULL);
    CHECK_INT(n, 1);

    /* visibility timeout: taken back, retried; a late original completion still counts once */
    submit(q, 8, "en-us", 1, "doc", 1, 0);
    struct job_ticket first, second;
    CHECK_INT(take_idx(q, &first), 8);
    q->ops->reap(q, queue_now_ms() + 1500);
    CHECK_INT(take_idx(q, &second), 8);
    CHECK(second.attempt != first.attempt);
    finish_ok(q, &first);
    finish_ok(q, &second);      /* stale: job already done, dropped */
    CHECK_INT(count_events(q, JOB_EV_CACHED, NULL), 1);

    /* three timeouts → recoverable error */
    submit(q, 9, "en-us", 1, "doc", 2, 0);
    for (int i = 0; i < 3; i++) {
        CHECK_INT(take_idx(q, &t), 9);
        job_ticket_free(&t);
        q->ops->reap(q, queue_now_ms() + 1500 * (i + 1));
    }
    struct job_event *ev = q->ops->drain(q);
    int errors = 0;
    for (struct job_event *e = ev; e; e = e->next)
        if (e->type == JOB_EV_ERROR) {
            errors++;
            CHECK(e->recoverable);
            CHECK_INT(e->nreqs, 1);
        }
    job_event_free(ev);
    CHECK_INT(errors, 1);
    q->ops->destroy(q);
}

static void test_conn_gone(void)
{
    struct queue *q = memqueue_create(30000, 3, on_notify, NULL);
    submit(q, 1, "en-us", 1, "doc", 0, 0);
    submit(q, 2, "en-us", 1, "doc", 1, 0);
    submit(q, 2, "en-us", 2, "doc", 1, 0);
    q->ops->gone(q, REQ_CONN, 1);
    int queued, running;
    q->ops->stats(q, &queued, &running);
    CHECK_INT(queued, 1);      /* block 1 is still wanted by conn 2 */
    q->ops->shutdown(q);
    struct job_ticket t;
    CHECK_INT(src_take(q, &t), -1);
    q->ops->destroy(q);
}

/* Requesters are (kind, id): a waiter and a WebSocket with the same id are two requesters,
 * each event names both with their kinds, and one going leaves the other's job alone. */
static void test_requester_kinds(void)
{
    struct queue *q = memqueue_create(30000, 3, on_notify, NULL);
    char h[65];
    hash_of(7, h);
    enum submit_state st;
    struct requester conn = req(5, "doc", 0, 0);
    struct requester waiter = { .kind = REQ_WAITER, .id = 5 };
    struct requester unset = { .id = 5 };
    CHECK_INT(q->ops->submit(q, h, "espeak", "en-us", "text", &unset, &st), -1);
    CHECK_INT(q->ops->submit(q, h, "espeak", "en-us", "text", &conn, &st), 0);
    CHECK_INT(q->ops->submit(q, h, "espeak", "en-us", "text", &waiter, &st), 0);
    q->ops->gone(q, REQ_WAITER, 5);
    int queued, running;
    q->ops->stats(q, &queued, &running);
    CHECK_INT(queued, 1);   /* the connection still wants it */
    CHECK_INT(q->ops->submit(q, h, "espeak", "en-us", "text", &waiter, &st), 0);
    struct job_ticket t;
    CHECK_INT(src_take(q, &t), 0);
    finish_ok(q, &t);
    int conns = 0, waiters = 0;
    struct job_event *ev = q->ops->drain(q);
    for (struct job_event *e = ev; e; e = e->next)
        if (e->type == JOB_EV_CACHED)
            for (int i = 0; i < e->nreqs; i++) {
                conns += e->reqs[i].kind == REQ_CONN && e->reqs[i].id == 5;
                waiters += e->reqs[i].kind == REQ_WAITER && e->reqs[i].id == 5;
            }
    job_event_free(ev);
    CHECK_INT(conns, 1);
    CHECK_INT(waiters, 1);
    q->ops->gone(q, REQ_CONN, 5);
    q->ops->destroy(q);
}

static int only_model(const char *model, void *arg)
{
    return !strcmp(model, arg);
}

/* A taker's filter (the network lane): it takes only what it accepts, in the same order,
 * and leaves the rest to other takers. */
static void test_take_filter(void)
{
    struct queue *q = memqueue_create(30000, 3, on_notify, NULL);
    char h1[65], h2[65];
    hash_of(1, h1);
    hash_of(2, h2);
    struct requester r = req(1, "doc", 0, 0);
    enum submit_state st;
    CHECK_INT(q->ops->submit(q, h1, "espeak", "en-us", "a", &r, &st), 0);
    r.idx = 1;
    CHECK_INT(q->ops->submit(q, h2, "openai", "alloy", "b", &r, &st), 0);
    struct take_filter net = { only_model, "openai" };
    struct job_ticket t;
    struct job_source *src = memqueue_source(q);
    CHECK_INT(src->ops->take(src, &t, &net), 0);
    CHECK_STR(t.model, "openai");
    job_ticket_free(&t);
    CHECK_INT(src->ops->take(src, &t, NULL), 0);
    CHECK_STR(t.model, "espeak");
    job_ticket_free(&t);
    q->ops->shutdown(q);
    q->ops->destroy(q);
}

int main(void)
{
    test_dedup();
    test_window_eviction();
    test_voice_eviction();
    test_skip_setting_eviction();
    test_order_fair_and_nearest();
    test_fair_share_by_user();
    test_first_block_first();
    test_retry_and_timeout();
    test_conn_gone();
    test_requester_kinds();
    test_take_filter();
    CHECK_DONE();
}
