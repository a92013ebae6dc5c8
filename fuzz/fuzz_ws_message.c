/* fuzz_ws_message — libFuzzer target for the WebSocket message parser and dispatcher:
 * pipeline_on_message() (JSON parse, field validation, cache lookups, dedup submission to
 * the in-process queue, eviction) and pipeline_drain() (queue events -> status messages),
 * running on a real store, hot cache, queue and engine registry, without libwebsockets.
 *
 * ws_send() is defined here instead of linking ws.c (the archive's ws.o is never pulled
 * in), so every reply is captured and checked against SPEC section 4:
 *   - every reply is a JSON object whose `type` is status, evicted or error, with the
 *     fields that type requires and a `status` from the five allowed values;
 *   - a message answered with an `error` queues nothing and gets no `status`;
 *   - a valid synthesize gets exactly one immediate status per requested index.
 *
 * Input: messages separated by NUL bytes (at most 16). A message whose first byte is
 * 0x01 is sent on a second connection (the byte is dropped). Only valid UTF-8 reaches the
 * pipeline, as in ws.c. After the messages a fake worker takes up to 4 jobs and finishes
 * them as cached, skipped or error; then both connections go away. */
#include "fuzz_common.h"
#include "config.h"
#include "doc/doc.h"
#include "engines/engine.h"
#include "jobs/queue.h"
#include "server/app.h"
#include "server/conns.h"
#include "server/hotcache.h"
#include "server/pipeline.h"
#include "server/protocol.h"
#include "store/store.h"
#include "util/ids.h"
#include "util/utf8.h"
#include <cjson/cJSON.h>
#include <stdint.h>
#include <time.h>

#define FAIL(...) do { fprintf(stderr, "fuzz_ws_message: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

#define DOC_A "00000000-0000-4000-8000-00000000000a"
#define DOC_B "00000000-0000-4000-8000-00000000000b"

static struct app app;
static struct config cfg;

/* Replies seen since the last reset. */
static int n_status, n_error, n_evicted;

/* The real one is in ws.c (lws); this one checks and counts. */
void ws_send(struct app *a, uint64_t conn_id, const char *text, size_t len)
{
    (void)a;
    if (conn_id != 1 && conn_id != 2)
        FAIL("reply to unknown connection %llu", (unsigned long long)conn_id);
    cJSON *o = cJSON_ParseWithLength(text, len);
    if (!o || !cJSON_IsObject(o))
        FAIL("reply is not a JSON object: %.*s", (int)len, text);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, F_TYPE);
    if (!cJSON_IsString(type))
        FAIL("reply without type: %.*s", (int)len, text);
    if (!strcmp(type->valuestring, MSG_STATUS)) {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, F_STATUS);
        static const char *const ok[] = { ST_QUEUED, ST_PROCESSING, ST_CACHED, ST_SKIPPED, ST_ERROR };
        int known = 0;
        for (int i = 0; i < 5 && cJSON_IsString(st); i++)
            known |= !strcmp(st->valuestring, ok[i]);
        if (!known || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, F_DOCUMENT_ID)) ||
            !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, F_BLOCK_IDX)) ||
            !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, F_MODEL)) ||
            !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, F_VOICE)))
            FAIL("malformed status: %.*s", (int)len, text);
        if (!strcmp(st->valuestring, ST_CACHED) &&
            !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, F_AUDIO_URL)))
            FAIL("cached status without audio_url: %.*s", (int)len, text);
        n_status++;
    } else if (!strcmp(type->valuestring, MSG_ERROR)) {
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, F_ERROR)))
            FAIL("error without message: %.*s", (int)len, text);
        n_error++;
    } else if (!strcmp(type->valuestring, MSG_EVICTED)) {
        if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(o, F_BLOCK_INDICES)))
            FAIL("evicted without indices: %.*s", (int)len, text);
        n_evicted++;
    } else {
        FAIL("unknown reply type: %.*s", (int)len, text);
    }
    cJSON_Delete(o);
}

static void notify(void *arg) { (void)arg; }

static void add_doc(const char *id, const char *md)
{
    char err[256];
    struct doc *d = doc_build(md, strlen(md), DOC_MARKDOWN, NULL, err, sizeof err);
    if (!d || store_doc_insert(app.store, STORE_FIRST_USER, id, "markdown", d, (int64_t)time(NULL)))
        FAIL("setup: cannot store a document: %s", err);
    if (!strcmp(id, DOC_A)) {
        /* block 0 of DOC_A is cached in the store, so the cache-hit path runs too */
        struct audio_record a = { .duration_ms = 1234, .data = (unsigned char *)"OggS", .len = 4,
                                  .word_timings = "[]" };
        ids_variant_hash(d->blocks[0].text, "espeak", "en-us", "", a.hash);
        snprintf(a.model, sizeof a.model, "espeak");
        snprintf(a.voice, sizeof a.voice, "en-us");
        if (store_audio_put(app.store, &a))
            FAIL("setup: cannot store audio");
    }
    doc_destroy(d);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    char err[256] = "";
    log_set_level(-1);
    cfg.buffer_behind = 8;
    cfg.buffer_ahead = 16;
    cfg.max_connections = 100;
    app.cfg = &cfg;
    if (engines_init(err, sizeof err) <= 0)
        FAIL("setup: no engine: %s", err);
    if (!(app.store = store_open(fuzz_make_dir(), err, sizeof err)))
        FAIL("setup: store: %s", err);
    app.hot = hotcache_create(1 << 20);
    app.conns = conns_create();
    app.queue = memqueue_create(30000, 3, notify, NULL);
    if (!app.hot || !app.conns || !app.queue)
        FAIL("setup: out of memory");
    char md[4096] = "# Heading one\n\n";
    for (int i = 0; i < 40; i++) {
        char line[96];
        snprintf(line, sizeof line, "Paragraph %d says something short.\n\n", i);
        strcat(md, line);
    }
    strcat(md, "```\ncode is not spoken\n```\n\nThe end.\n");
    add_doc(DOC_A, md);
    add_doc(DOC_B, "Only one block here, with a comma, and a full stop. Then another sentence!");
    return 0;
}

/* Counts the requested indices of a message the pipeline should accept, or -1 if it is
 * not a synthesize we can predict (the pipeline decides; we only check what it did). */
static int expected_statuses(const char *text, size_t len)
{
    cJSON *o = cJSON_ParseWithLength(text, len);
    int n = -1;
    const cJSON *t = o ? cJSON_GetObjectItemCaseSensitive(o, F_TYPE) : NULL;
    const cJSON *ix = o ? cJSON_GetObjectItemCaseSensitive(o, F_BLOCK_INDICES) : NULL;
    if (cJSON_IsString(t) && !strcmp(t->valuestring, MSG_SYNTHESIZE) && cJSON_IsArray(ix))
        n = cJSON_GetArraySize(ix);
    cJSON_Delete(o);
    return n;
}

static void fake_worker(uint8_t seed)
{
    struct job_source *src = memqueue_source(app.queue);
    for (int i = 0; i < 4; i++) {
        int queued = 0, running = 0;
        app.queue->ops->stats(app.queue, &queued, &running);
        if (queued <= 0)
            break;
        struct job_ticket t;
        if (src->ops->take(src, &t, NULL))
            break;
        struct job_result res;
        memset(&res, 0, sizeof res);
        switch ((seed + i) % 3) {
        case 0:
            res.type = JOB_EV_CACHED;
            res.duration_ms = 500;
            res.audio = malloc(4);
            memcpy(res.audio, "OggS", 4);
            res.audio_len = 4;
            res.word_timings = strdup("[{\"start_ms\":0,\"end_ms\":10,\"offset\":0,\"length\":1}]");
            break;
        case 1:
            res.type = JOB_EV_SKIPPED;
            break;
        default:
            res.type = JOB_EV_ERROR;
            snprintf(res.error, sizeof res.error, "engine failed");
            break;
        }
        src->ops->finish(src, &t, &res);
        job_ticket_free(&t);
    }
    pipeline_drain(&app);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    for (int m = 0; m < 16 && p <= end; m++) {
        const char *nul = memchr(p, '\0', (size_t)(end - p));
        const char *stop = nul ? nul : end;
        uint64_t conn = 1;
        const char *msg = p;
        if (msg < stop && *msg == '\x01') {
            conn = 2;
            msg++;
        }
        size_t len = (size_t)(stop - msg);
        if (len <= WS_MAX_MESSAGE && utf8_valid(msg, len)) {
            /* ws.c hands over the bytes without a terminator: so does this copy */
            char *copy = malloc(len ? len : 1);
            memcpy(copy, msg, len);
            int want = expected_statuses(copy, len);
            n_status = n_error = n_evicted = 0;
            pipeline_on_message(&app, conn, STORE_FIRST_USER, copy, len);
            if (n_error && n_status)
                FAIL("a message got both an error and %d statuses: %.*s", n_status, (int)len, copy);
            if (n_error > 1)
                FAIL("a message got %d errors: %.*s", n_error, (int)len, copy);
            if (!n_error && want >= 0 && n_status != want)
                FAIL("synthesize of %d indices got %d statuses: %.*s", want, n_status, (int)len, copy);
            if (!n_error && !n_status && !n_evicted && want != 0 && want != -1)
                FAIL("no answer at all");
            free(copy);
        }
        if (!nul)
            break;
        p = nul + 1;
    }
    fake_worker(size ? data[0] : 0);
    app.queue->ops->gone(app.queue, REQ_CONN, 1);
    app.queue->ops->gone(app.queue, REQ_CONN, 2);
    job_event_free(app.queue->ops->drain(app.queue));
    int queued = 0, running = 0;
    app.queue->ops->stats(app.queue, &queued, &running);
    if (queued || running)
        FAIL("%d queued / %d running jobs left after every requester went away", queued, running);
    return 0;
}
