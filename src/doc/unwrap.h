/* unwrap — hard-wrapped plain text into paragraphs (for `text` documents and for text
 * extracted from other formats: PDF, EPUB, man pages). Pure, any thread.
 *
 * Paragraphs are separated by blank lines, and by a dedent that ends a hanging-indent
 * item (man page option lists). Inside a paragraph every line break becomes one space, the
 * indentation and runs of spaces/tabs collapse to one space, and a hyphen (ASCII '-' or
 * U+2010, as man pages print it) at a line end between a letter and a lowercase letter
 * joins the word ("re‐\nceives" → "receives") or stays ("well-\nknown"), as hyphen.h
 * decides from the document's own words. A paragraph of one short line with no
 * sentence punctuation that is all capitals, centred, or followed by indented text is a
 * heading ("NAME", "1. Introduction", "Preamble"). */
#ifndef RECITE_DOC_UNWRAP_H
#define RECITE_DOC_UNWRAP_H
#include <stdbool.h>
#include <stddef.h>

struct sbuf;

enum unwrap_kind { UNWRAP_PARAGRAPH, UNWRAP_HEADING, UNWRAP_TITLE };

/* Called once per paragraph with its unwrapped text (never empty, no newline). */
typedef void (*unwrap_fn)(void *ctx, enum unwrap_kind kind, const char *text, size_t len);

/* Splits s[0..len) into paragraphs and calls fn for each, in order. CRLF reads as LF.
 * 0, or -1 on allocation failure (fn may have been called for earlier paragraphs). */
int unwrap_text(const char *s, size_t len, unwrap_fn fn, void *ctx);

/* Appends to out the lines s[0..len) of ONE paragraph joined as described above. */
void unwrap_lines(struct sbuf *out, const char *s, size_t len);
#endif
