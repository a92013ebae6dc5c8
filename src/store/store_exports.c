/* store exports — the rows behind the server's export jobs (server/exports.c): saved at
 * every change of a job's state, read once at start-up so a restart serves finished exports
 * again and resumes unfinished ones. Rows go with their document (ON DELETE CASCADE).
 * Threads: the calling thread's own struct store (the writer pool saves; the start-up read
 * runs on the main thread before the loop serves anyone).
 * Ownership: store_export_list's array is malloc'd, freed by the caller with free(). */
#include "store/store_int.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/log.h"

/* A job's state changes a handful of times in its life: the statements are prepared per
 * call rather than kept on every connection. */
int store_export_save(struct store *st, const struct export_row *r)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db,
            "INSERT OR REPLACE INTO exports(id, owner, doc_id, format, model, voice, status,"
            " blocks_done, blocks_total, error, file, title, duration_ms, created_at, updated_at)"
            " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            -1, &s, NULL) != SQLITE_OK)
        return store_fail(st, "save export");
    sqlite3_bind_int64(s, 1, r->id);
    sqlite3_bind_int64(s, 2, r->owner);
    sqlite3_bind_text(s, 3, r->doc_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, r->format, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, r->model, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, r->voice, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, r->status, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 8, r->blocks_done);
    sqlite3_bind_int(s, 9, r->blocks_total);
    if (r->error[0])
        sqlite3_bind_text(s, 10, r->error, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 11, r->file, -1, SQLITE_STATIC);
    if (r->title[0])
        sqlite3_bind_text(s, 12, r->title, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 13, r->duration_ms);
    sqlite3_bind_int64(s, 14, r->created_at);
    sqlite3_bind_int64(s, 15, r->updated_at);
    int rc = sqlite3_step(s), ret = 0;
    if ((rc & 0xff) == SQLITE_CONSTRAINT)   /* the document was deleted before this save: nothing to keep */
        ret = STORE_NOT_FOUND;
    else if (rc != SQLITE_DONE)
        ret = store_fail(st, "save export");
    sqlite3_finalize(s);
    return ret;
}

static void copy_col(sqlite3_stmt *s, int col, char *out, size_t n)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    snprintf(out, n, "%s", t ? (const char *)t : "");
}

int store_export_list(struct store *st, struct export_row **out, int *count)
{
    *out = NULL;
    *count = 0;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db,
            "SELECT id, owner, doc_id, format, model, voice, status, blocks_done, blocks_total,"
            " error, file, title, duration_ms, created_at, updated_at FROM exports ORDER BY id",
            -1, &s, NULL) != SQLITE_OK)
        return store_fail(st, "list exports");
    struct export_row *rows = NULL;
    int n = 0, cap = 0, rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            struct export_row *grown = realloc(rows, (size_t)cap * sizeof *rows);
            if (!grown) {
                free(rows);
                sqlite3_finalize(s);
                log_error("store: list exports: out of memory");
                return -1;
            }
            rows = grown;
        }
        struct export_row *r = &rows[n++];
        memset(r, 0, sizeof *r);
        r->id = sqlite3_column_int64(s, 0);
        r->owner = sqlite3_column_int64(s, 1);
        copy_col(s, 2, r->doc_id, sizeof r->doc_id);
        copy_col(s, 3, r->format, sizeof r->format);
        copy_col(s, 4, r->model, sizeof r->model);
        copy_col(s, 5, r->voice, sizeof r->voice);
        copy_col(s, 6, r->status, sizeof r->status);
        r->blocks_done = sqlite3_column_int(s, 7);
        r->blocks_total = sqlite3_column_int(s, 8);
        copy_col(s, 9, r->error, sizeof r->error);
        copy_col(s, 10, r->file, sizeof r->file);
        copy_col(s, 11, r->title, sizeof r->title);
        r->duration_ms = sqlite3_column_int64(s, 12);
        r->created_at = sqlite3_column_int64(s, 13);
        r->updated_at = sqlite3_column_int64(s, 14);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        free(rows);
        return store_fail(st, "list exports");
    }
    *out = rows;
    *count = n;
    return 0;
}
