/* chapters — where a document's chapters start, from its rendered html. Pure.
 * A chapter is a heading of the document's chapter level: the highest heading level that
 * occurs more than once (an EPUB's one h1 is the book's title, its h2s the chapters),
 * else every heading — the same rule as the page's "end of chapter" sleep timer
 * (web/views/reader.js chapterStarts). Blocks before the first chapter heading form a first
 * chapter named by their own first heading (an h1 book title), else the document's title. */
#ifndef RECITE_DOC_CHAPTERS_H
#define RECITE_DOC_CHAPTERS_H
#include <stddef.h>

struct chapter {
    int block;        /* first block index */
    char *title;      /* the heading's text, malloc'd */
};

/* Fills *out (malloc'd, free with chapters_free) with n >= 1 chapters in block order when
 * block_count > 0: the first starts at block 0. Returns n, 0 for a document without
 * blocks, or -1 when out of memory. */
int chapters_find(const char *html, int block_count, const char *doc_title, struct chapter **out);
void chapters_free(struct chapter *c, int n);
#endif
