/* doc_create — POST /v1/documents on the offload pool (server/offload.h): the service
 * thread only collects the body (JSON, or the multipart upload), hands it to a pool thread
 * and answers when the document is stored. The pool thread parses the JSON, fetches a URL
 * (net/url_import.c), builds the document (any front-end: text, markdown, HTML, PDF, EPUB)
 * and inserts it with its own SQLite connection — a 10 MiB book no longer stops every
 * reader for most of a second.
 *
 * Threads: docs_create_start and create_done on the service thread; create_work on a pool
 * thread (no lws, no app state beyond the read-only config). Ownership: the request body
 * moves out of the session into the task; the task is the pool's until create_done frees
 * it. The HTTP request waits as a waiter (waiters.h) and is looked up again by id when the
 * task is done: a client that left is not answered, but its document is stored. */
#include "server/doc_create.h"
#include "server/app.h"
#include "server/http.h"
#include "server/offload.h"
#include "server/session.h"
#include "server/waiters.h"
#include "config.h"
#include "doc/doc.h"
#include "net/url_import.h"
#include "store/store.h"
#include "util/ids.h"
#include "util/log.h"
#include <libwebsockets.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <time.h>

struct create {
    struct offload_task task;
    struct app *app;
    uint64_t waiter_id;
    int64_t user_id;
    /* in */
    unsigned char *body;        /* the JSON body or the uploaded file; owned */
    size_t len;
    int fd;                     /* >= 0: the upload is this spool file (len bytes); owned */
    void *map;                  /* the spool file mapped by the pool thread */
    int is_multipart;
    char *upload_name, *form_format, *form_title;
    char *data_dir;
    struct fetch_opts fetch;
    /* out */
    int status;                 /* 201 or the error's */
    char err[512];
    char id[37];
    char *title;
    char *source_url;
    int block_count;
};

static void create_free(struct create *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->body);
    free(c->upload_name);
    free(c->form_format);
    free(c->form_title);
    free(c->data_dir);
    free(c->title);
    free(c->source_url);
    free(c);
}

static void fail(struct create *c, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(struct create *c, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    c->status = status;
}

/* Whether the data directory's file system is (nearly) full: a failed insert is then
 * answered 507 with a message saying so, instead of a bare 500 (docs/RELIABILITY.md). */
static int disk_full(const char *dir)
{
    struct statvfs v;
    return dir && statvfs(dir, &v) == 0 && (unsigned long long)v.f_bavail * v.f_frsize < (4ull << 20);
}

/* The document the request describes, or NULL with c->status and c->err set. */
static struct doc *build(struct create *c, enum doc_format *fmt)
{
    const char *content, *title = NULL, *format_name = NULL, *url = NULL;
    size_t content_len;
    cJSON *json = NULL;
    struct doc *d = NULL;
    char err[256] = "";
    *fmt = DOC_TEXT;
    if (c->is_multipart) {
        if (!c->body && !c->map) {
            fail(c, 400, "multipart upload needs a `file` part");
            return NULL;
        }
        content = c->map ? (const char *)c->map : (const char *)c->body;
        content_len = c->len;
        title = c->form_title;
        format_name = c->form_format;
        if (!format_name && doc_format_guess(c->upload_name, NULL, fmt) != 0)
            *fmt = DOC_TEXT;
    } else {
        json = cJSON_ParseWithLength((const char *)c->body, c->len);
        if (!json || !cJSON_IsObject(json)) {
            fail(c, 400, "body must be a JSON object {\"content\", \"format\", \"title\"} or {\"url\"}");
            goto out;
        }
        cJSON *j = cJSON_GetObjectItemCaseSensitive(json, "content");
        cJSON *f = cJSON_GetObjectItemCaseSensitive(json, "format");
        cJSON *t = cJSON_GetObjectItemCaseSensitive(json, "title");
        cJSON *u = cJSON_GetObjectItemCaseSensitive(json, "url");
        if (u && !cJSON_IsNull(u)) {
            if (!cJSON_IsString(u)) {
                fail(c, 400, "`url` must be a string");
                goto out;
            }
            if (j && !cJSON_IsNull(j)) {
                fail(c, 400, "give either `content` or `url`, not both");
                goto out;
            }
            url = u->valuestring;
        } else if (!cJSON_IsString(j)) {
            fail(c, 400, "`content` must be a string");
            goto out;
        }
        if (f && !cJSON_IsNull(f) && !cJSON_IsString(f)) {
            fail(c, 400, "`format` must be \"text\", \"markdown\" or \"html\"");
            goto out;
        }
        if (t && !cJSON_IsNull(t) && !cJSON_IsString(t)) {
            fail(c, 400, "`title` must be a string");
            goto out;
        }
        content = url ? "" : j->valuestring;
        content_len = strlen(content);
        format_name = cJSON_IsString(f) ? f->valuestring : NULL;
        title = cJSON_IsString(t) ? t->valuestring : NULL;
    }
    if (url) {
        int status;
        d = url_import(url, &c->fetch, title, fmt, &status, err, sizeof err);
        if (!d)
            fail(c, status, "%s", err);
        else if (!(d->source_url = strdup(url)))
            fail(c, 500, "out of memory");
        goto out;
    }
    if (format_name && doc_format_parse(format_name, fmt) != 0) {
        fail(c, 400, "unknown format \"%.40s\": use text, markdown, html, pdf or epub", format_name);
        goto out;
    }
    if (json && doc_format_is_binary(*fmt)) {   /* a JSON string cannot carry a file's bytes */
        fail(c, 400, "format \"%.40s\" is a file: upload it as multipart/form-data (field `file`)",
             format_name);
        goto out;
    }
    size_t i = 0;
    while (i < content_len && strchr(" \t\r\n", content[i]))
        i++;
    if (i == content_len) {
        fail(c, 400, "the document is empty");
        goto out;
    }
    d = doc_build(content, content_len, *fmt, title, err, sizeof err);
    if (!d)
        fail(c, doc_format_is_binary(*fmt) ? 422 : 400, "%s", err[0] ? err : "could not read the document");
out:
    cJSON_Delete(json);
    if (c->status && d) {
        doc_destroy(d);
        d = NULL;
    }
    return d;
}

/* Pool thread: everything from parsing to the committed insert. */
static void create_work(struct offload_task *t, void *thread_ctx)
{
    struct create *c = offload_container(t, struct create, task);
    struct store *st = thread_ctx;
    enum doc_format fmt;
    if (c->fd >= 0 && c->len) {   /* the spooled upload, read in place */
        c->map = mmap(NULL, c->len, PROT_READ, MAP_PRIVATE, c->fd, 0);
        if (c->map == MAP_FAILED) {
            c->map = NULL;
            fail(c, 500, "could not read the upload back");
            return;
        }
    } else if (c->fd >= 0) {
        c->map = (void *)"";   /* an empty file: an empty document */
    }
    struct doc *d = build(c, &fmt);
    if (c->map && c->len)
        munmap(c->map, c->len);
    c->map = NULL;
    free(c->body);   /* the largest thing the task holds; done with it */
    c->body = NULL;
    if (!d)
        return;
    ids_uuid(c->id);
    int rc = store_doc_insert(st, c->user_id, c->id, doc_format_name(fmt), d, (int64_t)time(NULL));
    if (rc == STORE_FULL || (rc && disk_full(c->data_dir)))
        fail(c, 507, "the server is out of disk space: the document was not stored");
    else if (rc)
        fail(c, 500, "could not store the document");
    if (!rc) {
        c->status = 201;
        c->title = d->title;
        d->title = NULL;
        c->source_url = d->source_url;
        d->source_url = NULL;
        c->block_count = d->block_count;
    }
    doc_destroy(d);
}

/* Service thread: answer the request if it still waits. */
static void create_done(struct offload_task *t, int status)
{
    struct create *c = offload_container(t, struct create, task);
    struct app *app = c->app;
    struct http_req r;
    struct waiter *w = waiters_resume(app, c->waiter_id, status, &r);
    if (w) {
        if (c->status != 201) {
            waiter_finish(app, w, http_reply_error(&r, c->status, "%s", c->err));
        } else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "id", c->id);
            cJSON_AddStringToObject(o, "title", c->title ? c->title : "");
            cJSON_AddNumberToObject(o, "block_count", c->block_count);
            if (c->source_url)
                cJSON_AddStringToObject(o, "source_url", c->source_url);
            waiter_finish(app, w, http_reply_json(&r, 201, o));
        }
    }
    create_free(c);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int docs_create_start(struct http_req *r)
{
    struct app *app = r->app;
    struct http_state *h = &r->s->http;
    struct create *c = calloc(1, sizeof *c);
    if (!c)
        return http_reply_error(r, 500, "out of memory");
    c->app = app;
    c->user_id = r->user_id;
    c->is_multipart = r->is_multipart;
    /* the body moves into the task: no copy of a 50 MiB upload on the service thread; an
     * uploaded file is already on disk (http.c spools it) and goes as its descriptor */
    c->fd = -1;
    if (r->is_multipart && r->upload_fd >= 0) {
        c->fd = http_spool_take(r);
        c->len = r->upload_len;
    } else if (r->is_multipart && r->upload) {   /* a small field lws_spa kept itself */
        c->body = malloc(r->upload_len + 1);
        if (c->body)
            memcpy(c->body, r->upload, r->upload_len);
        c->len = r->upload_len;
    } else if (!r->is_multipart && r->body == h->body.data) {
        c->body = h->body.data;
        c->len = h->body.len;
        h->body = (struct buf){ 0 };
    }
    c->upload_name = dup_or_null(r->upload_name);
    c->form_format = dup_or_null(r->form_format);
    c->form_title = dup_or_null(r->form_title);
    c->data_dir = dup_or_null(app->cfg->data_dir);
    c->fetch = (struct fetch_opts){ .max_bytes = (size_t)app->cfg->url_max_mb << 20,
                                    .timeout_ms = app->cfg->url_timeout_s * 1000L,
                                    .max_redirects = 5,
                                    .allow_private = app->cfg->allow_private_urls,
                                    .allow = app->cfg->url_allow };
    if ((r->is_multipart && r->upload && !c->body) || (r->upload_name && !c->upload_name) ||
        (r->form_format && !c->form_format) || (r->form_title && !c->form_title)) {
        create_free(c);
        return http_reply_error(r, 500, "out of memory");
    }
    struct waiter *w = waiters_add(r, NULL, NULL, NULL);
    if (!w) {
        create_free(c);
        return http_reply_error(r, 500, "out of memory");
    }
    w->busy = 1;
    c->waiter_id = w->id;
    if (offload_submit(app->offload, &c->task, create_work, create_done) < 0) {
        waiters_remove(app->waiters, w);
        create_free(c);
        lws_set_timeout(r->wsi, NO_PENDING_TIMEOUT, 0);
        return http_reply_error(r, 503, "the server is shutting down");
    }
    return 0;
}
