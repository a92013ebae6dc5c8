/* store documents — documents and their blocks: insert (one transaction), list, get,
 * block text, reading position, delete (blocks cascade; audio is shared and kept). Every
 * statement carries the owner: another user's document is simply not found.
 * Threads: the calling thread's own struct store. Ownership: every string and array
 * handed out is malloc'd and freed by doc_summary_free / doc_record_free / free();
 * titles and html are never NULL ("" when empty). */
#include "store/store_int.h"
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/log.h"

#define STORE_ID_MAX (sizeof ((struct doc_summary *)0)->id)

/* Resets a statement after use and drops its bindings (some bind SQLITE_STATIC). */
static void docs_done(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

/* Only insert checks ids: an id that could not be inserted is simply not found later. */
static int docs_check_id(const char *what, const char *id)
{
    if (!id || !*id || strlen(id) >= STORE_ID_MAX) {
        log_error("store: %s: invalid document id", what);
        return -1;
    }
    return 0;
}

int store_doc_insert(struct store *st, int64_t owner, const char *id, const char *format,
                     const struct doc *d, int64_t created_at)
{
    sqlite3_stmt *doc = NULL, *blk = NULL;
    if (!st || !d || d->block_count < 0 || (d->block_count > 0 && !d->blocks)) {
        log_error("store: insert document: invalid arguments");
        return -1;
    }
    if (docs_check_id("insert document", id) < 0)
        return -1;
    for (int i = 0; i < d->block_count; i++) {
        if (d->blocks[i].idx != i) {
            log_error("store: insert document %s: block %d has idx %d", id, i,
                      d->blocks[i].idx);
            return -1;
        }
    }
    int ret = store_exec_stmt(st, SQ_BEGIN_IMMEDIATE, "insert document: begin");
    if (ret < 0)
        return ret;
    doc = st->stmt[SQ_DOC_INSERT];
    sqlite3_bind_text(doc, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(doc, 2, d->title ? d->title : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(doc, 3, format ? format : "text", -1, SQLITE_STATIC);
    sqlite3_bind_text(doc, 4, d->html ? d->html : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(doc, 5, d->block_count);
    sqlite3_bind_int64(doc, 6, created_at);
    sqlite3_bind_int64(doc, 7, owner);
    if (d->source_url)
        sqlite3_bind_text(doc, 8, d->source_url, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(doc, 8);
    if (d->author)
        sqlite3_bind_text(doc, 9, d->author, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(doc, 9);
    if (sqlite3_step(doc) != SQLITE_DONE) {
        ret = store_fail(st, "insert document");
        goto fail;
    }
    docs_done(doc);
    blk = st->stmt[SQ_BLOCK_INSERT];
    sqlite3_bind_text(blk, 1, id, -1, SQLITE_STATIC);   /* bindings survive reset */
    for (int i = 0; i < d->block_count; i++) {
        const struct doc_block *b = &d->blocks[i];
        sqlite3_bind_int(blk, 2, i);
        sqlite3_bind_text(blk, 3, b->text ? b->text : "", -1, SQLITE_STATIC);
        sqlite3_bind_int(blk, 4, b->est_duration_ms);
        sqlite3_bind_int(blk, 5, b->pause_ms);
        if (sqlite3_step(blk) != SQLITE_DONE) {
            ret = store_fail(st, "insert block");
            goto fail;
        }
        sqlite3_reset(blk);
    }
    docs_done(blk);
    /* synchronous=FULL: the WAL is on disk when COMMIT returns */
    if ((ret = store_exec_stmt(st, SQ_COMMIT, "insert document: commit")) < 0)
        goto fail;
    return 0;

fail:
    if (doc)
        docs_done(doc);
    if (blk)
        docs_done(blk);
    store_rollback(st);
    return ret;
}

int store_doc_list(struct store *st, int64_t owner, struct doc_summary **out, int *count)
{
    struct doc_summary *list = NULL;
    int n = 0, cap = 0, rc;
    if (!st || !out || !count) {
        log_error("store: list documents: invalid arguments");
        return -1;
    }
    *out = NULL;
    *count = 0;
    sqlite3_stmt *s = st->stmt[SQ_DOC_LIST];
    sqlite3_bind_int64(s, 1, owner);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            int ncap = cap ? cap * 2 : 16;
            struct doc_summary *grown = realloc(list, (size_t)ncap * sizeof *list);
            if (!grown)
                goto oom;
            list = grown;
            cap = ncap;
        }
        struct doc_summary *d = &list[n];
        memset(d, 0, sizeof *d);
        const unsigned char *id = sqlite3_column_text(s, 0);
        snprintf(d->id, sizeof d->id, "%s", id ? (const char *)id : "");
        d->title = store_column_strdup(s, 1);
        if (!d->title)
            goto oom;
        n++;
        d->block_count = sqlite3_column_int(s, 2);
        d->created_at = sqlite3_column_int64(s, 3);
        d->last_block_idx = sqlite3_column_int(s, 4);
    }
    if (rc != SQLITE_DONE) {
        store_fail(st, "list documents");
        goto fail;
    }
    sqlite3_reset(s);
    *out = list;
    *count = n;
    return 0;

oom:
    log_error("store: list documents: out of memory");
fail:
    sqlite3_reset(s);
    doc_summary_free(list, n);
    return -1;
}

/* Reads the blocks of `id` into r (inside the caller's read transaction). */
static int docs_read_blocks(struct store *st, const char *id, int hint, struct doc_record *r)
{
    sqlite3_stmt *s = st->stmt[SQ_DOC_BLOCKS];
    int cap = hint > 0 ? hint : 0, rc;
    if (cap) {
        r->blocks = calloc((size_t)cap, sizeof *r->blocks);
        if (!r->blocks)
            goto oom;
    }
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (r->block_count == cap) {
            int ncap = cap ? cap * 2 : 16;
            struct doc_block *grown = realloc(r->blocks, (size_t)ncap * sizeof *grown);
            if (!grown)
                goto oom;
            r->blocks = grown;
            cap = ncap;
        }
        struct doc_block *b = &r->blocks[r->block_count];
        b->idx = sqlite3_column_int(s, 0);
        b->est_duration_ms = sqlite3_column_int(s, 2);
        b->pause_ms = sqlite3_column_int(s, 3);
        b->text = store_column_strdup(s, 1);
        if (!b->text)
            goto oom;
        r->block_count++;
    }
    if (rc != SQLITE_DONE) {
        store_fail(st, "read blocks");
        docs_done(s);
        return -1;
    }
    docs_done(s);
    return 0;

oom:
    log_error("store: read blocks: out of memory");
    docs_done(s);
    return -1;
}

int store_doc_get(struct store *st, int64_t owner, const char *id, struct doc_record *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!st || !id || !out) {
        log_error("store: get document: invalid arguments");
        return -1;
    }
    /* one snapshot for the row and its blocks, so a concurrent delete cannot split them */
    if (store_exec_stmt(st, SQ_BEGIN, "get document: begin") < 0)
        return -1;
    sqlite3_stmt *s = st->stmt[SQ_DOC_GET];
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, owner);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
        docs_done(s);
        store_rollback(st);
        return STORE_NOT_FOUND;
    }
    if (rc != SQLITE_ROW) {
        store_fail(st, "get document");
        docs_done(s);
        goto fail;
    }
    const unsigned char *rid = sqlite3_column_text(s, 0);
    snprintf(out->s.id, sizeof out->s.id, "%s", rid ? (const char *)rid : "");
    out->s.block_count = sqlite3_column_int(s, 2);
    out->s.created_at = sqlite3_column_int64(s, 3);
    out->s.last_block_idx = sqlite3_column_int(s, 4);
    out->s.title = store_column_strdup(s, 1);
    out->html = store_column_strdup(s, 5);
    bool has_url = sqlite3_column_type(s, 6) != SQLITE_NULL, has_author = sqlite3_column_type(s, 7) != SQLITE_NULL;
    out->source_url = has_url ? store_column_strdup(s, 6) : NULL;
    out->author = has_author ? store_column_strdup(s, 7) : NULL;
    docs_done(s);
    if (!out->s.title || !out->html || (has_url && !out->source_url) || (has_author && !out->author)) {
        log_error("store: get document: out of memory");
        goto fail;
    }
    if (docs_read_blocks(st, id, out->s.block_count, out) < 0)
        goto fail;
    store_rollback(st);   /* read-only: ending it either way is the same */
    return 0;

fail:
    store_rollback(st);
    doc_record_free(out);
    return -1;
}

int store_doc_block_count(struct store *st, int64_t owner, const char *id, int *count)
{
    if (!st || !id || !count) {
        log_error("store: block count: invalid arguments");
        return -1;
    }
    sqlite3_stmt *s = st->stmt[SQ_DOC_COUNT];
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, owner);
    int rc = sqlite3_step(s), ret = 0;
    if (rc == SQLITE_ROW)
        *count = sqlite3_column_int(s, 0);
    else if (rc == SQLITE_DONE)
        ret = STORE_NOT_FOUND;
    else
        ret = store_fail(st, "block count");
    docs_done(s);
    return ret;
}

int store_block_text(struct store *st, int64_t owner, const char *id, int idx, char **text)
{
    if (text)
        *text = NULL;
    if (!st || !id || !text) {
        log_error("store: block text: invalid arguments");
        return -1;
    }
    sqlite3_stmt *s = st->stmt[SQ_BLOCK_TEXT];
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, idx);
    sqlite3_bind_int64(s, 3, owner);
    int rc = sqlite3_step(s), ret = 0;
    if (rc == SQLITE_ROW) {
        *text = store_column_strdup(s, 0);
        if (!*text) {
            log_error("store: block text: out of memory");
            ret = -1;
        }
    } else if (rc == SQLITE_DONE) {
        ret = STORE_NOT_FOUND;
    } else {
        ret = store_fail(st, "block text");
    }
    docs_done(s);
    return ret;
}

/* Runs a one-row UPDATE/DELETE keyed by document id: 0, STORE_NOT_FOUND or -1. */
static int docs_change(struct store *st, enum store_stmt which, const char *what)
{
    sqlite3_stmt *s = st->stmt[which];
    int ret = 0;
    if (sqlite3_step(s) != SQLITE_DONE)
        ret = store_fail(st, what);
    else if (sqlite3_changes(st->db) == 0)   /* cascaded block deletes are not counted */
        ret = STORE_NOT_FOUND;
    docs_done(s);
    return ret;
}

int store_doc_set_position(struct store *st, int64_t owner, const char *id, int block_idx)
{
    if (!st || !id) {
        log_error("store: set position: invalid arguments");
        return -1;
    }
    sqlite3_stmt *s = st->stmt[SQ_DOC_POSITION];
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, block_idx);
    sqlite3_bind_int64(s, 3, owner);
    return docs_change(st, SQ_DOC_POSITION, "set position");
}

int store_doc_delete(struct store *st, int64_t owner, const char *id)
{
    if (!st || !id) {
        log_error("store: delete document: invalid arguments");
        return -1;
    }
    sqlite3_bind_text(st->stmt[SQ_DOC_DELETE], 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st->stmt[SQ_DOC_DELETE], 2, owner);
    return docs_change(st, SQ_DOC_DELETE, "delete document");
}

void doc_summary_free(struct doc_summary *s, int count)
{
    if (!s)
        return;
    for (int i = 0; i < count; i++)
        free(s[i].title);
    free(s);
}

void doc_record_free(struct doc_record *r)
{
    if (!r)
        return;
    free(r->s.title);
    free(r->html);
    free(r->source_url);
    free(r->author);
    if (r->blocks)
        for (int i = 0; i < r->block_count; i++)
            free(r->blocks[i].text);
    free(r->blocks);
    memset(r, 0, sizeof *r);
}
