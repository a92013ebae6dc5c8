/* text — the plain text front-end. Pure, any thread.
 * Plain text is usually hard-wrapped (licences, RFCs, man pages, text extracted from PDF),
 * so it is unwrapped into paragraphs first (unwrap.h): blank lines separate paragraphs, a
 * single newline inside one is a space, a line-end hyphen before a lowercase letter joins
 * the word. An opening title line becomes <h1>, a heading-like line <h2>; everything else
 * is a <p>. Any front-end with extracted text can call text_render on it. */
#include "doc/front.h"
#include "doc/builder.h"
#include "doc/unwrap.h"

static void on_paragraph(void *ctx, enum unwrap_kind kind, const char *text, size_t len)
{
    struct builder *b = ctx;
    const char *tag = kind == UNWRAP_TITLE ? "h1" : kind == UNWRAP_HEADING ? "h2" : "p";
    builder_block_open(b, tag, NULL, BUILDER_SPEAK);
    builder_text(b, text, len);
    builder_block_close(b);
}

int text_render(struct builder *b, const char *s, size_t len, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    return unwrap_text(s, len, on_paragraph, b);
}
