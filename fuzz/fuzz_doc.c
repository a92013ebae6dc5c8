/* fuzz_doc — libFuzzer target for the pure document front-ends: markdown (md4c), HTML
 * (libxml2), plain text, and the sentence splitter (SPEC section 2).
 *
 * Input: the first byte picks the front-end (0 text, 1 markdown, 2 html, 3 split_block
 * alone), the rest is the content. Besides "no crash, no sanitizer report", it checks
 * the properties the rest of the server relies on:
 *   - doc_build either fails with a message or returns blocks 0..n-1 whose texts are
 *     non-empty valid UTF-8, a valid UTF-8 title, and html that marks every block;
 *   - split_block's pieces are non-empty, cut between code points and tile the input.
 * A broken property calls abort(), which libFuzzer reports like a crash. */
#include "doc/doc.h"
#include "doc/split.h"
#include "fuzz_import_check.h"
#include "util/utf8.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(...) do { fprintf(stderr, "fuzz_doc: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

static void check_split(const char *text, size_t len)
{
    if (!utf8_valid(text, len))
        return;   /* only valid UTF-8 ever reaches the splitter */
    struct split_piece *p = NULL;
    int n = split_block(text, len, &p);
    if (n < 0)
        return;   /* out of memory */
    if (len && n < 1)
        FAIL("split_block returned no piece for %zu bytes", len);
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        if (p[i].off != at)
            FAIL("piece %d starts at %zu, expected %zu (gap or overlap)", i, p[i].off, at);
        if (!p[i].len)
            FAIL("piece %d is empty", i);
        if (!utf8_valid(text + p[i].off, p[i].len))
            FAIL("piece %d (%zu+%zu) cuts a UTF-8 sequence", i, p[i].off, p[i].len);
        at += p[i].len;
    }
    if (at != len)
        FAIL("pieces cover %zu of %zu bytes", at, len);
    free(p);
}

static void check_doc(const struct doc *d)
{
    if (!d->title || !utf8_valid(d->title, strlen(d->title)))
        FAIL("title missing or not valid UTF-8");
    if (!d->html || !utf8_valid(d->html, strlen(d->html)))
        FAIL("html missing or not valid UTF-8");
    if (d->block_count < 0 || (d->block_count && !d->blocks))
        FAIL("bad block array (%d)", d->block_count);
    for (int i = 0; i < d->block_count; i++) {
        const struct doc_block *b = &d->blocks[i];
        if (b->idx != i)
            FAIL("block %d has idx %d", i, b->idx);
        if (!b->text || !*b->text)
            FAIL("block %d has no text", i);
        if (!utf8_valid(b->text, strlen(b->text)))
            FAIL("block %d text is not valid UTF-8", i);
        if (b->est_duration_ms < 0)
            FAIL("block %d negative duration estimate", i);
    }
    /* every block is marked in the html, in order */
    int unmarked = unmarked_block(d);
    if (unmarked >= 0)
        FAIL("block %d is not marked in the html (or out of order)", unmarked);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int mode = data[0] & 3;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    if (mode == 3) {
        /* split_block wants a NUL-free span; copy so the tool sees exact bounds */
        char *copy = malloc(len ? len : 1);
        if (!copy)
            return 0;
        memcpy(copy, text, len);
        check_split(copy, len);
        free(copy);
        return 0;
    }
    static const enum doc_format fmts[] = { DOC_TEXT, DOC_MARKDOWN, DOC_HTML };
    char *copy = malloc(len + 1);   /* doc_build takes (ptr, len); no NUL promised */
    if (!copy)
        return 0;
    memcpy(copy, text, len);
    char err[256] = "";
    struct doc *d = doc_build(copy, len, fmts[mode], (data[0] & 4) ? "Given title" : NULL, err,
                              sizeof err);
    if (d)
        check_doc(d);
    else if (!err[0])
        FAIL("doc_build failed without a message");
    doc_destroy(d);
    free(copy);
    return 0;
}
