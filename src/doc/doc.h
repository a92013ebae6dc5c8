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
    int pause_ms;         /* silence to add after this block's audio at 1x (DOC_PAUSE_*) */
};

/* Pauses follow structure. Totals of silence at a seam, at 1x, measured against espeak-ng's
 * own pause between two sentences inside one block (295-335 ms of silence measured with
 * `recite say`, 330-380 ms by ear with its fade): a piece cut inside a sentence gets a
 * comma's pause, between sentences the engine's own, list items less than paragraphs,
 * headings more, and the end of a section (the block before a heading) most. The stored
 * audio already carries DOC_SEAM_PADS_MS (its 40 ms lead and 120 ms tail pads), so
 * pause_ms is what is added beyond them: the page waits pause_ms / speed between blocks,
 * export writes pause_ms of silence. Layout, not content: the audio (and its variant hash)
 * stays the same wherever a text appears. */
#define DOC_SEAM_PADS_MS 160
#define DOC_SEAM_CLAUSE_MS 200
#define DOC_SEAM_SENTENCE_MS 340
#define DOC_SEAM_ITEM_MS 450
#define DOC_SEAM_PARAGRAPH_MS 700
#define DOC_SEAM_HEADING_MS 900
#define DOC_SEAM_SECTION_MS 1100
#define DOC_PAUSE(seam) ((seam) - DOC_SEAM_PADS_MS)

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
