/* Unit tests of distributed mode's pure parts (no Redis needed): the redis:// URL parser,
 * the worker -> server wire format, and memqueue's hand-off core that redisqueue drives
 * (hand off in fair order, claim, withdraw on eviction, requeue, give up, fail all). */
#include "check.h"
#include "jobs/memqueue_core.h"
#include "jobs/redis_url.h"
#include "jobs/redis_wire.h"
#include <stdlib.h>

/* ---- URL -------------------------------------------------------------------------------- */

static void test_url(void)
{
    struct redis_url u;
    char err[200], d[300];
    CHECK_INT(redis_url_parse("redis://localhost", &u, err, sizeof err), 0);
    CHECK_STR(u.host, "localhost");
    CHECK_INT(u.port, 6379);
    CHECK_INT(u.db, 0);
    CHECK_STR(u.password, "");
    CHECK_INT(redis_url_parse("redis://127.0.0.1:6390/3", &u, err, sizeof err), 0);
    CHECK_STR(u.host, "127.0.0.1");
    CHECK_INT(u.port, 6390);
    CHECK_INT(u.db, 3);
    redis_url_describe(&u, d, sizeof d);
    CHECK_STR(d, "127.0.0.1:6390/3");
    CHECK_INT(redis_url_parse("redis://:s%40cret@h:1/", &u, err, sizeof err), 0);
    CHECK_STR(u.user, "");
    CHECK_STR(u.password, "s@cret");
    CHECK_INT(u.db, 0);
    CHECK_INT(redis_url_parse("redis://alice:p:w@h", &u, err, sizeof err), 0);
    CHECK_STR(u.user, "alice");
    CHECK_STR(u.password, "p:w");
    CHECK_INT(redis_url_parse("redis://[::1]:7000/2", &u, err, sizeof err), 0);
    CHECK_STR(u.host, "::1");
    CHECK_INT(u.port, 7000);
    redis_url_describe(&u, d, sizeof d);
    CHECK_STR(d, "[::1]:7000/2");
    const char *bad[] = { NULL, "", "localhost:6379", "http://h", "rediss://h", "redis://",
                          "redis://:6379", "redis://h:0", "redis://h:65536", "redis://h:12x",
                          "redis://h:", "redis://h/x", "redis://h/-1", "redis://h?db=1",
                          "redis://pw@h", "redis://:%zz@h", "redis://:%00@h", "redis://[::1",
                          "redis://[::1]x", "redis://a b", "redis://:p%4@h" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        int rc = redis_url_parse(bad[i], &u, err, sizeof err);
        if (rc != -1 || !err[0])
            fprintf(stderr, "accepted bad URL \"%s\"\n", bad[i] ? bad[i] : "(null)");
        CHECK_INT(rc, -1);
    }
}

/* ---- wire ------------------------------------------------------------------------------- */

static const char H[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static void test_wire(void)
{
    unsigned char audio[300];
    for (size_t i = 0; i < sizeof audio; i++)
        audio[i] = (unsigned char)(i * 7);   /* includes NUL and '\n' bytes */
    const char *wt = "[{\"start_ms\":0,\"end_ms\":10,\"offset\":0,\"length\":2}]";
    struct redis_msg m = { .kind = 'R', .attempt = 18446744073709551615ull,
                           .type = JOB_EV_CACHED, .duration_ms = 1234, .synthesis_us = 99,
                           .word_timings = wt, .timings_len = strlen(wt), .audio = audio,
                           .audio_len = sizeof audio };
    memcpy(m.hash, H, 65);
    strcpy(m.model, "espeak");
    strcpy(m.voice, "en-us");
    strcpy(m.worker, "host:42:0");
    strcpy(m.error, "");
    char *buf;
    size_t len;
    CHECK_INT(redis_wire_encode_result(&m, &buf, &len), 0);
    struct redis_msg d;
    CHECK_INT(redis_wire_decode(buf, len, &d), 0);
    CHECK_INT(d.kind, 'R');
    CHECK_STR(d.hash, H);
    CHECK(d.attempt == m.attempt);
    CHECK_INT(d.type, JOB_EV_CACHED);
    CHECK_INT(d.duration_ms, 1234);
    CHECK_INT(d.synthesis_us, 99);
    CHECK_STR(d.model, "espeak");
    CHECK_STR(d.voice, "en-us");
    CHECK_STR(d.worker, "host:42:0");
    CHECK_INT(d.timings_len, strlen(wt));
    CHECK(d.word_timings && !memcmp(d.word_timings, wt, strlen(wt)));
    CHECK_INT(d.audio_len, sizeof audio);
    CHECK(d.audio && !memcmp(d.audio, audio, sizeof audio));
    /* every truncation and one extra byte are rejected */
    for (size_t n = 0; n < len; n++)
        CHECK_INT(redis_wire_decode(buf, n, &d), -1);
    char *longer = malloc(len + 1);
    memcpy(longer, buf, len);
    longer[len] = 'x';
    CHECK_INT(redis_wire_decode(longer, len + 1, &d), -1);
    free(longer);
    free(buf);

    /* an error result with text and no payloads */
    struct redis_msg e = { .kind = 'R', .attempt = 7, .type = JOB_EV_ERROR };
    memcpy(e.hash, H, 65);
    strcpy(e.model, "espeak");
    strcpy(e.voice, "de");
    strcpy(e.worker, "w");
    strcpy(e.error, "engine said: no\nsecond line");
    CHECK_INT(redis_wire_encode_result(&e, &buf, &len), 0);
    CHECK_INT(redis_wire_decode(buf, len, &d), 0);
    CHECK_INT(d.type, JOB_EV_ERROR);
    CHECK_STR(d.error, "engine said: no\nsecond line");
    CHECK(!d.audio && !d.word_timings);
    free(buf);

    /* fields that would break the header are refused at encoding */
    strcpy(e.voice, "en us");
    CHECK_INT(redis_wire_encode_result(&e, &buf, &len), -1);
    strcpy(e.voice, "de");
    e.hash[3] = 'X';
    CHECK_INT(redis_wire_encode_result(&e, &buf, &len), -1);

    /* the claim script's notice */
    char p[200];
    int n = snprintf(p, sizeof p, "P1 %s 42 host:1:0\n", H);
    CHECK_INT(redis_wire_decode(p, (size_t)n, &d), 0);
    CHECK_INT(d.kind, 'P');
    CHECK_INT(d.attempt, 42);
    CHECK_STR(d.worker, "host:1:0");
    const char *bad[] = { "P1 abc 1 w\n", "P2 %s 1 w\n", "P1 %s x w\n", "P1 %s 1\n", "P1 %s 1 w",
                          "P1 %s 1 w x\n", "P1 %s 99999999999999999999 w\n", "Q1 %s 1 w\n",
                          "R1 %s 1 cached 1 1 espeak en-us w 0 0 0 extra\n",
                          "R1 %s 1 weird 1 1 espeak en-us w 0 0 0\n",
                          "R1 %s 1 cached 1 1 espeak en-us w 0 0 5\nabc",
                          "R1 %s 1 cached -1 1 espeak en-us w 0 0 0\n",
                          "R1 %s 1 cached 1 1 espeak  w 0 0 0\n" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = snprintf(p, sizeof p, bad[i], H);
        if (redis_wire_decode(p, (size_t)n, &d) != -1)
            fprintf(stderr, "accepted bad message \"%s\"\n", p);
        CHECK_INT(redis_wire_decode(p, (size_t)n, &d), -1);
    }
}

/* ---- the hand-off core ------------------------------------------------------------------ */

static int notified, withdraw_answer, withdrawn, gave_up;
static char asked_hash[8][65];
static uint64_t asked_attempt[8];
static void on_notify(void *arg) { (void)arg; notified++; }
/* The hook only asks (the feeder answers later with memqueue_withdrawn); it records what
 * was asked. withdraw_answer -1: the hook cannot ask (out of memory). */
static int on_withdraw(void *arg, const char *hash, uint64_t attempt)
{
    (void)arg;
    if (withdrawn < 8) {
        snprintf(asked_hash[withdrawn], 65, "%s", hash);
        asked_attempt[withdrawn] = attempt;
    }
    withdrawn++;
    return withdraw_answer;
}
static void on_gave_up(void *arg, const char *hash, const char *model, const char *voice,
                       uint64_t attempt, int tries, const char *error)
{
    (void)arg, (void)hash, (void)model, (void)voice, (void)attempt, (void)tries, (void)error;
    gave_up++;
}

static struct queue *core(int visibility_ms)
{
    struct queue *q = memqueue_create(visibility_ms, 3, on_notify, NULL);
    struct memqueue_hooks h = { .withdraw = on_withdraw, .gave_up = on_gave_up };
    memqueue_set_hooks(q, &h);
    withdrawn = gave_up = 0;
    withdraw_answer = 0;
    return q;
}

static void submit(struct queue *q, int n, uint64_t conn, const char *doc, int idx, int cursor)
{
    char h[65];
    snprintf(h, sizeof h, "%064d", n);
    struct requester r = { .kind = REQ_CONN, .id = conn, .idx = idx, .cursor = cursor };
    snprintf(r.doc_id, sizeof r.doc_id, "%s", doc);
    enum submit_state st;
    CHECK_INT(q->ops->submit(q, h, "espeak", "en-us", "text", &r, &st), 0);
}

static int hand(struct queue *q, int max, struct job_ticket *t)
{
    int rc = memqueue_hand_off(q, max, t);
    return rc == RECITE_OK ? atoi(t->hash) : rc == RECITE_EEMPTY ? -2 : rc == RECITE_ESTOPPED ? -3 : -4;
}

static int events(struct queue *q, enum job_event_type type)
{
    int n = 0;
    struct job_event *ev = q->ops->drain(q);
    for (struct job_event *e = ev; e; e = e->next)
        n += e->type == type;
    job_event_free(ev);
    return n;
}

static void test_hand_off_order_and_window(void)
{
    struct queue *q = core(30000);
    for (int i = 0; i < 10; i++)
        submit(q, i, 1, "a", i, 5);
    submit(q, 100, 2, "b", 0, 0);
    struct job_ticket t[4];
    int a = hand(q, 3, &t[0]), b = hand(q, 3, &t[1]), c = hand(q, 3, &t[2]);
    CHECK((a == 5 && b == 100) || (a == 100 && b == 5));   /* fair between readers */
    CHECK_INT(c, 6);                                        /* nearest ahead next */
    CHECK_INT(hand(q, 3, &t[3]), -2);                       /* the window is full */
    CHECK_INT(events(q, JOB_EV_PROCESSING), 0);             /* handing off is not processing */
    int queued, running;
    q->ops->stats(q, &queued, &running);
    CHECK_INT(queued, 11);
    CHECK_INT(running, 0);
    CHECK_INT(memqueue_claimed(q, t[2].hash, t[2].attempt + 1), 1);   /* stale attempt */
    CHECK_INT(memqueue_claimed(q, t[2].hash, t[2].attempt), 0);
    CHECK_INT(memqueue_claimed(q, t[2].hash, t[2].attempt), 1);       /* only once */
    CHECK_INT(events(q, JOB_EV_PROCESSING), 1);
    q->ops->stats(q, &queued, &running);
    CHECK_INT(running, 1);
    CHECK_INT(hand(q, 3, &t[3]), 4);                        /* a claim frees a window slot */
    struct queue_inflight *in;
    CHECK_INT(memqueue_inflight(q, &in), 4);
    free(in);
    for (int i = 0; i < 4; i++)
        job_ticket_free(&t[i]);
    q->ops->shutdown(q);
    CHECK_INT(hand(q, 3, &t[0]), -3);
    q->ops->destroy(q);
}

static int queued_now(struct queue *q, int *running)
{
    int queued;
    q->ops->stats(q, &queued, running);
    return queued;
}

/* Eviction of handed-off jobs never waits on Redis: the job becomes "withdrawing", the
 * feeder's answer settles it (dropped; running for nobody when a worker won the race;
 * queued again when a requester came back meanwhile). */
static void test_hand_off_eviction(void)
{
    struct queue *q = core(30000);
    for (int i = 0; i < 4; i++)
        submit(q, i, 1, "doc", i, 0);
    submit(q, 3, 2, "doc", 3, 3);                 /* block 3 is shared with reader 2 */
    struct job_ticket t[4], tk;
    for (int i = 0; i < 4; i++) {
        int n = hand(q, 10, &tk);
        CHECK(n >= 0 && n < 4);
        t[n] = tk;                                /* t[n]: job n's ticket */
    }
    CHECK_INT(memqueue_claimed(q, t[0].hash, t[0].attempt), 0);   /* job 0 runs */
    events(q, JOB_EV_PROCESSING);
    struct evicted *ev = NULL;
    int nev = 0;
    CHECK_INT(q->ops->evict_window(q, 1, "doc", 100, 90, 110, &ev, &nev), 3);   /* 1, 2, 3 */
    free(ev);
    CHECK_INT(withdrawn, 2);                      /* jobs 1 and 2 asked; 0 runs; 3 shared */
    CHECK((!strcmp(asked_hash[0], t[1].hash) && !strcmp(asked_hash[1], t[2].hash)) ||
          (!strcmp(asked_hash[0], t[2].hash) && !strcmp(asked_hash[1], t[1].hash)));
    int running, queued = queued_now(q, &running);
    CHECK_INT(running, 1);
    CHECK_INT(queued, 1);                         /* job 3 for reader 2; 1 and 2 are going */
    struct job_ticket none;
    CHECK_INT(hand(q, 10, &none), -2);            /* withdrawing jobs are not handed again */
    /* job 1: a worker claimed it before the withdrawal ran: it runs, for nobody */
    memqueue_withdrawn(q, t[1].hash, t[1].attempt, 0);
    CHECK_INT(memqueue_claimed(q, t[1].hash, t[1].attempt), 0);
    CHECK_INT(events(q, JOB_EV_PROCESSING), 0);   /* nobody to tell */
    /* job 2: withdrawn; a stale answer for another attempt changes nothing */
    memqueue_withdrawn(q, t[2].hash, t[2].attempt + 7, 1);
    struct queue_inflight *in;
    CHECK_INT(memqueue_inflight(q, &in), 4);      /* 0 and 1 running, 2 withdrawing, 3 */
    free(in);
    memqueue_withdrawn(q, t[2].hash, t[2].attempt, 1);
    CHECK_INT(memqueue_inflight(q, &in), 3);      /* job 2 is gone */
    free(in);
    /* job 3: reader 2 leaves (withdrawal asked), reader 3 asks for it before the answer */
    withdrawn = 0;
    q->ops->gone(q, REQ_CONN, 2);
    CHECK_INT(withdrawn, 1);
    CHECK_STR(asked_hash[0], t[3].hash);
    submit(q, 3, 3, "doc", 3, 3);
    memqueue_withdrawn(q, t[3].hash, t[3].attempt, 1);
    struct job_ticket again;
    CHECK_INT(hand(q, 10, &again), 3);            /* queued again, handed off anew */
    CHECK_INT(again.tries, 1);                    /* the withdrawn try was given back */
    CHECK(again.attempt != t[3].attempt);
    job_ticket_free(&again);
    /* a hook that cannot ask leaves the job handed off */
    withdraw_answer = -1;
    q->ops->gone(q, REQ_CONN, 3);
    CHECK_INT(memqueue_inflight(q, &in), 3);
    free(in);
    for (int i = 0; i < 4; i++)
        job_ticket_free(&t[i]);
    q->ops->destroy(q);
}

static void test_requeue_give_up_fail_all(void)
{
    struct queue *q = core(30000);
    submit(q, 1, 1, "doc", 0, 0);
    struct job_ticket t;
    /* Redis lost it: queued again without spending a try */
    for (int i = 0; i < 5; i++) {
        CHECK_INT(hand(q, 2, &t), 1);
        CHECK_INT(t.tries, 1);
        CHECK_INT(memqueue_requeue(q, t.hash, t.attempt, 0, NULL), 0);
        CHECK_INT(memqueue_requeue(q, t.hash, t.attempt, 0, NULL), 1);   /* stale now */
        job_ticket_free(&t);
    }
    /* lost by workers three times: a recoverable error and the gave_up hook */
    for (int i = 0; i < 3; i++) {
        CHECK_INT(hand(q, 2, &t), 1);
        memqueue_requeue(q, t.hash, t.attempt, 1, "lost");
        job_ticket_free(&t);
    }
    CHECK_INT(gave_up, 1);
    CHECK_INT(events(q, JOB_EV_ERROR), 1);
    /* a worker error on the last try also reaches gave_up */
    submit(q, 2, 1, "doc", 1, 0);
    for (int i = 0; i < 3; i++) {
        CHECK_INT(hand(q, 2, &t), 2);
        CHECK_INT(memqueue_claimed(q, t.hash, t.attempt), 0);
        struct job_result res = { .type = JOB_EV_ERROR };
        memqueue_finish(q, &t, &res);
        job_ticket_free(&t);
    }
    CHECK_INT(gave_up, 2);
    CHECK_INT(events(q, JOB_EV_ERROR), 1);
    /* a claimed job past its visibility timeout is taken back by reap, like embedded mode */
    submit(q, 3, 1, "doc", 2, 0);
    CHECK_INT(hand(q, 2, &t), 3);
    q->ops->reap(q, queue_now_ms() + 60000);      /* not claimed: reap leaves it alone */
    CHECK_INT(memqueue_claimed(q, t.hash, t.attempt), 0);
    q->ops->reap(q, queue_now_ms() + 60000);
    uint64_t first = t.attempt;
    job_ticket_free(&t);
    CHECK_INT(hand(q, 2, &t), 3);
    CHECK(t.attempt != first);
    CHECK_INT(t.tries, 2);
    job_ticket_free(&t);
    /* everything fails at once (Redis gone too long) */
    submit(q, 4, 1, "doc", 3, 0);
    submit(q, 5, 2, "doc", 4, 0);
    events(q, JOB_EV_PROCESSING);
    memqueue_fail_all(q, "the job queue (Redis) is unavailable");
    CHECK_INT(events(q, JOB_EV_ERROR), 3);
    int queued, running;
    q->ops->stats(q, &queued, &running);
    CHECK_INT(queued + running, 0);
    q->ops->destroy(q);
}

int main(void)
{
    test_url();
    test_wire();
    test_hand_off_order_and_window();
    test_hand_off_eviction();
    test_requeue_give_up_fail_all();
    CHECK_DONE();
}
