/* text — the plain text front-end. Pure.
 * Paragraphs are separated by blank lines (lines of only white space). Inside a
 * paragraph the text is kept as written: each single newline becomes a line break
 * ("\n" spoken, <br> shown). CRLF line ends are read as LF. */
#include "doc/front.h"
#include "doc/builder.h"
#include <stdbool.h>
#include <string.h>

static bool is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\f' && s[i] != '\v')
            return false;
    return true;
}

int text_render(struct builder *b, const char *s, size_t len, char *err, size_t errlen)
{
    bool in_para = false;
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(s + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - s) : len;
        size_t n = end - i;
        if (n && s[i + n - 1] == '\r')
            n--;
        if (is_blank(s + i, n)) {
            if (in_para)
                builder_block_close(b);
            in_para = false;
        } else {
            if (in_para) {
                builder_break(b);
            } else {
                builder_block_open(b, "p", NULL, BUILDER_SPEAK);
                in_para = true;
            }
            builder_text(b, s + i, n);
        }
        i = end + 1;
    }
    if (in_para)
        builder_block_close(b);
    return 0;
}
