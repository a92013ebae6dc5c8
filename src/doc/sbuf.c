/* sbuf — growable byte buffer (see sbuf.h). Pure, any thread; the caller owns the struct. */
#include "doc/sbuf.h"
#include <stdlib.h>
#include <string.h>

static bool sbuf_reserve(struct sbuf *b, size_t n)
{
    if (b->oom)
        return false;
    if (b->cap && n < b->cap - b->len)   /* room for n bytes and the NUL */
        return true;
    if (n > (size_t)-1 / 4 - b->len) {   /* absurd sizes would overflow the doubling */
        b->oom = true;
        return false;
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n + 1)
        cap *= 2;   /* doubling keeps appends amortized O(1) */
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void sbuf_add(struct sbuf *b, const char *s, size_t n)
{
    if (!sbuf_reserve(b, n))
        return;
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void sbuf_adds(struct sbuf *b, const char *s) { sbuf_add(b, s, strlen(s)); }
void sbuf_addc(struct sbuf *b, char c) { sbuf_add(b, &c, 1); }

void sbuf_add_uint(struct sbuf *b, unsigned long v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    sbuf_add(b, tmp + i, sizeof tmp - i);
}

void sbuf_add_cp(struct sbuf *b, unsigned long cp)
{
    char u[4];
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0)
        cp = 0xFFFD;
    if (cp < 0x80) {
        sbuf_addc(b, (char)cp);
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3F));
        sbuf_add(b, u, 2);
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12);
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        sbuf_add(b, u, 3);
    } else {
        u[0] = (char)(0xF0 | cp >> 18);
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        sbuf_add(b, u, 4);
    }
}

void sbuf_add_escaped(struct sbuf *b, const char *s, size_t n)
{
    size_t run = 0;   /* copy clean stretches in one go: most text has nothing to escape */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *rep;
        switch (c) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        default:
            /* control characters (NUL included) are invalid in HTML: dropped */
            if ((c >= 0x20 && c != 0x7F) || c == '\t' || c == '\n' || c == '\r')
                continue;
            rep = "";
            break;
        }
        sbuf_add(b, s + run, i - run);
        sbuf_adds(b, rep);
        run = i + 1;
    }
    sbuf_add(b, s + run, n - run);
}

char *sbuf_take(struct sbuf *b)
{
    if (b->oom) {
        sbuf_free(b);
        return NULL;
    }
    char *p = b->p ? b->p : strdup("");
    *b = (struct sbuf){ 0 };
    return p;
}

void sbuf_free(struct sbuf *b)
{
    free(b->p);
    *b = (struct sbuf){ 0 };
}
