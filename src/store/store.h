/* store — the only code that includes sqlite3.h. One `struct store` is one SQLite
 * connection and must be used by one thread only: the service thread opens one, each
 * worker thread opens its own. WAL mode, busy timeout, prepared statements.
 * Durability: a document insert has committed (synchronous=FULL) before it returns 0. */
#ifndef RECITE_STORE_H
#define RECITE_STORE_H
#include "util/err.h"
#include <stddef.h>
#include <stdint.h>
#include "doc/doc.h"

struct store;

struct doc_summary {
    char id[40];
    char *title;
    int block_count;
    int64_t created_at;     /* unix seconds */
    int last_block_idx;     /* -1 if never played */
};

struct doc_record {
    struct doc_summary s;
    char *html;
    struct doc_block *blocks;  /* idx, text, est_duration_ms */
    int block_count;
    char *source_url;          /* NULL unless imported from a URL */
    char *author;              /* NULL unless the file named one */
};

struct audio_record {
    char hash[65];
    char model[32];
    char voice[64];
    int64_t duration_ms;
    unsigned char *data;    /* Ogg Opus bytes; malloc'd when returned by store_audio_get */
    size_t len;
    char *word_timings;     /* JSON array text, or NULL */
    /* 0: everyone's (server-synthesized). Otherwise the only user it is ever served to: a
     * browser upload (POST /v1/audio), whose hash also names that user. */
    int64_t owner;
};

/* Opens (creating dir and schema if needed) DIR/recite.db. NULL with err on failure. */
struct store *store_open(const char *dir, char *err, size_t errlen);
void store_close(struct store *st);   /* accepts NULL; checkpoints the WAL */

/* All return 0 on success, -1 on error (message logged once here), STORE_NOT_FOUND if absent,
 * STORE_FULL when the write failed because the disk (or the database's quota) is full:
 * recite's error codes (util/err.h), so recite_err_str() names them. */
#define STORE_NOT_FOUND RECITE_ENOTFOUND
#define STORE_FULL RECITE_EFULL
/* Documents belong to one user (`owner`, a user id: see "Users" below). Every call names
 * the owner, and a document of another owner is STORE_NOT_FOUND exactly like an unknown
 * id. STORE_OWNER_ANY is for the admin CLI (`recite export`) only, never for a request. */
#define STORE_OWNER_ANY 0
int store_doc_insert(struct store *st, int64_t owner, const char *id, const char *format,
                     const struct doc *d, int64_t created_at);
int store_doc_list(struct store *st, int64_t owner, struct doc_summary **out, int *count);  /* newest first */
int store_doc_get(struct store *st, int64_t owner, const char *id, struct doc_record *out);
int store_doc_block_count(struct store *st, int64_t owner, const char *id, int *count);
/* Text of one block; *text is malloc'd. */
int store_block_text(struct store *st, int64_t owner, const char *id, int idx, char **text);
int store_doc_set_position(struct store *st, int64_t owner, const char *id, int block_idx);
int store_doc_delete(struct store *st, int64_t owner, const char *id);
void doc_summary_free(struct doc_summary *s, int count);  /* frees array and titles */
void doc_record_free(struct doc_record *r);

/* Audio by variant hash. store_audio_get fills data (caller frees with audio_record_free). */
int store_audio_get(struct store *st, const char *hash, struct audio_record *out);
/* Metadata only (data NULL, len set). */
int store_audio_meta(struct store *st, const char *hash, struct audio_record *out);
/* Insert-or-ignore: storing the same hash twice keeps the first copy. With a->owner set,
 * the audio and its owner are stored in one transaction. */
int store_audio_put(struct store *st, const struct audio_record *a);
/* The message a listener sees when store_audio_put returned rc (nonzero). */
const char *store_audio_put_error(int rc);
void audio_record_free(struct audio_record *a);

/* ---- Users (store_users.c; SPEC section 7) ----------------------------------------------
 * User 1 (STORE_FIRST_USER) is single-user mode's user; it owns every document written
 * before accounts existed, and the first `recite user add` gives it a name and a token.
 * A named user has a token, stored only as its sha256 (hex); a guest has an anonymous id
 * (its token is an HMAC the server computes, never stored). */
#define STORE_FIRST_USER 1
#define STORE_EXISTS 2            /* store_user_add: the name is taken */
#define STORE_NAME_MAX 64
struct user_info {
    int64_t id;
    char name[STORE_NAME_MAX];    /* "" for a guest or an unnamed user 1 */
    int is_guest;
    int64_t created_at, last_seen;
    int documents;
};
/* Adds NAME with the token hash; if user 1 is still unnamed, NAME becomes user 1 and
 * *adopted is set to its document count (else 0). 0, STORE_EXISTS or -1. */
int store_user_add(struct store *st, const char *name, const char *token_hash, int64_t now,
                   int *adopted);
int store_user_set_token(struct store *st, const char *name, const char *token_hash);
/* Removes NAME with its documents and usage (user 1 becomes unnamed and empty instead, so
 * single-user mode keeps a user). *documents = how many documents went. */
int store_user_remove(struct store *st, const char *name, int *documents);
/* Named users and user 1, then a count of guests (*guests). *out malloc'd (free()). */
int store_user_list(struct store *st, struct user_info **out, int *count, int *guests);
/* The user whose token hashes to token_hash (compared in constant time). name may be NULL. */
int store_user_by_token(struct store *st, const char *token_hash, int64_t *id,
                        char name[STORE_NAME_MAX]);
int store_user_get(struct store *st, int64_t id, struct user_info *out);
int store_guest_add(struct store *st, const char *guest_id, int64_t now, int64_t *id);
/* The guest's user id and when it was last marked seen (a read only: the server's service
 * thread calls it). STORE_NOT_FOUND if the guest expired or never existed. */
int store_guest_find(struct store *st, const char *guest_id, int64_t *id, int64_t *last_seen);
/* Marks the guest seen at `now` (a write: the server does it on its writer thread, at most
 * hourly per guest: STORE_GUEST_SEEN_EVERY). */
#define STORE_GUEST_SEEN_EVERY 3600
int store_guest_seen(struct store *st, int64_t id, int64_t now);
/* Removes guests not seen since idle_before, with their documents; *removed = how many. */
int store_guests_expire(struct store *st, int64_t idle_before, int *removed);
/* Usage (quotas): chars synthesized for a user at a time. */
struct usage_event { int64_t user_id, at, chars; };
int store_usage_add(struct store *st, const struct usage_event *ev, int n);  /* one transaction */
/* Sum of chars since `since`, and the time of the oldest of those events (0 if none). */
/* Deletes usage rows before `before` (they left every rolling window); *removed = how many.
 * A write, in chunks of one statement each. */
int store_usage_prune(struct store *st, int64_t before, int *removed);
int store_usage_sum(struct store *st, int64_t user_id, int64_t since, int64_t *chars,
                    int64_t *oldest);

/* ---- Export jobs (store_exports.c; server/exports.c) ---------------------------------
 * One row per job; (owner, doc_id, format, model, voice) is unique, and saving a row of the
 * same kind under a new id replaces the old one. status: "preparing", "rendering",
 * "assembling", "done" or "error". file: relative to the data directory. */
struct export_row {
    int64_t id, owner;
    char doc_id[40], format[8], model[32], voice[64], status[16];
    int blocks_done, blocks_total;
    char error[640];        /* "" unless status is "error" */
    char file[256];
    char title[256];        /* the download's name; "" if not known yet */
    int64_t duration_ms, created_at, updated_at;
};
/* Insert or replace. STORE_NOT_FOUND if the document is gone (nothing saved). */
int store_export_save(struct store *st, const struct export_row *r);
/* Every row, oldest first (for the server's start-up). */
int store_export_list(struct store *st, struct export_row **out, int *count);

/* For tests and recovery: "ok" from PRAGMA integrity_check -> 0. */
int store_integrity_check(struct store *st, char *msg, size_t msglen);
/* For tests and diagnostics: the first column of `PRAGMA name` (name is [a-z_]+, e.g.
 * "journal_mode", "synchronous", "foreign_keys", "user_version") as text into out. 0/-1. */
int store_pragma_text(struct store *st, const char *name, char *out, size_t outlen);
#endif
