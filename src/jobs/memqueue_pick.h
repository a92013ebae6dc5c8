/* memqueue_pick — the index behind memqueue's fair order (memqueue.c only).
 *
 * Every requester of every job is an entry here. Entries of queued jobs also sit in the
 * order: per model, the tenants (users; a requester without a user is its own tenant) in
 * key order, per tenant its requesters in key order, per requester a heap of its queued
 * entries nearest to the cursor first. So a take costs O(models × log) instead of a scan of
 * every queued job × requester, and a requester's entries (gone, evictions, cursor moves)
 * are found without looking at anyone else's.
 *
 * Threads: none of its own; every call is made with memqueue's lock held.
 * Ownership: the index owns the entries; memqueue keeps a pointer per requester slot of a
 * job (job->ents[i] belongs to job->reqs[i]) and tells the index when a slot moves. Only
 * pick_add allocates: queueing, unqueueing, reordering, cursor moves and removing never fail. */
#ifndef RECITE_MEMQUEUE_PICK_H
#define RECITE_MEMQUEUE_PICK_H
#include "jobs/job.h"
#include "jobs/job_source.h"

struct pick_index;

/* One requester of one job. memqueue reads job and slot and keeps slot true (the requester
 * is job->reqs[slot]); everything else is the index's. */
struct pick_ent {
    void *job;
    int slot;
    char doc_id[40];          /* the requester's document and block (read-only copies: a */
    int idx;                  /* cursor move finds its entries without touching the jobs) */
    int cursor;               /* its cursor now (job->reqs[slot].cursor: as submitted) */
    uint64_t seq;             /* the job's age: the older job wins a tie */
    uint64_t first;           /* the requester's `first` stamp (larger: newer: earlier) */
    long key;                 /* distance to the cursor, ahead of it winning a tie */
    int hpos;                 /* place in its group's heap; -1 while the job is not queued */
    struct pick_node *group;  /* (model, tenant, requester) */
    struct pick_who *who;     /* (kind, id): all of a requester's entries */
    struct pick_ent *wnext, *wprev;
};

struct pick_index *pick_create(void);
/* Frees the index; every entry must have been removed. Accepts NULL. */
void pick_destroy(struct pick_index *ix);
/* A new requester r (at job->reqs[slot]) of a job of `model` created `seq`-th. Not in the
 * order until pick_queue. NULL when out of memory (nothing changed). */
struct pick_ent *pick_add(struct pick_index *ix, void *job, int slot, const char *model,
                          uint64_t seq, const struct requester *r);
void pick_remove(struct pick_index *ix, struct pick_ent *e);
/* The entry's job became queued / stopped being queued. */
void pick_queue(struct pick_index *ix, struct pick_ent *e);
void pick_unqueue(struct pick_index *ix, struct pick_ent *e);
/* The requester's cursor or first stamp changed (r is its new state). */
void pick_reorder(struct pick_index *ix, struct pick_ent *e, const struct requester *r);
/* A cursor move: the entry's cursor becomes `cursor`; its first stamp goes unless it is the
 * cursor block. 1 when the stamp went (the caller clears job->reqs[slot].first too). The
 * heaps are rebuilt by pick_settle, once for all the moves: call it after the last one
 * (every other call settles first anyway, so a forgotten settle costs time, not order). */
int pick_move_cursor(struct pick_index *ix, struct pick_ent *e, int cursor);
void pick_settle(struct pick_index *ix);
/* The requester (kind, id)'s entries, newest first: iterate with e->wnext. May remove the
 * current entry while iterating if the next one was read first. */
struct pick_ent *pick_entries_of(struct pick_index *ix, enum requester_kind kind, uint64_t id);
/* The next job in fair order among the queued jobs the filter accepts (NULL: all), or NULL.
 * Advances the round robin when it returns a job. */
void *pick_next(struct pick_index *ix, const struct take_filter *f);
#endif
