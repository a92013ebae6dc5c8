/* store internals shared by the src/store sources only: the connection struct, its prepared
 * statements and error helpers. Nothing outside src/store includes this (or sqlite3.h).
 * Threads: a struct store belongs to the one thread that uses it. */
#ifndef RECITE_STORE_INT_H
#define RECITE_STORE_INT_H
#include <sqlite3.h>
#include "store/store.h"

/* Hot statements, prepared once per connection (SQLITE_PREPARE_PERSISTENT). The SQL text
 * for each lives in store.c's table, indexed by this enum. */
enum store_stmt {
    SQ_BEGIN,           /* deferred: consistent snapshot for multi-statement reads */
    SQ_BEGIN_IMMEDIATE, /* takes the write lock up front (busy handler applies) */
    SQ_COMMIT,
    SQ_ROLLBACK,
    SQ_DOC_INSERT,
    SQ_BLOCK_INSERT,
    SQ_DOC_LIST,
    SQ_DOC_GET,
    SQ_DOC_BLOCKS,
    SQ_DOC_COUNT,
    SQ_BLOCK_TEXT,
    SQ_DOC_POSITION,
    SQ_DOC_DELETE,
    SQ_AUDIO_GET,
    SQ_AUDIO_META,
    SQ_AUDIO_PUT,
    SQ_USER_BY_TOKEN,
    SQ_GUEST_FIND,
    SQ_GUEST_SEEN,
    SQ_USAGE_SUM,
    SQ_AUDIO_OWNER_PUT,
    SQ_COUNT
};

struct store {
    sqlite3 *db;
    sqlite3_stmt *stmt[SQ_COUNT];
};

/* Logs "store: WHAT: sqlite message" once and returns -1, or STORE_FULL if the disk is full. */
int store_fail(struct store *st, const char *what);
/* Steps a statement that returns no rows (BEGIN/COMMIT/UPDATE...) and resets it. 0 / -1 / STORE_FULL. */
int store_exec_stmt(struct store *st, enum store_stmt which, const char *what);
/* Rolls back the open transaction, if any, without logging (the caller already did). */
void store_rollback(struct store *st);
/* Copies column `col` as a malloc'd string ("" for NULL). NULL on allocation failure. */
char *store_column_strdup(sqlite3_stmt *s, int col);

/* schema.c: brings the database to the current user_version (under BEGIN IMMEDIATE,
 * re-checked inside, so concurrent openers are safe). 0 or -1 with err filled. */
int store_schema_migrate(sqlite3 *db, char *err, size_t errlen);
#endif
