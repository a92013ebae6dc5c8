/* job — one synthesis of one variant, and the events that report its progress.
 * Ownership: a job lives inside a queue; workers get a `struct job_ticket` copy (they
 * never hold pointers into the queue). Events are created by the queue (any thread) and
 * consumed and freed by the service thread. */
#ifndef RECITE_JOB_H
#define RECITE_JOB_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Who a requester is. The fan-out of a job's result is explicit: pipeline_drain hands each
 * requester to the code of its kind. A requester is identified by (kind, id); ids of
 * different kinds are separate counters and may be equal. */
enum requester_kind {
    REQ_NONE = 0,   /* not set: submit refuses it (a forgotten kind is a bug, not a default) */
    REQ_CONN,       /* a WebSocket connection (id: its conn_id); statuses go to the socket */
    REQ_WAITER,     /* an HTTP request waiting for the audio (server/waiters.c: speech,
                       preview); answered when the job ends */
    REQ_EXPORT,     /* an export job waiting for its blocks (server/exports.c) */
    REQ_USER,       /* reserved: a user's background work (accounts) */
};

/* Who wants a variant: a connection's (or waiter's) block of a document. Never a socket
 * pointer. */
struct requester {
    enum requester_kind kind;
    uint64_t id;      /* the requester's id within its kind */
    char doc_id[40];
    int idx;
    int cursor;       /* the requester's cursor for ordering (nearest first) */
    uint64_t first;   /* nonzero: the cursor block of a new request (not cached) — it jumps
                         the connection's queue, the newest such block first. Callers set 1;
                         the queue replaces it with its own order stamp. */
    int64_t user_id;  /* whose request (users.id; 0 for none): fair share and quotas */
    int chars;        /* characters of the block's text: what a synthesis costs the user */
    int skip_refs;    /* REQ_CONN: the `skip_references` it asked with, echoed in its statuses
                         so a page tells an answer for its other setting apart */
};

/* What a worker needs to run a job. */
struct job_ticket {
    char hash[65];
    char model[32];
    char voice[64];
    char *text;          /* owned by the ticket */
    uint64_t attempt;    /* identifies this try; a stale completion is recognised by it */
    int tries;
};
void job_ticket_free(struct job_ticket *t);

enum job_event_type { JOB_EV_PROCESSING, JOB_EV_CACHED, JOB_EV_SKIPPED, JOB_EV_ERROR };

/* The outcome of a job as the worker reports it. */
struct job_result {
    enum job_event_type type;   /* CACHED, SKIPPED or ERROR */
    int64_t duration_ms;
    unsigned char *audio;       /* Ogg Opus bytes (owned) for the hot cache, may be NULL */
    size_t audio_len;
    char *word_timings;         /* JSON array text (owned), may be NULL */
    char error[256];
    bool synthesized;           /* false when the audio was already stored */
};

struct job_event {
    enum job_event_type type;
    char hash[65];
    char model[32];
    char voice[64];
    struct requester *reqs;     /* snapshot of who wanted it, owned */
    int nreqs;
    struct job_result result;   /* for CACHED/SKIPPED/ERROR */
    bool recoverable;
    struct job_event *next;
};
void job_event_free(struct job_event *ev);
void job_result_free(struct job_result *r);
#endif
