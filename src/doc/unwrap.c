/* unwrap — hard-wrapped plain text into paragraphs (rules in unwrap.h). Pure, any thread;
 * the caller owns the text and the output buffer.
 *
 * Why: the splitter treats a line break as a sentence end (right for poems and addresses
 * written in markdown), so text wrapped at 72 or 80 columns must be joined first, or
 * blocks end mid-sentence ("guarantee your freedom to" | "share and change"). The
 * paragraph's *source text* (SPEC §2: what the pieces join back to) is the unwrapped text. */
#include "doc/unwrap.h"
#include "doc/hyphen.h"
#include "doc/sbuf.h"
#include "doc/uchar.h"
#include "util/utf8.h"
#include <stdlib.h>
#include <string.h>

#define HEADING_MAX 60      /* code points of a one-line heading */
#define TITLE_MAX 80        /* code points of an opening title paragraph */
#define CENTRED_INDENT 16   /* a short line this far in is centred: a heading */

struct line {
    size_t start, end;      /* raw line s[start..end), without its '\n' */
    size_t text;            /* first non-blank byte */
    int indent;             /* columns (tabs to multiples of 8) */
    int width;              /* column just past the last non-blank character */
    int first_word;         /* code points of the first word */
    bool blank;
    bool gone;              /* a page footer/header around a form feed: not text at all */
};

static bool is_blank_byte(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

/* Appends one line s[a..e) (not yet trimmed) to the paragraph that starts at out[floor]. */
static void append_line(struct hyphen_doc *d, struct sbuf *out, size_t floor, const char *s, size_t a, size_t e)
{
    while (a < e && is_blank_byte(s[a]))
        a++;
    while (e > a && is_blank_byte(s[e - 1]))
        e--;
    if (a == e)
        return;
    if (out->len > floor) {
        size_t hy;
        enum hyphen_break h = hyphen_at_break(d, out->p + floor, out->len - floor, s + a, e - a, &hy);
        if (h == HYPHEN_JOIN) {
            out->len -= hy;   /* "re‐" + "ceives": one word */
            out->p[out->len] = '\0';
        } else if (h == HYPHEN_NONE) {
            sbuf_addc(out, ' ');
        }
    }
    for (size_t j = a; j < e; j++) {   /* justified or tabbed runs read as one space */
        if (s[j] == ' ' || s[j] == '\t') {
            if (s[j - 1] != ' ' && s[j - 1] != '\t')
                sbuf_addc(out, ' ');
        } else if (s[j] != '\r' && s[j] != '\f' && s[j] != '\v') {
            sbuf_addc(out, s[j]);
        }
    }
}

struct span { const char *s; size_t len; };

static void fill_span(const void *ctx, struct hyphen_doc *d)
{
    const struct span *sp = ctx;
    hyphen_doc_add(d, sp->s, sp->len);
}

void unwrap_lines(struct sbuf *out, const char *s, size_t len)
{
    struct span sp = { s, len };
    struct hyphen_doc *d = hyphen_doc_new(fill_span, &sp);   /* NULL: the fallback rule */
    size_t floor = out->len;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(s + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - s) : len;
        append_line(d, out, floor, s, i, e);
        i = e + 1;
    }
    hyphen_doc_free(d);
}

static int scan_lines(const char *s, size_t len, struct line **out, size_t *count)
{
    size_t cap = 64, n = 0;
    struct line *v = malloc(cap * sizeof *v);
    if (!v)
        return -1;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(s + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - s) : len;
        if (n == cap) {
            struct line *w = realloc(v, (cap *= 2) * sizeof *v);
            if (!w) {
                free(v);
                return -1;
            }
            v = w;
        }
        struct line l = { i, e, i, 0, 0, 0, true, false };
        int col = 0;
        for (size_t j = i; j < e; j++) {
            if (s[j] == '\t') {
                col = (col / 8 + 1) * 8;
            } else if (s[j] == ' ') {
                col++;
            } else if (!is_blank_byte(s[j])) {
                if (l.blank) {
                    l.text = j;
                    l.indent = col;
                    l.blank = false;
                }
                if (((unsigned char)s[j] & 0xC0) != 0x80)
                    col++;
                l.width = col;
                continue;
            } else {
                continue;
            }
            if (!l.blank && !l.first_word)
                l.first_word = (int)utf8_codepoints(s + l.text, j - l.text);
        }
        if (!l.blank && !l.first_word)
            l.first_word = l.width - l.indent;
        v[n++] = l;
        i = e + 1;
    }
    *out = v;
    *count = n;
    return 0;
}

static bool ends_sentence_like(const char *t, size_t n)
{
    return n > 0 && strchr(".,;:!?", t[n - 1]) != NULL;
}

/* "0. Definitions.", "12. Security Considerations": a numbered section title. */
static bool is_numbered_title(const char *t, size_t n)
{
    size_t i = 0;
    while (i < n && t[i] >= '0' && t[i] <= '9')
        i++;
    return i > 0 && i + 2 < n && t[i] == '.' && t[i + 1] == ' ' && t[i + 2] >= 'A' && t[i + 2] <= 'Z'
        && memchr(t + i + 2, '.', n - i - 3) == NULL;
}

/* The raw line looks like a heading: short, has letters, no sentence punctuation at its end. */
static bool line_is_title_like(const char *s, const struct line *l)
{
    size_t e = l->end;
    while (e > l->text && is_blank_byte(s[e - 1]))
        e--;
    return !l->blank && l->width - l->indent <= HEADING_MAX && !ends_sentence_like(s + l->text, e - l->text);
}

/* Does a sentence end at the end of line l? ('.', '!', '?', maybe a closing quote) */
static bool line_ends_sentence(const char *s, const struct line *l)
{
    size_t e = l->end;
    while (e > l->text && (is_blank_byte(s[e - 1]) || s[e - 1] == '"' || s[e - 1] == ')'))
        e--;
    return e > l->text && strchr(".!?", s[e - 1]) != NULL;
}

/* Must line i (not blank, after line i - 1 of the paragraph that starts at line a) start a
 * new paragraph although no blank line separates them? */
static bool starts_paragraph(const char *s, const struct line *l, size_t a, size_t i, int max_width)
{
    if (l[i].indent < l[i - 1].indent && l[i - 1].indent > l[a].indent)
        return true;   /* a dedent after a hanging continuation: the next item */
    if (i == a + 1 && l[a].indent <= 4 && l[i].indent > l[a].indent + 1 && line_is_title_like(s, &l[a]))
        return true;   /* a section title over its indented body (man pages) */
    /* A sentence ends the line although the next word would have fit: the break was meant
     * (one-line items, "-v  Print shell input lines as they are read."). At worst this
     * starts a paragraph at a sentence end, which is harmless. */
    return line_ends_sentence(s, &l[i - 1]) && l[i].indent <= l[i - 1].indent
        && l[i - 1].width + 1 + l[i].first_word < max_width - 2;
}

/* Is the one-line paragraph t (at indent) a heading? next_min: the least indent of the
 * following paragraph's lines (-1 if none). */
static bool is_heading(const char *t, size_t n, int indent, int next_min)
{
    size_t cps = utf8_codepoints(t, n);
    if (cps > HEADING_MAX || next_min < 0)
        return false;
    if (is_numbered_title(t, n))
        return true;
    if (ends_sentence_like(t, n))
        return false;
    int upper = 0, lower = 0, letters = 0;
    for (size_t i = 0; i < n;) {
        uint32_t c;
        i += (size_t)utf8_decode(t + i, n - i, &c);
        upper += uchar_is_upper(c) || (c >= 'A' && c <= 'Z');
        lower += uchar_is_lower(c);
        letters += uchar_is_letter(c);
    }
    if (letters == 0)
        return false;
    if (lower == 0 && upper >= 2)
        return true;                     /* NAME, TERMS AND CONDITIONS */
    if (indent >= CENTRED_INDENT)
        return true;                     /* centred: Preamble */
    return indent <= 4 && next_min > indent;   /* "1. Introduction" over indented text */
}

static bool line_has(const char *s, const struct line *l, const char *what)
{
    return memmem(s + l->start, l->end - l->start, what, strlen(what)) != NULL;
}

/* Paginated text (RFCs, printed manuals): at each form feed, the footer before it
 * ("Pfeiffer   Informational   [Page 1]") and the running header after it disappear, and
 * so do the blank lines around them when the text runs on across the page break, so a
 * paragraph cut by a page is one paragraph again. */
static void drop_page_breaks(const char *s, struct line *l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!line_has(s, &l[i], "\f"))
            continue;
        size_t f = i;
        while (f > 0 && l[f - 1].blank)
            f--;
        if (f > 0 && line_has(s, &l[f - 1], "[Page "))
            l[f - 1].gone = true;
        size_t h = i;   /* the running header: on the form feed's line or the next text */
        while (h < n && l[h].blank)
            h++;
        if (h < n)
            l[h].gone = true;
        l[i].gone = true;
        size_t before = i, after = h < n ? h + 1 : n;
        while (before > 0 && (l[before].gone || l[before].blank))
            before--;
        while (after < n && l[after].blank)
            after++;
        if (after < n && !l[before].blank && !l[before].gone && !line_ends_sentence(s, &l[before]))
            for (size_t k = before + 1; k < after; k++)
                l[k].gone = true;
    }
}

/* The column the text was wrapped at: the 98th percentile of line widths, so that a few
 * over-long lines (examples, URLs) do not count. */
static int wrap_width(const struct line *l, size_t n)
{
    enum { CAP = 512 };
    size_t hist[CAP] = { 0 }, total = 0;
    for (size_t i = 0; i < n; i++)
        if (!l[i].blank) {
            hist[l[i].width < CAP ? l[i].width : CAP - 1]++;
            total++;
        }
    size_t above = 0;
    for (int w = CAP - 1; w > 0; w--) {
        above += hist[w];
        if (above * 50 > total)
            return w;
    }
    return 0;
}

int unwrap_text(const char *s, size_t len, unwrap_fn fn, void *ctx)
{
    struct line *l;
    size_t n;
    if (scan_lines(s, len, &l, &n))
        return -1;
    drop_page_breaks(s, l, n);
    size_t kept = 0;   /* the gone lines leave the array */
    for (size_t i = 0; i < n; i++)
        if (!l[i].gone)
            l[kept++] = l[i];
    n = kept;
    int max_width = wrap_width(l, n);
    /* paragraphs: [a, b) line ranges */
    size_t cap = 16, np = 0;
    size_t (*para)[2] = malloc(cap * sizeof *para);
    if (!para) {
        free(l);
        return -1;
    }
    for (size_t i = 0; i < n;) {
        if (l[i].blank) {
            i++;
            continue;
        }
        size_t a = i++;
        while (i < n && !l[i].blank && !starts_paragraph(s, l, a, i, max_width))
            i++;
        if (np == cap) {
            void *w = realloc(para, (cap *= 2) * sizeof *para);
            if (!w) {
                free(para);
                free(l);
                return -1;
            }
            para = w;
        }
        para[np][0] = a;
        para[np][1] = i;
        np++;
    }
    struct sbuf t = { 0 };
    struct span sp = { s, len };   /* the whole document: its words settle line-end hyphens */
    struct hyphen_doc *d = hyphen_doc_new(fill_span, &sp);
    for (size_t k = 0; k < np && !t.oom; k++) {
        size_t a = para[k][0], b = para[k][1];
        t.len = 0;
        for (size_t j = a; j < b; j++)
            append_line(d, &t, 0, s, l[j].start, l[j].end);
        if (t.len == 0)
            continue;
        int next_min = -1;
        if (k + 1 < np)
            for (size_t j = para[k + 1][0]; j < para[k + 1][1]; j++)
                if (next_min < 0 || l[j].indent < next_min)
                    next_min = l[j].indent;
        enum unwrap_kind kind = UNWRAP_PARAGRAPH;
        if (k == 0 && np > 1 && b - a <= 3 && utf8_codepoints(t.p, t.len) <= TITLE_MAX
            && !ends_sentence_like(t.p, t.len))
            kind = UNWRAP_TITLE;
        else if (b - a == 1 && is_heading(t.p, t.len, l[a].indent, next_min))
            kind = UNWRAP_HEADING;
        fn(ctx, kind, t.p, t.len);
    }
    int rc = t.oom ? -1 : 0;
    hyphen_doc_free(d);
    sbuf_free(&t);
    free(para);
    free(l);
    return rc;
}
