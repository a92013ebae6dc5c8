/* store schema — migrations keyed by PRAGMA user_version. migrations[v] takes the
 * database from version v to v+1; append, never edit a shipped entry.
 * Threads: called from store_open on the opening thread. Several threads or processes may
 * open the same new database at once: the version is re-read under BEGIN IMMEDIATE (which
 * waits for the busy timeout), so exactly one of them creates the tables. */
#include "store/store_int.h"
#include <stdio.h>

/* Audio: `data` is the last column on purpose. SQLite reads a row's columns in order, and
 * a column stored after a large blob costs a walk over the blob's overflow pages, so
 * store_audio_meta (which never needs the bytes) stays cheap with the blob at the end. */
static const char *const migrations[] = {
    /* 0 -> 1 */
    "CREATE TABLE documents("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  title TEXT NOT NULL DEFAULT '',"
    "  format TEXT NOT NULL,"
    "  html TEXT NOT NULL DEFAULT '',"
    "  block_count INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  last_block_idx INTEGER NOT NULL DEFAULT -1);"
    /* newest first = this index read backwards (it carries the rowid as tie-breaker) */
    "CREATE INDEX documents_by_created ON documents(created_at);"
    "CREATE TABLE blocks("
    "  doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,"
    "  idx INTEGER NOT NULL,"
    "  text TEXT NOT NULL,"
    "  est_ms INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY(doc_id, idx)) WITHOUT ROWID;"
    "CREATE TABLE audio("
    "  hash TEXT PRIMARY KEY NOT NULL,"
    "  model TEXT NOT NULL,"
    "  voice TEXT NOT NULL,"
    "  duration_ms INTEGER NOT NULL,"
    "  word_timings TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  data BLOB NOT NULL);",
    /* 1 -> 2: accounts (SPEC section 7). User 1 is the single-user mode's user and owns every
     * document written before accounts existed; `recite user add` names it first. A user
     * is named (name + token_hash), a guest (guest_id), or user 1 unnamed. Documents get an
     * owner (no foreign key: SQLite cannot ADD a REFERENCES column with a non-NULL default,
     * and rebuilding `documents` would cascade into `blocks`; store_user_remove deletes a
     * user's documents in the same transaction instead). The reading position stays on
     * the document row: a document has exactly one owner, so it is already per user.
     * usage: one row per block a worker synthesized for a user (quotas, rolling window).
     * One migration = one transaction (store_schema_migrate), so a kill -9 loses nothing. */
    "CREATE TABLE users("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT UNIQUE,"
    "  token_hash TEXT UNIQUE,"
    "  guest_id TEXT UNIQUE,"
    "  created_at INTEGER NOT NULL,"
    "  last_seen INTEGER NOT NULL DEFAULT 0);"
    "INSERT INTO users(id, created_at) VALUES(1, CAST(strftime('%s', 'now') AS INTEGER));"
    "ALTER TABLE documents ADD COLUMN owner INTEGER NOT NULL DEFAULT 1;"
    "CREATE INDEX documents_by_owner ON documents(owner, created_at);"
    "CREATE TABLE usage("
    "  user_id INTEGER NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  chars INTEGER NOT NULL);"
    "CREATE INDEX usage_by_user ON usage(user_id, at);",
    /* 2 -> 3: browser uploads (POST /v1/audio): the one user each may be served to. A row of its
     * own rather than a column of `audio`, so `data` stays the last column there (above);
     * audio without a row here is everyone's. */
    "CREATE TABLE audio_owners("
    "  hash TEXT PRIMARY KEY NOT NULL,"
    "  user_id INTEGER NOT NULL) WITHOUT ROWID;",
    /* 3 -> 4: imports (issue 13). source_url: the URL a document was fetched from (shown on
     * the page and returned as `source_url`); author: as the EPUB or PDF names it (export
     * metadata). Both NULL for documents made from text. */
    ("ALTER TABLE documents ADD COLUMN source_url TEXT;"
     "ALTER TABLE documents ADD COLUMN author TEXT;"),
    /* 4 -> 5: pauses follow structure (issue 16): the silence to add after a block at 1x
     * (doc.h DOC_SEAM_*). 0 for documents made before: they play as they always did. */
    "ALTER TABLE blocks ADD COLUMN pause_ms INTEGER NOT NULL DEFAULT 0;",
    /* 5 -> 6: the server's export jobs (server/exports.c), so a restart neither forgets a
     * running export (it resumes) nor a finished one (its file is served again). One row per
     * owner, document, format, model and voice: a new export of the same kind replaces the
     * row (INSERT OR REPLACE). The rows go with their document (ON DELETE CASCADE, like
     * blocks); the files in DATA/exports/ are the server's to remove. `file` is relative to
     * the data directory; `title` names the download. */
    "CREATE TABLE exports("
    "  id INTEGER PRIMARY KEY,"
    "  owner INTEGER NOT NULL,"
    "  doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,"
    "  format TEXT NOT NULL,"
    "  model TEXT NOT NULL,"
    "  voice TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  blocks_done INTEGER NOT NULL DEFAULT 0,"
    "  blocks_total INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT,"
    "  file TEXT NOT NULL,"
    "  title TEXT,"
    "  duration_ms INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  UNIQUE(owner, doc_id, format, model, voice));"
    "CREATE INDEX exports_by_doc ON exports(doc_id);",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

static int schema_version(sqlite3 *db, int *version)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *version = sqlite3_column_int(s, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_OK ? 0 : -1;
}

int store_schema_migrate(sqlite3 *db, char *err, size_t errlen)
{
    int version = 0;
    const char *step = "read user_version";
    if (schema_version(db, &version) < 0)
        goto fail;
    if (version == SCHEMA_VERSION)
        return 0;   /* the common case: no write lock taken */
    /* newer (or nonsense) versions are refused below, after the re-read */
    step = "begin migration";
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    step = "re-read user_version";
    if (schema_version(db, &version) < 0)
        goto fail_rollback;
    if (version < 0 || version > SCHEMA_VERSION) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        snprintf(err, errlen, "database schema version %d is not one this recite knows "
                 "(it writes version %d)", version, SCHEMA_VERSION);
        return -1;
    }
    for (; version < SCHEMA_VERSION; version++) {
        step = "migrate";
        if (sqlite3_exec(db, migrations[version], NULL, NULL, NULL) != SQLITE_OK)
            goto fail_rollback;
    }
    char sql[48];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", SCHEMA_VERSION);
    step = "set user_version";
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        goto fail_rollback;
    step = "commit migration";
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto fail_rollback;
    return 0;

fail_rollback:
    snprintf(err, errlen, "schema %s (to version %d): %s", step, version + 1,
             sqlite3_errmsg(db));
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
fail:
    snprintf(err, errlen, "schema %s: %s", step, sqlite3_errmsg(db));
    return -1;
}
