/* store — the only code that includes sqlite3.h. One `struct store` is one SQLite
 * connection and must be used by one thread only: the service thread opens one, each
 * worker thread opens its own. WAL mode, busy timeout, prepared statements.
 * Durability: a document insert has committed (synchronous=FULL) before it returns 0. */
#ifndef RECITE_STORE_H
#define RECITE_STORE_H
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
};

struct audio_record {
    char hash[65];
    char model[32];
    char voice[64];
    int64_t duration_ms;
    unsigned char *data;    /* Ogg Opus bytes; malloc'd when returned by store_audio_get */
    size_t len;
    char *word_timings;     /* JSON array text, or NULL */
};

/* Opens (creating dir and schema if needed) DIR/recite.db. NULL with err on failure. */
struct store *store_open(const char *dir, char *err, size_t errlen);
void store_close(struct store *st);   /* accepts NULL; checkpoints the WAL */

/* All return 0 on success, -1 on error (message logged once here), STORE_NOT_FOUND if absent,
 * STORE_FULL when the write failed because the disk (or the database's quota) is full. */
#define STORE_NOT_FOUND 1
#define STORE_FULL (-2)
int store_doc_insert(struct store *st, const char *id, const char *format,
                     const struct doc *d, int64_t created_at);
int store_doc_list(struct store *st, struct doc_summary **out, int *count);  /* newest first */
int store_doc_get(struct store *st, const char *id, struct doc_record *out);
int store_doc_block_count(struct store *st, const char *id, int *count);
/* Text of one block; *text is malloc'd. */
int store_block_text(struct store *st, const char *id, int idx, char **text);
int store_doc_set_position(struct store *st, const char *id, int block_idx);
int store_doc_delete(struct store *st, const char *id);
void doc_summary_free(struct doc_summary *s, int count);  /* frees array and titles */
void doc_record_free(struct doc_record *r);

/* Audio by variant hash. store_audio_get fills data (caller frees with audio_record_free). */
int store_audio_get(struct store *st, const char *hash, struct audio_record *out);
/* Metadata only (data NULL, len set). */
int store_audio_meta(struct store *st, const char *hash, struct audio_record *out);
/* Insert-or-ignore: storing the same hash twice keeps the first copy. */
int store_audio_put(struct store *st, const struct audio_record *a);
/* The message a listener sees when store_audio_put returned rc (nonzero). */
const char *store_audio_put_error(int rc);
void audio_record_free(struct audio_record *a);

/* For tests and recovery: "ok" from PRAGMA integrity_check -> 0. */
int store_integrity_check(struct store *st, char *msg, size_t msglen);
/* For tests and diagnostics: the first column of `PRAGMA name` (name is [a-z_]+, e.g.
 * "journal_mode", "synchronous", "foreign_keys", "user_version") as text into out. 0/-1. */
int store_pragma_text(struct store *st, const char *name, char *out, size_t outlen);
#endif
