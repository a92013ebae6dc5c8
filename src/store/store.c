/* store — opening and closing a connection, its pragmas and prepared statements, the
 * shared error helpers, and the diagnostic calls (pragma read, integrity check).
 * Documents live in store_docs.c, audio in store_audio.c, users in store_users.c, the
 * schema in schema.c.
 * Threads: one struct store per thread (the connection is opened SQLITE_OPEN_NOMUTEX);
 * concurrency between connections is SQLite's: WAL, a 5 s busy timeout, and every write
 * transaction begun IMMEDIATE so it waits for the lock instead of failing on upgrade.
 * Ownership: store_open returns a connection that store_close frees. */
#include "store/store_int.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "util/log.h"

#define STORE_BUSY_TIMEOUT_MS 5000
#define STORE_DB_NAME "recite.db"

static const char *const store_sql[SQ_COUNT] = {
    [SQ_BEGIN] = "BEGIN",
    [SQ_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
    [SQ_COMMIT] = "COMMIT",
    [SQ_ROLLBACK] = "ROLLBACK",
    [SQ_DOC_INSERT] =
        "INSERT INTO documents(id, title, format, html, block_count, created_at, owner,"
        " source_url, author) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [SQ_BLOCK_INSERT] = "INSERT INTO blocks(doc_id, idx, text, est_ms, pause_ms) VALUES(?1, ?2, ?3, ?4, ?5)",
    [SQ_DOC_LIST] =
        "SELECT id, title, block_count, created_at, last_block_idx FROM documents"
        " WHERE owner = ?1 ORDER BY created_at DESC, rowid DESC",
    [SQ_DOC_GET] =
        "SELECT id, title, block_count, created_at, last_block_idx, html, source_url, author"
        " FROM documents"
        " WHERE id = ?1 AND (?2 = 0 OR owner = ?2)",
    [SQ_DOC_BLOCKS] = "SELECT idx, text, est_ms, pause_ms FROM blocks WHERE doc_id = ?1 ORDER BY idx",
    [SQ_DOC_COUNT] = "SELECT block_count FROM documents WHERE id = ?1 AND owner = ?2",
    [SQ_BLOCK_TEXT] =
        "SELECT b.text FROM blocks b JOIN documents d ON d.id = b.doc_id"
        " WHERE b.doc_id = ?1 AND b.idx = ?2 AND d.owner = ?3",
    [SQ_DOC_POSITION] = "UPDATE documents SET last_block_idx = ?2 WHERE id = ?1 AND owner = ?3",
    [SQ_DOC_DELETE] = "DELETE FROM documents WHERE id = ?1 AND owner = ?2",
    [SQ_AUDIO_GET] =
        "SELECT model, voice, duration_ms, word_timings, data,"
        " (SELECT user_id FROM audio_owners WHERE hash = ?1) FROM audio WHERE hash = ?1",
    [SQ_AUDIO_META] =
        "SELECT model, voice, duration_ms, word_timings, length(data),"
        " (SELECT user_id FROM audio_owners WHERE hash = ?1) FROM audio WHERE hash = ?1",
    [SQ_AUDIO_PUT] =
        "INSERT OR IGNORE INTO audio(hash, model, voice, duration_ms, word_timings,"
        " created_at, data) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [SQ_USER_BY_TOKEN] = "SELECT id, ifnull(name, ''), token_hash FROM users WHERE token_hash = ?1",
    [SQ_GUEST_FIND] = "SELECT id, last_seen FROM users WHERE guest_id = ?1",
    [SQ_GUEST_SEEN] = "UPDATE users SET last_seen = ?2 WHERE id = ?1",
    [SQ_USAGE_SUM] =
        "SELECT ifnull(sum(chars), 0), ifnull(min(at), 0) FROM usage WHERE user_id = ?1 AND at > ?2",
    [SQ_AUDIO_OWNER_PUT] = "INSERT OR IGNORE INTO audio_owners(hash, user_id) VALUES(?1, ?2)",
};

int store_fail(struct store *st, const char *what)
{
    log_error("store: %s: %s", what, st && st->db ? sqlite3_errmsg(st->db) : "no connection");
    return st && st->db && sqlite3_errcode(st->db) == SQLITE_FULL ? STORE_FULL : -1;
}

int store_exec_stmt(struct store *st, enum store_stmt which, const char *what)
{
    sqlite3_stmt *s = st->stmt[which];
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        int ret = store_fail(st, what);
        sqlite3_reset(s);
        return ret;
    }
    sqlite3_reset(s);
    return 0;
}

void store_rollback(struct store *st)
{
    if (!sqlite3_get_autocommit(st->db)) {
        sqlite3_step(st->stmt[SQ_ROLLBACK]);
        sqlite3_reset(st->stmt[SQ_ROLLBACK]);
    }
}

char *store_column_strdup(sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    size_t n = t ? (size_t)sqlite3_column_bytes(s, col) : 0;
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    if (n)
        memcpy(out, t, n);
    out[n] = '\0';
    return out;
}

/* mkdir -p with `mode` for every directory it creates. 0 or -1 with errno set. */
static int store_mkdirs(const char *dir, mode_t mode)
{
    char path[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path) {
        errno = n ? ENAMETOOLONG : ENOENT;
        return -1;
    }
    memcpy(path, dir, n + 1);
    for (char *p = path + 1; ; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(path, mode) < 0 && errno != EEXIST)
            return -1;
        *p = c;
        if (c == '\0')
            break;
    }
    struct stat sb;
    if (stat(dir, &sb) < 0)
        return -1;
    if (!S_ISDIR(sb.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/* Runs a pragma that returns one row; copies its first column into out (may be NULL). */
static int store_pragma_exec(sqlite3 *db, const char *sql, char *out, size_t outlen)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && out && outlen) {
        const unsigned char *t = sqlite3_column_text(s, 0);
        snprintf(out, outlen, "%s", t ? (const char *)t : "");
    } else if (out && outlen) {
        out[0] = '\0';
    }
    sqlite3_finalize(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : rc;
}

/* journal_mode=WAL needs a brief exclusive lock on a new database; when many connections
 * open at once SQLite can report BUSY without waiting, so retry for the busy timeout. */
static int store_enable_wal(sqlite3 *db, char *err, size_t errlen)
{
    char mode[16];
    int rc = SQLITE_BUSY;
    for (int waited_ms = 0; waited_ms <= STORE_BUSY_TIMEOUT_MS; waited_ms += 10) {
        rc = store_pragma_exec(db, "PRAGMA journal_mode=WAL", mode, sizeof mode);
        if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
            break;
        log_debug("store: journal_mode=WAL busy, retrying");
        nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000000 }, NULL);
    }
    if (rc != 0) {
        snprintf(err, errlen, "journal_mode=WAL: %s", sqlite3_errmsg(db));
        return -1;
    }
    if (strcmp(mode, "wal") != 0) {
        snprintf(err, errlen, "journal_mode=WAL not supported here (got \"%s\")", mode);
        return -1;
    }
    return 0;
}

struct store *store_open(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    struct store *st = NULL;
    if (!dir || !*dir) {
        snprintf(err, errlen, "no data directory given");
        return NULL;
    }
    if (store_mkdirs(dir, 0700) < 0) {
        snprintf(err, errlen, "cannot create data directory %s: %s", dir, strerror(errno));
        return NULL;
    }
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, STORE_DB_NAME) >= sizeof path) {
        snprintf(err, errlen, "data directory path too long");
        return NULL;
    }
    st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    int rc = sqlite3_open_v2(path, &st->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path,
                 st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
    if (store_enable_wal(st->db, err, errlen) < 0)
        goto fail;
    /* FULL: the WAL is fsynced at every commit, so a returned insert survives power loss.
     * foreign_keys is per connection and makes DELETE cascade to blocks. The size limit
     * truncates the WAL after a checkpoint so one burst does not keep its disk space. */
    static const char *const pragmas[] = {
        "PRAGMA synchronous=FULL",
        "PRAGMA foreign_keys=ON",
        "PRAGMA journal_size_limit=67108864",
    };
    for (size_t i = 0; i < sizeof pragmas / sizeof pragmas[0]; i++) {
        if (store_pragma_exec(st->db, pragmas[i], NULL, 0) != 0) {
            snprintf(err, errlen, "%s: %s", pragmas[i], sqlite3_errmsg(st->db));
            goto fail;
        }
    }
    if (store_schema_migrate(st->db, err, errlen) < 0)
        goto fail;
    for (int i = 0; i < SQ_COUNT; i++) {
        if (sqlite3_prepare_v3(st->db, store_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &st->stmt[i], NULL) != SQLITE_OK) {
            snprintf(err, errlen, "prepare \"%s\": %s", store_sql[i], sqlite3_errmsg(st->db));
            goto fail;
        }
    }
    return st;

fail:
    store_close(st);
    return NULL;
}

void store_close(struct store *st)
{
    if (!st)
        return;
    for (int i = 0; i < SQ_COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    if (st->db) {
        /* PASSIVE never waits for other connections; the last connection to close also
         * checkpoints fully and removes the WAL (SQLite does that in sqlite3_close). */
        sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        if (sqlite3_close(st->db) != SQLITE_OK) {
            store_fail(st, "close");
            sqlite3_close_v2(st->db);
        }
    }
    free(st);
}

int store_pragma_text(struct store *st, const char *name, char *out, size_t outlen)
{
    if (!st || !name || !*name || !out || !outlen) {
        log_error("store: pragma: invalid arguments");
        return -1;
    }
    for (const char *p = name; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || *p == '_')) {
            log_error("store: pragma: bad name \"%s\"", name);
            return -1;
        }
    }
    char sql[96];
    if ((size_t)snprintf(sql, sizeof sql, "PRAGMA %s", name) >= sizeof sql) {
        log_error("store: pragma: name too long");
        return -1;
    }
    if (store_pragma_exec(st->db, sql, out, outlen) != 0)
        return store_fail(st, sql);
    return 0;
}

int store_integrity_check(struct store *st, char *msg, size_t msglen)
{
    sqlite3_stmt *s = NULL;
    size_t used = 0;
    int rows = 0, ok = 0;
    if (msg && msglen)
        msg[0] = '\0';
    if (!st) {
        log_error("store: integrity check: no connection");
        return -1;
    }
    if (sqlite3_prepare_v2(st->db, "PRAGMA integrity_check", -1, &s, NULL) != SQLITE_OK)
        goto fail;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(s, 0);
        t = t ? t : "";
        if (rows++ == 0)
            ok = strcmp(t, "ok") == 0;
        if (msg && used < msglen) {
            int n = snprintf(msg + used, msglen - used, "%s%s", rows > 1 ? "; " : "", t);
            used += n > 0 ? (size_t)n : 0;
        }
    }
    if (rc != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(s);
    if (ok && rows == 1)
        return 0;
    log_error("store: integrity check failed: %s", msg && msglen ? msg : "(no detail)");
    return -1;

fail:
    store_fail(st, "integrity check");
    if (msg && msglen)
        snprintf(msg, msglen, "%s", sqlite3_errmsg(st->db));
    sqlite3_finalize(s);
    return -1;
}
