/* api_documents — /v1/documents: create (JSON or multipart upload), list, get, position,
 * delete, each only on the requesting user's own documents (r->user_id; another user's id
 * is "not found" like an unknown one). Service thread; the service thread's store. */
#include "server/http.h"
#include "server/app.h"
#include "doc/doc.h"
#include "store/store.h"
#include "util/ids.h"
#include <libwebsockets.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

/* Whether the data directory's file system is (nearly) full: a failed insert is then
 * answered 507 with a message saying so, instead of a bare 500 (docs/RELIABILITY.md). */
static int disk_full(const char *dir)
{
    struct statvfs v;
    return dir && statvfs(dir, &v) == 0 && (unsigned long long)v.f_bavail * v.f_frsize < (4ull << 20);
}

static int create_document(struct http_req *r)
{
    const char *content, *title = NULL, *format_name = NULL;
    size_t content_len;
    enum doc_format fmt = DOC_TEXT;
    cJSON *json = NULL;
    char err[256] = "";

    if (r->is_multipart) {
        if (!r->upload)
            return http_reply_error(r, 400, "multipart upload needs a `file` part");
        content = (const char *)r->upload;
        content_len = r->upload_len;
        title = r->form_title;
        format_name = r->form_format;
        if (!format_name && doc_format_guess(r->upload_name, NULL, &fmt) != 0)
            fmt = DOC_TEXT;
    } else {
        json = cJSON_ParseWithLength((const char *)r->body, r->body_len);
        if (!json || !cJSON_IsObject(json)) {
            cJSON_Delete(json);
            return http_reply_error(r, 400, "body must be a JSON object {\"content\", \"format\", \"title\"}");
        }
        cJSON *c = cJSON_GetObjectItemCaseSensitive(json, "content");
        cJSON *f = cJSON_GetObjectItemCaseSensitive(json, "format");
        cJSON *t = cJSON_GetObjectItemCaseSensitive(json, "title");
        if (!cJSON_IsString(c)) {
            cJSON_Delete(json);
            return http_reply_error(r, 400, "`content` must be a string");
        }
        if (f && !cJSON_IsNull(f) && !cJSON_IsString(f)) {
            cJSON_Delete(json);
            return http_reply_error(r, 400, "`format` must be \"text\", \"markdown\" or \"html\"");
        }
        if (t && !cJSON_IsNull(t) && !cJSON_IsString(t)) {
            cJSON_Delete(json);
            return http_reply_error(r, 400, "`title` must be a string");
        }
        content = c->valuestring;
        content_len = strlen(content);
        format_name = cJSON_IsString(f) ? f->valuestring : NULL;
        title = cJSON_IsString(t) ? t->valuestring : NULL;
    }
    if (format_name && doc_format_parse(format_name, &fmt) != 0) {
        /* format_name points into json: answer before freeing it (found by fuzzing) */
        int rc = http_reply_error(r, 400, "unknown format \"%.40s\": use text, markdown, html, pdf or epub", format_name);
        cJSON_Delete(json);
        return rc;
    }
    if (json && doc_format_is_binary(fmt)) {
        /* a JSON string cannot carry a PDF's or an EPUB's bytes */
        int rc = http_reply_error(r, 400, "format \"%.40s\" is a file: upload it as multipart/form-data "
                                  "(field `file`)", format_name);
        cJSON_Delete(json);
        return rc;
    }
    size_t i = 0;
    while (i < content_len && strchr(" \t\r\n", content[i]))
        i++;
    if (i == content_len) {
        cJSON_Delete(json);
        return http_reply_error(r, 400, "the document is empty");
    }
    struct doc *d = doc_build(content, content_len, fmt, title, err, sizeof err);
    cJSON_Delete(json);
    if (!d)
        return http_reply_error(r, doc_format_is_binary(fmt) ? 422 : 400, "%s",
                                err[0] ? err : "could not read the document");
    char id[37];
    ids_uuid(id);
    int rc = store_doc_insert(r->app->store, r->user_id, id, doc_format_name(fmt), d, (int64_t)time(NULL));
    if (rc) {
        doc_destroy(d);
        if (rc == STORE_FULL || disk_full(r->app->cfg->data_dir))
            return http_reply_error(r, 507, "the server is out of disk space: the document was not stored");
        return http_reply_error(r, 500, "could not store the document");
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "title", d->title);
    cJSON_AddNumberToObject(o, "block_count", d->block_count);
    doc_destroy(d);
    return http_reply_json(r, 201, o);
}

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
    cJSON *blocks = cJSON_AddArrayToObject(o, "blocks");
    for (int i = 0; i < rec.block_count; i++) {
        cJSON *b = cJSON_CreateObject();
        cJSON_AddNumberToObject(b, "idx", rec.blocks[i].idx);
        cJSON_AddStringToObject(b, "text", rec.blocks[i].text);
        cJSON_AddNumberToObject(b, "est_duration_ms", rec.blocks[i].est_duration_ms);
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
            return create_document(r);
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
    if (!strcmp(slash, "/position")) {
        if (r->method == LWSHUMETH_PATCH || r->method == LWSHUMETH_PUT)
            return set_position(r, id);
        return http_reply_error(r, 405, "use PATCH on a document's position");
    }
    return http_reply_error(r, 404, "no such endpoint: %s", r->path);
}
