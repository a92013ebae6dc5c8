/* api_openai — POST /v1/audio/speech and GET /v1/audio/voices (OpenAI-compatible), and
 * the preview's answer. See api_openai.h for the shape.
 *
 * A speech request is checked, hashed like a block (sha256(input|model|voice|), so the
 * reader and the API share one cache), and answered from the hot cache or the store when
 * the audio exists. Otherwise it becomes a waiter (server/waiters.c): a queue requester of
 * kind REQ_WAITER (deduplicated with every other requester of that variant), and the HTTP
 * request stays open, with no thread blocked, until speech_on_event gets the job's
 * CACHED/SKIPPED/ERROR event. Speed and formats other than Ogg Opus are made from the
 * stored Opus on the offload pool (server/offload.c: decode, resample to 24 kHz,
 * pitch-preserving tempo change, encode): the stored variant is always the speed-1 Opus,
 * as for the web player, which changes speed itself.
 *
 * Threads: everything here runs on the service thread except convert_work (an offload
 * pool thread), which touches only its struct convert. A conversion whose waiter has gone
 * (the client closed) is only freed when it comes back.
 * Ownership: a waiter's struct speech_wait is the waiter's (waiters.c frees it); a struct
 * convert (the audio copy in, the body out) belongs to the offload pool until
 * convert_done frees it; result bodies move into http_reply. */
#include "server/api_openai.h"
#include "server/app.h"
#include "server/hotcache.h"
#include "server/offload.h"
#include "server/http.h"
#include "server/voicemap.h"
#include "server/session.h"
#include "server/waiters.h"
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

#define OUT_RATE 24000         /* pcm and wav answers, as OpenAI's */

/* OpenAI's six response formats; pcm is raw 24 kHz s16le mono, as OpenAI documents. */
enum fmt { FMT_OPUS, FMT_MP3, FMT_WAV, FMT_PCM, FMT_AAC, FMT_FLAC, FMT_COUNT };
static const char *const fmt_name[FMT_COUNT] = { "opus", "mp3", "wav", "pcm", "aac", "flac" };
static const char *const fmt_ctype[FMT_COUNT] = { "audio/ogg", "audio/mpeg", "audio/wav",
                                                  "audio/pcm", "audio/aac", "audio/flac" };

/* What a speech or preview waiter needs to be answered (its waiter's data). */
enum kind { W_SPEECH, W_PREVIEW };
struct speech_wait {
    enum kind kind;
    enum fmt fmt;
    double speed;
    char hash[65];
    char model[32];
    char *text;          /* preview: the sentence, for the answer */
};

static void speech_wait_free(void *p)
{
    struct speech_wait *sw = p;
    if (sw)
        free(sw->text);
    free(sw);
}

static struct speech_wait *speech_wait_new(enum kind kind, enum fmt fmt, double speed,
                                           const char *hash, const char *model, const char *text)
{
    struct speech_wait *sw = calloc(1, sizeof *sw);
    if (!sw || (kind == W_PREVIEW && !(sw->text = strdup(text)))) {
        free(sw);
        return NULL;
    }
    sw->kind = kind;
    sw->fmt = fmt;
    sw->speed = speed;
    memcpy(sw->hash, hash, sizeof sw->hash);
    snprintf(sw->model, sizeof sw->model, "%s", model);
    return sw;
}

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
        case FMT_AAC:
            rc = audio_encode_aac(&p, &c->body, c->err, sizeof c->err);
            break;
        case FMT_FLAC:
            rc = audio_encode_flac(&p, &c->body, c->err, sizeof c->err);
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

static int is_plain_opus(enum fmt fmt, double speed)
{
    return fmt == FMT_OPUS && fabs(speed - 1.0) < 1e-6;
}

/* Answers a speech request whose Ogg Opus exists: at once for opus at speed 1, else
 * through a conversion on the offload pool, for which w (NULL only for plain opus) waits
 * and is marked busy. Returns what an HTTP callback would return, 0 if converting. */
static int answer_speech(struct app *app, struct http_req *r, struct waiter *w, enum fmt fmt,
                         double speed, const char *hash, const struct job_event *ev,
                         int64_t duration_ms)
{
    unsigned char *data = NULL;
    size_t len = 0;
    if (audio_bytes(app, hash, ev, &data, &len) < 0)
        return http_reply_error(r, 500, "could not read the audio");
    if (is_plain_opus(fmt, speed)) {
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
    w->busy = 1;
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

/* A speech or preview waiter's job ended (waiters.h, waiter_event_fn). */
static void speech_on_event(struct app *app, struct waiter *w, const struct job_event *ev)
{
    const struct speech_wait *sw = w->data;
    struct http_req r;
    waiter_request(app, w, &r);
    if (ev->type == JOB_EV_SKIPPED) {
        waiter_error(app, w, 400, "the input has nothing to say");
    } else if (ev->type == JOB_EV_ERROR) {
        const struct model *m = engines_find(sw->model);
        int upstream = m && (m->ops->flags & ENGINE_NETWORK);
        waiter_error(app, w, upstream ? 502 : 500, "synthesis failed: %s",
                     ev->result.error[0] ? ev->result.error : "unknown error");
    } else if (sw->kind == W_PREVIEW) {
        waiter_finish(app, w, answer_preview(&r, sw->hash, sw->text, ev->result.duration_ms,
                                             ev->result.word_timings));
    } else {
        int rc = answer_speech(app, &r, w, sw->fmt, sw->speed, sw->hash, ev,
                               ev->result.duration_ms);
        if (!w->busy)
            waiter_finish(app, w, rc);
    }
}

/* Service thread: a conversion came back. Its waiter may have gone (the client closed):
 * then the result is only freed. */
static void convert_done(struct offload_task *task, int status)
{
    struct convert *c = offload_container(task, struct convert, task);
    struct app *app = c->app;
    struct http_req r;
    struct waiter *w = waiters_resume(app, c->waiter_id, status, &r);
    if (w) {
        if (!c->ok) {
            log_warn("speech: converting to %s failed: %s", fmt_name[c->fmt], c->err);
            waiter_finish(app, w, http_reply_error(&r, 500, "could not convert the audio: %s", c->err));
        } else {
            char dur[24];
            duration_header(dur, sizeof dur, c->duration_ms);
            struct http_header h[] = { { "x-duration-ms", dur } };
            unsigned char *body = c->body.data;
            size_t len = c->body.len;
            memset(&c->body, 0, sizeof c->body);
            waiter_finish(app, w, http_reply(&r, 200, fmt_ctype[c->fmt], body, len, h, 1));
        }
    }
    convert_free(c);
}

/* A waiter for the job (hash, model, voice, text); answered by speech_on_event. */
static int wait_speech(struct http_req *r, enum kind kind, enum fmt fmt, double speed,
                       const char *hash, const char *model, const char *voice, const char *text)
{
    struct speech_wait *sw = speech_wait_new(kind, fmt, speed, hash, model, text);
    if (!sw)
        return http_reply_error(r, 500, "out of memory");
    return waiters_wait(r, hash, model, voice, text, kind == W_PREVIEW, speech_on_event, sw,
                        speech_wait_free);
}

/* ---- POST /v1/audio/speech ------------------------------------------------------- */

/* OpenAI's model names: with them, a voice is an OpenAI voice name (server/voicemap.c) or a
 * voice of the default model, so an OpenAI client works unchanged. */
static int openai_model_name(const char *name)
{
    static const char *const aliases[] = { "tts-1", "tts-1-hd", "gpt-4o-mini-tts" };
    for (size_t i = 0; i < sizeof aliases / sizeof *aliases; i++)
        if (!strcmp(name, aliases[i]))
            return 1;
    return 0;
}

static const struct model *speech_model(const char *name)
{
    if (openai_model_name(name))
        return engines_find(ENGINE_DEFAULT_MODEL);
    const struct model *m = engines_find(name);
    return m && !(m->ops->flags & ENGINE_IN_PAGE) ? m : NULL;   /* `browser` voices exist only in the page */
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
    const struct voice_info *v = NULL;
    if (openai_model_name(mname) && voicemap_find(r->app->voicemap, jv->valuestring, &m, &v))
        m = speech_model(mname);
    if (!v)
        v = model_find_voice(m, jv->valuestring);
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
            rc = http_reply_error(r, 400, "unsupported response_format \"%.20s\": use mp3, opus, aac, flac, wav or pcm",
                                  cJSON_IsString(jf) ? jf->valuestring : "?");
            goto out;
        }
    }
    /* `instructions` (gpt-4o-mini-tts's speaking style) is accepted and has no effect here;
     * the answer is always the audio itself, never server-sent events. */
    const cJSON *jsf = cJSON_GetObjectItemCaseSensitive(j, "stream_format");
    if (jsf && !cJSON_IsNull(jsf) && !(cJSON_IsString(jsf) && !strcmp(jsf->valuestring, "audio"))) {
        rc = http_reply_error(r, 400, "unsupported stream_format \"%.20s\": only \"audio\"",
                              cJSON_IsString(jsf) ? jsf->valuestring : "?");
        goto out;
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
        if (is_plain_opus(fmt, speed)) {
            rc = answer_speech(r->app, r, NULL, fmt, speed, hash, NULL, dur);
            goto out;
        }
        /* A conversion: a waiter without a queue requester, for the conversion's answer. */
        if (waiters_full(r, &rc))
            goto out;
        struct waiter *w = waiters_add(r, speech_on_event,
                                       speech_wait_new(W_SPEECH, fmt, speed, hash, m->ops->slug, NULL),
                                       speech_wait_free);
        if (!w || !w->data) {
            if (w)
                waiters_remove(r->app->waiters, w);
            rc = http_reply_error(r, 500, "out of memory");
            goto out;
        }
        rc = answer_speech(r->app, r, w, fmt, speed, hash, NULL, dur);
        if (!w->busy)
            waiters_remove(r->app->waiters, w);
        goto out;
    }
    METRIC_ADD(&r->app->metrics, cache_misses, 1);
    rc = wait_speech(r, W_SPEECH, fmt, speed, hash, m->ops->slug, v->slug, ji->valuestring);
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
    return wait_speech(r, W_PREVIEW, FMT_OPUS, 1.0, hash, model, voice, text);
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
    if (only && openai_model_name(want)) {
        /* OpenAI's voice names first, with the local voice each one speaks with */
        const struct model *mm;
        const struct voice_info *vv;
        const char *name;
        for (int i = 0; (name = voicemap_get(r->app->voicemap, i, &mm, &vv)); i++) {
            char local[128];
            snprintf(local, sizeof local, "%s/%s", mm->ops->slug, vv->slug);
            cJSON *vo = cJSON_CreateObject();
            cJSON_AddStringToObject(vo, "id", name);
            cJSON_AddStringToObject(vo, "name", vv->name);
            cJSON_AddStringToObject(vo, "lang", vv->lang);
            cJSON_AddStringToObject(vo, "model", want);
            cJSON_AddStringToObject(vo, "voice", local);
            cJSON_AddItemToArray(arr, vo);
        }
    }
    for (int i = 0; i < engines_count(); i++) {
        const struct model *m = engines_get(i);
        if ((only && m != only) || (m->ops->flags & ENGINE_IN_PAGE))
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
