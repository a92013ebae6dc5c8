/* pick_ref — the reference for the queue's pick order: a straightforward copy of the
 * original scan (every queued job × requester, three passes: users round robin, then the
 * user's requesters, then nearest to the cursor), reduced to what decides order and
 * membership. tests/unit/test_pick.c checks memqueue against it; bench/take.c times it
 * against memqueue's indexed pick. Jobs live in slots 0..cap-1 (slot n: hash n). */
#ifndef RECITE_PICK_REF_H
#define RECITE_PICK_REF_H
#include "jobs/queue.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { RQ, RR, RH, RW };   /* queued, running, handed off, withdrawing */

struct rjob {
    int n, state, tries;
    uint64_t attempt, seq;
    struct requester *reqs;
    int nreqs;
};

struct rkey { enum requester_kind kind; uint64_t id; };
struct rten { int64_t user; struct rkey r; };

static struct ref {
    int cap;                   /* slots */
    struct rjob *jobs;         /* by n; live when present */
    int *live;
    uint64_t *born;            /* creation order: newest first is the old list order */
    uint64_t next_seq, next_attempt;
    struct rten last;
    struct { int64_t user; struct rkey last; } user_rr[64];
    unsigned user_rr_next;
} ref;

static int rk_less(struct rkey a, struct rkey b)
{
    return a.kind != b.kind ? a.kind < b.kind : a.id < b.id;
}
static struct rkey rk_of(const struct requester *r) { return (struct rkey){ r->kind, r->id }; }
static struct rten rt_of(const struct requester *r)
{
    return r->user_id > 0 ? (struct rten){ r->user_id, { 0, 0 } } : (struct rten){ 0, rk_of(r) };
}
static int rt_less(struct rten a, struct rten b)
{
    return a.user != b.user ? a.user < b.user : rk_less(a.r, b.r);
}
static int rt_same(struct rten a, struct rten b) { return !rt_less(a, b) && !rt_less(b, a); }

static int model_of(int n) { return n % 3; }   /* the model (0-2) and voice (0-1) of hash n */
static inline int voice_of(int n) { return (n / 3) % 2; }

/* Empties the reference and gives it cap slots. */
static void ref_init(int cap)
{
    memset(&ref, 0, sizeof ref);
    ref.cap = cap;
    ref.jobs = calloc((size_t)cap, sizeof *ref.jobs);
    ref.live = calloc((size_t)cap, sizeof *ref.live);
    ref.born = calloc((size_t)cap, sizeof *ref.born);
}

static void ref_remove(int n)
{
    free(ref.jobs[n].reqs);
    memset(&ref.jobs[n], 0, sizeof ref.jobs[n]);
    ref.live[n] = 0;
}

static int ref_submit(int n, const struct requester *r)
{
    struct rjob *j = &ref.jobs[n];
    if (!ref.live[n]) {
        ref.live[n] = 1;
        ref.born[n] = ref.next_seq;
        j->n = n;
        j->state = RQ;
        j->seq = ref.next_seq++;
    }
    int st = j->state == RR ? SUBMIT_PROCESSING : SUBMIT_QUEUED;
    for (int i = 0; i < j->nreqs; i++) {
        struct requester *e = &j->reqs[i];
        if (e->kind == r->kind && e->id == r->id && e->idx == r->idx && !strcmp(e->doc_id, r->doc_id)) {
            e->cursor = r->cursor;
            if (r->first)
                e->first = ++ref.next_seq;
            return st;
        }
    }
    j->reqs = realloc(j->reqs, (size_t)(j->nreqs + 1) * sizeof *j->reqs);
    j->reqs[j->nreqs] = *r;
    if (r->first)
        j->reqs[j->nreqs].first = ++ref.next_seq;
    j->nreqs++;
    return st;
}

static struct rkey *ref_user_last(int64_t user)
{
    for (int i = 0; i < 64; i++)
        if (ref.user_rr[i].user == user)
            return &ref.user_rr[i].last;
    return NULL;
}

/* The original three-pass scan, verbatim in substance. mask: accepted models (bits). */
static int ref_pick(unsigned mask)
{
    struct rten next_t = { 0 }, min_t = { 0 };
    int have_next = 0, have_min = 0;
    for (int n = 0; n < ref.cap; n++) {
        struct rjob *j = &ref.jobs[n];
        if (!ref.live[n] || j->state != RQ || !(mask >> model_of(n) & 1))
            continue;
        for (int i = 0; i < j->nreqs; i++) {
            struct rten c = rt_of(&j->reqs[i]);
            if (!have_min || rt_less(c, min_t))
                min_t = c, have_min = 1;
            if (rt_less(ref.last, c) && (!have_next || rt_less(c, next_t)))
                next_t = c, have_next = 1;
        }
    }
    if (!have_min)
        return -1;
    struct rten ten = have_next ? next_t : min_t;
    struct rkey who = ten.r;
    if (ten.user > 0) {
        const struct rkey *ulast = ref_user_last(ten.user);
        struct rkey next_rr = { 0 }, min_rr = { 0 };
        int rnext = 0, rmin = 0;
        for (int n = 0; n < ref.cap; n++) {
            struct rjob *j = &ref.jobs[n];
            if (!ref.live[n] || j->state != RQ || !(mask >> model_of(n) & 1))
                continue;
            for (int i = 0; i < j->nreqs; i++) {
                if (j->reqs[i].user_id != ten.user)
                    continue;
                struct rkey c = rk_of(&j->reqs[i]);
                if (!rmin || rk_less(c, min_rr))
                    min_rr = c, rmin = 1;
                if (ulast && rk_less(*ulast, c) && (!rnext || rk_less(c, next_rr)))
                    next_rr = c, rnext = 1;
            }
        }
        who = rnext ? next_rr : min_rr;
        struct rkey *last = ref_user_last(ten.user);
        if (!last) {
            unsigned s = ref.user_rr_next++ % 64;
            ref.user_rr[s].user = ten.user;
            last = &ref.user_rr[s].last;
        }
        *last = who;
    }
    int best = -1;
    long best_key = 0;
    uint64_t best_first = 0;
    for (int n = 0; n < ref.cap; n++) {
        struct rjob *j = &ref.jobs[n];
        if (!ref.live[n] || j->state != RQ || !(mask >> model_of(n) & 1))
            continue;
        for (int i = 0; i < j->nreqs; i++) {
            const struct requester *r = &j->reqs[i];
            if (r->kind != who.kind || r->id != who.id || !rt_same(rt_of(r), ten))
                continue;
            long d = (long)r->idx - r->cursor;
            long key = d >= 0 ? 2 * d : -2 * d + 1;
            if (best < 0 || r->first > best_first ||
                (r->first == best_first &&
                 (key < best_key || (key == best_key && j->seq < ref.jobs[best].seq))))
                best = n, best_key = key, best_first = r->first;
        }
    }
    ref.last = ten;
    return best;
}

static void ref_free(void)
{
    for (int n = 0; n < ref.cap; n++)
        if (ref.live[n])
            ref_remove(n);
    free(ref.jobs);
    free(ref.live);
    free(ref.born);
}
#endif
