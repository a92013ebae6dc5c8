/* doc — pure text -> blocks: markdown (md4c), HTML main text (libxml2), plain text, PDF
 * (poppler-glib), EPUB (libarchive + libxml2).
 * No I/O, no globals, safe to call from any thread. Owner: the caller of doc_build()
 * owns the returned struct doc and frees it with doc_destroy(). */
#ifndef RECITE_DOC_H
#define RECITE_DOC_H
#include <stddef.h>

enum doc_format { DOC_TEXT, DOC_MARKDOWN, DOC_HTML, DOC_PDF, DOC_EPUB };

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
    char *author;         /* as the file names it (EPUB, PDF), else NULL */
    char *source_url;     /* the URL it was imported from, else NULL (set by the importer) */
};

/* "text" | "markdown" | "html" | "pdf" | "epub" (also "md", "txt", "plain"). 0 or -1. */
int doc_format_parse(const char *name, enum doc_format *out);
/* The canonical name ("text", "markdown", "html", "pdf", "epub"). */
const char *doc_format_name(enum doc_format fmt);
/* PDF and EPUB are files, not text: their errors mean "understood but unreadable" (a
 * password, a scan, a zip bomb; HTTP 422) rather than a malformed request (400). */
int doc_format_is_binary(enum doc_format fmt);
/* From an upload's file name extension, falling back to its MIME type. 0 or -1. */
int doc_format_guess(const char *filename, const char *mime, enum doc_format *out);

/* Build a document. `title` may be NULL or "" (then derived). Returns NULL with a human
 * readable message in err on failure (invalid UTF-8 in a text format: "content is not
 * valid UTF-8"; a PDF or EPUB that cannot be read says why). */
struct doc *doc_build(const char *content, size_t len, enum doc_format fmt,
                      const char *title, char *err, size_t errlen);
/* An HTML page fetched from a URL (UTF-8): like DOC_HTML, with the page's chrome —
 * navigation, ads, cookie banners, comments, share bars, hidden elements — dropped and,
 * without <article>/<main>, the element richest in paragraph text read (html_opts). */
struct doc *doc_build_web_page(const char *html, size_t len, const char *title, char *err,
                               size_t errlen);
void doc_destroy(struct doc *d);

/* Rough spoken duration of a text in ms (used for est_duration_ms). */
int doc_estimate_ms(const char *text);
#endif
