/* hyphen — one rule for a hyphen at a line end, shared by the plain-text unwrapper
 * (unwrap.c) and the PDF layout (pdf_layout.c). Pure, any thread; the caller owns the
 * struct and the texts it points at.
 *
 * A line ending "well-" before "known" is either a compound that happens to be wrapped at
 * its hyphen or one word the typesetter broke ("exam-" "ple"). The document itself is the
 * best dictionary (as calibre's and other dehyphenators do): the form it uses unbroken
 * elsewhere wins; else the hyphen goes, except after a short list of words that are
 * almost only ever the first half of a compound (see hyphen.c). */
#ifndef RECITE_DOC_HYPHEN_H
#define RECITE_DOC_HYPHEN_H
#include <stdbool.h>
#include <stddef.h>

struct hyphen_doc;   /* the document's words, counted on first need */

/* fill(ctx, d) must call hyphen_doc_add for every piece of the document's text; it runs
 * at most once, and only when a line-end hyphen needs a decision. */
typedef void (*hyphen_fill_fn)(const void *ctx, struct hyphen_doc *d);

struct hyphen_doc *hyphen_doc_new(hyphen_fill_fn fill, const void *ctx);   /* NULL: out of memory */
void hyphen_doc_add(struct hyphen_doc *d, const char *s, size_t n);
void hyphen_doc_free(struct hyphen_doc *d);

enum hyphen_break {
    HYPHEN_NONE,   /* no hyphen to decide on: the lines join with a space */
    HYPHEN_JOIN,   /* a word broken by the typesetter: drop the last `hy_bytes`, no space */
    HYPHEN_KEEP    /* a compound: keep the hyphen, no space */
};

/* How the paragraph text p[0..n) joins the next line starting with next[0..next_len).
 * A line-end '-' or U+2010 after a letter before a lowercase letter is a break to decide;
 * U+2010 (groff prints it only for hyphenation) always joins, also between two capitals
 * ("INVOCA‐" "TION"); a soft hyphen (U+00AD) always joins. d may be NULL (no document
 * words: the fallback rule alone). */
enum hyphen_break hyphen_at_break(struct hyphen_doc *d, const char *p, size_t n,
                                  const char *next, size_t next_len, size_t *hy_bytes);
#endif
