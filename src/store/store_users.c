/* store users — accounts (SPEC section 7): named users with a hashed token, guests with an
 * anonymous id, user 1 (single-user mode's user, owner of the documents from before
 * accounts), guest expiry, and the usage events that quotas sum.
 * Threads: the calling thread's own struct store (the service thread for lookups and
 * usage; the `recite user` command for the rest, while a server may run: every write is
 * one IMMEDIATE transaction, so the two never see half a change).
 * Ownership: user_info arrays are malloc'd, freed by the caller with free(). */
#include "store/store_int.h"
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/log.h"

/* Parameters of a seldom-run statement, bound by position: ?1 t1, ?2 t2, ?3 i3, ?4 i4,
 * ?5 i5 (only those the statement names). */
struct ubind { const char *t1, *t2; int64_t i3, i4, i5; };

/* The seldom-run statements are prepared per call: they are CLI or once-an-hour work. */
static sqlite3_stmt *users_prepare(struct store *st, const char *sql, const struct ubind *b)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return NULL;
    int n = sqlite3_bind_parameter_count(s);
    if (n >= 1) sqlite3_bind_text(s, 1, b->t1, -1, SQLITE_STATIC);
    if (n >= 2) sqlite3_bind_text(s, 2, b->t2, -1, SQLITE_STATIC);
    if (n >= 3) sqlite3_bind_int64(s, 3, b->i3);
    if (n >= 4) sqlite3_bind_int64(s, 4, b->i4);
    if (n >= 5) sqlite3_bind_int64(s, 5, b->i5);
    return s;
}

/* A query of one integer: 0 with *out, STORE_NOT_FOUND (no row) or -1. */
static int users_int(struct store *st, const char *sql, const char *what, struct ubind b,
                     int64_t *out)
{
    sqlite3_stmt *s = users_prepare(st, sql, &b);
    if (!s)
        return store_fail(st, what);
    int rc = sqlite3_step(s), ret = STORE_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(s, 0);
        ret = 0;
    } else if (rc != SQLITE_DONE) {
        ret = store_fail(st, what);
    }
    sqlite3_finalize(s);
    return ret;
}

/* A change: 0 with *changed rows (may be NULL), STORE_EXISTS on a UNIQUE conflict, or -1. */
static int users_change(struct store *st, const char *sql, const char *what, struct ubind b,
                        int *changed)
{
    sqlite3_stmt *s = users_prepare(st, sql, &b);
    if (!s)
        return store_fail(st, what);
    int rc = sqlite3_step(s), ret = 0;
    if (rc == SQLITE_CONSTRAINT)
        ret = STORE_EXISTS;
    else if (rc != SQLITE_DONE)
        ret = store_fail(st, what);
    else if (changed)
        *changed = sqlite3_changes(st->db);
    sqlite3_finalize(s);
    return ret;
}

static int users_begin(struct store *st, const char *what)
{
    return store_exec_stmt(st, SQ_BEGIN_IMMEDIATE, what);
}

static int users_commit(struct store *st, const char *what)
{
    int rc = store_exec_stmt(st, SQ_COMMIT, what);
    if (rc)
        store_rollback(st);
    return rc;
}

int store_user_add(struct store *st, const char *name, const char *token_hash, int64_t now,
                   int *adopted)
{
    *adopted = 0;
    int rc = users_begin(st, "add user: begin"), changed = 0;
    if (rc)
        return rc;
    int64_t n = 0;
    struct ubind b = { .t1 = name, .t2 = token_hash, .i3 = now };
    if ((rc = users_int(st, "SELECT count(*) FROM users WHERE name = ?1", "add user", b, &n)))
        goto fail;
    if (n > 0) {
        rc = STORE_EXISTS;
        goto fail;
    }
    /* user 1 unnamed: the data directory's first user takes it over, with its documents */
    if ((rc = users_change(st, "UPDATE users SET name = ?1, token_hash = ?2, last_seen = ?3"
                           " WHERE id = 1 AND name IS NULL AND guest_id IS NULL", "add user",
                           b, &changed)))
        goto fail;
    if (changed) {
        if ((rc = users_int(st, "SELECT count(*) FROM documents WHERE owner = 1", "add user",
                            b, &n)))
            goto fail;
        *adopted = (int)n;
    } else if ((rc = users_change(st, "INSERT INTO users(name, token_hash, created_at, last_seen)"
                                  " VALUES(?1, ?2, ?3, ?3)", "add user", b, NULL))) {
        goto fail;
    }
    return users_commit(st, "add user: commit");
fail:
    store_rollback(st);
    return rc;
}

int store_user_set_token(struct store *st, const char *name, const char *token_hash)
{
    int changed = 0;
    int rc = users_change(st, "UPDATE users SET token_hash = ?2 WHERE name = ?1", "rotate token",
                          (struct ubind){ .t1 = name, .t2 = token_hash }, &changed);
    return rc ? rc : changed ? 0 : STORE_NOT_FOUND;
}

/* Deletes a user's documents (blocks cascade) and usage; inside the caller's transaction. */
static int users_drop_data(struct store *st, int64_t id, int *documents)
{
    int changed = 0;
    struct ubind b = { .i3 = id };
    if (users_change(st, "DELETE FROM documents WHERE owner = ?3", "remove documents", b, &changed))
        return -1;
    if (documents)
        *documents += changed;
    return users_change(st, "DELETE FROM usage WHERE user_id = ?3", "remove usage", b, NULL);
}

int store_user_remove(struct store *st, const char *name, int *documents)
{
    *documents = 0;
    int rc = users_begin(st, "remove user: begin");
    if (rc)
        return rc;
    int64_t id;
    if ((rc = users_int(st, "SELECT id FROM users WHERE name = ?1", "remove user",
                        (struct ubind){ .t1 = name }, &id)))
        goto fail;
    if ((rc = users_drop_data(st, id, documents)))
        goto fail;
    if ((rc = users_change(st, id == STORE_FIRST_USER
                           ? "UPDATE users SET name = NULL, token_hash = NULL WHERE id = ?3"
                           : "DELETE FROM users WHERE id = ?3", "remove user",
                           (struct ubind){ .i3 = id }, NULL)))
        goto fail;
    return users_commit(st, "remove user: commit");
fail:
    store_rollback(st);
    return rc;
}

int store_user_list(struct store *st, struct user_info **out, int *count, int *guests)
{
    *out = NULL;
    *count = 0;
    *guests = 0;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db,
            "SELECT u.id, ifnull(u.name, ''), u.created_at, u.last_seen,"
            " (SELECT count(*) FROM documents d WHERE d.owner = u.id)"
            " FROM users u WHERE u.guest_id IS NULL ORDER BY u.id", -1, &s, NULL) != SQLITE_OK)
        return store_fail(st, "list users");
    int n = 0, cap = 0, rc;
    struct user_info *list = NULL;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            struct user_info *grown = realloc(list, (size_t)cap * sizeof *list);
            if (!grown)
                break;
            list = grown;
        }
        struct user_info *u = &list[n++];
        memset(u, 0, sizeof *u);
        u->id = sqlite3_column_int64(s, 0);
        snprintf(u->name, sizeof u->name, "%s", (const char *)sqlite3_column_text(s, 1));
        u->created_at = sqlite3_column_int64(s, 2);
        u->last_seen = sqlite3_column_int64(s, 3);
        u->documents = sqlite3_column_int(s, 4);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        free(list);
        return store_fail(st, "list users");
    }
    int64_t g = 0;
    if (users_int(st, "SELECT count(*) FROM users WHERE guest_id IS NOT NULL", "count guests",
                  (struct ubind){ 0 }, &g)) {
        free(list);
        return -1;
    }
    *guests = (int)g;
    *out = list;
    *count = n;
    return 0;
}

int store_user_by_token(struct store *st, const char *token_hash, int64_t *id,
                        char name[STORE_NAME_MAX])
{
    sqlite3_stmt *s = st->stmt[SQ_USER_BY_TOKEN];
    sqlite3_bind_text(s, 1, token_hash, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s), ret = STORE_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        /* The index found the row by the hash; comparing again in constant time keeps the
         * decision itself free of early exits. (The index's own compare only ever sees
         * sha256 outputs, which an attacker cannot steer byte by byte.) */
        const char *stored = (const char *)sqlite3_column_text(s, 2);
        if (stored && strlen(stored) == 64 && strlen(token_hash) == 64 &&
            CRYPTO_memcmp(stored, token_hash, 64) == 0) {
            *id = sqlite3_column_int64(s, 0);
            if (name)
                snprintf(name, STORE_NAME_MAX, "%s", (const char *)sqlite3_column_text(s, 1));
            ret = 0;
        }
    } else if (rc != SQLITE_DONE) {
        ret = store_fail(st, "find user by token");
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return ret;
}

int store_user_get(struct store *st, int64_t id, struct user_info *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT ifnull(name, ''), guest_id IS NOT NULL, created_at,"
                           " last_seen FROM users WHERE id = ?1", -1, &s, NULL) != SQLITE_OK)
        return store_fail(st, "get user");
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s), ret = STORE_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        out->id = id;
        snprintf(out->name, sizeof out->name, "%s", (const char *)sqlite3_column_text(s, 0));
        out->is_guest = sqlite3_column_int(s, 1);
        out->created_at = sqlite3_column_int64(s, 2);
        out->last_seen = sqlite3_column_int64(s, 3);
        ret = 0;
    } else if (rc != SQLITE_DONE) {
        ret = store_fail(st, "get user");
    }
    sqlite3_finalize(s);
    return ret;
}

int store_guest_add(struct store *st, const char *guest_id, int64_t now, int64_t *id)
{
    int rc = users_change(st, "INSERT INTO users(guest_id, created_at, last_seen) VALUES(?1, ?3, ?3)",
                          "add guest", (struct ubind){ .t1 = guest_id, .i3 = now }, NULL);
    if (rc)
        return rc;
    *id = sqlite3_last_insert_rowid(st->db);
    return 0;
}

int store_guest_find(struct store *st, const char *guest_id, int64_t *id, int64_t *last_seen)
{
    sqlite3_stmt *s = st->stmt[SQ_GUEST_FIND];
    sqlite3_bind_text(s, 1, guest_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s), ret = STORE_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(s, 0);
        if (last_seen)
            *last_seen = sqlite3_column_int64(s, 1);
        ret = 0;
    } else if (rc != SQLITE_DONE) {
        ret = store_fail(st, "find guest");
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return ret;
}

int store_guest_seen(struct store *st, int64_t id, int64_t now)
{
    sqlite3_stmt *u = st->stmt[SQ_GUEST_SEEN];
    sqlite3_bind_int64(u, 1, id);
    sqlite3_bind_int64(u, 2, now);
    return store_exec_stmt(st, SQ_GUEST_SEEN, "mark guest seen");
}

int store_guests_expire(struct store *st, int64_t idle_before, int *removed)
{
    *removed = 0;
    for (;;) {   /* one guest per transaction: never a long write lock */
        int64_t id;
        int rc = users_int(st, "SELECT id FROM users WHERE guest_id IS NOT NULL AND last_seen < ?3"
                           " LIMIT 1", "expire guests", (struct ubind){ .i3 = idle_before }, &id);
        if (rc)
            return rc == STORE_NOT_FOUND ? 0 : -1;
        if (users_begin(st, "expire guest: begin"))
            return -1;
        if (users_drop_data(st, id, NULL) ||
            users_change(st, "DELETE FROM users WHERE id = ?3 AND guest_id IS NOT NULL",
                         "expire guest", (struct ubind){ .i3 = id }, NULL) ||
            users_commit(st, "expire guest: commit")) {
            store_rollback(st);
            return -1;
        }
        (*removed)++;
    }
}

int store_usage_add(struct store *st, const struct usage_event *ev, int n)
{
    if (n <= 0)
        return 0;
    int rc = users_begin(st, "add usage: begin");
    if (rc)
        return rc;
    for (int i = 0; i < n; i++) {
        rc = users_change(st, "INSERT INTO usage(user_id, at, chars) VALUES(?3, ?4, ?5)", "add usage",
                          (struct ubind){ .i3 = ev[i].user_id, .i4 = ev[i].at, .i5 = ev[i].chars },
                          NULL);
        if (rc) {
            store_rollback(st);
            return rc;
        }
    }
    return users_commit(st, "add usage: commit");
}

#define USAGE_PRUNE_CHUNK 5000
#define STR_(x) #x
#define STR(x) STR_(x)

int store_usage_prune(struct store *st, int64_t before, int *removed)
{
    /* Rows are appended in time order, so the expired ones are the lowest rowids: each
     * statement looks at the oldest CHUNK rows only (no index on `at` needed) and deletes
     * those before the window, until a chunk holds none (rows from a clock set back behind
     * newer ones wait until those expire too). */
    *removed = 0;
    for (;;) {
        int n = 0;
        int rc = users_change(st, "DELETE FROM usage WHERE rowid IN (SELECT rowid FROM usage ORDER BY rowid"
                              " LIMIT " STR(USAGE_PRUNE_CHUNK) ") AND at < ?3", "prune usage", (struct ubind){ .i3 = before }, &n);
        if (rc)
            return rc;
        *removed += n;
        if (n == 0)
            return 0;
    }
}

int store_usage_sum(struct store *st, int64_t user_id, int64_t since, int64_t *chars,
                    int64_t *oldest)
{
    sqlite3_stmt *s = st->stmt[SQ_USAGE_SUM];
    sqlite3_bind_int64(s, 1, user_id);
    sqlite3_bind_int64(s, 2, since);
    int rc = sqlite3_step(s), ret = 0;
    if (rc == SQLITE_ROW) {
        *chars = sqlite3_column_int64(s, 0);
        *oldest = sqlite3_column_int64(s, 1);
    } else {
        ret = store_fail(st, "sum usage");
    }
    sqlite3_reset(s);
    return ret;
}
