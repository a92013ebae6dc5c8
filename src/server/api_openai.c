/* api_openai — POST /v1/audio/speech and GET /v1/audio/voices (OpenAI-compatible), and the
 * HTTP waiters shared with the preview endpoint. See api_openai.h for the shape.
 *
 * A speech request is checked, hashed like a block (sha256(input|model|voice|), so the
 * reader and the API share one cache), and answered from the hot cache or the store when
 * the audio exists. Otherwise it becomes a waiter: a requester with its own conn_id in the
 * queue (deduplicated with every other requester of that variant), and the HTTP request
 * stays open, with no thread blocked, until the job's CACHED/SKIPPED/ERROR event arrives.
 * Speed and formats other than Ogg Opus are made from the stored Opus on the offload pool
 * (server/offload.c: decode, resample to 24 kHz, pitch-preserving tempo change, encode):
 * the stored variant is always the speed-1 Opus, as for the web player, which changes
 * speed itself.
 *
 * Threads: everything here runs on the service thread except convert_work (an offload
 * pool thread), which touches only its struct convert. A waiter holds its wsi and session
 * until the connection closes (speech_closed) or it is answered; a conversion whose
 * waiter has gone is only freed when it comes back.
 * Ownership: waiters belong to struct speech; a struct convert (the audio copy in, the
 * body out) belongs to the offload pool until convert_done frees it; result bodies move
 * into http_reply. */
#include "server/api_openai.h"
#include "server/app.h"
#include "server/hotcache.h"
#include "server/offload.h"
#include "server/http.h"
#include "server/session.h"
#include "audio/audio.h"
#include "engines/engine.h"
#include "jobs/queue.h"
#include "store/store.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/utf8.h"
#include <cjson/cJSON.h>
#include <libwebsockets.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAIT_TIMEOUT_S 300     /* a waiter's connection is closed after this long */
#define OUT_RATE 24000         /* pcm and wav answers, as OpenAI's */

enum fmt { FMT_OPUS, FMT_MP3, FMT_WAV, FMT_PCM, FMT_COUNT };
static const char *const fmt_name[FMT_COUNT] = { "opus", "mp3", "wav", "pcm" };
static const char *const fmt_ctype[FMT_COUNT] = { "audio/ogg", "audio/mpeg", "audio/wav",
                                                  "audio/pcm" };

enum kind { W_SPEECH, W_PREVIEW };

struct waiter {
    uint64_t id;
    struct lws *wsi;
    struct session *s;
    int method;
    enum kind kind;
    enum fmt fmt;
    double speed;
    char hash[65];
    char model[32];
    char *text;          /* preview: the sentence, for the answer */
    int converting;
    struct waiter *next;
};

struct speech {
    struct app *app;
    struct waiter *waiters;       /* service thread only */
    int nwaiters;
    uint64_t next_id;
};

/* ---- conversions (offload pool) ----------------------------------------------------- */

/* A format/speed conversion: the stored Opus in, the answer's body out. It names its
 * waiter by id: the client may have gone when it comes back. */
struct convert {
    struct offload_task task;
    struct app *app;
    uint64_t waiter_id;
    enum fmt fmt;
    double speed;
    unsigned char *opus;
    size_t len;
    int ok;
    struct buf body;
    int64_t duration_ms;
    char err[200];
};

static int encode_raw_pcm(const struct pcm *p, struct buf *out)
{
    for (size_t i = 0; i < p->count; i++) {
        unsigned char le[2] = { (unsigned char)(p->samples[i] & 0xff),
                                (unsigned char)((uint16_t)p->samples[i] >> 8) };
        if (buf_append(out, le, 2) < 0)
            return -1;
    }
    return 0;
}

/* Pool thread: decode, resample to 24 kHz, change the tempo, encode. */
static void convert_work(struct offload_task *task, void *thread_ctx)
{
    (void)thread_ctx;
    struct convert *c = offload_container(task, struct convert, task);
    struct pcm p;
    c->ok = 0;
    if (audio_decode(c->opus, c->len, &p, c->err, sizeof c->err) < 0)
        return;
    int rc = 0;
    if (pcm_resample(&p, OUT_RATE) < 0 || pcm_time_stretch(&p, c->speed) < 0) {
        snprintf(c->err, sizeof c->err, "out of memory");
        rc = -1;
    }
    if (rc == 0) {
        c->duration_ms = pcm_duration_ms(&p);
        switch (c->fmt) {
        case FMT_OPUS:
            rc = audio_encode_opus(&p, &c->body, c->err, sizeof c->err);
            break;
        case FMT_MP3:
            rc = audio_encode_mp3(&p, &c->body, c->err, sizeof c->err);
            break;
        case FMT_WAV:
            rc = audio_encode_wav(&p, &c->body, c->err, sizeof c->err);
            break;
        default:
            if ((rc = encode_raw_pcm(&p, &c->body)) < 0)
                snprintf(c->err, sizeof c->err, "out of memory");
        }
    }
    pcm_free(&p);
    c->ok = rc == 0;
}

static void convert_free(struct convert *c)
{
    free(c->opus);
    buf_free(&c->body);
    free(c);
}

static void convert_done(struct offload_task *task, int status);

struct speech *speech_create(struct app *app)
{
    struct speech *sp = calloc(1, sizeof *sp);
    if (!sp)
        return NULL;
    sp->app = app;
    sp->next_id = SPEECH_CONN_BASE;
    return sp;
}

static void waiter_free(struct waiter *w)
{
    free(w->text);
    free(w);
}

void speech_destroy(struct speech *sp)
{
    if (!sp)
        return;
    while (sp->waiters) {
        struct waiter *w = sp->waiters;
        sp->waiters = w->next;
        waiter_free(w);
    }
    free(sp);
}

/* ---- waiters (service thread) ---------------------------------------------------- */

static struct waiter *waiter_find(struct speech *sp, uint64_t id)
{
    for (struct waiter *w = sp->waiters; w; w = w->next)
        if (w->id == id)
            return w;
    return NULL;
}

static void waiter_remove(struct speech *sp, struct waiter *w)
{
    for (struct waiter **pp = &sp->waiters; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            sp->nwaiters--;
            waiter_free(w);
            return;
        }
}

/* The request the waiter answers, as http_reply expects it. */
static void waiter_req(struct app *app, const struct waiter *w, struct http_req *r)
{
    memset(r, 0, sizeof *r);
    r->app = app;
    r->wsi = w->wsi;
    r->s = w->s;
    r->method = w->method;
    r->path = w->s->http.path;
}

/* An answer outside the connection's own callback: a failure closes it asynchronously
 * (we cannot return -1 for it from here). The waiter is gone afterwards. */
static void finish_waiter(struct app *app, struct waiter *w, int rc)
{
    if (rc < 0)
        lws_set_timeout(w->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
    waiter_remove(app->speech, w);
}

static void waiter_error(struct app *app, struct waiter *w, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void waiter_error(struct app *app, struct waiter *w, int status, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct http_req r;
    waiter_req(app, w, &r);
    finish_waiter(app, w, http_reply_error(&r, status, "%s", msg));
}

/* 503 with Retry-After when --speech-max-pending requests are waiting already; else 0. */
static int busy(struct http_req *r, int *rc)
{
    struct speech *sp = r->app->speech;
    if (!sp) {
        *rc = http_reply_error(r, 503, "speech synthesis is not available");
        return 1;
    }
    if (sp->nwaiters < r->app->cfg->speech_max_pending)
        return 0;
    struct http_header h[] = { { "retry-after", "1" } };
    char msg[160];
    snprintf(msg, sizeof msg, "the server is busy (%d speech requests waiting); try again shortly",
             sp->nwaiters);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    char *t = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    *rc = t ? http_reply(r, 503, "application/json", (unsigned char *)t, strlen(t), h, 1) : -1;
    return 1;
}

/* A new waiter for r (NULL: out of memory). The connection now waits on us, not on the
 * client: lws must not time it out as idle meanwhile. */
static struct waiter *waiter_add(struct http_req *r, enum kind kind, enum fmt fmt, double speed,
                                 const char *hash, const char *model, const char *text)
{
    struct speech *sp = r->app->speech;
    struct waiter *w = calloc(1, sizeof *w);
    if (!w || (kind == W_PREVIEW && !(w->text = strdup(text)))) {
        free(w);
        return NULL;
    }
    w->id = sp->next_id++;
    w->wsi = r->wsi;
    w->s = r->s;
    w->method = r->method;
    w->kind = kind;
    w->fmt = fmt;
    w->speed = speed;
    memcpy(w->hash, hash, sizeof w->hash);
    snprintf(w->model, sizeof w->model, "%s", model);
    w->next = sp->waiters;
    sp->waiters = w;
    sp->nwaiters++;
    lws_set_timeout(r->wsi, PENDING_TIMEOUT_USER_OK, WAIT_TIMEOUT_S);
    return w;
}

/* Registers a waiter for (hash, model, voice, text) and submits it to the queue. Returns
 * what the HTTP callback must return: 0 while waiting, or an answered error. */
static int wait_for(struct http_req *r, enum kind kind, enum fmt fmt, double speed,
                    const char *hash, const char *model, const char *voice, const char *text)
{
    struct app *app = r->app;
    int rc;
    if (busy(r, &rc))
        return rc;
    struct waiter *w = waiter_add(r, kind, fmt, speed, hash, model, text);
    if (!w)
        return http_reply_error(r, 500, "out of memory");
    struct requester req = { .conn_id = w->id, .idx = 0, .cursor = 0 };
    enum submit_state st;
    if (app->queue->ops->submit(app->queue, hash, model, voice, text, &req, &st)) {
        waiter_remove(app->speech, w);
        lws_set_timeout(r->wsi, NO_PENDING_TIMEOUT, 0);
        return http_reply_error(r, 500, "could not queue the synthesis");
    }
    return 0;
}

/* Copies the variant's Ogg Opus from the event, the hot cache or the store. */
static int audio_bytes(struct app *app, const char *hash, const struct job_event *ev,
                       unsigned char **data, size_t *len)
{
    const unsigned char *src = NULL;
    size_t n = 0;
    if (ev && ev->result.audio) {
        src = ev->result.audio;
        n = ev->result.audio_len;
    } else {
        const struct hot_entry *e = hotcache_get(app->hot, hash);
        if (e) {
            src = e->data;
            n = e->len;
        }
    }
    if (src) {
        if (!(*data = malloc(n ? n : 1)))
            return -1;
        memcpy(*data, src, n);
        *len = n;
        return 0;
    }
    struct audio_record rec;
    if (store_audio_get(app->store, hash, &rec) != 0)
        return -1;
    *data = rec.data;
    *len = rec.len;
    rec.data = NULL;
    audio_record_free(&rec);
    return 0;
}

static void duration_header(char *buf, size_t len, int64_t ms)
{
    snprintf(buf, len, "%lld", (long long)ms);
}

/* Answers a speech waiter whose Ogg Opus exists: at once for opus at speed 1, else through
 * a conversion (offload pool). Returns what an HTTP callback would return (inline use), 0 if queued. */
static int answer_speech(struct app *app, struct http_req *r, struct waiter *w, enum fmt fmt,
                         double speed, const char *hash, const struct job_event *ev,
                         int64_t duration_ms)
{
    unsigned char *data = NULL;
    size_t len = 0;
    if (audio_bytes(app, hash, ev, &data, &len) < 0)
        return http_reply_error(r, 500, "could not read the audio");
    if (fmt == FMT_OPUS && fabs(speed - 1.0) < 1e-6) {
        char dur[24];
        duration_header(dur, sizeof dur, duration_ms);
        struct http_header h[] = { { "x-duration-ms", dur } };
        return http_reply(r, 200, fmt_ctype[fmt], data, len, h, 1);
    }
    struct convert *c = calloc(1, sizeof *c);
    if (!c) {
        free(data);
        return http_reply_error(r, 500, "out of memory");
    }
    c->app = app;
    c->waiter_id = w->id;
    c->fmt = fmt;
    c->speed = speed;
    c->opus = data;
    c->len = len;
    if (offload_submit(app->offload, &c->task, convert_work, convert_done) < 0) {
        convert_free(c);
        return http_reply_error(r, 503, "the server is shutting down");
    }
    w->converting = 1;
    return 0;
}

static int answer_preview(struct http_req *r, const char *hash, const char *text,
                          int64_t duration_ms, const char *word_timings)
{
    char url[96];
    snprintf(url, sizeof url, "/v1/audio/%s", hash);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "audio_url", url);
    cJSON_AddStringToObject(o, "text", text);
    cJSON_AddNumberToObject(o, "duration_ms", (double)duration_ms);
    if (word_timings)
        cJSON_AddRawToObject(o, "word_timings", word_timings);
    return http_reply_json(r, 200, o);
}

void speech_on_event(struct app *app, const struct job_event *ev)
{
    struct speech *sp = app->speech;
    if (!sp || ev->type == JOB_EV_PROCESSING)
        return;
    for (int i = 0; i < ev->nreqs; i++) {
        if (!speech_is_waiter(ev->reqs[i].conn_id))
            continue;
        struct waiter *w = waiter_find(sp, ev->reqs[i].conn_id);
        if (!w || w->converting)
            continue;
        struct http_req r;
        waiter_req(app, w, &r);
        if (ev->type == JOB_EV_SKIPPED) {
            waiter_error(app, w, 400, "the input has nothing to say");
        } else if (ev->type == JOB_EV_ERROR) {
            int upstream = !strcmp(w->model, "openai");
            waiter_error(app, w, upstream ? 502 : 500, "synthesis failed: %s",
                         ev->result.error[0] ? ev->result.error : "unknown error");
        } else if (w->kind == W_PREVIEW) {
            finish_waiter(app, w, answer_preview(&r, w->hash, w->text, ev->result.duration_ms,
                                                 ev->result.word_timings));
        } else {
            int rc = answer_speech(app, &r, w, w->fmt, w->speed, w->hash, ev,
                                   ev->result.duration_ms);
            if (!w->converting)
                finish_waiter(app, w, rc);
        }
    }
}

/* Service thread: a conversion came back. Its waiter may have gone (the client closed):
 * then the result is only freed. */
static void convert_done(struct offload_task *task, int status)
{
    struct convert *c = offload_container(task, struct convert, task);
    struct app *app = c->app;
    struct waiter *w = status == 0 && app->speech ? waiter_find(app->speech, c->waiter_id) : NULL;
    if (w) {
        struct http_req r;
        waiter_req(app, w, &r);
        if (!c->ok) {
            log_warn("speech: converting to %s failed: %s", fmt_name[c->fmt], c->err);
            finish_waiter(app, w, http_reply_error(&r, 500, "could not convert the audio: %s", c->err));
        } else {
            char dur[24];
            duration_header(dur, sizeof dur, c->duration_ms);
            struct http_header h[] = { { "x-duration-ms", dur } };
            unsigned char *body = c->body.data;
            size_t len = c->body.len;
            memset(&c->body, 0, sizeof c->body);
            finish_waiter(app, w, http_reply(&r, 200, fmt_ctype[c->fmt], body, len, h, 1));
        }
    }
    convert_free(c);
}

void speech_closed(struct app *app, struct session *s)
{
    struct speech *sp = app->speech;
    if (!sp)
        return;
    for (struct waiter *w = sp->waiters, *next; w; w = next) {
        next = w->next;
        if (w->s == s) {
            app->queue->ops->conn_gone(app->queue, w->id);   /* nobody else: job dropped */
            waiter_remove(sp, w);
        }
    }
}

/* ---- POST /v1/audio/speech ------------------------------------------------------- */

/* OpenAI's model names mean "the default model" here, so an OpenAI client works unchanged. */
static const struct model *speech_model(const char *name)
{
    static const char *const aliases[] = { "tts-1", "tts-1-hd", "gpt-4o-mini-tts" };
    for (size_t i = 0; i < sizeof aliases / sizeof *aliases; i++)
        if (!strcmp(name, aliases[i]))
            return engines_find(ENGINE_DEFAULT_MODEL);
    return engines_find(name);
}

static int only_space(const char *s)
{
    return s[strspn(s, " \t\r\n\f\v")] == '\0';
}

int api_speech(struct http_req *r)
{
    if (r->method != LWSHUMETH_POST)
        return http_reply_error(r, 405, "use POST for /v1/audio/speech");
    cJSON *j = cJSON_ParseWithLength((const char *)r->body, r->body_len);
    int rc;
    if (!cJSON_IsObject(j)) {
        rc = http_reply_error(r, 400, "the body must be a JSON object with model, input and voice");
        goto out;
    }
    const cJSON *jm = cJSON_GetObjectItemCaseSensitive(j, "model");
    const cJSON *ji = cJSON_GetObjectItemCaseSensitive(j, "input");
    const cJSON *jv = cJSON_GetObjectItemCaseSensitive(j, "voice");
    const cJSON *jf = cJSON_GetObjectItemCaseSensitive(j, "response_format");
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(j, "speed");
    if (!cJSON_IsString(ji)) {
        rc = http_reply_error(r, 400, "`input` must be a string");
        goto out;
    }
    size_t ilen = strlen(ji->valuestring);
    if (!utf8_valid(ji->valuestring, ilen)) {
        rc = http_reply_error(r, 400, "`input` is not valid UTF-8");
        goto out;
    }
    if (only_space(ji->valuestring)) {
        rc = http_reply_error(r, 400, "`input` is empty");
        goto out;
    }
    size_t nchars = utf8_codepoints(ji->valuestring, ilen);
    if (nchars > SPEECH_MAX_INPUT) {
        rc = http_reply_error(r, 400, "`input` is %zu characters long; the maximum is %d",
                              nchars, SPEECH_MAX_INPUT);
        goto out;
    }
    const char *mname = jm && !cJSON_IsNull(jm) ? (cJSON_IsString(jm) ? jm->valuestring : NULL)
                                                : ENGINE_DEFAULT_MODEL;
    if (!mname) {
        rc = http_reply_error(r, 400, "`model` must be a string");
        goto out;
    }
    const struct model *m = speech_model(mname);
    if (!m) {
        rc = http_reply_error(r, 400, "unknown model \"%.40s\" (GET /v1/models lists them)", mname);
        goto out;
    }
    if (!cJSON_IsString(jv)) {
        rc = http_reply_error(r, 400, "`voice` must be a string (GET /v1/audio/voices lists them)");
        goto out;
    }
    const struct voice_info *v = model_find_voice(m, jv->valuestring);
    if (!v) {
        rc = http_reply_error(r, 400, "unknown voice \"%.60s\" for model %s (GET /v1/audio/voices?model=%s lists them)",
                              jv->valuestring, m->ops->slug, m->ops->slug);
        goto out;
    }
    enum fmt fmt = FMT_MP3;   /* OpenAI's default */
    if (jf && !cJSON_IsNull(jf)) {
        int found = 0;
        for (int i = 0; cJSON_IsString(jf) && i < FMT_COUNT; i++)
            if (!strcmp(jf->valuestring, fmt_name[i])) {
                fmt = (enum fmt)i;
                found = 1;
            }
        if (!found) {
            rc = http_reply_error(r, 400, "unsupported response_format \"%.20s\": use opus, mp3, wav or pcm",
                                  cJSON_IsString(jf) ? jf->valuestring : "?");
            goto out;
        }
    }
    double speed = 1.0;
    if (js && !cJSON_IsNull(js)) {
        if (!cJSON_IsNumber(js) || !(js->valuedouble >= 0.25 && js->valuedouble <= 4.0)) {
            rc = http_reply_error(r, 400, "`speed` must be a number from 0.25 to 4.0");
            goto out;
        }
        speed = js->valuedouble;
    }
    char hash[65];
    ids_variant_hash(ji->valuestring, m->ops->slug, v->slug, "", hash);
    const struct hot_entry *e = hotcache_get(r->app->hot, hash);
    struct audio_record rec = { 0 };
    if (e || store_audio_meta(r->app->store, hash, &rec) == 0) {
        METRIC_ADD(&r->app->metrics, cache_hits, 1);
        int64_t dur = e ? e->duration_ms : rec.duration_ms;
        audio_record_free(&rec);
        struct waiter tmp = { .id = 0 };
        if (fmt == FMT_OPUS && fabs(speed - 1.0) < 1e-6) {
            rc = answer_speech(r->app, r, &tmp, fmt, speed, hash, NULL, dur);
            goto out;
        }
        /* A conversion: a waiter without a queue entry, for the conversion's answer. */
        if (busy(r, &rc))
            goto out;
        struct waiter *w = waiter_add(r, W_SPEECH, fmt, speed, hash, m->ops->slug, NULL);
        if (!w) {
            rc = http_reply_error(r, 500, "out of memory");
            goto out;
        }
        rc = answer_speech(r->app, r, w, fmt, speed, hash, NULL, dur);
        if (!w->converting)
            waiter_remove(r->app->speech, w);
        goto out;
    }
    METRIC_ADD(&r->app->metrics, cache_misses, 1);
    rc = wait_for(r, W_SPEECH, fmt, speed, hash, m->ops->slug, v->slug, ji->valuestring);
out:
    cJSON_Delete(j);
    return rc;
}

int speech_answer_preview(struct http_req *r, const char *model, const char *voice,
                          const char *text)
{
    char hash[65];
    ids_variant_hash(text, model, voice, "", hash);
    const struct hot_entry *e = hotcache_get(r->app->hot, hash);
    if (e)
        return answer_preview(r, hash, text, e->duration_ms, e->word_timings);
    struct audio_record rec = { 0 };
    if (store_audio_meta(r->app->store, hash, &rec) == 0) {
        int rc = answer_preview(r, hash, text, rec.duration_ms, rec.word_timings);
        audio_record_free(&rec);
        return rc;
    }
    return wait_for(r, W_PREVIEW, FMT_OPUS, 1.0, hash, model, voice, text);
}

/* ---- GET /v1/audio/voices -------------------------------------------------------- */

int api_speech_voices(struct http_req *r)
{
    if (r->method != LWSHUMETH_GET)
        return http_reply_error(r, 405, "use GET for /v1/audio/voices");
    char buf[128];
    const char *want = lws_get_urlarg_by_name(r->wsi, "model=", buf, sizeof buf);
    const struct model *only = NULL;
    if (want && want[0] && !(only = speech_model(want)))
        return http_reply_error(r, 400, "unknown model \"%.40s\"", want);
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "voices");
    for (int i = 0; i < engines_count(); i++) {
        const struct model *m = engines_get(i);
        if (only && m != only)
            continue;
        for (int k = 0; k < m->voice_count; k++) {
            cJSON *vo = cJSON_CreateObject();
            cJSON_AddStringToObject(vo, "id", m->voices[k].slug);
            cJSON_AddStringToObject(vo, "name", m->voices[k].name);
            cJSON_AddStringToObject(vo, "lang", m->voices[k].lang);
            /* With ?model=, the name the client asked with, so it recognises its own. */
            cJSON_AddStringToObject(vo, "model", only ? want : m->ops->slug);
            cJSON_AddItemToArray(arr, vo);
        }
    }
    return http_reply_json(r, 200, o);
}
