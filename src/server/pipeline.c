/* pipeline — see pipeline.h. For each requested block: out of range or nothing to say ->
 * skipped; audio in the hot cache or store -> cached at once; else the queue either
 * creates a job (queued) or adds this requester to the job already queued or running
 * (queued/processing): one synthesis per variant, whoever asks. Service thread only. */
#include "server/pipeline.h"
#include "server/app.h"
#include "server/conns.h"
#include "server/hotcache.h"
#include "server/limits.h"
#include "server/offload.h"
#include "server/protocol.h"
#include "server/session.h"
#include "server/waiters.h"
#include "server/exports.h"
#include "server/ws.h"
#include "doc/refs.h"
#include "engines/engine.h"
#include "jobs/queue.h"
#include "store/store.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/utf8.h"
#include <cjson/cJSON.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void send_json(struct app *app, uint64_t conn_id, cJSON *o)
{
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (text) {
        ws_send(app, conn_id, text, strlen(text));
        free(text);
    }
}

static void send_error(struct app *app, uint64_t conn_id, const char *doc_id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void send_error(struct app *app, uint64_t conn_id, const char *doc_id, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, F_TYPE, MSG_ERROR);
    cJSON_AddStringToObject(o, F_ERROR, msg);
    if (doc_id)
        cJSON_AddStringToObject(o, F_DOCUMENT_ID, doc_id);
    send_json(app, conn_id, o);
}

struct status_info {
    const char *status;
    const char *hash;           /* for cached */
    int64_t duration_ms;
    const char *word_timings;   /* JSON text */
    const char *error;
    int recoverable;
    int skip_refs;              /* the setting the status answers for (always sent) */
    const char *spoken_text;    /* synthesize_locally: the text the page is to speak */
};

static void send_status(struct app *app, uint64_t conn_id, const char *doc_id, int idx,
                        const char *model, const char *voice, const struct status_info *si)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, F_TYPE, MSG_STATUS);
    cJSON_AddStringToObject(o, F_DOCUMENT_ID, doc_id);
    cJSON_AddNumberToObject(o, F_BLOCK_IDX, idx);
    cJSON_AddStringToObject(o, F_STATUS, si->status);
    cJSON_AddStringToObject(o, F_MODEL, model);
    cJSON_AddStringToObject(o, F_VOICE, voice);
    if (si->hash) {
        char url[96];
        snprintf(url, sizeof url, "/v1/audio/%s", si->hash);
        cJSON_AddStringToObject(o, F_AUDIO_URL, url);
        cJSON_AddNumberToObject(o, F_DURATION_MS, (double)si->duration_ms);
        if (si->word_timings)
            cJSON_AddRawToObject(o, F_WORD_TIMINGS, si->word_timings);
    }
    if (si->error) {
        cJSON_AddStringToObject(o, F_ERROR, si->error);
        cJSON_AddBoolToObject(o, F_RECOVERABLE, si->recoverable);
    }
    /* Blocks with references have other audio per setting; an answer for the setting the
     * page just left (a job finishing late) must not be played for the new one. */
    cJSON_AddBoolToObject(o, F_SKIP_REFERENCES, si->skip_refs);
    if (si->spoken_text)
        cJSON_AddStringToObject(o, F_SPOKEN_TEXT, si->spoken_text);
    send_json(app, conn_id, o);
}

/* Groups evictions by (doc, model, voice) into `evicted` messages and frees the list. */
/* Quota reservations (limits.h), also kept per connection so that whatever a closing
 * socket still had queued is released with it. sign: 1 reserve, -1 release. */
static void reserve(struct app *app, uint64_t conn, int64_t user, int chars, int sign)
{
    struct session *s = conns_get(app->conns, conn);
    if (sign > 0)
        limits_reserve(app, user, chars);
    else
        limits_release(app, user, chars);
    if (s)
        s->ws.reserved += sign * chars;
}

static void send_evicted(struct app *app, struct evicted *ev, int n)
{
    for (int i = 0; i < n; i++)   /* evicted blocks give their reservation back */
        reserve(app, ev[i].conn_id, ev[i].user_id, ev[i].chars, -1);
    for (int i = 0; i < n; i++) {
        if (ev[i].idx < 0)
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, F_TYPE, MSG_EVICTED);
        cJSON_AddStringToObject(o, F_DOCUMENT_ID, ev[i].doc_id);
        cJSON *arr = cJSON_AddArrayToObject(o, F_BLOCK_INDICES);
        cJSON_AddStringToObject(o, F_MODEL, ev[i].model);
        cJSON_AddStringToObject(o, F_VOICE, ev[i].voice);
        uint64_t conn = ev[i].conn_id;
        for (int j = i; j < n; j++) {
            if (ev[j].idx < 0 || ev[j].conn_id != conn || strcmp(ev[j].doc_id, ev[i].doc_id) ||
                strcmp(ev[j].model, ev[i].model) || strcmp(ev[j].voice, ev[i].voice) ||
                ev[j].skip_refs != ev[i].skip_refs)
                continue;
            cJSON_AddItemToArray(arr, cJSON_CreateNumber(ev[j].idx));
            if (j != i)
                ev[j].idx = -1;
        }
        ev[i].idx = -1;
        cJSON_AddBoolToObject(o, F_SKIP_REFERENCES, ev[i].skip_refs);   /* as in `status` */
        METRIC_ADD(&app->metrics, evictions, (uint64_t)cJSON_GetArraySize(arr));
        send_json(app, conn, o);
    }
    free(ev);
}

/* An integral JSON number in int range. The range is checked before the cast: casting
 * an out-of-range double (1e400 parses as inf) is undefined behaviour (found by fuzzing). */
static int json_int(const cJSON *v, int *out)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= INT_MIN && v->valuedouble <= INT_MAX) ||
        v->valuedouble != (double)(int)v->valuedouble)
        return -1;
    *out = (int)v->valuedouble;
    return 0;
}

static int get_int(const cJSON *o, const char *name, int *out)
{
    return json_int(cJSON_GetObjectItemCaseSensitive(o, name), out);
}

static const char *get_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* An optional string field: absent or null gives the default; another type is an error. */
static int opt_str(const cJSON *o, const char *name, const char *def, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!v || cJSON_IsNull(v)) {
        *out = def;
        return 0;
    }
    if (!cJSON_IsString(v))
        return -1;
    *out = v->valuestring;
    return 0;
}

/* Checks document_id and that the document exists and is the user's (another user's
 * document is "unknown" exactly like a missing one); sends the error otherwise. */
static const char *get_document(struct app *app, uint64_t conn, int64_t user, const cJSON *msg,
                                int *count)
{
    const char *doc_id = get_str(msg, F_DOCUMENT_ID);
    if (!doc_id) {
        send_error(app, conn, NULL, "`document_id` must be a string");
        return NULL;
    }
    if (!ids_is_uuid(doc_id) || store_doc_block_count(app->store, user, doc_id, count) != 0) {
        send_error(app, conn, ids_is_uuid(doc_id) ? doc_id : NULL, "unknown document");
        return NULL;
    }
    return doc_id;
}

static int only_space(const char *s)
{
    for (; *s; s++)
        if (!strchr(" \t\r\n\f\v", *s))
            return 0;
    return 1;
}

/* The text of a block to speak, malloc'd; NULL (after sending `skipped`) when the index is
 * out of range or the block has nothing to say. With skip_refs, citation markers, footnote
 * references and bare URLs are blanked (refs.h): the variant is what is actually spoken,
 * and word timings still point into the shown text. */
static char *speakable_text(struct app *app, uint64_t conn, int64_t user, const char *doc_id,
                            int idx, int count, const char *model, const char *voice, int skip_refs)
{
    char *text = NULL;
    int found = idx >= 0 && idx < count && store_block_text(app->store, user, doc_id, idx, &text) == 0;
    if (found && skip_refs)
        refs_blank(text);
    if (!found || only_space(text)) {
        free(text);
        struct status_info si = { .status = ST_SKIPPED, .skip_refs = skip_refs };
        send_status(app, conn, doc_id, idx, model, voice, &si);
        return NULL;
    }
    return text;
}

/* synthesis_mode "browser": what this user uploaded is `cached`; anything else the page
 * synthesizes itself (`synthesize_locally`, with the text to speak: references blanked by
 * the same rule as here, so the upload — sent with the same setting — hashes the same).
 * Nothing is queued: server and browser audio never mix. */
static void answer_browser_block(struct app *app, uint64_t conn, int64_t user, const char *doc_id,
                                 int idx, int count, const char *model, const char *voice,
                                 int skip_refs)
{
    char *text = speakable_text(app, conn, user, doc_id, idx, count, model, voice, skip_refs);
    if (!text)
        return;
    char hash[65];
    ids_upload_hash(text, model, voice, user, hash);
    struct audio_record rec = { 0 };
    struct status_info si = { .status = ST_SYNTHESIZE_LOCALLY, .skip_refs = skip_refs,
                              .spoken_text = text };
    if (store_audio_meta(app->store, hash, &rec) == 0 && rec.owner == user) {
        si.status = ST_CACHED;
        si.hash = hash;
        si.duration_ms = rec.duration_ms;
        si.word_timings = rec.word_timings;
        si.spoken_text = NULL;
    }
    send_status(app, conn, doc_id, idx, model, voice, &si);
    audio_record_free(&rec);
    free(text);
}

static void answer_block(struct app *app, uint64_t conn, int64_t user, const char *doc_id, int idx,
                         int count, int cursor, const char *model, const char *voice, int skip_refs)
{
    struct status_info si = { .skip_refs = skip_refs };
    char why[192];
    int retry_s;
    if (limits_take_block(app, user, &retry_s)) {
        /* --rate-blocks: every requested block counts; this one is not looked at or queued */
        snprintf(why, sizeof why, "too many blocks requested (at most %d a minute): retry in %d s",
                 app->cfg->rate_blocks, retry_s);
        si = (struct status_info){ .status = ST_ERROR, .error = why, .recoverable = 1,
                                   .skip_refs = skip_refs };
        send_status(app, conn, doc_id, idx, model, voice, &si);
        return;
    }
    char *text = speakable_text(app, conn, user, doc_id, idx, count, model, voice, skip_refs);
    if (!text)
        return;
    char hash[65];
    ids_variant_hash(text, model, voice, "", hash);
    const struct hot_entry *e = hotcache_get(app->hot, hash);
    struct audio_record rec = { 0 };
    if (e || store_audio_meta(app->store, hash, &rec) == 0) {
        METRIC_ADD(&app->metrics, cache_hits, 1);
        si.status = ST_CACHED;
        si.hash = hash;
        si.duration_ms = e ? e->duration_ms : rec.duration_ms;
        si.word_timings = e ? e->word_timings : rec.word_timings;
        send_status(app, conn, doc_id, idx, model, voice, &si);
        audio_record_free(&rec);
        free(text);
        return;
    }
    METRIC_ADD(&app->metrics, cache_misses, 1);
    /* The block the reader waits for jumps this connection's queue (older prefetch waits). */
    struct requester r = { .kind = REQ_CONN, .id = conn, .idx = idx, .cursor = cursor,
                           .first = idx == cursor, .user_id = user,
                           .chars = (int)utf8_codepoints(text, strlen(text)),
                           .skip_refs = skip_refs };
    snprintf(r.doc_id, sizeof r.doc_id, "%s", doc_id);
    enum submit_state state;
    if (limits_quota_check(app, user, why, sizeof why)) {
        /* --quota-chars spent: not recoverable, the page stops and says why */
        si = (struct status_info){ .status = ST_ERROR, .error = why, .recoverable = 0,
                                   .skip_refs = skip_refs };
    } else if (app->queue->ops->submit(app->queue, hash, model, voice, text, &r, &state)) {
        si.status = ST_ERROR;
        si.error = "could not queue the block";
        si.recoverable = 1;
    } else {
        si.status = state == SUBMIT_PROCESSING ? ST_PROCESSING : ST_QUEUED;
        reserve(app, conn, user, r.chars, 1);   /* counts against the quota until it ends */
    }
    free(text);
    send_status(app, conn, doc_id, idx, model, voice, &si);
}

/* model, voice (canonical slugs) and m from a message; sends the error and returns -1. */
static int resolve_voice(struct app *app, uint64_t conn, const char *doc_id, const cJSON *msg,
                         const char **model, const char **voice, const char **mode,
                         const struct model **m)
{
    if (opt_str(msg, F_MODEL, ENGINE_DEFAULT_MODEL, model) ||
        opt_str(msg, F_VOICE, ENGINE_DEFAULT_VOICE, voice) ||
        opt_str(msg, F_SYNTHESIS_MODE, NULL, mode)) {
        send_error(app, conn, doc_id, "`model`, `voice` and `synthesis_mode` must be strings");
        return -1;
    }
    *m = engines_find(*model);
    if (!*m) {
        send_error(app, conn, doc_id, "unknown model \"%.40s\"", *model);
        return -1;
    }
    const struct voice_info *vi = model_find_voice(*m, *voice);
    if (!vi) {
        send_error(app, conn, doc_id, "unknown voice \"%.60s\" for model %s", *voice, *model);
        return -1;
    }
    /* one identity per voice: the canonical slug names the variant and every status */
    *model = (*m)->ops->slug;
    *voice = vi->slug;
    if (!*mode)   /* not given: the mode the model takes (`browser` for the page's voices) */
        *mode = ((*m)->ops->flags & ENGINE_IN_PAGE) ? MODE_BROWSER : MODE_SERVER;
    return 0;
}

/* block_indices as ints into idx[max]; the count, or -1 after sending the error. */
static int get_indices(struct app *app, uint64_t conn, const char *doc_id, const cJSON *msg,
                       int *idx, int max, const char *what)
{
    const cJSON *indices = cJSON_GetObjectItemCaseSensitive(msg, F_BLOCK_INDICES);
    if (!cJSON_IsArray(indices)) {
        send_error(app, conn, doc_id, "`block_indices` must be an array of integers");
        return -1;
    }
    int n = cJSON_GetArraySize(indices);
    if (n > max) {
        send_error(app, conn, doc_id, "at most %d block indices per %s (got %d)", max, what, n);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (json_int(cJSON_GetArrayItem(indices, i), &idx[i])) {
            send_error(app, conn, doc_id, "`block_indices` must be an array of integers");
            return -1;
        }
    }
    return n;
}

/* query_states (protocol.h): what exists already, answered from the hot cache and the
 * store exactly as synthesize would, with no job, no rate-limit charge and no eviction. */
static void on_query_states(struct app *app, uint64_t conn, int64_t user, const cJSON *msg)
{
    int count, idx[WS_MAX_QUERY];
    const char *doc_id = get_document(app, conn, user, msg, &count);
    if (!doc_id)
        return;
    int n = get_indices(app, conn, doc_id, msg, idx, WS_MAX_QUERY, MSG_QUERY_STATES);
    const char *model, *voice, *mode;
    const struct model *m;
    if (n < 0 || resolve_voice(app, conn, doc_id, msg, &model, &voice, &mode, &m))
        return;
    int in_page = (m->ops->flags & ENGINE_IN_PAGE) != 0;   /* then: this user's uploads */
    const cJSON *skip = cJSON_GetObjectItemCaseSensitive(msg, F_SKIP_REFERENCES);
    for (int i = 0; i < n; i++) {
        char *text = speakable_text(app, conn, user, doc_id, idx[i], count, model, voice,
                                    cJSON_IsTrue(skip));
        if (!text)
            continue;   /* `skipped` was sent */
        char hash[65];
        if (in_page)
            ids_upload_hash(text, model, voice, user, hash);
        else
            ids_variant_hash(text, model, voice, "", hash);
        free(text);
        const struct hot_entry *e = in_page ? NULL : hotcache_get(app->hot, hash);
        struct audio_record rec = { 0 };
        if (e || (store_audio_meta(app->store, hash, &rec) == 0 && (!in_page || rec.owner == user))) {
            struct status_info si = { .status = ST_CACHED, .hash = hash,
                                      .duration_ms = e ? e->duration_ms : rec.duration_ms,
                                      .word_timings = e ? e->word_timings : rec.word_timings,
                                      .skip_refs = cJSON_IsTrue(skip) };
            send_status(app, conn, doc_id, idx[i], model, voice, &si);
        }
        audio_record_free(&rec);
    }
}

static void on_synthesize(struct app *app, uint64_t conn, int64_t user, const cJSON *msg)
{
    int count;
    const char *doc_id = get_document(app, conn, user, msg, &count);
    if (!doc_id)
        return;
    int idx[WS_MAX_INDICES];
    int n = get_indices(app, conn, doc_id, msg, idx, WS_MAX_INDICES, MSG_SYNTHESIZE);
    if (n < 0)
        return;
    int cursor;
    const cJSON *cv = cJSON_GetObjectItemCaseSensitive(msg, F_CURSOR);
    if (!cv || cJSON_IsNull(cv))
        cursor = n ? idx[0] : 0;
    else if (get_int(msg, F_CURSOR, &cursor)) {
        send_error(app, conn, doc_id, "`cursor` must be an integer");
        return;
    }
    const char *model, *voice, *mode;
    const struct model *m;
    if (resolve_voice(app, conn, doc_id, msg, &model, &voice, &mode, &m))
        return;
    const cJSON *skip = cJSON_GetObjectItemCaseSensitive(msg, F_SKIP_REFERENCES);
    if (skip && !cJSON_IsBool(skip) && !cJSON_IsNull(skip)) {
        send_error(app, conn, doc_id, "`skip_references` must be true or false");
        return;
    }
    int browser = !strcmp(mode, MODE_BROWSER);
    if (!browser && strcmp(mode, MODE_SERVER)) {
        send_error(app, conn, doc_id, "synthesis_mode must be \"server\" or \"browser\" (got \"%.20s\")", mode);
        return;
    }
    if (browser != !!(m->ops->flags & ENGINE_IN_PAGE)) {
        if (browser)
            send_error(app, conn, doc_id, "synthesis_mode \"browser\" needs model \"%s\" (got \"%s\")",
                       ENGINE_BROWSER_MODEL, model);
        else
            send_error(app, conn, doc_id, "model \"%s\" is synthesized in the page: send synthesis_mode \"browser\"",
                       model);
        return;
    }
    /* A voice switch: this connection's queued jobs for the document in another voice go. */
    struct evicted *ev = NULL;
    int nev = 0;
    app->queue->ops->evict_other_voices(app->queue, conn, doc_id, model, voice, -1, &ev, &nev);
    /* The cursor orders this connection's queued jobs (nearest first). */
    app->queue->ops->evict_window(app->queue, conn, doc_id, cursor, INT_MIN, INT_MAX, &ev, &nev);
    send_evicted(app, ev, nev);
    for (int i = 0; i < n; i++) {
        if (browser)
            answer_browser_block(app, conn, user, doc_id, idx[i], count, model, voice,
                                 cJSON_IsTrue(skip));
        else
            answer_block(app, conn, user, doc_id, idx[i], count, cursor, model, voice, cJSON_IsTrue(skip));
    }
    /* The skip setting flipped: this connection's queued jobs asked with the other one go
     * too. After the answers, since a job without references is the same audio either way
     * and asking again for it (above) moved its requester to this setting. */
    ev = NULL;
    nev = 0;
    if (!browser)
        app->queue->ops->evict_other_voices(app->queue, conn, doc_id, model, voice, cJSON_IsTrue(skip),
                                            &ev, &nev);
    send_evicted(app, ev, nev);
}

static void on_cursor_moved(struct app *app, uint64_t conn, int64_t user, const cJSON *msg)
{
    int count, cursor;
    const char *doc_id = get_document(app, conn, user, msg, &count);
    if (!doc_id)
        return;
    if (get_int(msg, F_CURSOR, &cursor)) {
        send_error(app, conn, doc_id, "`cursor` must be an integer");
        return;
    }
    struct evicted *ev = NULL;
    int nev = 0;
    long lo = (long)cursor - app->cfg->buffer_behind, hi = (long)cursor + app->cfg->buffer_ahead;
    app->queue->ops->evict_window(app->queue, conn, doc_id, cursor, lo < INT_MIN ? INT_MIN : (int)lo,
                                  hi > INT_MAX ? INT_MAX : (int)hi, &ev, &nev);
    send_evicted(app, ev, nev);
}

void pipeline_on_message(struct app *app, uint64_t conn, int64_t user, const char *text,
                         size_t len)
{
    METRIC_ADD(&app->metrics, ws_messages, 1);
    cJSON *msg = cJSON_ParseWithLength(text, len);
    if (!msg || !cJSON_IsObject(msg)) {
        send_error(app, conn, NULL, "message is not a JSON object");
        cJSON_Delete(msg);
        return;
    }
    const char *type = get_str(msg, F_TYPE);
    if (!type)
        send_error(app, conn, NULL, "message has no `type`");
    else if (!strcmp(type, MSG_SYNTHESIZE))
        on_synthesize(app, conn, user, msg);
    else if (!strcmp(type, MSG_CURSOR_MOVED))
        on_cursor_moved(app, conn, user, msg);
    else if (!strcmp(type, MSG_QUERY_STATES))
        on_query_states(app, conn, user, msg);
    else
        send_error(app, conn, NULL, "unknown message type \"%.40s\"", type);
    cJSON_Delete(msg);
}

void pipeline_on_close(struct app *app, uint64_t conn)
{
    struct session *s = conns_get(app->conns, conn);
    if (s && s->ws.reserved > 0)   /* its queued blocks go with it: so do their reservations */
        limits_release(app, s->user_id, (int)s->ws.reserved);
    app->queue->ops->gone(app->queue, REQ_CONN, conn);
}

/* A worker synthesized the block: it costs its text's characters once, to the first
 * requester with a user (whoever joined the job later got it free, as a dedup join). */
static void charge(struct app *app, const struct job_event *ev)
{
    for (int i = 0; i < ev->nreqs; i++)
        if (ev->reqs[i].user_id > 0) {
            limits_charge(app, ev->reqs[i].user_id, ev->reqs[i].chars);
            return;
        }
}

void pipeline_drain(struct app *app)
{
    struct job_event *list = app->queue->ops->drain(app->queue);
    for (struct job_event *ev = list; ev; ev = ev->next) {
        struct status_info si = { 0 };
        switch (ev->type) {
        case JOB_EV_PROCESSING:
            si.status = ST_PROCESSING;
            break;
        case JOB_EV_CACHED:
            METRIC_ADD(&app->metrics, jobs_done, 1);
            if (ev->result.synthesized)
                charge(app, ev);
            si.status = ST_CACHED;
            si.hash = ev->hash;
            si.duration_ms = ev->result.duration_ms;
            si.word_timings = ev->result.word_timings;
            break;
        case JOB_EV_SKIPPED:
            METRIC_ADD(&app->metrics, jobs_done, 1);
            si.status = ST_SKIPPED;
            break;
        case JOB_EV_ERROR:
            METRIC_ADD(&app->metrics, jobs_failed, 1);
            si.status = ST_ERROR;
            si.error = ev->result.error[0] ? ev->result.error : "synthesis failed";
            si.recoverable = ev->recoverable;
            break;
        }
        /* The fan-out: each requester is told by the code of its kind. */
        for (int i = 0; i < ev->nreqs; i++) {
            const struct requester *rq = &ev->reqs[i];
            switch (rq->kind) {
            case REQ_CONN:     /* a WebSocket: a status message (dropped if it has gone) */
                if (ev->type != JOB_EV_PROCESSING)
                    reserve(app, rq->id, rq->user_id, rq->chars, -1);
                si.skip_refs = rq->skip_refs;
                send_status(app, rq->id, rq->doc_id, rq->idx, ev->model, ev->voice, &si);
                break;
            case REQ_WAITER:   /* an HTTP request (speech, preview): answered when final */
                if (ev->type != JOB_EV_PROCESSING)
                    limits_release(app, rq->user_id, rq->chars);
                waiters_on_event(app, ev, rq->id);
                break;
            case REQ_EXPORT:   /* a server export's block (exports.c) */
                exports_on_event(app, ev, rq->id, rq->idx);
                break;
            case REQ_NONE:
            case REQ_USER:
                break;
            }
        }
        if (ev->type == JOB_EV_CACHED && ev->result.audio) {
            /* the hot cache takes the bytes the worker just encoded */
            hotcache_put(app->hot, ev->hash, ev->result.audio, ev->result.audio_len,
                         ev->result.duration_ms, ev->result.word_timings);
            ev->result.audio = NULL;
            ev->result.word_timings = NULL;
        }
    }
    job_event_free(list);
    offload_drain(app->offload);   /* conversions and other request work that finished */
    offload_drain(app->writer);    /* position saves, deletes */
    offload_drain(app->spooler);   /* upload writes: resume reading, answer a finished upload */
}
