/* builder — the event sink shared by the markdown, HTML and text front-ends.
 *
 * A front-end describes the document as a stream of events (blocks open/close, inline
 * markup open/close, text, line breaks, pre-rendered atoms); the builder writes the
 * sanitized HTML and the list of spoken blocks. Text inside a speakable context is
 * buffered until the block ends, then split (split.h) and written again with every piece
 * wrapped in <span data-block-idx="N">, inline markup closed and reopened around piece
 * boundaries so the HTML stays balanced.
 *
 * Tag names must be string literals (they are kept by pointer); `attrs` is an already
 * escaped attribute string such as `href="..."` or NULL. Pure, single-threaded per
 * builder. Unbalanced or misnested calls are tolerated: stray closes are ignored and
 * everything still open is closed, so hostile input cannot unbalance the output. */
#ifndef RECITE_DOC_BUILDER_H
#define RECITE_DOC_BUILDER_H
#include <stdbool.h>
#include <stddef.h>

struct doc;
struct builder;

enum builder_kind {
    BUILDER_CONTAINER,   /* ul, li, blockquote, ...; loose text inside becomes a block */
    BUILDER_SPEAK,       /* p, h1-h6: its text is spoken */
    BUILDER_MUTE,        /* pre, table, raw HTML: shown, never spoken (inherited inside) */
};

/* collapse_space: HTML semantics, runs of ASCII white space in spoken text become one
 * space (markdown and plain text keep their text as given). */
struct builder *builder_create(bool collapse_space);
void builder_destroy(struct builder *b);

/* tag may be NULL: a structural boundary that renders nothing (an HTML <div>). */
void builder_block_open(struct builder *b, const char *tag, const char *attrs,
                        enum builder_kind kind);
void builder_block_close(struct builder *b);
void builder_hr(struct builder *b);
void builder_inline_open(struct builder *b, const char *tag, const char *attrs);
void builder_inline_close(struct builder *b, const char *tag);
void builder_text(struct builder *b, const char *s, size_t len);
void builder_break(struct builder *b);                       /* "\n" spoken, <br> shown */
void builder_atom(struct builder *b, const char *html, size_t len);  /* shown, not spoken */

/* The document's author as the file names it (EPUB dc:creator, PDF Author); copied.
 * builder_finish moves it into d->author. */
void builder_set_author(struct builder *b, const char *author);

/* Closes everything, moves html/blocks/block_count into d and the plain text of the
 * first non-empty heading into *heading (NULL if none). 0, or -1 on allocation failure
 * (d is left for doc_destroy either way). The builder is spent afterwards. */
int builder_finish(struct builder *b, struct doc *d, char **heading);
#endif
