/* title — derive a document title (see title.h). Pure, any thread.
 * White space runs become single spaces; a long title is cut after a whole word (or, in
 * scripts without spaces, at a character boundary) and marked with "…". */
#include "doc/title.h"
#include "doc/sbuf.h"
#include "doc/uchar.h"
#include "util/utf8.h"
#include <stdbool.h>
#include <string.h>

/* Copies s with white space collapsed and trimmed. */
static void collapse(struct sbuf *out, const char *s)
{
    size_t n = strlen(s);
    bool space = false;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int k = utf8_decode(s + i, n - i, &cp);
        if (uchar_is_space(cp) || cp < 0x20) {
            space = true;
        } else {
            if (space && out->len)
                sbuf_addc(out, ' ');
            space = false;
            sbuf_add(out, s + i, (size_t)k);
        }
        i += (size_t)k;
    }
}

/* Cuts t to at most max code points including the ellipsis. */
static void shorten(struct sbuf *t, size_t max)
{
    if (utf8_codepoints(t->p, t->len) <= max)
        return;
    size_t keep = 0, cps = 0, last_space = 0, i = 0;   /* byte offsets */
    while (i < t->len && cps < max - 1) {
        uint32_t cp;
        int k = utf8_decode(t->p + i, t->len - i, &cp);
        if (cp == ' ')
            last_space = i;
        i += (size_t)k;
        cps++;
        /* the cut must not strand a combining mark or ZWJ sequence */
        uint32_t next = 0;
        if (i < t->len)
            utf8_decode(t->p + i, t->len - i, &next);
        if (!uchar_is_extend(next) && cp != 0x200D)
            keep = i;
    }
    if (i < t->len && t->p[i] == ' ')
        last_space = i;   /* the last whole word ends exactly at the limit */
    /* prefer a word boundary, unless that would throw away most of the text */
    size_t end = last_space > keep / 2 ? last_space : keep;
    for (;;) {   /* "Hello, world, and…" reads better as "Hello, world…" */
        if (end > 0 && strchr(" ,;:.-", t->p[end - 1]))
            end--;
        else if (end >= 3 && memcmp(t->p + end - 3, "\xE2\x80\x94", 3) == 0)
            end -= 3;
        else
            break;
    }
    if (end == 0)
        end = keep;
    t->len = end;
    sbuf_adds(t, "\xE2\x80\xA6");
}

static char *finish(struct sbuf *t, size_t max)
{
    shorten(t, max);
    return sbuf_take(t);
}

char *title_derive(const char *given, const char *heading, const char *first_block)
{
    struct sbuf t = { 0 };
    if (given) {
        collapse(&t, given);
        if (t.len)
            return sbuf_take(&t);
    }
    if (heading) {
        collapse(&t, heading);
        if (t.len)
            return finish(&t, TITLE_HEADING_MAX);
    }
    if (first_block) {
        collapse(&t, first_block);
        if (t.len)
            return finish(&t, TITLE_WORDS_MAX);
    }
    sbuf_free(&t);
    return strdup("Untitled");
}
