/* memqueue_pick — the index behind memqueue's fair order: which queued job a taker gets.
 *
 * Responsibility: the order of SPEC section 7 (docs/DESIGN.md, "The life of a job": Order):
 * users round robin; within a user its requesters round robin; a requester without a user
 * is a tenant of its own; within a requester its `first` blocks (newest stamp first), then
 * the entry nearest its cursor (ahead wins a tie), then the older job. Only jobs whose model
 * the taker's filter accepts count, and the round robin moves only when a job is picked.
 *
 * Shape: model -> tenants (sorted array) -> groups, one per requester (sorted array) ->
 * a binary heap of the group's queued entries. Tenants and groups stay in their arrays
 * while they have entries of any job state (so queueing never allocates) and carry counts
 * of their queued entries; a pick skips the ones with none (they hold only running or
 * handed-off jobs: few, bounded by workers and the hand-off window). A second index,
 * (kind, id) -> the requester's entries, serves gone, evictions and cursor moves.
 *
 * Thread: the caller's, always with memqueue's lock held. Ownership: see memqueue_pick.h. */
#include "jobs/memqueue_pick.h"
#include "util/fault.h"
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

struct rr_key {
    enum requester_kind kind;
    uint64_t id;
};

/* The unit of fair share: a user, or a requester that has none. */
struct tenant {
    int64_t user;       /* > 0: a user; 0: the requester below is its own tenant */
    struct rr_key r;
};

/* A model's tenants and a tenant's requesters are both nodes: a model's root node has the
 * tenants as children, a tenant has its requesters ("groups"), and a group holds the heap of
 * its queued entries. A group's key is { 0, requester }. */
struct pick_node {
    struct tenant key;
    struct pick_node *parent;   /* NULL: a model's root */
    struct pick_node **kids;    /* by key */
    int nkids, kcap;
    int nqueued;                /* queued entries below (a group: its heap's size) */
    struct pick_ent **heap;     /* a group's queued entries, best first; hcap >= nents */
    int nents, hcap;
    struct pick_node *dirty_next;   /* on the index's dirty list (pick_move_cursor) */
    int dirty;
};

struct pick_model {
    char name[32];
    struct pick_node root;
};

struct pick_who {
    struct rr_key key;
    struct pick_ent *ents;
    struct pick_who *hnext;
};

/* The requester a user was served through last (round robin within the user); a few
 * recent users are remembered, a forgotten one starts again from its first requester. */
#define USER_RR 64
struct user_rr {
    int64_t user;
    struct rr_key last;
};

struct pick_index {
    struct pick_model **models;   /* a handful (one per model slug ever queued) */
    unsigned char *ok;            /* per model: accepted by the current pick's filter */
    int nmodels;
    struct pick_who **buckets;    /* nbuckets: a power of two */
    size_t nbuckets, nwho;
    struct tenant last;           /* the tenant served last */
    struct user_rr user_rr[USER_RR];
    unsigned user_rr_next;
    struct pick_node *dirty;      /* groups whose heap pick_settle must rebuild */
};

static int rr_cmp(struct rr_key a, struct rr_key b)
{
    if (a.kind != b.kind)
        return a.kind < b.kind ? -1 : 1;
    return (a.id > b.id) - (a.id < b.id);
}

static int tenant_cmp(struct tenant a, struct tenant b)
{
    if (a.user != b.user)
        return a.user < b.user ? -1 : 1;
    return rr_cmp(a.r, b.r);
}

static struct rr_key rr_of(const struct requester *r)
{
    return (struct rr_key){ r->kind, r->id };
}

static struct tenant tenant_of(const struct requester *r)
{
    return r->user_id > 0 ? (struct tenant){ r->user_id, { 0, 0 } } : (struct tenant){ 0, rr_of(r) };
}

/* ---- children in key order: the first one not below the key (or, strict, above it) ---- */
static int node_bound(const struct pick_node *p, struct tenant k, int strict)
{
    int lo = 0, hi = p->nkids;
    while (lo < hi) {
        int mid = (lo + hi) / 2, c = tenant_cmp(p->kids[mid]->key, k);
        if (c < 0 || (strict && c == 0))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static struct pick_node *node_find(const struct pick_node *p, struct tenant k)
{
    int i = node_bound(p, k, 0);
    return i < p->nkids && !tenant_cmp(p->kids[i]->key, k) ? p->kids[i] : NULL;
}

/* The first child at or after position i that has queued entries. */
static const struct pick_node *node_live(const struct pick_node *p, int i)
{
    for (; i < p->nkids; i++)
        if (p->kids[i]->nqueued)
            return p->kids[i];
    return NULL;
}

static struct pick_node *node_get(struct pick_node *p, struct tenant k)
{
    int i = node_bound(p, k, 0);
    if (i < p->nkids && !tenant_cmp(p->kids[i]->key, k))
        return p->kids[i];
    struct pick_node *n = fault_calloc(1, sizeof *n);
    if (!n)
        return NULL;
    if (p->nkids == p->kcap) {
        int cap = p->kcap ? p->kcap * 2 : 4;
        struct pick_node **kids = fault_realloc(p->kids, (size_t)cap * sizeof *kids);
        if (!kids) {
            free(n);
            return NULL;
        }
        p->kids = kids;
        p->kcap = cap;
    }
    memmove(p->kids + i + 1, p->kids + i, (size_t)(p->nkids - i) * sizeof *p->kids);
    p->kids[i] = n;
    p->nkids++;
    n->key = k;
    n->parent = p;
    return n;
}

/* Frees a group or tenant left with nothing, and its tenant if that is left empty. */
static void node_prune(struct pick_node *n)
{
    while (n->parent && !n->nkids && !n->nents) {
        struct pick_node *p = n->parent;
        int i = node_bound(p, n->key, 0);
        memmove(p->kids + i, p->kids + i + 1, (size_t)(p->nkids - i - 1) * sizeof *p->kids);
        p->nkids--;
        free(n->kids);
        free(n->heap);
        free(n);
        n = p;
    }
}

static struct tenant group_key(struct rr_key r)
{
    return (struct tenant){ 0, r };
}

/* ---- the heap of a group's queued entries ---- */
static int before(const struct pick_ent *a, const struct pick_ent *b)
{
    if (a->first != b->first)
        return a->first > b->first;
    if (a->key != b->key)
        return a->key < b->key;
    return a->seq < b->seq;
}

static void heap_set(struct pick_node *g, int i, struct pick_ent *e)
{
    g->heap[i] = e;
    e->hpos = i;
}

/* Moves e, placed at i, down to where neither child comes before it. */
static void sift_down(struct pick_node *g, int i, struct pick_ent *e)
{
    for (;;) {
        int c = 2 * i + 1;
        if (c >= g->nqueued)
            break;
        if (c + 1 < g->nqueued && before(g->heap[c + 1], g->heap[c]))
            c++;
        if (!before(g->heap[c], e))
            break;
        heap_set(g, i, g->heap[c]);
        i = c;
    }
    heap_set(g, i, e);
}

static void heap_fix(struct pick_node *g, int i)
{
    struct pick_ent *e = g->heap[i];
    while (i > 0 && before(e, g->heap[(i - 1) / 2])) {
        heap_set(g, i, g->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    sift_down(g, i, e);
}

/* Floyd's bottom-up construction: O(n) for the whole heap. */
static void heap_build(struct pick_node *g)
{
    for (int top = g->nqueued / 2 - 1; top >= 0; top--)
        sift_down(g, top, g->heap[top]);
}

/* Sets the entry's order; 1 if it changed while the entry is in a heap (which then needs
 * re-placing it, or rebuilding). */
static int set_key(struct pick_ent *e, int cursor, uint64_t first)
{
    long key = e->key;
    uint64_t was = e->first;
    long d = (long)e->idx - cursor;
    e->cursor = cursor;
    e->key = d >= 0 ? 2 * d : -2 * d + 1;   /* ahead of the cursor wins a tie */
    e->first = first;
    return e->hpos >= 0 && (e->key != key || e->first != was);   /* a repeated cursor: no */
}

/* Re-places the entry in its heap if its order changed. */
static void set_order(struct pick_ent *e, int cursor, uint64_t first)
{
    if (set_key(e, cursor, first))
        heap_fix(e->group, e->hpos);
}

/* ---- requesters by (kind, id) ---- */
static size_t who_bucket(const struct pick_index *ix, struct rr_key k)
{
    uint64_t h = (k.id ^ ((uint64_t)k.kind << 56)) * 0x9E3779B97F4A7C15ULL;
    return (size_t)(h >> 32) & (ix->nbuckets - 1);
}

static struct pick_who *who_find(const struct pick_index *ix, struct rr_key k)
{
    for (struct pick_who *w = ix->buckets[who_bucket(ix, k)]; w; w = w->hnext)
        if (!rr_cmp(w->key, k))
            return w;
    return NULL;
}

/* Doubles the buckets when requesters outnumber them; keeps the old ones when memory is
 * short (slower, still correct). */
static void who_grow(struct pick_index *ix)
{
    if (ix->nwho <= ix->nbuckets)
        return;
    struct pick_who **nb = fault_calloc(ix->nbuckets * 2, sizeof *nb);
    if (!nb)
        return;
    struct pick_who **old = ix->buckets;
    size_t nold = ix->nbuckets;
    ix->buckets = nb;
    ix->nbuckets *= 2;
    for (size_t i = 0; i < nold; i++)
        for (struct pick_who *w = old[i], *next; w; w = next) {
            next = w->hnext;
            size_t b = who_bucket(ix, w->key);
            w->hnext = nb[b];
            nb[b] = w;
        }
    free(old);
}

static struct pick_who *who_get(struct pick_index *ix, struct rr_key k)
{
    struct pick_who *w = who_find(ix, k);
    if (w || !(w = fault_calloc(1, sizeof *w)))
        return w;
    w->key = k;
    size_t b = who_bucket(ix, k);
    w->hnext = ix->buckets[b];
    ix->buckets[b] = w;
    ix->nwho++;
    who_grow(ix);
    return w;
}

static void who_prune(struct pick_index *ix, struct pick_who *w)
{
    if (w->ents)
        return;
    for (struct pick_who **pp = &ix->buckets[who_bucket(ix, w->key)]; *pp; pp = &(*pp)->hnext)
        if (*pp == w) {
            *pp = w->hnext;
            break;
        }
    ix->nwho--;
    free(w);
}

/* ---- models, tenants, groups: created by pick_add, pruned when their last entry goes ---- */
static struct pick_model *model_get(struct pick_index *ix, const char *name)
{
    for (int i = 0; i < ix->nmodels; i++)
        if (!strcmp(ix->models[i]->name, name))
            return ix->models[i];
    struct pick_model *m = fault_calloc(1, sizeof *m);
    struct pick_model **models = m ? fault_realloc(ix->models, (size_t)(ix->nmodels + 1) * sizeof *models) : NULL;
    if (models)
        ix->models = models;
    unsigned char *ok = models ? fault_realloc(ix->ok, (size_t)(ix->nmodels + 1)) : NULL;
    if (!ok) {
        free(m);
        return NULL;
    }
    ix->ok = ok;
    snprintf(m->name, sizeof m->name, "%s", name);
    ix->models[ix->nmodels++] = m;
    return m;
}

struct pick_ent *pick_add(struct pick_index *ix, void *job, int slot, const char *model,
                          uint64_t seq, const struct requester *r)
{
    struct pick_ent *e = fault_calloc(1, sizeof *e);
    struct pick_who *w = e ? who_get(ix, rr_of(r)) : NULL;
    struct pick_model *m = w ? model_get(ix, model) : NULL;
    struct pick_node *t = m ? node_get(&m->root, tenant_of(r)) : NULL;
    struct pick_node *g = t ? node_get(t, group_key(rr_of(r))) : NULL;
    if (g && g->nents == g->hcap) {
        int cap = g->hcap ? g->hcap * 2 : 4;
        struct pick_ent **h = fault_realloc(g->heap, (size_t)cap * sizeof *h);
        if (h) {
            g->heap = h;
            g->hcap = cap;
        }
    }
    if (!g || g->nents == g->hcap) {   /* out of memory: undo what was made for it */
        if (t)
            node_prune(g ? g : t);
        if (w)
            who_prune(ix, w);
        free(e);
        return NULL;
    }
    g->nents++;
    e->job = job;
    e->slot = slot;
    e->seq = seq;
    e->hpos = -1;
    e->group = g;
    e->who = w;
    snprintf(e->doc_id, sizeof e->doc_id, "%s", r->doc_id);
    e->idx = r->idx;
    set_order(e, r->cursor, r->first);
    e->wnext = w->ents;
    if (w->ents)
        w->ents->wprev = e;
    w->ents = e;
    return e;
}

void pick_queue(struct pick_index *ix, struct pick_ent *e)
{
    if (ix->dirty)   /* a caller that moved cursors and did not settle: never a stale heap */
        pick_settle(ix);
    (void)ix;
    struct pick_node *g = e->group;
    if (e->hpos >= 0)
        return;
    g->heap[g->nqueued] = e;   /* room reserved by pick_add */
    for (struct pick_node *n = g; n; n = n->parent)
        n->nqueued++;
    heap_fix(g, g->nqueued - 1);
}

void pick_unqueue(struct pick_index *ix, struct pick_ent *e)
{
    if (ix->dirty)   /* a caller that moved cursors and did not settle: never a stale heap */
        pick_settle(ix);
    (void)ix;
    struct pick_node *g = e->group;
    int i = e->hpos;
    if (i < 0)
        return;
    e->hpos = -1;
    for (struct pick_node *n = g; n; n = n->parent)
        n->nqueued--;
    struct pick_ent *last = g->heap[g->nqueued];
    if (i < g->nqueued) {
        g->heap[i] = last;
        heap_fix(g, i);
    }
}

void pick_reorder(struct pick_index *ix, struct pick_ent *e, const struct requester *r)
{
    if (ix->dirty)   /* a caller that moved cursors and did not settle: never a stale heap */
        pick_settle(ix);
    set_order(e, r->cursor, r->first);
}

/* A cursor move changes the order of every entry of the requester at once: re-placing each
 * in its heap cost O(n log n) with a cache miss per level, ~3x the scan it replaced when one
 * connection owns the whole queue (docs/BENCHMARKS.md, 14). So the keys change here and
 * pick_settle rebuilds each touched heap once, in O(n). */
int pick_move_cursor(struct pick_index *ix, struct pick_ent *e, int cursor)
{
    int drop_first = e->first && e->idx != cursor;   /* the reader moved on */
    if (set_key(e, cursor, drop_first ? 0 : e->first) && !e->group->dirty) {
        e->group->dirty = 1;
        e->group->dirty_next = ix->dirty;
        ix->dirty = e->group;
    }
    return drop_first;
}

void pick_settle(struct pick_index *ix)
{
    while (ix->dirty) {
        struct pick_node *g = ix->dirty;
        ix->dirty = g->dirty_next;
        g->dirty = 0;
        g->dirty_next = NULL;
        heap_build(g);
    }
}

void pick_remove(struct pick_index *ix, struct pick_ent *e)
{
    pick_unqueue(ix, e);
    struct pick_who *w = e->who;
    if (e->wprev)
        e->wprev->wnext = e->wnext;
    else
        w->ents = e->wnext;
    if (e->wnext)
        e->wnext->wprev = e->wprev;
    e->group->nents--;
    node_prune(e->group);
    who_prune(ix, w);
    free(e);
}

struct pick_ent *pick_entries_of(struct pick_index *ix, enum requester_kind kind, uint64_t id)
{
    struct pick_who *w = who_find(ix, (struct rr_key){ kind, id });
    return w ? w->ents : NULL;
}

/* ---- the pick ---- */
static struct rr_key *user_last(struct pick_index *ix, int64_t user)
{
    for (int i = 0; i < USER_RR; i++)
        if (ix->user_rr[i].user == user)
            return &ix->user_rr[i].last;
    return NULL;
}

static void user_served(struct pick_index *ix, int64_t user, struct rr_key r)
{
    struct rr_key *last = user_last(ix, user);
    if (!last) {
        struct user_rr *slot = &ix->user_rr[ix->user_rr_next++ % USER_RR];
        slot->user = user;
        last = &slot->last;
    }
    *last = r;
}

/* 1. The tenant after the one served last, cyclically, over the accepted models. */
static int next_tenant(struct pick_index *ix, struct tenant *out)
{
    int found = 0;
    for (int wrap = 0; wrap < 2 && !found; wrap++)
        for (int i = 0; i < ix->nmodels; i++) {
            const struct pick_node *root = &ix->models[i]->root;
            const struct pick_node *t = ix->ok[i] ? node_live(root, wrap ? 0 : node_bound(root, ix->last, 1)) : NULL;
            if (t && (!found || tenant_cmp(t->key, *out) < 0))
                *out = t->key, found = 1;
        }
    return found;
}

/* 2. Within a user, the requester after the one it was served through last (cyclic; a
 * forgotten user starts from its first). */
static struct rr_key next_requester(struct pick_index *ix, struct tenant ten)
{
    const struct rr_key *ulast = user_last(ix, ten.user);
    struct tenant who = { 0 };
    int found = 0;
    for (int wrap = ulast ? 0 : 1; wrap < 2 && !found; wrap++)
        for (int i = 0; i < ix->nmodels; i++) {
            const struct pick_node *t = ix->ok[i] ? node_find(&ix->models[i]->root, ten) : NULL;
            const struct pick_node *g = t ? node_live(t, wrap ? 0 : node_bound(t, group_key(*ulast), 1)) : NULL;
            if (g && (!found || tenant_cmp(g->key, who) < 0))
                who = g->key, found = 1;
        }
    return who.r;
}

void *pick_next(struct pick_index *ix, const struct take_filter *f)
{
    if (ix->dirty)   /* a caller that moved cursors and did not settle: never a stale heap */
        pick_settle(ix);
    int any = 0;
    for (int i = 0; i < ix->nmodels; i++) {
        const struct pick_model *m = ix->models[i];
        ix->ok[i] = m->root.nqueued > 0 && (!f || !f->accept || f->accept(m->name, f->arg));
        any |= ix->ok[i];
    }
    struct tenant ten;
    if (!any || !next_tenant(ix, &ten))
        return NULL;
    struct rr_key who = ten.r;
    if (ten.user > 0) {
        who = next_requester(ix, ten);
        user_served(ix, ten.user, who);
    }
    /* 3. That requester's best queued entry over the accepted models. */
    const struct pick_ent *best = NULL;
    for (int i = 0; i < ix->nmodels; i++) {
        const struct pick_node *t = ix->ok[i] ? node_find(&ix->models[i]->root, ten) : NULL;
        const struct pick_node *g = t ? node_find(t, group_key(who)) : NULL;
        if (g && g->nqueued && (!best || before(g->heap[0], best)))
            best = g->heap[0];
    }
    ix->last = ten;
    return best ? best->job : NULL;
}

struct pick_index *pick_create(void)
{
    struct pick_index *ix = calloc(1, sizeof *ix);
    if (!ix)
        return NULL;
    ix->nbuckets = 64;
    if (!(ix->buckets = calloc(ix->nbuckets, sizeof *ix->buckets))) {
        free(ix);
        return NULL;
    }
    return ix;
}

void pick_destroy(struct pick_index *ix)
{
    if (!ix)
        return;
    for (int i = 0; i < ix->nmodels; i++) {
        free(ix->models[i]->root.kids);
        free(ix->models[i]);
    }
    free(ix->models);
    free(ix->ok);
    free(ix->buckets);
    free(ix);
}
