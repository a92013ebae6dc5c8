/* openai — the `openai` model: any OpenAI-compatible speech server (OpenAI itself, a local
 * neural TTS server, or another recite) behind POST {url}/audio/speech, with libcurl.
 *
 * Configuration (engines_config(): --openai-url, --openai-key or $OPENAI_API_KEY,
 * --openai-model, --openai-voices, --openai-retries). Without --openai-url the model is
 * not registered. Voices come from --openai-voices ("name[:lang],..."), else from
 * GET {url}/audio/voices ({"voices": [...]} or a bare array, entries being names or
 * objects with id/name/lang), else, when that fails at start-up, the standard OpenAI
 * voice names (with a warning).
 *
 * A request asks for Ogg Opus. A reply in Ogg Opus goes back in synth_result.encoded with
 * its decoded samples (engine_render keeps the bytes when they already suit storage);
 * WAV or MP3 is decoded (audio/decode.c) and re-encoded like any engine's PCM. A server
 * that refuses the opus format (400/415/422 naming the format) is asked for WAV from then
 * on, per engine instance.
 *
 * Retries: 429 and 5xx are retried up to --openai-retries times with capped exponential
 * backoff and equal jitter (a Retry-After up to the cap is honoured), within a time budget
 * that keeps a job well inside the queue's visibility timeout; a refused connection is
 * retried once, quickly (the queue itself retries a failed job twice more). The upstream's
 * reason is logged here; the job's error (shown to the reader, recoverable) stays short.
 *
 * Threads: global_init (main thread) calls curl_global_init and builds the read-only
 * settings; each worker thread's engine instance owns one CURL easy handle (connections
 * are reused across its jobs), so synthesize runs concurrently without a lock. */
#include "engines/engine.h"
#include "engines/engine_list.h"
#include "config.h"
#include "util/log.h"
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#define REQUEST_TIMEOUT_MS 20000   /* one upstream request */
#define CONNECT_TIMEOUT_MS 5000
#define VOICES_TIMEOUT_MS 5000     /* the start-up voice list */
#define RETRY_BUDGET_MS 20000      /* all retries of one job together */
#define BACKOFF_BASE_MS 250
#define BACKOFF_CAP_MS 4000
#define MAX_RESPONSE (64u << 20)

struct openai_settings {
    char *speech_url;   /* {url}/audio/speech */
    char *voices_url;   /* {url}/audio/voices */
    char *auth;         /* "Authorization: Bearer KEY" or NULL */
    char *model;
    int retries;
};

static struct openai_settings settings;   /* global_init .. global_cleanup, read-only */
static int curl_ready;

struct engine {
    CURL *curl;
    unsigned rng;          /* jitter */
    int want_wav;          /* the upstream refused opus */
};

struct body {
    struct buf b;
    int too_big;
};

static size_t on_data(char *ptr, size_t size, size_t n, void *arg)
{
    struct body *body = arg;
    size_t len = size * n;
    if (body->b.len + len > MAX_RESPONSE) {
        body->too_big = 1;
        return 0;   /* aborts the transfer */
    }
    return buf_append(&body->b, ptr, len) < 0 ? 0 : len;
}

static char *join_url(const char *base, const char *path)
{
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        n--;
    size_t len = n + strlen(path) + 1;
    char *s = malloc(len);
    if (s)
        snprintf(s, len, "%.*s%s", (int)n, base, path);
    return s;
}

static struct curl_slist *headers(int json)
{
    struct curl_slist *h = NULL;
    if (json)
        h = curl_slist_append(h, "Content-Type: application/json");
    if (settings.auth)
        h = curl_slist_append(h, settings.auth);
    return h;
}

/* The upstream's reason from an error body: OpenAI's {"error":{"message"}}, recite's
 * {"error":"..."}, FastAPI's {"detail":...}, else the start of the text. */
static void upstream_reason(const struct buf *b, char *out, size_t outlen)
{
    out[0] = '\0';
    if (!b->len)
        return;
    cJSON *j = cJSON_ParseWithLength((const char *)b->data, b->len);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "detail");
    if (cJSON_IsObject(e))
        e = cJSON_GetObjectItemCaseSensitive(e, "message");
    if (cJSON_IsString(e))
        snprintf(out, outlen, "%s", e->valuestring);
    else if (cJSON_IsString(d))
        snprintf(out, outlen, "%s", d->valuestring);
    else if (d) {
        char *t = cJSON_PrintUnformatted(d);
        snprintf(out, outlen, "%s", t ? t : "");
        free(t);
    } else {
        size_t n = b->len < outlen - 1 ? b->len : outlen - 1;
        for (size_t i = 0; i < n; i++)
            out[i] = b->data[i] >= 0x20 && b->data[i] < 0x7f ? (char)b->data[i] : ' ';
        out[n] = '\0';
    }
    cJSON_Delete(j);
}

static void nap_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0)
        ;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- voices ---------------------------------------------------------------------- */

static const char *const openai_default_voices[] = {
    "alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse",
};

struct voice_list {
    struct voice_info *v;
    int n, cap;
};

static int add_voice(struct voice_list *l, const char *slug, const char *name, const char *lang)
{
    if (!slug || !slug[0] || strlen(slug) >= sizeof l->v->slug)
        return 0;   /* a name we could not carry in a status: left out */
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].slug, slug))
            return 0;
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        struct voice_info *nv = realloc(l->v, (size_t)cap * sizeof *nv);
        if (!nv)
            return -1;
        l->v = nv;
        l->cap = cap;
    }
    struct voice_info *v = &l->v[l->n++];
    memset(v, 0, sizeof *v);
    snprintf(v->slug, sizeof v->slug, "%s", slug);
    if (name && name[0]) {
        snprintf(v->name, sizeof v->name, "%s", name);
    } else {
        snprintf(v->name, sizeof v->name, "%s", slug);
        if (v->name[0] >= 'a' && v->name[0] <= 'z')
            v->name[0] = (char)(v->name[0] - 'a' + 'A');
    }
    /* "mul" (BCP-47: multiple languages): neural voices usually speak many. */
    snprintf(v->lang, sizeof v->lang, "%s", lang && lang[0] ? lang : "mul");
    return 0;
}

/* --openai-voices "alloy,nova:en-US,onyx" */
static int parse_voice_flag(const char *spec, struct voice_list *l)
{
    char *copy = strdup(spec), *save = NULL;
    if (!copy)
        return -1;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        char *end = tok + strlen(tok);
        while (end > tok && end[-1] == ' ')
            *--end = '\0';
        char *lang = strchr(tok, ':');
        if (lang)
            *lang++ = '\0';
        if (add_voice(l, tok, NULL, lang) < 0) {
            free(copy);
            return -1;
        }
    }
    free(copy);
    return 0;
}

static const char *str_field(const cJSON *o, const char *const *names)
{
    for (; *names; names++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, *names);
        if (cJSON_IsString(v) && v->valuestring[0])
            return v->valuestring;
    }
    return NULL;
}

/* Parses a voice list reply; entries naming another model than ours are skipped. */
static int parse_voice_reply(const struct buf *b, struct voice_list *l)
{
    cJSON *j = cJSON_ParseWithLength((const char *)b->data, b->len);
    const cJSON *arr = cJSON_IsArray(j) ? j : cJSON_GetObjectItemCaseSensitive(j, "voices");
    if (!cJSON_IsArray(arr)) {
        cJSON_Delete(j);
        return -1;
    }
    static const char *const id_names[] = { "id", "voice_id", "slug", "name", NULL };
    static const char *const name_names[] = { "name", "display_name", NULL };
    static const char *const lang_names[] = { "lang", "language", "locale", NULL };
    static const char *const model_names[] = { "model", NULL };
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        if (cJSON_IsString(e)) {
            add_voice(l, e->valuestring, NULL, NULL);
        } else if (cJSON_IsObject(e)) {
            const char *model = str_field(e, model_names);
            if (model && strcmp(model, settings.model))
                continue;
            add_voice(l, str_field(e, id_names), str_field(e, name_names), str_field(e, lang_names));
        }
    }
    cJSON_Delete(j);
    return 0;
}

static int fetch_voices(struct voice_list *l, char *why, size_t whylen)
{
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(why, whylen, "curl_easy_init failed");
        return -1;
    }
    struct body body = { { 0 }, 0 };
    struct curl_slist *h = headers(0);
    curl_easy_setopt(c, CURLOPT_URL, settings.voices_url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)VOICES_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    int ok = -1;
    if (rc != CURLE_OK)
        snprintf(why, whylen, "%s", curl_easy_strerror(rc));
    else if (status != 200)
        snprintf(why, whylen, "HTTP %ld", status);
    else if (parse_voice_reply(&body.b, l) < 0)
        snprintf(why, whylen, "the reply is not a voice list");
    else if (l->n == 0)
        snprintf(why, whylen, "the list names no voice for model %s", settings.model);
    else
        ok = 0;
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    buf_free(&body.b);
    return ok;
}

/* ---- engine ops ------------------------------------------------------------------ */

static void settings_free(void)
{
    free(settings.speech_url);
    free(settings.voices_url);
    free(settings.auth);
    free(settings.model);
    memset(&settings, 0, sizeof settings);
}

static int openai_global_init(struct voice_info **voices, int *count, char *err, size_t errlen)
{
    *voices = NULL;
    *count = 0;
    const struct config *cfg = engines_config();
    if (!cfg || !cfg->openai_url || !cfg->openai_url[0])
        return RECITE_ENOTCONF;
    if (strncmp(cfg->openai_url, "http://", 7) && strncmp(cfg->openai_url, "https://", 8)) {
        snprintf(err, errlen, "--openai-url must start with http:// or https:// (got \"%.80s\")",
                 cfg->openai_url);
        return -1;
    }
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            snprintf(err, errlen, "curl_global_init failed");
            return -1;
        }
        curl_ready = 1;
    }
    settings_free();
    const char *key = cfg->openai_key && cfg->openai_key[0] ? cfg->openai_key : getenv("OPENAI_API_KEY");
    settings.speech_url = join_url(cfg->openai_url, "/audio/speech");
    settings.voices_url = join_url(cfg->openai_url, "/audio/voices");
    settings.model = strdup(cfg->openai_model ? cfg->openai_model : "tts-1");
    settings.retries = cfg->openai_retries;
    if (key && key[0] && (settings.auth = malloc(strlen(key) + 32)))
        sprintf(settings.auth, "Authorization: Bearer %s", key);
    if (!settings.speech_url || !settings.voices_url || !settings.model || (key && key[0] && !settings.auth)) {
        settings_free();
        snprintf(err, errlen, "openai: out of memory");
        return -1;
    }
    struct voice_list l = { 0 };
    char why[256] = "";
    if (cfg->openai_voices && cfg->openai_voices[0]) {
        if (parse_voice_flag(cfg->openai_voices, &l) < 0 || l.n == 0) {
            free(l.v);
            settings_free();
            snprintf(err, errlen, "--openai-voices names no voice");
            return -1;
        }
    } else if (fetch_voices(&l, why, sizeof why) < 0) {
        log_warn("openai: cannot list the voices of %s (%s); offering the standard OpenAI voices "
                 "(set --openai-voices to choose)", settings.voices_url, why);
        l.n = 0;
        for (size_t i = 0; i < sizeof openai_default_voices / sizeof *openai_default_voices; i++)
            if (add_voice(&l, openai_default_voices[i], NULL, NULL) < 0)
                break;
    }
    if (l.n == 0) {
        free(l.v);
        settings_free();
        snprintf(err, errlen, "openai: out of memory");
        return -1;
    }
    log_info("openai: %s, model %s, %d voices", cfg->openai_url, settings.model, l.n);
    *voices = l.v;
    *count = l.n;
    return 0;
}

static void openai_global_cleanup(void)
{
    settings_free();
    if (curl_ready)
        curl_global_cleanup();
    curl_ready = 0;
}

static struct engine *openai_create(char *err, size_t errlen)
{
    struct engine *e = calloc(1, sizeof *e);
    if (!e || !(e->curl = curl_easy_init())) {
        free(e);
        snprintf(err, errlen, "openai: cannot create a curl handle");
        return NULL;
    }
    if (getrandom(&e->rng, sizeof e->rng, 0) != sizeof e->rng)
        e->rng = (unsigned)now_ms() ^ (unsigned)(uintptr_t)e;
    return e;
}

static void openai_destroy(struct engine *e)
{
    if (!e)
        return;
    curl_easy_cleanup(e->curl);
    free(e);
}

/* One POST. Returns the HTTP status (0 if the request did not complete, with curl's code
 * in *cc); *retry_after_ms is the upstream's Retry-After, or -1. */
static long post_once(struct engine *e, const char *json, struct body *body, CURLcode *cc,
                      long *retry_after_ms, char *ctype, size_t ctlen)
{
    CURL *c = e->curl;
    struct curl_slist *h = headers(1);
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, settings.speech_url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)REQUEST_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    *cc = curl_easy_perform(c);
    long status = 0;
    curl_off_t ra = -1;
    char *ct = NULL;
    if (*cc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &ra) != CURLE_OK)
            ra = -1;
        curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    }
    snprintf(ctype, ctlen, "%s", ct ? ct : "");
    *retry_after_ms = ra > 0 ? (long)(ra < 3600 ? ra * 1000 : 3600000) : ra == 0 ? 0 : -1;
    curl_slist_free_all(h);
    return status;
}

static char *request_json(const char *voice, const char *text, const char *format)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", settings.model);
    cJSON_AddStringToObject(o, "input", text);
    cJSON_AddStringToObject(o, "voice", voice);
    cJSON_AddStringToObject(o, "response_format", format);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static int format_refused(long status, const char *reason)
{
    return (status == 400 || status == 415 || status == 422) &&
           (strcasestr(reason, "format") || strcasestr(reason, "opus"));
}

static int openai_synthesize(struct engine *e, const char *voice, const char *text,
                             struct synth_result *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!settings.speech_url) {
        snprintf(err, errlen, "openai: not configured");
        return -1;
    }
    int64_t t0 = now_ms();
    int http_retries = 0, conn_retries = 0;
    char reason[300] = "", ctype[128] = "";
    for (;;) {
        const char *format = e->want_wav ? "wav" : "opus";
        char *json = request_json(voice, text, format);
        struct body body = { { 0 }, 0 };
        CURLcode cc;
        long retry_after = -1;
        long status = json ? post_once(e, json, &body, &cc, &retry_after, ctype, sizeof ctype) : 0;
        free(json);
        if (!json) {
            snprintf(err, errlen, "openai: out of memory");
            return -1;
        }
        if (status == 200) {
            enum audio_container kind = audio_sniff(body.b.data, body.b.len);
            if (kind == AUDIO_UNKNOWN) {
                log_warn("openai: %s answered 200 with %zu bytes that are not audio "
                         "(Content-Type: %s)", settings.speech_url, body.b.len, ctype);
                snprintf(err, errlen, "the speech server sent something that is not audio");
                buf_free(&body.b);
                return -1;
            }
            char derr[200];
            if (audio_decode(body.b.data, body.b.len, &out->pcm, derr, sizeof derr) < 0) {
                log_warn("openai: cannot decode the reply of %s: %s", settings.speech_url, derr);
                snprintf(err, errlen, "the speech server's audio could not be decoded");
                buf_free(&body.b);
                return -1;
            }
            if (kind == AUDIO_OGG_OPUS)
                out->encoded = body.b;   /* engine_render decides whether to keep it */
            else
                buf_free(&body.b);
            return 0;
        }
        if (status == 0 && body.too_big) {
            snprintf(err, errlen, "the speech server's reply is larger than %u MiB",
                     MAX_RESPONSE >> 20);
            buf_free(&body.b);
            return -1;
        }
        int retry = 0;
        long delay = 0;
        if (status == 0) {
            snprintf(reason, sizeof reason, "%s", curl_easy_strerror(cc));
            if ((cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST ||
                 cc == CURLE_SEND_ERROR || cc == CURLE_RECV_ERROR || cc == CURLE_GOT_NOTHING) &&
                conn_retries < 1) {
                conn_retries++;
                retry = 1;
                delay = 200;
            }
        } else {
            upstream_reason(&body.b, reason, sizeof reason);
            if (!e->want_wav && format_refused(status, reason)) {
                log_warn("openai: %s refused Ogg Opus (%ld: %s); asking for WAV from now on",
                         settings.speech_url, status, reason);
                e->want_wav = 1;
                buf_free(&body.b);
                continue;
            }
            if ((status == 429 || status >= 500) && http_retries < settings.retries) {
                /* Capped exponential with equal jitter (half fixed, half random); at least the
                 * upstream's Retry-After when that is within the cap. */
                long cap = BACKOFF_BASE_MS << (http_retries < 5 ? http_retries : 5);
                if (cap > BACKOFF_CAP_MS)
                    cap = BACKOFF_CAP_MS;
                delay = cap / 2 + (long)(rand_r(&e->rng) % (unsigned)(cap / 2 + 1));
                if (retry_after >= 0 && retry_after <= BACKOFF_CAP_MS && retry_after > delay)
                    delay = retry_after;
                http_retries++;
                retry = 1;
            }
        }
        buf_free(&body.b);
        if (retry && now_ms() - t0 + delay + 1000 < RETRY_BUDGET_MS) {
            if (status)
                log_warn("openai: %s answered %ld (%s); retry %d of %d in %ld ms",
                         settings.speech_url, status, reason[0] ? reason : "no reason given",
                         http_retries, settings.retries, delay);
            else
                log_warn("openai: %s: %s; retrying in %ld ms", settings.speech_url, reason, delay);
            nap_ms(delay);
            continue;
        }
        if (status == 0) {
            log_warn("openai: %s: %s", settings.speech_url, reason);
            snprintf(err, errlen, "cannot reach the speech server (%s)", reason);
        } else {
            log_warn("openai: %s answered %ld: %s", settings.speech_url, status,
                     reason[0] ? reason : "no reason given");
            snprintf(err, errlen, "the speech server answered HTTP %ld%s", status,
                     status == 429 ? " (rate limited)" : status == 401 || status == 403
                     ? " (check --openai-key)" : "");
        }
        return -1;
    }
}

const struct engine_ops openai_engine_ops = {
    .slug = "openai",
    .name = "OpenAI-compatible",
    .flags = ENGINE_NETWORK,
    .global_init = openai_global_init,
    .global_cleanup = openai_global_cleanup,
    .create = openai_create,
    .destroy = openai_destroy,
    .synthesize = openai_synthesize,
};
