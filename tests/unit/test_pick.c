/* The queue's pick order against a reference: pick_ref.h, a straightforward copy of the
 * original scan (every queued job × requester, three passes: users round robin, then the
 * user's requesters, then nearest to the cursor) kept as the oracle. Randomized operation
 * sequences (submit, cursor moves and evictions, voice switches, requesters going, takes
 * with and without a model filter, finishes and failures, and the distributed mode's hand
 * off / claim / withdraw / requeue) run against the real memqueue and the reference side by
 * side; every take and hand-off must pick the same job, every submit answer the same state,
 * every eviction evict the same requesters, and the queued/running counts must agree. */
#include "check.h"
#include "pick_ref.h"
#include "jobs/memqueue_core.h"
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_TRIES 3
#define NHASH 400     /* hashes 0..nhash-1 are used (nhash <= NHASH) */
static int nhash;
static const char *models[] = { "espeak", "flite", "openai" };
static const char *voices[] = { "v0", "v1" };
static const char *docs[] = { "a", "b" };

static uint64_t rng;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static void hash_of(int n, char out[65])
{
    snprintf(out, 65, "%064d", n);
}

/* The withdraw hook's answer, the same function on both sides: some asks fail. */
static int withdraw_answer(uint64_t attempt) { return attempt % 7 == 3 ? -1 : 0; }

static int pending[8192][2];   /* withdrawals asked and not answered yet: n, attempt */
static int npending, asks;

static void ref_drop_unwanted(int n)
{
    struct rjob *j = &ref.jobs[n];
    if (j->state == RQ) {
        ref_remove(n);
    } else if (j->state == RH) {
        j->state = RW;
        asks++;
        if (withdraw_answer(j->attempt) < 0) {
            j->state = RH;
        } else {
            pending[npending][0] = n;
            pending[npending++][1] = (int)j->attempt;
        }
    }
}

static void ref_retry_or_fail(int n, int may_fail)
{
    struct rjob *j = &ref.jobs[n];
    if (j->nreqs == 0 || (may_fail && j->tries >= MAX_TRIES))
        ref_remove(n);
    else
        j->state = RQ;
}

static int newer_first(const void *a, const void *b)
{
    uint64_t x = ref.born[*(const int *)a], y = ref.born[*(const int *)b];
    return (x < y) - (x > y);
}

/* Jobs newest first, as the old list was. */
static int ref_order(int *out)
{
    int k = 0;
    for (int n = 0; n < NHASH; n++)
        if (ref.live[n])
            out[k++] = n;
    qsort(out, (size_t)k, sizeof *out, newer_first);
    return k;
}

static int ref_evict(uint64_t conn, const char *doc, int cursor, int lo, int hi, int model,
                     int voice, struct evicted **out, int *nout)
{
    int order[NHASH], k = ref_order(order), added = 0;
    for (int o = 0; o < k; o++) {
        int n = order[o];
        struct rjob *j = &ref.jobs[n];
        int differs = model >= 0 && (model_of(n) != model || voice_of(n) != voice);
        int evictable = j->state != RR, had = j->nreqs;
        for (int i = 0; i < j->nreqs;) {
            struct requester *r = &j->reqs[i];
            if (r->kind != REQ_CONN || r->id != conn || strcmp(r->doc_id, doc)) {
                i++;
                continue;
            }
            if (model < 0) {
                r->cursor = cursor;
                if (r->idx != cursor)
                    r->first = 0;
            }
            if (!(evictable && (model >= 0 ? differs : (r->idx < lo || r->idx > hi)))) {
                i++;
                continue;
            }
            *out = realloc(*out, (size_t)(*nout + 1) * sizeof **out);
            struct evicted *e = &(*out)[(*nout)++];
            memset(e, 0, sizeof *e);
            e->conn_id = r->id;
            snprintf(e->doc_id, sizeof e->doc_id, "%s", r->doc_id);
            e->idx = r->idx;
            e->user_id = r->user_id;
            snprintf(e->model, sizeof e->model, "%s", models[model_of(n)]);
            snprintf(e->voice, sizeof e->voice, "%s", voices[voice_of(n)]);
            added++;
            j->reqs[i] = j->reqs[--j->nreqs];
        }
        if (had && j->nreqs == 0)
            ref_drop_unwanted(n);
    }
    return added;
}

static void ref_gone(enum requester_kind kind, uint64_t id)
{
    int order[NHASH], k = ref_order(order);
    for (int o = 0; o < k; o++) {
        struct rjob *j = &ref.jobs[order[o]];
        int had = j->nreqs;
        for (int i = 0; i < j->nreqs;)
            if (j->reqs[i].kind == kind && j->reqs[i].id == id)
                j->reqs[i] = j->reqs[--j->nreqs];
            else
                i++;
        if (had && j->nreqs == 0)
            ref_drop_unwanted(order[o]);
    }
}

static void ref_stats(int *queued, int *running)
{
    *queued = *running = 0;
    for (int n = 0; n < NHASH; n++) {
        if (!ref.live[n])
            continue;
        if (ref.jobs[n].state == RR)
            ++*running;
        else if (ref.jobs[n].state != RW || ref.jobs[n].nreqs)
            ++*queued;
    }
}

/* ---- the real queue's side ------------------------------------------------------------ */
static int real_withdraw(void *arg, const char *hash, uint64_t attempt)
{
    (*(int *)arg)++;
    (void)hash;
    return withdraw_answer(attempt);
}

static int accept_mask(const char *model, void *arg)
{
    unsigned mask = *(unsigned *)arg;
    for (int m = 0; m < 3; m++)
        if (!strcmp(model, models[m]))
            return mask >> m & 1;
    return 0;
}

static void nop_notify(void *arg) { (void)arg; }

static int cmp_evicted(const void *a, const void *b)
{
    const struct evicted *x = a, *y = b;
    int c = strcmp(x->doc_id, y->doc_id);
    if (!c)
        c = (x->idx > y->idx) - (x->idx < y->idx);
    if (!c)
        c = strcmp(x->model, y->model);
    if (!c)
        c = strcmp(x->voice, y->voice);
    if (!c)
        c = (x->user_id > y->user_id) - (x->user_id < y->user_id);
    if (!c)
        c = (x->conn_id > y->conn_id) - (x->conn_id < y->conn_id);
    return c;
}

/* The same requesters evicted (as sets: the order of an `evicted` list is not kept); frees
 * both lists. */
static void same_evictions(struct evicted *a, int na, struct evicted *b, int nb)
{
    CHECK_INT(na, nb);
    if (na == nb && na) {
        qsort(a, (size_t)na, sizeof *a, cmp_evicted);
        qsort(b, (size_t)nb, sizeof *b, cmp_evicted);
        for (int i = 0; i < na; i++)
            CHECK(!cmp_evicted(&a[i], &b[i]));
    }
    free(a);
    free(b);
}

/* Requesters: connections (ids 1-6), waiters and exports (ids 1-3); nusers > 0 gives most
 * of them a user (several connections per user), nusers large forces the per-user round
 * robin memory (64 users) to forget. */
static struct requester random_requester(int nusers)
{
    struct requester r = { 0 };
    unsigned k = rnd(20);
    r.kind = k < 12 ? REQ_CONN : k < 17 ? REQ_WAITER : REQ_EXPORT;
    r.id = 1 + rnd(r.kind == REQ_CONN ? 6 : 3);
    if (nusers > 3)
        r.user_id = rnd(4) ? 1 + (int64_t)rnd((unsigned)nusers) : 0;
    else if (nusers)
        r.user_id = rnd(20) ? (int64_t)(r.id % (uint64_t)(nusers + 1)) : (int64_t)rnd(4);
    snprintf(r.doc_id, sizeof r.doc_id, "%s", docs[rnd(2)]);
    r.idx = (int)rnd(40);
    r.cursor = (int)rnd(40);
    r.first = rnd(10) == 0;
    r.chars = 10;
    return r;
}

static int run(uint64_t seed, int steps, int nusers, int hashes)
{
    rng = seed;
    nhash = hashes;
    ref_init(NHASH);
    npending = asks = 0;
    int asked = 0;
    struct queue *q = memqueue_create(30000, MAX_TRIES, nop_notify, NULL);
    struct memqueue_hooks hooks = { .withdraw = real_withdraw, .arg = &asked };
    memqueue_set_hooks(q, &hooks);
    struct job_source *src = memqueue_source(q);
    int picks = 0, fails = check_failures;
    char h[65];
    for (int step = 0; step < steps && check_failures == fails; step++) {
        unsigned op = rnd(100);
        if (op < 38) {
            int n = (int)rnd((unsigned)nhash);
            struct requester r = random_requester(nusers);
            enum submit_state st;
            hash_of(n, h);
            CHECK_INT(q->ops->submit(q, h, models[model_of(n)], voices[voice_of(n)], "text", &r, &st), 0);
            CHECK_INT(st, ref_submit(n, &r));
        } else if (op < 56) {
            /* a worker takes; filters as the lanes use them (all, CPU, network) and others */
            static const unsigned masks[] = { 7, 3, 4, 1, 6, 7 };
            unsigned mask = masks[rnd(6)];
            int want = ref_pick(mask);
            if (want < 0)
                continue;   /* the real take would block */
            struct take_filter f = { accept_mask, &mask };
            struct job_ticket t;
            CHECK_INT(src->ops->take(src, &t, mask == 7 && rnd(2) ? NULL : &f), 0);
            CHECK_INT(atoi(t.hash), want);
            struct rjob *j = &ref.jobs[want];
            j->state = RR;
            j->tries++;
            j->attempt = ++ref.next_attempt;
            CHECK_INT(t.attempt, j->attempt);
            job_ticket_free(&t);
            picks++;
        } else if (op < 60) {
            /* the Redis feeder hands off (no filter, never blocks) */
            struct job_ticket t;
            int want = ref_pick(7);
            int rc = memqueue_hand_off(q, 1000, &t);
            CHECK_INT(rc, want < 0 ? RECITE_EEMPTY : RECITE_OK);
            if (rc == RECITE_OK) {
                CHECK_INT(atoi(t.hash), want);
                job_ticket_free(&t);
            }
            if (want >= 0) {
                struct rjob *j = &ref.jobs[want];
                j->state = RH;
                j->tries++;
                j->attempt = ++ref.next_attempt;
                picks++;
            }
        } else if (op < 72) {
            /* a running or handed-off job ends: audio, an engine error, claimed, lost */
            int n = (int)rnd((unsigned)nhash);
            if (!ref.live[n] || ref.jobs[n].state == RQ)
                continue;
            struct rjob *j = &ref.jobs[n];
            struct job_ticket t = { .attempt = j->attempt };
            hash_of(n, t.hash);
            unsigned how = rnd(4);
            if (how == 0 || (how == 1 && j->state == RR)) {
                struct job_result res = { .type = how == 0 ? JOB_EV_CACHED : JOB_EV_ERROR };
                memqueue_finish(q, &t, &res);
                if (how == 0)
                    ref_remove(n);
                else
                    ref_retry_or_fail(n, 1);
            } else if (how == 2) {
                int stale = j->state != RH && j->state != RW;
                CHECK_INT(memqueue_claimed(q, t.hash, t.attempt), stale);
                if (!stale)
                    j->state = RR;
            } else {
                int count = (int)rnd(2);
                CHECK_INT(memqueue_requeue(q, t.hash, t.attempt, count, "lost"), 0);
                if (!count && j->tries > 0)
                    j->tries--;
                ref_retry_or_fail(n, count);
            }
        } else if (op < 80) {
            /* a cursor moves: the window around it stays, the rest of (conn, doc) goes */
            uint64_t conn = 1 + rnd(6);
            const char *doc = docs[rnd(2)];
            int cursor = (int)rnd(40), wide = rnd(3) == 0;
            int lo = wide ? INT_MIN : cursor - (int)rnd(10), hi = wide ? INT_MAX : cursor + (int)rnd(20);
            struct evicted *a = NULL, *b = NULL;
            int na = 0, nb = 0;
            int ra = q->ops->evict_window(q, conn, doc, cursor, lo, hi, &a, &na);
            int rb = ref_evict(conn, doc, cursor, lo, hi, -1, -1, &b, &nb);
            CHECK_INT(ra, rb);
            same_evictions(a, na, b, nb);
        } else if (op < 83) {
            /* a voice switch */
            uint64_t conn = 1 + rnd(6);
            const char *doc = docs[rnd(2)];
            int m = (int)rnd(3), v = (int)rnd(2);
            struct evicted *a = NULL, *b = NULL;
            int na = 0, nb = 0;
            int ra = q->ops->evict_other_voices(q, conn, doc, models[m], voices[v], -1, &a, &na);
            CHECK_INT(ra, ref_evict(conn, doc, 0, 0, 0, m, v, &b, &nb));
            same_evictions(a, na, b, nb);
        } else if (op < 87) {
            unsigned k = rnd(3);
            enum requester_kind kind = k == 0 ? REQ_CONN : k == 1 ? REQ_WAITER : REQ_EXPORT;
            uint64_t id = 1 + rnd(kind == REQ_CONN ? 6 : 3);
            q->ops->gone(q, kind, id);
            ref_gone(kind, id);
        } else if (op < 95) {
            /* the feeder answers a withdrawal: withdrawn, or a worker had claimed it */
            if (!npending)
                continue;
            int p = (int)rnd((unsigned)npending);
            int n = pending[p][0];
            uint64_t attempt = (uint64_t)pending[p][1];
            pending[p][0] = pending[--npending][0];
            pending[p][1] = pending[npending][1];
            int withdrawn = rnd(4) != 0;
            hash_of(n, h);
            memqueue_withdrawn(q, h, attempt, withdrawn);
            struct rjob *j = &ref.jobs[n];
            if (ref.live[n] && j->attempt == attempt && j->state == RW) {
                if (!withdrawn) {
                    j->state = RH;
                } else if (j->nreqs == 0) {
                    ref_remove(n);
                } else {
                    if (j->tries > 0)
                        j->tries--;
                    j->state = RQ;
                }
            }
        } else {
            job_event_free(q->ops->drain(q));
        }
        int qa, ra, qb, rb;
        q->ops->stats(q, &qa, &ra);
        ref_stats(&qb, &rb);
        CHECK_INT(qa, qb);
        CHECK_INT(ra, rb);
        CHECK_INT(asked, asks);   /* the same jobs became unwanted while handed off */
        if (check_failures != fails)
            fprintf(stderr, "seed %llu: diverged at step %d\n", (unsigned long long)seed, step);
    }
    job_event_free(q->ops->drain(q));
    q->ops->destroy(q);
    ref_free();
    return picks;
}

int main(void)
{
    alarm(120);   /* a pick that finds nothing where the reference found a job blocks in take */
    int picks = 0;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        uint64_t s = seed * 0x9E3779B97F4A7C15ULL;
        picks += run(s, 20000, 0, 120);      /* no users: every requester its own tenant */
        picks += run(s + 1, 20000, 3, 120);  /* three users with several connections each */
        picks += run(s + 2, 20000, 100, 400); /* more users than the round robin remembers */
    }
    printf("%d picks compared\n", picks);
    CHECK(picks > 1000);
    CHECK_DONE();
}
