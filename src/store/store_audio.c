/* store audio — the content-addressed audio cache: rows keyed by variant hash, shared by
 * every document and user, never deleted with a document. Insert-or-ignore, so two
 * workers storing the same variant keep the first copy.
 * Threads: the calling thread's own struct store. Ownership: data and word_timings in a
 * record filled here are malloc'd; audio_record_free releases them. */
#include "store/store_int.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "util/log.h"

/* Shared by get and meta: columns model, voice, duration_ms, word_timings, then either
 * the blob (with_data) or its length, then the owner (NULL: everyone's). Returns 0,
 * STORE_NOT_FOUND or -1. */
static int audio_read(struct store *st, enum store_stmt which, const char *what,
                      const char *hash, struct audio_record *out, int with_data)
{
    char key[sizeof out->hash];
    if (!st || !hash || !out) {
        log_error("store: %s: invalid arguments", what);
        if (out)
            memset(out, 0, sizeof *out);
        return -1;
    }
    snprintf(key, sizeof key, "%s", hash);   /* hash may point into *out */
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = st->stmt[which];
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s), ret = 0;
    if (rc == SQLITE_DONE) {
        ret = STORE_NOT_FOUND;
        goto done;
    }
    if (rc != SQLITE_ROW) {
        ret = store_fail(st, what);
        goto done;
    }
    memcpy(out->hash, key, sizeof out->hash);
    const unsigned char *t = sqlite3_column_text(s, 0);
    snprintf(out->model, sizeof out->model, "%s", t ? (const char *)t : "");
    t = sqlite3_column_text(s, 1);
    snprintf(out->voice, sizeof out->voice, "%s", t ? (const char *)t : "");
    out->duration_ms = sqlite3_column_int64(s, 2);
    if (sqlite3_column_type(s, 3) != SQLITE_NULL) {
        out->word_timings = store_column_strdup(s, 3);
        if (!out->word_timings)
            goto oom;
    }
    if (with_data) {
        const void *blob = sqlite3_column_blob(s, 4);
        out->len = (size_t)sqlite3_column_bytes(s, 4);
        out->data = malloc(out->len ? out->len : 1);
        if (!out->data)
            goto oom;
        if (out->len)
            memcpy(out->data, blob, out->len);
    } else {
        out->len = (size_t)sqlite3_column_int64(s, 4);
    }
    out->owner = sqlite3_column_int64(s, 5);   /* NULL (no owner row) reads as 0 */
done:
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return ret;

oom:
    log_error("store: %s: out of memory", what);
    audio_record_free(out);
    ret = -1;
    goto done;
}

int store_audio_get(struct store *st, const char *hash, struct audio_record *out)
{
    return audio_read(st, SQ_AUDIO_GET, "get audio", hash, out, 1);
}

int store_audio_meta(struct store *st, const char *hash, struct audio_record *out)
{
    return audio_read(st, SQ_AUDIO_META, "audio metadata", hash, out, 0);
}

/* Runs a bound write statement, then resets it and its bindings. 0, -1 or STORE_FULL. */
static int step_write(struct store *st, sqlite3_stmt *s, const char *what)
{
    int ret = sqlite3_step(s) == SQLITE_DONE ? 0 : store_fail(st, what);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return ret;
}

static int audio_insert(struct store *st, const struct audio_record *a)
{
    sqlite3_stmt *s = st->stmt[SQ_AUDIO_PUT];
    /* the fixed arrays may be full without a NUL: bind with explicit lengths */
    sqlite3_bind_text(s, 1, a->hash, (int)strnlen(a->hash, sizeof a->hash), SQLITE_STATIC);
    sqlite3_bind_text(s, 2, a->model, (int)strnlen(a->model, sizeof a->model), SQLITE_STATIC);
    sqlite3_bind_text(s, 3, a->voice, (int)strnlen(a->voice, sizeof a->voice), SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, a->duration_ms);
    if (a->word_timings)
        sqlite3_bind_text(s, 5, a->word_timings, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, 5);
    sqlite3_bind_int64(s, 6, (sqlite3_int64)time(NULL));
    if (a->len)
        sqlite3_bind_blob64(s, 7, a->data, a->len, SQLITE_STATIC);
    else
        sqlite3_bind_zeroblob(s, 7, 0);
    return step_write(st, s, "put audio");
}

static int owner_insert(struct store *st, const struct audio_record *a)
{
    sqlite3_stmt *s = st->stmt[SQ_AUDIO_OWNER_PUT];
    sqlite3_bind_text(s, 1, a->hash, (int)strnlen(a->hash, sizeof a->hash), SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, a->owner);
    return step_write(st, s, "put audio owner");
}

int store_audio_put(struct store *st, const struct audio_record *a)
{
    if (!st || !a || !a->hash[0] || (a->len && !a->data)) {
        log_error("store: put audio: invalid arguments");
        return -1;
    }
    if (!a->owner)
        return audio_insert(st, a);
    /* An owned upload: never visible without its owner row, so both in one transaction. */
    int ret = store_exec_stmt(st, SQ_BEGIN_IMMEDIATE, "put audio: begin");
    if (ret < 0)
        return ret;
    if ((ret = audio_insert(st, a)) < 0 || (ret = owner_insert(st, a)) < 0 ||
        (ret = store_exec_stmt(st, SQ_COMMIT, "put audio: commit")) < 0) {
        store_rollback(st);
        return ret;
    }
    return 0;
}

const char *store_audio_put_error(int rc)
{
    return rc == STORE_FULL ? "the server is out of disk space: the audio was not stored"
                            : "could not store the audio";
}

void audio_record_free(struct audio_record *a)
{
    if (!a)
        return;
    free(a->data);
    free(a->word_timings);
    a->data = NULL;
    a->word_timings = NULL;
    a->len = 0;
}
