/* refs — blanks citation markers, footnote references and bare URLs out of a block's text
 * before it is spoken (the `skip_references` option of `synthesize`); the shown text keeps
 * them. Pure: no I/O, no allocation beyond a byte mask; any thread. The result has the
 * same UTF-16 length as the input, see refs.h. */
#include "doc/refs.h"
#include <stdlib.h>
#include <string.h>

static size_t cp_len(unsigned char c)
{
    return c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
}

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_label(unsigned char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
}
static int is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/* [12], [3, 4-6], [7–9] (en dash) or [^label]: the end (exclusive), else 0. */
static size_t citation_end(const char *t, size_t i, size_t n)
{
    size_t k = i + 1, limit = i + 40 < n ? i + 40 : n;
    if (k < limit && t[k] == '^') {
        size_t from = ++k;
        while (k < limit && is_label((unsigned char)t[k]))
            k++;
        return k > from && k < limit && t[k] == ']' ? k + 1 : 0;
    }
    if (k >= limit || !is_digit((unsigned char)t[k]))
        return 0;
    int last_digit = 0;
    while (k < limit) {
        unsigned char c = (unsigned char)t[k];
        if (c == ']')
            return last_digit ? k + 1 : 0;
        if (is_digit(c))
            last_digit = 1, k++;
        else if (c == ' ' || c == ',' || c == '-')
            last_digit = 0, k++;
        else if (c == 0xe2 && k + 2 < n && (unsigned char)t[k + 1] == 0x80 && (unsigned char)t[k + 2] == 0x93)
            last_digit = 0, k += 3;   /* – */
        else
            return 0;
    }
    return 0;
}

/* A bare URL starting at i (at a word start): its end without trailing punctuation, else 0. */
static size_t url_end(const char *t, size_t i, size_t n)
{
    static const char *const starts[] = { "https://", "http://", "www." };
    size_t head = 0;
    for (size_t s = 0; s < sizeof starts / sizeof *starts && !head; s++) {
        size_t l = strlen(starts[s]);
        if (n - i > l && !strncmp(t + i, starts[s], l) && !is_space((unsigned char)t[i + l]))
            head = l;
    }
    if (!head)
        return 0;
    size_t k = i + head;
    while (k < n && !is_space((unsigned char)t[k]))
        k++;
    while (k > i + head && strchr(".,;:!?)]}\"'>", t[k - 1]))
        k--;
    return k;
}

/* A superscript digit (¹ ² ³ ⁰ ⁴-⁹) at i: its byte length, else 0. */
static size_t superscript_len(const unsigned char *t, size_t i, size_t n)
{
    if (i + 1 < n && t[i] == 0xc2 && (t[i + 1] == 0xb9 || t[i + 1] == 0xb2 || t[i + 1] == 0xb3))
        return 2;
    if (i + 2 < n && t[i] == 0xe2 && t[i + 1] == 0x81 && (t[i + 2] == 0xb0 || (t[i + 2] >= 0xb4 && t[i + 2] <= 0xb9)))
        return 3;
    return 0;
}

int refs_blank(char *text)
{
    size_t n = strlen(text);
    unsigned char *mask = calloc(n ? n : 1, 1);
    if (!mask)
        return 0;   /* nothing blanked: the text is spoken as it is */
    int found = 0;
    for (size_t i = 0; i < n;) {
        unsigned char prev = i ? (unsigned char)text[i - 1] : ' ';
        size_t end = 0;
        if (text[i] == '[')
            end = citation_end(text, i, n);
        if (!end && (is_space(prev) || strchr("(<\"'", prev)))
            end = url_end(text, i, n);
        if (!end && strchr(".,;:!?)\"", prev) && prev) {
            /* footnote superscripts after punctuation (after a letter or digit they may be
             * powers: "mc²", "10²") */
            size_t k = i, l;
            while ((l = superscript_len((const unsigned char *)text, k, n)))
                k += l;
            end = k > i ? k : 0;
        }
        if (end) {
            memset(mask + i, 1, end - i);
            found = 1;
            i = end;
        } else {
            i += cp_len((unsigned char)text[i]);
        }
    }
    int blanked = 0;
    if (found) {
        size_t w = 0;
        for (size_t r = 0; r < n;) {
            size_t l = cp_len((unsigned char)text[r]);
            if (l > n - r)
                l = n - r;
            if (mask[r]) {
                text[w++] = ' ';
                if (l == 4)
                    text[w++] = ' ';   /* two UTF-16 units */
                blanked++;
            } else {
                memmove(text + w, text + r, l);
                w += l;
            }
            r += l;
        }
        text[w] = '\0';
    }
    free(mask);
    return blanked;
}
