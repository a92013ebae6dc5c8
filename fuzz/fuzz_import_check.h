/* fuzz_import_check — the property the PDF and EPUB fuzz targets check on every document
 * they manage to build: blocks 0..n-1 with non-empty valid UTF-8 text, a valid title, and
 * every block marked in the html in order; a failure always carries a message.
 * fuzz_doc uses unmarked_block() for the same html property. */
#ifndef RECITE_FUZZ_IMPORT_CHECK_H
#define RECITE_FUZZ_IMPORT_CHECK_H
#include "doc/doc.h"
#include "util/utf8.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT_FAIL(...) do { fprintf(stderr, "fuzz: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

/* The first block index whose data-block-idx mark is missing from d->html (or out of
 * order), or -1 when every block 0..n-1 is marked in order. Shared with fuzz_doc. */
static inline int unmarked_block(const struct doc *d)
{
    const char *h = d->html;
    for (int i = 0; i < d->block_count; i++) {
        char mark[40];
        snprintf(mark, sizeof mark, "data-block-idx=\"%d\"", i);
        const char *at = strstr(h, mark);
        if (!at)
            return i;
        h = at + strlen(mark);
    }
    return -1;
}

static inline void import_check(const struct doc *d, const char *err)
{
    if (!d) {
        if (!err[0])
            IMPORT_FAIL("doc_build failed without a message");
        return;
    }
    if (!d->title || !utf8_valid(d->title, strlen(d->title)))
        IMPORT_FAIL("title missing or not valid UTF-8");
    if (!d->html || !utf8_valid(d->html, strlen(d->html)))
        IMPORT_FAIL("html missing or not valid UTF-8");
    for (int i = 0; i < d->block_count; i++) {
        const struct doc_block *b = &d->blocks[i];
        if (b->idx != i || !b->text || !*b->text || !utf8_valid(b->text, strlen(b->text)))
            IMPORT_FAIL("block %d: bad idx or text", i);
    }
    int i = unmarked_block(d);
    if (i >= 0)
        IMPORT_FAIL("block %d is not marked in the html (or out of order)", i);
}
#endif
