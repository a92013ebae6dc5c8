/* api_upload — POST /v1/audio: a block's audio synthesized in the browser (SPEC section 3).
 *
 * The service thread checks what it can answer from its own store at once — the document
 * (the user's own), the index, the model (`browser` only: server voices are never
 * uploaded), the voice, the block having something to say — and computes the hash itself
 * from its copy of the block text, scoped to the user (ids_upload_hash). The rest is CPU
 * work and a write, so it goes to the offload pool: upload_work checks and decodes the body
 * (audio/upload.c), fits the silence and levels it like any engine's audio
 * (engine_finish, which also moves the page's word timings with the trim), keeps the Ogg
 * Opus or encodes it (engine_encode), and stores it owned by the user, with the pool
 * thread's own SQLite connection. Word timings come in the body (an OpusTags comment or a
 * WAV chunk, audio_upload_words: any length, parsed on the pool thread) or, for short
 * blocks, in X-Word-Timings (every header of a request shares lws's 4 KiB); either way
 * they must be spans of the block text in order and within the audio, else 400. upload_done answers 201
 * {variant_hash, audio_url} or the refusal; nothing is stored for a refusal.
 *
 * Threads: everything here on the service thread except upload_work (a pool thread),
 * which touches only its struct upload. The request waits with no thread blocked; if the
 * client goes meanwhile, upload_closed (CLOSED_HTTP) unlinks the session, and the work
 * still finishes (the audio is good) with nobody to answer. Ownership: a struct upload
 * (the body copy in, the result out) belongs to the pool from submit until upload_done
 * frees it; the session points at it only while it is pending. */
#include "server/http.h"
#include "server/app.h"
#include "server/limits.h"
#include "server/offload.h"
#include "server/session.h"
#include "audio/audio.h"
#include "doc/refs.h"
#include "engines/engine.h"
#include "store/store.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/utf8.h"
#include <libwebsockets.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UPLOAD_WAIT_S 60   /* the connection is closed if the pool has not answered by then */

struct upload {
    struct offload_task task;
    struct app *app;
    struct session *s;        /* NULL once the client has gone (upload_closed) */
    struct lws *wsi;
    int method;
    /* in */
    unsigned char *body;
    size_t len;
    char ctype[128];
    char *text;
    struct word_timing *words;   /* from X-Word-Timings, or NULL (the body may hold them) */
    int word_count;
    char model[32], voice[64], hash[65];
    int64_t user;
    /* out */
    int status;               /* 201, or the refusal's 4xx/5xx */
    char err[320];
    int64_t duration_ms;
};

static void upload_free(struct upload *u)
{
    free(u->body);
    free(u->text);
    free(u->words);
    free(u);
}

static void fail(struct upload *u, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(struct upload *u, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(u->err, sizeof u->err, fmt, ap);
    va_end(ap);
    u->status = status;
}

#define MAX_WORDS 8192   /* a 40,000-character block; 128 KiB parsed */

/* Word timings (optional): the page's word events for the block, "START END OFFSET LENGTH"
 * per word (ms in the uploaded audio, UTF-16 units of the block text), words separated by
 * commas — compact, for the X-Word-Timings header; the body carries the same text. `src`
 * names where they came from in messages. Parsed into *out (malloc'd, *count words); 0, or
 * -1 with a message in err. */
static int parse_words(const char *src, const char *v, size_t units, struct word_timing **out,
                       int *count, char *err, size_t errlen)
{
    *out = NULL;
    *count = 0;
    struct word_timing *w = calloc(MAX_WORDS, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int n = 0;
    const char *p = v;
    while (*p) {
        long x[4];
        for (int k = 0; k < 4; k++) {
            char *end;
            while (*p == ' ')
                p++;
            x[k] = strtol(p, &end, 10);
            if (end == p || x[k] < 0 || x[k] > 100000000L || *p == '+' || *p == '-')
                goto bad;
            p = end;
        }
        while (*p == ' ')
            p++;
        if (*p == ',')
            p++;
        else if (*p)
            goto bad;
        if (n == MAX_WORDS) {
            snprintf(err, errlen, "%s: more than %d words", src, MAX_WORDS);
            free(w);
            return -1;
        }
        if (x[1] < x[0] || x[3] == 0 || (size_t)x[2] + (size_t)x[3] > units) {
            snprintf(err, errlen, "%s: word %d (%ld-%ld ms at %ld+%ld) is not a span of "
                     "the block's %zu UTF-16 units with end >= start", src, n, x[0], x[1], x[2], x[3],
                     units);
            free(w);
            return -1;
        }
        if (n && (x[0] < w[n - 1].start_ms || x[2] < w[n - 1].offset)) {
            snprintf(err, errlen, "%s: word %d (%ld ms at %ld) comes before word %d (%d ms at %d): "
                     "send the words in order", src, n, x[0], x[2], n - 1, w[n - 1].start_ms,
                     w[n - 1].offset);
            free(w);
            return -1;
        }
        w[n++] = (struct word_timing){ (int)x[0], (int)x[1], (int)x[2], (int)x[3] };
    }
    *out = n ? w : NULL;
    *count = n;
    if (!n)
        free(w);
    return 0;
bad:
    snprintf(err, errlen, "%s must be \"START END OFFSET LENGTH\" per word, "
             "words separated by commas (non-negative integers)", src);
    free(w);
    return -1;
}

/* Pool thread: the body's word timings if it has them (once: not also in the header), and
 * every word ending within the audio as uploaded. 0, or -1 with the refusal set. */
static int upload_words(struct upload *u, const struct pcm *pcm)
{
    char *text = NULL, err[320] = "";
    if (audio_upload_words(u->body, u->len, &text, err, sizeof err)) {
        fail(u, 400, "%s", err);
        return -1;
    }
    if (text && u->words) {
        free(text);
        fail(u, 400, "word timings both in X-Word-Timings and in the body: send them once");
        return -1;
    }
    if (text) {
        int rc = parse_words("the body's word timings", text,
                             utf8_utf16_units(u->text, strlen(u->text)), &u->words,
                             &u->word_count, err, sizeof err);
        free(text);
        if (rc) {
            fail(u, 400, "%s", err);
            return -1;
        }
    }
    int64_t ms = pcm->rate > 0 ? ((int64_t)pcm->count * 1000 + pcm->rate - 1) / pcm->rate : 0;
    for (int i = 0; i < u->word_count; i++)
        if (u->words[i].end_ms > ms) {
            fail(u, 400, "word timings: word %d ends at %d ms, after the audio's end (%lld ms)",
                 i, u->words[i].end_ms, (long long)ms);
            return -1;
        }
    return 0;
}

/* Pool thread: check, decode, level, encode, store. */
static void upload_work(struct offload_task *task, void *thread_ctx)
{
    struct upload *u = offload_container(task, struct upload, task);
    struct store *st = thread_ctx;
    struct synth_result sr = { 0 };
    struct buf opus = { 0 };
    int is_opus = 0;
    char err[256] = "";
    int rc = audio_upload_decode(u->body, u->len, u->ctype[0] ? u->ctype : NULL, u->text,
                                 &sr.pcm, &is_opus, err, sizeof err);
    if (rc) {
        fail(u, rc == AUDIO_UPLOAD_UNSUPPORTED ? 415 : rc == AUDIO_UPLOAD_IMPLAUSIBLE ? 422 : 400,
             "%s", err);
        return;
    }
    if (upload_words(u, &sr.pcm)) {
        pcm_free(&sr.pcm);
        return;
    }
    sr.words = u->words;   /* engine_finish moves them with the silence it trims */
    sr.word_count = u->word_count;
    u->words = NULL;
    if (is_opus) {
        /* kept as sent when it already suits storage (engine_finish decides) */
        sr.encoded.data = u->body;
        sr.encoded.len = sr.encoded.cap = u->len;
        u->body = NULL;
    }
    if (engine_finish(&sr, err, sizeof err) < 0) {
        fail(u, 500, "could not process the audio: %s", err);
        goto out;
    }
    if (sr.pcm.count == 0) {
        fail(u, 422, "the audio is silent: there is nothing to store for this block");
        goto out;
    }
    if (engine_encode(&sr, &opus, err, sizeof err) < 0) {
        fail(u, 500, "could not encode the audio: %s", err);
        goto out;
    }
    u->duration_ms = pcm_duration_ms(&sr.pcm);
    char *timings = engine_word_timings_json(&sr);
    struct audio_record a = { .duration_ms = u->duration_ms, .data = opus.data,
                              .len = opus.len, .owner = u->user, .word_timings = timings };
    memcpy(a.hash, u->hash, sizeof a.hash);
    snprintf(a.model, sizeof a.model, "%s", u->model);
    snprintf(a.voice, sizeof a.voice, "%s", u->voice);
    rc = st ? store_audio_put(st, &a) : -1;
    free(timings);
    if (rc) {
        fail(u, rc == STORE_FULL ? 507 : 500, "%s", store_audio_put_error(rc));
        goto out;
    }
    u->status = 201;
out:
    buf_free(&opus);
    synth_result_free(&sr);
}

/* Service thread: answer the client if it is still there, then free. */
static void upload_done(struct offload_task *task, int status)
{
    struct upload *u = offload_container(task, struct upload, task);
    if (status == 0 && u->s) {
        u->s->http.pending = NULL;
        struct http_req r = { .app = u->app, .wsi = u->wsi,
                              .s = u->s, .method = u->method, .path = u->s->http.path,
                              .user_id = u->user };
        lws_set_timeout(u->wsi, NO_PENDING_TIMEOUT, 0);
        int rc;
        if (u->status == 201) {
            cJSON *o = cJSON_CreateObject();
            char url[96];
            snprintf(url, sizeof url, "/v1/audio/%s", u->hash);
            cJSON_AddStringToObject(o, "variant_hash", u->hash);
            cJSON_AddStringToObject(o, "audio_url", url);
            cJSON_AddNumberToObject(o, "duration_ms", (double)u->duration_ms);
            rc = http_reply_json(&r, 201, o);
        } else {
            rc = http_reply_error(&r, u->status, "%s", u->err);
        }
        if (rc < 0)
            lws_set_timeout(u->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
    }
    upload_free(u);
}

void upload_closed(struct session *s)
{
    struct upload *u = s->http.pending;
    if (u) {
        u->s = NULL;   /* upload_done will find nobody to answer */
        s->http.pending = NULL;
    }
}

/* A custom request header (name lowercase with its colon) into buf; its length, or -1 if
 * absent. One too long for buf reads as empty (every value checked here is short, so an
 * empty one fails its check with the usual message). */
static int header(struct http_req *r, const char *name, char *buf, int len)
{
    buf[0] = '\0';
    int n = lws_hdr_custom_length(r->wsi, name, (int)strlen(name));
    if (n < 0)
        return -1;
    if (n >= len || lws_hdr_custom_copy(r->wsi, buf, len, name, (int)strlen(name)) < 0)
        buf[0] = '\0';
    return (int)strlen(buf);
}

static int only_space(const char *s)
{
    return s[strspn(s, " \t\r\n\f\v")] == '\0';
}

int api_upload(struct http_req *r)
{
    struct app *app = r->app;
    if (r->method != LWSHUMETH_POST)
        return http_reply_error(r, 405, "use POST on /v1/audio to upload a block's audio");
    char doc[64], sidx[24], model[40], voice[80];
    if (header(r, "x-document-id:", doc, sizeof doc) < 0 ||
        header(r, "x-block-idx:", sidx, sizeof sidx) < 0 ||
        header(r, "x-model:", model, sizeof model) < 0 ||
        header(r, "x-voice:", voice, sizeof voice) < 0)
        return http_reply_error(r, 400, "send the headers X-Document-Id, X-Block-Idx, X-Model and "
                                "X-Voice with the audio");
    int count;
    if (!ids_is_uuid(doc) || store_doc_block_count(app->store, r->user_id, doc, &count) != 0)
        return http_reply_error(r, 404, "unknown document \"%.40s\"", doc);
    char *end;
    long idx = strtol(sidx, &end, 10);
    if (end == sidx || *end || sidx[0] == '+' || sidx[0] == ' ')
        return http_reply_error(r, 400, "X-Block-Idx must be a block index (got \"%.20s\")", sidx);
    if (idx < 0 || idx >= count)
        return http_reply_error(r, 400, "block %ld is out of range: the document has blocks 0 to %d",
                                idx, count - 1);
    const struct model *m = engines_find(model);
    if (!m)
        return http_reply_error(r, 400, "unknown model \"%.40s\"", model);
    if (!(m->ops->flags & ENGINE_IN_PAGE))
        return http_reply_error(r, 400, "model \"%s\" is synthesized by the server; only model "
                                "\"%s\" audio can be uploaded", m->ops->slug, ENGINE_BROWSER_MODEL);
    const struct voice_info *v = model_find_voice(m, voice);
    if (!v)
        return http_reply_error(r, 400, "unknown voice \"%.60s\" for model %s", voice, m->ops->slug);
    /* optional X-Skip-References (true/false): the page spoke the block with references
     * blanked (the `spoken_text` of its synthesize_locally), so the hash is over that text */
    char skip[8];
    int skip_refs = 0;
    if (header(r, "x-skip-references:", skip, sizeof skip) >= 0) {
        if (strcmp(skip, "true") && strcmp(skip, "false"))
            return http_reply_error(r, 400, "X-Skip-References must be true or false (got \"%.8s\")", skip);
        skip_refs = !strcmp(skip, "true");
    }
    if (!r->body || r->body_len == 0)
        return http_reply_error(r, 400, "the body is empty: send the block's audio as Ogg Opus or WAV");
    /* --rate-blocks: in browser mode a block costs the server its upload (decode, level,
     * encode), as a synthesis does in server mode */
    int rc;
    if (limits_http_block(r, &rc))
        return rc;
    char *text = NULL;
    if (store_block_text(app->store, r->user_id, doc, (int)idx, &text) != 0)
        return http_reply_error(r, 500, "could not read the block");
    if (skip_refs)
        refs_blank(text);   /* same UTF-16 length: word offsets still point into the shown text */
    if (only_space(text)) {
        free(text);
        return http_reply_error(r, 400, "block %ld has nothing to say", idx);
    }
    struct word_timing *words = NULL;
    int nwords = 0;
    char wt[3072], err[256];
    if (header(r, "x-word-timings:", wt, sizeof wt) >= 0 &&
        parse_words("X-Word-Timings", wt, utf8_utf16_units(text, strlen(text)), &words, &nwords,
                    err, sizeof err) < 0) {
        free(text);
        return http_reply_error(r, 400, "%s", err);
    }
    struct upload *u = calloc(1, sizeof *u);
    if (!u || !(u->body = malloc(r->body_len))) {
        free(u);
        free(text);
        free(words);
        return http_reply_error(r, 500, "out of memory");
    }
    u->words = words;
    u->word_count = nwords;
    memcpy(u->body, r->body, r->body_len);
    u->len = r->body_len;
    u->text = text;
    u->user = r->user_id;
    u->app = app;
    u->s = r->s;
    u->wsi = r->wsi;
    u->method = r->method;
    snprintf(u->model, sizeof u->model, "%s", m->ops->slug);
    snprintf(u->voice, sizeof u->voice, "%s", v->slug);
    http_header(r, WSI_TOKEN_HTTP_CONTENT_TYPE, u->ctype, sizeof u->ctype);
    ids_upload_hash(text, u->model, u->voice, u->user, u->hash);
    if (offload_submit(app->offload, &u->task, upload_work, upload_done) < 0) {
        upload_free(u);
        return http_reply_error(r, 503, "the server is shutting down");
    }
    r->s->http.pending = u;
    lws_set_timeout(r->wsi, PENDING_TIMEOUT_USER_OK, UPLOAD_WAIT_S);
    return 0;
}
