/* api_documents — /v1/documents: create (JSON, multipart upload or URL: built and stored
 * on the offload pool by doc_create.c), list, get, position,
 * delete, each only on the requesting user's own documents (r->user_id; another user's id
 * is "not found" like an unknown one). Service thread; the service thread's store. */
#include "server/http.h"
#include "server/app.h"
#include "server/doc_create.h"
#include "server/exports.h"
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
    if (store_doc_set_position(r->app->store, r->user_id, id, n))
        return http_reply_error(r, 500, "could not save the position");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddNumberToObject(o, "last_block_idx", n);
    return http_reply_json(r, 200, o);
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
        if (r->method == LWSHUMETH_DELETE) {
            int rc = store_doc_delete(r->app->store, r->user_id, id);
            if (rc == STORE_NOT_FOUND)
                return http_reply_error(r, 404, "document not found");
            if (rc)
                return http_reply_error(r, 500, "could not delete the document");
            return http_reply(r, 204, "application/json", NULL, 0, NULL, 0);
        }
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
