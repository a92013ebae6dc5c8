/* api_documents — /v1/documents: create (JSON, multipart upload or URL: built and stored
 * on the offload pool by doc_create.c), list, get, position, delete, each only on the
 * requesting user's own documents (r->user_id; another user's id is "not found" like an
 * unknown one).
 *
 * Threads: the service thread reads with its own store connection (short indexed reads:
 * WAL readers never wait). Writes that can wait — a position save or a delete behind a
 * worker's insert, up to the 5 s busy timeout — run on the writer pool (app->writer, one
 * thread with its own connection, so saves happen in the order they arrived) while the
 * request waits as a waiter; store_write_done answers it, or frees the result if the
 * client has gone. */
#include "server/http.h"
#include "server/app.h"
#include "server/doc_create.h"
#include "server/exports.h"
#include "server/offload.h"
#include "server/waiters.h"
#include "doc/doc.h"
#include "store/store.h"
#include "util/ids.h"
#include <libwebsockets.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

static int list_documents(struct http_req *r)
{
    struct doc_summary *list = NULL;
    int n = 0;
    if (store_doc_list(r->app->store, r->user_id, &list, &n))
        return http_reply_error(r, 500, "could not read the library");
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", list[i].id);
        cJSON_AddStringToObject(o, "title", list[i].title ? list[i].title : "");
        cJSON_AddNumberToObject(o, "block_count", list[i].block_count);
        cJSON_AddNumberToObject(o, "created_at", (double)list[i].created_at);
        cJSON_AddNumberToObject(o, "last_block_idx", list[i].last_block_idx);
        cJSON_AddItemToArray(arr, o);
    }
    doc_summary_free(list, n);
    return http_reply_json(r, 200, arr);
}

static int get_document(struct http_req *r, const char *id)
{
    struct doc_record rec;
    int rc = store_doc_get(r->app->store, r->user_id, id, &rec);
    if (rc == STORE_NOT_FOUND)
        return http_reply_error(r, 404, "document not found");
    if (rc)
        return http_reply_error(r, 500, "could not read the document");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", rec.s.id);
    cJSON_AddStringToObject(o, "title", rec.s.title ? rec.s.title : "");
    cJSON_AddNumberToObject(o, "block_count", rec.block_count);
    cJSON_AddNumberToObject(o, "created_at", (double)rec.s.created_at);
    cJSON_AddNumberToObject(o, "last_block_idx", rec.s.last_block_idx);
    cJSON_AddStringToObject(o, "html", rec.html ? rec.html : "");
    if (rec.source_url)
        cJSON_AddStringToObject(o, "source_url", rec.source_url);
    if (rec.author)
        cJSON_AddStringToObject(o, "author", rec.author);
    cJSON *blocks = cJSON_AddArrayToObject(o, "blocks");
    for (int i = 0; i < rec.block_count; i++) {
        cJSON *b = cJSON_CreateObject();
        cJSON_AddNumberToObject(b, "idx", rec.blocks[i].idx);
        cJSON_AddStringToObject(b, "text", rec.blocks[i].text);
        cJSON_AddNumberToObject(b, "est_duration_ms", rec.blocks[i].est_duration_ms);
        cJSON_AddNumberToObject(b, "pause_ms", rec.blocks[i].pause_ms);
        cJSON_AddItemToArray(blocks, b);
    }
    doc_record_free(&rec);
    return http_reply_json(r, 200, o);
}

/* A store write on the writer pool: a position save or a delete. */
enum write_op { W_POSITION, W_DELETE };
struct store_write {
    struct offload_task task;
    struct app *app;
    uint64_t waiter_id;
    enum write_op op;
    int64_t owner;
    char id[64];
    int idx;
    int rc;   /* out: the store's answer */
};

static void store_write_work(struct offload_task *t, void *thread_ctx)
{
    struct store_write *w = offload_container(t, struct store_write, task);
    struct store *st = thread_ctx;
    w->rc = w->op == W_POSITION ? store_doc_set_position(st, w->owner, w->id, w->idx)
                                : store_doc_delete(st, w->owner, w->id);
}

static void store_write_done(struct offload_task *t, int status)
{
    struct store_write *sw = offload_container(t, struct store_write, task);
    struct app *app = sw->app;
    struct http_req r;
    struct waiter *w = waiters_resume(app, sw->waiter_id, status, &r);
    if (status == 0 && sw->op == W_DELETE && sw->rc == 0)
        exports_forget(app, sw->owner, sw->id);   /* no download outlives its document */
    if (w) {
        int rc;
        if (sw->rc == STORE_NOT_FOUND) {
            rc = http_reply_error(&r, 404, "document not found");
        } else if (sw->rc) {
            rc = http_reply_error(&r, 500, sw->op == W_POSITION ? "could not save the position"
                                                               : "could not delete the document");
        } else if (sw->op == W_DELETE) {
            rc = http_reply(&r, 204, "application/json", NULL, 0, NULL, 0);
        } else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "id", sw->id);
            cJSON_AddNumberToObject(o, "last_block_idx", sw->idx);
            rc = http_reply_json(&r, 200, o);
        }
        waiter_finish(app, w, rc);
    }
    free(sw);
}

/* Hands the write to the writer pool; the request waits for store_write_done. */
static int store_write(struct http_req *r, enum write_op op, const char *id, int idx)
{
    struct app *app = r->app;
    struct store_write *sw = calloc(1, sizeof *sw);
    if (!sw)
        return http_reply_error(r, 500, "out of memory");
    sw->app = app;
    sw->op = op;
    sw->owner = r->user_id;
    snprintf(sw->id, sizeof sw->id, "%s", id);
    sw->idx = idx;
    struct waiter *w = waiters_add(r, NULL, NULL, NULL);
    if (!w) {
        free(sw);
        return http_reply_error(r, 500, "out of memory");
    }
    sw->waiter_id = w->id;
    if (offload_submit(app->writer, &sw->task, store_write_work, store_write_done) < 0) {
        waiters_remove(app->waiters, w);
        free(sw);
        return http_reply_error(r, 503, "the server is shutting down");
    }
    return 0;
}

static int set_position(struct http_req *r, const char *id)
{
    int count;
    int rc = store_doc_block_count(r->app->store, r->user_id, id, &count);
    if (rc == STORE_NOT_FOUND)
        return http_reply_error(r, 404, "document not found");
    if (rc)
        return http_reply_error(r, 500, "could not read the document");
    cJSON *json = cJSON_ParseWithLength((const char *)r->body, r->body_len);
    cJSON *idx = json ? cJSON_GetObjectItemCaseSensitive(json, "block_idx") : NULL;
    /* range first: casting an out-of-range double to int is undefined (found by fuzzing) */
    if (!cJSON_IsNumber(idx) || !(idx->valuedouble >= INT_MIN && idx->valuedouble <= INT_MAX) ||
        idx->valuedouble != (double)(int)idx->valuedouble) {
        cJSON_Delete(json);
        return http_reply_error(r, 400, "body must be {\"block_idx\": integer}");
    }
    int n = (int)idx->valuedouble;
    cJSON_Delete(json);
    if (n < 0 || n >= count)
        return http_reply_error(r, 400, "block_idx %d is out of range (document has %d blocks)", n, count);
    return store_write(r, W_POSITION, id, n);
}

int api_documents(struct http_req *r, const char *rest)
{
    if (!*rest || !strcmp(rest, "/")) {
        if (r->method == LWSHUMETH_POST)
            return docs_create_start(r);
        if (r->method == LWSHUMETH_GET)
            return list_documents(r);
        return http_reply_error(r, 405, "use GET or POST on /v1/documents");
    }
    char id[64];
    const char *slash = strchr(rest + 1, '/');
    size_t idlen = slash ? (size_t)(slash - rest - 1) : strlen(rest + 1);
    if (idlen >= sizeof id || !idlen)
        return http_reply_error(r, 404, "document not found");
    memcpy(id, rest + 1, idlen);
    id[idlen] = '\0';
    if (!ids_is_uuid(id))
        return http_reply_error(r, 404, "document not found");
    if (!slash) {
        if (r->method == LWSHUMETH_GET)
            return get_document(r, id);
        if (r->method == LWSHUMETH_DELETE)
            return store_write(r, W_DELETE, id, 0);
        return http_reply_error(r, 405, "use GET or DELETE on a document");
    }
    if (!strncmp(slash, "/export", 7) && (!slash[7] || slash[7] == '/'))
        return exports_route(r, id, slash + 7);
    if (!strcmp(slash, "/position")) {
        if (r->method == LWSHUMETH_PATCH || r->method == LWSHUMETH_PUT)
            return set_position(r, id);
        return http_reply_error(r, 405, "use PATCH on a document's position");
    }
    return http_reply_error(r, 404, "no such endpoint: %s", r->path);
}
