/* doc — pure text -> blocks: markdown (md4c), HTML main text (libxml2), plain text.
 * No I/O, no globals, safe to call from any thread. Owner: the caller of doc_build()
 * owns the returned struct doc and frees it with doc_destroy(). */
#ifndef RECITE_DOC_H
#define RECITE_DOC_H
#include <stddef.h>

enum doc_format { DOC_TEXT, DOC_MARKDOWN, DOC_HTML };

struct doc_block {
    int idx;              /* 0..n-1, consecutive across the document */
    char *text;           /* exact text spoken (UTF-8, NUL-terminated) */
    int est_duration_ms;  /* rough estimate from text length, for the UI before audio exists */
};

struct doc {
    char *title;          /* given title, else first heading, else first words (<= 80 chars) */
    char *html;           /* rendered, sanitized; every spoken piece wrapped in an element
                             carrying data-block-idx="N" */
    struct doc_block *blocks;
    int block_count;
};

/* "text" | "markdown" | "html" (also "md", "txt", "plain"). 0 or -1 if unknown. */
int doc_format_parse(const char *name, enum doc_format *out);
/* From an upload's file name extension, falling back to its MIME type. 0 or -1. */
int doc_format_guess(const char *filename, const char *mime, enum doc_format *out);

/* Build a document. `title` may be NULL or "" (then derived). Returns NULL with a human
 * readable message in err on failure (invalid UTF-8: "content is not valid UTF-8"). */
struct doc *doc_build(const char *content, size_t len, enum doc_format fmt,
                      const char *title, char *err, size_t errlen);
void doc_destroy(struct doc *d);

/* Rough spoken duration of a text in ms (used for est_duration_ms). */
int doc_estimate_ms(const char *text);
#endif
