/* limits — see limits.h. Per-user state lives in an exact map keyed by user id
 * (util/idlemap.h): a rate bucket, the 30-day usage read from the store at most once a
 * minute, and the chars reserved by queued blocks. Memory is bounded: a user's entry goes
 * after IDLE_S seconds without a request, when it equals a fresh one (the bucket has refilled
 * in 60 s, a reservation is forgotten after RESERVE_TTL_S, usage is re-read from the store);
 * beyond MAX_USERS users active within IDLE_S the least recently active one is forgotten
 * (its bucket starts full again: only then does the limit err towards allowing).
 * Service thread only. Charges are written by the writer thread (app->writer): a batch a
 * second, handed over whole, so the service thread never waits behind a worker's insert.
 * A user's usage is re-read from the store (an indexed read) only while no batch is on its
 * way there — else a batch committed but not yet reported done would count twice; the
 * in-memory count meanwhile includes every charge, so nothing is lost by waiting. */
#include "server/limits.h"
#include "server/app.h"
#include "server/http.h"
#include "server/offload.h"
#include "store/store.h"
#include "util/idlemap.h"
#include "util/log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define USAGE_REFRESH_S 60
#define MAX_USERS 65536      /* users active within IDLE_S kept; ~200 bytes each */

struct user_slot {
    double tokens;           /* rate bucket: blocks that may still be requested */
    int64_t refilled_us;
    int64_t used;            /* chars in the window when loaded, plus charges since */
    int64_t oldest;          /* oldest counted use (unix s), 0 if none */
    int64_t loaded_at;       /* unix s; 0: not loaded */
    int64_t reserved;        /* chars of this user's blocks queued and not finished */
    int64_t reserved_at;     /* unix s of the last reservation */
};

#define RESERVE_TTL_S 120
#define IDLE_S (RESERVE_TTL_S + 1)   /* > the 60 s refill too */

struct limits {
    struct idlemap *users;   /* user id -> struct user_slot */
    struct usage_event *pending;   /* charges not yet handed to the writer */
    int npending, cap;
    int flushing;                  /* batches handed to the writer and not yet done */
    int64_t pruned_at;             /* unix s of the last pruning of expired usage rows */
};

struct limits *limits_create(void)
{
    struct limits *l = calloc(1, sizeof *l);
    if (l && !(l->users = idlemap_create(sizeof(struct user_slot), MAX_USERS, IDLE_S))) {
        free(l);
        return NULL;
    }
    return l;
}

size_t limits_tracked(const struct limits *l)
{
    return idlemap_count(l->users);
}

void limits_destroy(struct limits *l)
{
    if (!l)
        return;
    idlemap_destroy(l->users);
    free(l->pending);
    free(l);
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The user's entry (a fresh one: a full bucket); NULL only when out of memory. */
static struct user_slot *slot_of(struct limits *l, int64_t user, int rate)
{
    int64_t t = now_us();
    int created;
    struct user_slot *s = idlemap_get(l->users, &user, sizeof user, t / 1000000, &created);
    if (s && created) {
        s->tokens = rate;
        s->refilled_us = t;
    }
    return s;
}

#define PRUNE_EVERY_S 3600

struct usage_batch {
    struct offload_task task;
    struct app *app;
    struct usage_event *ev;
    int n, rc;
    int64_t prune_before;          /* > 0: also delete rows older than this (hourly) */
};

static void usage_work(struct offload_task *t, void *thread_ctx)
{
    struct usage_batch *b = offload_container(t, struct usage_batch, task);
    b->rc = store_usage_add(thread_ctx, b->ev, b->n);
    int removed;   /* rows that left every window: without this the table only grew */
    if (b->prune_before > 0 && store_usage_prune(thread_ctx, b->prune_before, &removed))
        log_warn("could not prune expired usage rows (next try in an hour)");
}

static void usage_done(struct offload_task *t, int status)
{
    struct usage_batch *b = offload_container(t, struct usage_batch, task);
    if (b->rc)
        log_error("could not record %d synthesis charge%s (quotas undercount them)", b->n,
                  b->n == 1 ? "" : "s");
    if (status == 0 && b->app->limits)
        b->app->limits->flushing--;
    free(b->ev);
    free(b);
}

void limits_flush(struct app *app)
{
    struct limits *l = app->limits;
    if (!l || !l->npending)
        return;
    struct usage_batch *b = calloc(1, sizeof *b);
    if (!b)
        return;   /* kept: the next tick tries again */
    *b = (struct usage_batch){ .app = app, .ev = l->pending, .n = l->npending };
    int64_t now = (int64_t)time(NULL);
    if (now - l->pruned_at >= PRUNE_EVERY_S) {
        b->prune_before = now - LIMITS_WINDOW_SECONDS;
        l->pruned_at = now;
    }
    if (!app->writer) {   /* no loop (a tool, a test): write here */
        usage_work(&b->task, app->store);
        usage_done(&b->task, OFFLOAD_STOPPED);
    } else if (offload_submit(app->writer, &b->task, usage_work, usage_done)) {
        free(b);
        return;
    } else {
        l->flushing++;
    }
    l->pending = NULL;   /* the batch owns them now */
    l->npending = l->cap = 0;
}

/* This user's charges not yet handed to the writer. */
static int64_t pending_chars(const struct limits *l, int64_t user)
{
    int64_t n = 0;
    for (int i = 0; i < l->npending; i++)
        if (l->pending[i].user_id == user)
            n += l->pending[i].chars;
    return n;
}

/* The slot with its usage no older than USAGE_REFRESH_S. */
static struct user_slot *usage_slot(struct app *app, int64_t user)
{
    struct limits *l = app->limits;
    struct user_slot *s = slot_of(l, user, app->cfg->rate_blocks);
    int64_t now = (int64_t)time(NULL);
    /* a loaded count waits for the writer (see the top); a first load cannot, and needs
     * not: a charge touches its user's slot, so a batch in flight holds charges of a user
     * without a slot only if more than MAX_USERS users were active since (then at most one
     * second's charges are missed) */
    if (s && (!s->loaded_at || (!l->flushing && (now - s->loaded_at >= USAGE_REFRESH_S ||
        (s->oldest && s->oldest + LIMITS_WINDOW_SECONDS <= now))))) {
        int64_t used = 0, oldest = 0;
        if (store_usage_sum(app->store, user, now - LIMITS_WINDOW_SECONDS, &used, &oldest) == 0) {
            int64_t mine = pending_chars(l, user);
            s->used = used + mine;
            s->oldest = oldest ? oldest : (mine ? now : 0);
            s->loaded_at = now;
        }
    }
    return s;
}

static struct limits_usage usage_of(const struct user_slot *s)
{
    return (struct limits_usage){ s->used, s->oldest ? s->oldest + LIMITS_WINDOW_SECONDS : 0 };
}

void limits_usage(struct app *app, int64_t user, struct limits_usage *out)
{
    memset(out, 0, sizeof *out);
    if (!app->limits)
        return;
    struct user_slot *s = usage_slot(app, user);
    if (!s)
        return;
    *out = usage_of(s);
}

int limits_take_block(struct app *app, int64_t user, int *retry_s)
{
    int rate = app->cfg->rate_blocks;
    if (rate <= 0 || !app->limits)
        return 0;
    struct user_slot *s = slot_of(app->limits, user, rate);
    if (!s)
        return 0;
    int64_t t = now_us();
    s->tokens += (double)(t - s->refilled_us) * rate / 60e6;
    if (s->tokens > rate)
        s->tokens = rate;
    s->refilled_us = t;
    if (s->tokens >= 1) {
        s->tokens -= 1;
        return 0;
    }
    *retry_s = (int)((1 - s->tokens) * 60 / rate) + 1;
    return -1;
}

int limits_http_block(struct http_req *r, int *rc)
{
    int retry_s;
    if (!limits_take_block(r->app, r->user_id, &retry_s))
        return 0;
    char ra[16], msg[160];
    snprintf(ra, sizeof ra, "%d", retry_s);
    snprintf(msg, sizeof msg, "too many blocks (at most %d a minute): retry in %d s",
             r->app->cfg->rate_blocks, retry_s);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    char *t = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    struct http_header h[] = { { "retry-after", ra } };
    *rc = t ? http_reply(r, 429, "application/json", (unsigned char *)t, strlen(t), h, 1) : -1;
    return 1;
}

int limits_quota_check(struct app *app, int64_t user, char *msg, size_t msglen)
{
    int quota = app->cfg->quota_chars;
    if (quota <= 0)
        return 0;
    struct user_slot *s = usage_slot(app, user);   /* once: limits_usage would look it up again */
    if (!s)
        return 0;
    struct limits_usage u = usage_of(s);
    if (s->reserved && (int64_t)time(NULL) - s->reserved_at > RESERVE_TTL_S)
        s->reserved = 0;   /* releases that never came (evicted, disconnected) */
    if (u.used_chars + s->reserved < quota)
        return 0;
    /* spent by blocks still queued: their use will count from about now */
    char when[32] = "";
    time_t t = (time_t)(u.resets_at ? u.resets_at : (int64_t)time(NULL) + LIMITS_WINDOW_SECONDS);
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
    snprintf(msg, msglen, "your quota of %d characters per 30 days is used up; it resets at %s",
             quota, when);
    return -1;
}

void limits_reserve(struct app *app, int64_t user, int chars)
{
    if (!app->limits || app->cfg->quota_chars <= 0 || user <= 0)
        return;
    struct user_slot *s = slot_of(app->limits, user, app->cfg->rate_blocks);
    if (!s)
        return;
    s->reserved += chars;
    s->reserved_at = (int64_t)time(NULL);
}

void limits_release(struct app *app, int64_t user, int chars)
{
    if (!app->limits || app->cfg->quota_chars <= 0 || user <= 0)
        return;
    struct user_slot *s = slot_of(app->limits, user, app->cfg->rate_blocks);
    if (!s)
        return;
    s->reserved = s->reserved > chars ? s->reserved - chars : 0;
}

void limits_charge(struct app *app, int64_t user, int64_t chars)
{
    struct limits *l = app->limits;
    if (!l || user <= 0 || chars <= 0)
        return;
    if (l->npending == l->cap) {
        int cap = l->cap ? l->cap * 2 : 64;
        struct usage_event *grown = realloc(l->pending, (size_t)cap * sizeof *grown);
        if (!grown)
            return;
        l->pending = grown;
        l->cap = cap;
    }
    int64_t now = (int64_t)time(NULL);
    l->pending[l->npending++] = (struct usage_event){ user, now, chars };
    struct user_slot *s = slot_of(l, user, app->cfg->rate_blocks);
    if (s && s->loaded_at) {
        s->used += chars;
        if (!s->oldest)
            s->oldest = now;
    }
}
