/* pdf_layout — lines with geometry -> paragraphs and headings (see pdf_layout.h). Pure,
 * any thread; allocates only scratch arrays freed before returning. */
#include "doc/pdf_layout.h"
#include "doc/builder.h"
#include "doc/hyphen.h"
#include "doc/sbuf.h"
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define EDGE_ZONE 0.12        /* top and bottom share of a page where running heads live */
#define HEADING_RATIO 1.15    /* a line this much larger than the body text is a heading */
#define HEADING_MAX_BYTES 200
#define MAX_SIZES 64
#define BOLD_HEADING_MAX 100  /* bytes of a bold line at body size read as a heading */

struct line_info {
    size_t off, len;          /* trimmed span inside the line's text */
    bool drop;
    int level;                /* 0 body, 1..3 heading */
};

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

static void trim(const struct pdf_line *l, struct line_info *li)
{
    size_t a = 0, e = l->len;
    while (a < e && is_space(l->text[a]))
        a++;
    while (e > a && is_space(l->text[e - 1]))
        e--;
    li->off = a;
    li->len = e - a;
}

/* The comparison key of a running head: ASCII lowercased, digit runs as '#', spaces
 * collapsed, so "Chapter 2 — page 14" and "Chapter 2 — page 15" match. */
static char *edge_key(const char *s, size_t n)
{
    char *k = malloc(n + 1), *o = k;
    if (!k)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            if (o == k || o[-1] != '#')
                *o++ = '#';
        } else if (is_space(c)) {
            if (o != k && o[-1] != ' ')
                *o++ = ' ';
        } else {
            *o++ = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
        }
    }
    *o = '\0';
    return k;
}

static bool all_roman(const char *s, size_t n)
{
    if (!n || n > 7)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("ivxlcdm", s[i]))
            return false;
    return true;
}

/* "12", "- 12 -", "Page 12", "page 12 of 80", "12/80", "xii" (on a key). */
static bool is_page_number(const char *key)
{
    char s[64];
    size_t n = 0;
    for (const char *p = key; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (strchr(" -|.()[]", c) && c)
            continue;
        if (c == 0xe2 && p[1] == (char)0x80 && (p[2] == (char)0x93 || p[2] == (char)0x94)) {
            p += 2;   /* en and em dashes around a number */
            continue;
        }
        if (n + 1 >= sizeof s)
            return false;
        s[n++] = (char)c;
    }
    s[n] = '\0';
    const char *p = s;
    if (!strncmp(p, "page", 4))
        p += 4;
    else if (p[0] == 'p' && (p[1] == '#' || !p[1]))
        p += 1;
    if (*p == '#') {
        p++;
    } else {
        size_t r = strspn(p, "ivxlcdm");
        if (!all_roman(p, r))
            return false;
        p += r;
    }
    if (!*p)
        return true;
    if (!strncmp(p, "of", 2))
        p += 2;
    else if (*p == '/')
        p++;
    else
        return false;
    return !strcmp(p, "#");
}

struct edge { char *key; int page; size_t line; };

static int edge_cmp(const void *a, const void *b)
{
    const struct edge *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->page > y->page) - (x->page < y->page);
}

static bool in_edge_zone(const struct pdf_line *l, const struct pdf_page_size *pg)
{
    if (!(pg->height > 0))
        return false;
    return l->y1 <= pg->height * EDGE_ZONE || l->y0 >= pg->height * (1 - EDGE_ZONE);
}

/* Marks page numbers and running heads (an edge line whose key recurs on another page). */
static int drop_edges(const struct pdf_line *lines, struct line_info *li, size_t n,
                      const struct pdf_page_size *pages, int npages)
{
    struct edge *e = malloc((n ? n : 1) * sizeof *e);
    size_t ne = 0;
    int rc = 0;
    if (!e)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const struct pdf_line *l = &lines[i];
        if (li[i].drop || l->page < 0 || l->page >= npages || !in_edge_zone(l, &pages[l->page]))
            continue;
        char *k = edge_key(l->text + li[i].off, li[i].len);
        if (!k) {
            rc = -1;
            goto out;
        }
        if (is_page_number(k)) {
            li[i].drop = true;
            free(k);
            continue;
        }
        e[ne++] = (struct edge){ k, l->page, i };
    }
    qsort(e, ne, sizeof *e, edge_cmp);
    for (size_t a = 0; a < ne;) {
        size_t z = a + 1;
        int pages_seen = 1;
        while (z < ne && !strcmp(e[z].key, e[a].key)) {
            if (e[z].page != e[z - 1].page)
                pages_seen++;
            z++;
        }
        if (pages_seen >= 2)
            for (size_t j = a; j < z; j++)
                li[e[j].line].drop = true;
        a = z;
    }
out:
    for (size_t i = 0; i < ne; i++)
        free(e[i].key);
    free(e);
    return rc;
}

static double round_size(double s) { return isfinite(s) && s > 0 && s < 10000 ? floor(s * 2 + 0.5) / 2 : 0; }

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n, double fallback)
{
    if (!n)
        return fallback;
    qsort(v, n, sizeof *v, dbl_cmp);
    return v[n / 2];
}

/* The body size is the size most characters are set in; distinct larger sizes rank as
 * heading levels, the largest first. */
static void assign_levels(const struct pdf_line *lines, struct line_info *li, size_t n, double *body)
{
    double sizes[MAX_SIZES], weight[MAX_SIZES];
    int ns = 0;
    for (size_t i = 0; i < n; i++) {
        double s = round_size(lines[i].size);
        if (li[i].drop || !s)
            continue;
        int j = 0;
        while (j < ns && sizes[j] != s)
            j++;
        if (j == ns) {
            if (ns == MAX_SIZES)
                continue;
            sizes[ns] = s;
            weight[ns++] = 0;
        }
        weight[j] += (double)li[i].len;
    }
    *body = 0;
    double best = -1;
    for (int j = 0; j < ns; j++)
        if (weight[j] > best) {
            best = weight[j];
            *body = sizes[j];
        }
    for (size_t i = 0; i < n; i++) {
        double s = round_size(lines[i].size);
        li[i].level = 0;
        if (li[i].drop || !*body || s < *body * HEADING_RATIO || li[i].len > HEADING_MAX_BYTES)
            continue;
        int larger = 0;   /* distinct heading sizes above this one */
        for (int j = 0; j < ns; j++)
            if (sizes[j] > s && sizes[j] >= *body * HEADING_RATIO)
                larger++;
        li[i].level = larger >= 2 ? 3 : larger + 1;
    }
}

/* Sentence-final: . ! ? : … possibly followed by closing quotes or brackets. */
static bool ends_sentence(const char *s, size_t n)
{
    while (n) {
        unsigned char c = (unsigned char)s[n - 1];
        if (c == ')' || c == ']' || c == '"' || c == '\'') {
            n--;
        } else if (n >= 3 && (unsigned char)s[n - 3] == 0xe2 && (unsigned char)s[n - 2] == 0x80 &&
                   (c == 0x9d || c == 0x99)) {
            n -= 3;   /* ” ’ */
        } else if (n >= 2 && (unsigned char)s[n - 2] == 0xc2 && c == 0xbb) {
            n -= 2;   /* » */
        } else {
            break;
        }
    }
    if (!n)
        return false;
    char c = s[n - 1];
    if (c == '.' || c == '!' || c == '?' || c == ':')
        return true;
    return n >= 3 && !memcmp(s + n - 3, "\xe2\x80\xa6", 3);
}

static bool starts_lower(const char *s, size_t n) { return n && s[0] >= 'a' && s[0] <= 'z'; }

static bool starts_bullet(const char *s, size_t n)
{
    static const char *const bullets[] = { "\xe2\x80\xa2", "\xe2\x97\xa6", "\xe2\x96\xaa",
                                           "\xe2\x80\xa3", "\xe2\x97\x8f", NULL };
    for (const char *const *b = bullets; *b; b++)
        if (n >= strlen(*b) && !memcmp(s, *b, strlen(*b)))
            return true;
    return n >= 2 && (s[0] == '-' || s[0] == '*') && s[1] == ' ';
}

/* Appends a line's text, spelling out the Latin ligatures (U+FB00..FB06) that PDF fonts
 * use, so "ﬁnd" is read as "find". */
static void add_text(struct sbuf *o, const char *s, size_t n)
{
    static const char *const lig[] = { "ff", "fi", "fl", "ffi", "ffl", "st", "st" };
    size_t from = 0;
    for (size_t i = 0; i + 2 < n; i++) {
        if ((unsigned char)s[i] == 0xef && (unsigned char)s[i + 1] == 0xac &&
            (unsigned char)s[i + 2] >= 0x80 && (unsigned char)s[i + 2] <= 0x86) {
            sbuf_add(o, s + from, i - from);
            sbuf_adds(o, lig[(unsigned char)s[i + 2] - 0x80]);
            from = i + 3;
            i += 2;
        }
    }
    sbuf_add(o, s + from, n - from);
}

/* Joins the next line of a paragraph; a hyphen at the line end is settled by the rule
 * plain text uses too (hyphen.h): a soft hyphen goes, a broken word joins, a compound
 * keeps its hyphen. */
static void join_line(struct hyphen_doc *d, struct sbuf *o, const char *s, size_t n)
{
    size_t hy = 0;
    enum hyphen_break h = o->len ? hyphen_at_break(d, o->p, o->len, s, n, &hy) : HYPHEN_NONE;
    if (h == HYPHEN_JOIN)
        o->len -= hy;
    else if (h == HYPHEN_NONE)
        sbuf_addc(o, ' ');
    if (o->p)
        o->p[o->len] = '\0';
    add_text(o, s, n);
}

struct kept_lines { const struct pdf_line *lines; const struct line_info *li; size_t n; };

/* The document's words for the hyphen rule: every kept line, ligatures spelled out. */
static void fill_words(const void *ctx, struct hyphen_doc *d)
{
    const struct kept_lines *k = ctx;
    struct sbuf t = { 0 };
    for (size_t i = 0; i < k->n; i++) {
        if (k->li[i].drop)
            continue;
        t.len = 0;
        add_text(&t, k->lines[i].text + k->li[i].off, k->li[i].len);
        if (!t.oom)
            hyphen_doc_add(d, t.p, t.len);
    }
    sbuf_free(&t);
}

static void emit(struct builder *b, struct sbuf *para, int level, int *count)
{
    static const char *const tags[] = { "p", "h1", "h2", "h3" };
    if (!para->len)
        return;
    builder_block_open(b, tags[level], NULL, BUILDER_SPEAK);
    builder_text(b, para->p, para->len);
    builder_block_close(b);
    para->len = 0;
    para->p[0] = '\0';
    (*count)++;
}

struct metrics { double gap, width, body; };

/* Whether `cur` starts a new paragraph after `prev`. */
static bool breaks(const struct pdf_line *prev, const struct line_info *pi,
                   const struct pdf_line *cur, const struct line_info *ci, const struct metrics *m)
{
    const char *ps = prev->text + pi->off, *cs = cur->text + ci->off;
    if (pi->level != ci->level || starts_bullet(cs, ci->len))
        return true;
    double ph = prev->y1 - prev->y0;
    if (!(ph > 0))
        ph = m->body > 0 ? m->body : 10;
    bool overlap = cur->x0 < prev->x1 && cur->x1 > prev->x0;
    bool jump = cur->page != prev->page || cur->y0 < prev->y0 - ph * 0.5 || !overlap;
    bool final = ends_sentence(ps, pi->len);
    if (ci->level)   /* heading lines join only while they run on */
        return jump || cur->y0 - prev->y1 > m->gap + ph * 0.6;
    if (jump)   /* next column or page: carry on unless a sentence ended there */
        return final && !starts_lower(cs, ci->len);
    if (cur->y0 - prev->y1 > m->gap + ph * 0.35)
        return true;
    if (!final)
        return false;
    if (m->width > 0 && prev->x1 - prev->x0 < m->width * 0.8)
        return true;
    double indent = m->body > 0 ? m->body * 0.8 : 8;
    return cur->x0 > prev->x0 + indent;
}

/* Dot leaders of a table of contents ("1 Introduction . . . . 1"): texinfo and LaTeX set
 * chapter entries in bold, and they are not headings of the text. */
static bool has_leaders(const char *s, size_t n)
{
    for (size_t i = 0; i + 4 < n; i++)
        if ((s[i] == '.' && s[i + 1] == ' ' && s[i + 2] == '.' && s[i + 3] == ' ' && s[i + 4] == '.') ||
            !memcmp(s + i, "....", 4) || (i + 6 <= n && !memcmp(s + i, "\xe2\x80\xa6\xe2\x80\xa6", 6)))
            return true;
    return false;
}

/* Headings set in bold at body size ("Introduction", "2.1 Method"): a kept body line
 * that is all bold, short (under BOLD_HEADING_MAX bytes and 90 % of the usual line width),
 * does not end like a sentence or a clause, is no contents entry with dot leaders, stands alone (first line, after a heading, a
 * sentence end, a page or column change or a paragraph gap) and is followed by body text
 * that is not bold. A bold phrase inside a paragraph has plain characters on its line; a
 * bold paragraph has bold next lines: neither is a heading. The level is one below the
 * size-based headings. Runs after measure(), whose line width it uses. */
static void assign_bold_levels(const struct pdf_line *lines, struct line_info *li, size_t n,
                               const struct metrics *m)
{
    int top = 0;
    for (size_t i = 0; i < n; i++)
        if (!li[i].drop && li[i].level > top)
            top = li[i].level;
    int level = top < 3 ? top + 1 : 3;
    ssize_t prev = -1;
    size_t next = 0;   /* the kept line after i; only moves forwards: linear over dropped runs */
    for (size_t i = 0; i < n; i++) {
        if (li[i].drop)
            continue;
        if (next <= i)
            next = i + 1;
        while (next < n && li[next].drop)
            next++;
        const struct pdf_line *c = &lines[i];
        const char *t = c->text + li[i].off;
        size_t len = li[i].len;
        bool candidate = c->bold && !li[i].level && len <= BOLD_HEADING_MAX && !ends_sentence(t, len)
            && t[len - 1] != ',' && t[len - 1] != ';' && !starts_bullet(t, len) && !has_leaders(t, len)
            && !(m->width > 0 && c->x1 - c->x0 > m->width * 0.9)
            && next < n && !lines[next].bold && !li[next].level;
        if (candidate && prev >= 0 && !li[prev].level) {
            const struct pdf_line *p = &lines[prev];
            double ph = p->y1 - p->y0 > 0 ? p->y1 - p->y0 : (m->body > 0 ? m->body : 10);
            bool alone = p->page != c->page || c->y0 < p->y0 || c->y0 - p->y1 > m->gap + ph * 0.35
                || ends_sentence(p->text + li[prev].off, li[prev].len);
            candidate = alone && !p->bold;
        }
        if (candidate)
            li[i].level = level;
        prev = (ssize_t)i;
    }
}

static int measure(const struct pdf_line *lines, const struct line_info *li, size_t n, struct metrics *m)
{
    double *gaps = malloc((n ? n : 1) * sizeof *gaps), *widths = malloc((n ? n : 1) * sizeof *widths);
    size_t ng = 0, nw = 0;
    if (!gaps || !widths) {
        free(gaps);
        free(widths);
        return -1;
    }
    ssize_t prev = -1;
    for (size_t i = 0; i < n; i++) {
        if (li[i].drop || li[i].level)
            continue;
        const struct pdf_line *c = &lines[i];
        if (isfinite(c->x1 - c->x0))
            widths[nw++] = c->x1 - c->x0;
        if (prev >= 0) {
            const struct pdf_line *p = &lines[prev];
            if (p->page == c->page && c->y0 > p->y0 && c->x0 < p->x1 && c->x1 > p->x0 &&
                isfinite(c->y0 - p->y1))
                gaps[ng++] = c->y0 - p->y1;
        }
        prev = (ssize_t)i;
    }
    m->gap = median(gaps, ng, 2);
    m->width = median(widths, nw, 0);
    free(gaps);
    free(widths);
    return 0;
}


/* ---- reading order ---------------------------------------------------------------- */

#define GUTTER_MIN 10.0       /* points: narrower white space is a word gap */
#define MAX_GUTTERS 8
#define COVER_MAX 4096        /* points of page width examined for gutters */

struct ordered {
    struct pdf_line *v;       /* lines in reading order; texts owned when `owned` */
    size_t n;
    char **owned;
    size_t nowned;
};

static int seg_cmp_y(const void *a, const void *b)
{
    const struct pdf_line *x = *(const struct pdf_line *const *)a, *y = *(const struct pdf_line *const *)b;
    if (x->y0 != y->y0)
        return (x->y0 > y->y0) - (x->y0 < y->y0);
    return (x->x0 > y->x0) - (x->x0 < y->x0);
}

/* Gutters: vertical bands at least GUTTER_MIN wide that at most a tenth of the page's
 * segments cross (full-width titles, running heads, page numbers) with at least three
 * segments wholly on each side. Returns their middles, left to right. */
static int find_gutters(struct pdf_line *const *s, size_t n, double *mid)
{
    if (n < 6)
        return 0;
    double lo = 1e30, hi = -1e30;
    for (size_t i = 0; i < n; i++) {
        lo = fmin(lo, s[i]->x0);
        hi = fmax(hi, s[i]->x1);
    }
    if (!(lo >= 0) || !(hi > lo) || hi > COVER_MAX)
        return 0;
    int w = (int)ceil(hi) + 1, ng = 0;
    unsigned *cov = calloc((size_t)w, sizeof *cov);
    if (!cov)
        return 0;
    for (size_t i = 0; i < n; i++)
        for (int x = (int)floor(s[i]->x0); x <= (int)ceil(s[i]->x1) && x < w; x++)
            cov[x >= 0 ? x : 0]++;
    unsigned thr = (unsigned)(n / 10);
    for (int x = (int)ceil(lo) + 1; x < (int)floor(hi) && ng < MAX_GUTTERS;) {
        if (cov[x] > thr) {
            x++;
            continue;
        }
        int a = x;
        while (x < (int)floor(hi) && cov[x] <= thr)
            x++;
        if (x - a < GUTTER_MIN)
            continue;
        size_t left = 0, right = 0;
        for (size_t i = 0; i < n; i++) {
            left += s[i]->x1 <= a + 0.5;
            right += s[i]->x0 >= x - 0.5;
        }
        if (left >= 3 && right >= 3)
            mid[ng++] = (a + x) / 2.0;
    }
    free(cov);
    return ng;
}

static int push_line(struct ordered *o, const struct pdf_line *l)
{
    struct pdf_line *v = realloc(o->v, (o->n + 1) * sizeof *v);
    if (!v)
        return -1;
    o->v = v;
    o->v[o->n++] = *l;
    return 0;
}

/* Appends the segments of one column of one section, merging those on the same row
 * (vertically overlapping by more than half the smaller height) into one line. */
static int emit_column(struct ordered *o, struct pdf_line **s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        double h = s[i]->y1 - s[i]->y0;
        while (j < n) {
            double hj = s[j]->y1 - s[j]->y0, ov = fmin(s[i]->y1, s[j]->y1) - fmax(s[i]->y0, s[j]->y0);
            if (!(ov > 0.5 * fmin(h, hj)))
                break;
            j++;
        }
        if (j == i + 1) {
            if (push_line(o, s[i]))
                return -1;
            i = j;
            continue;
        }
        /* several pieces on one row: left to right, joined by a space */
        for (size_t a = i + 1; a < j; a++)
            for (size_t b = a; b > i && s[b - 1]->x0 > s[b]->x0; b--) {
                struct pdf_line *t = s[b];
                s[b] = s[b - 1];
                s[b - 1] = t;
            }
        struct sbuf t = { 0 };
        struct pdf_line m = *s[i];
        for (size_t a = i; a < j; a++) {
            if (a > i)
                sbuf_addc(&t, ' ');
            sbuf_add(&t, s[a]->text, s[a]->len);
            m.x0 = fmin(m.x0, s[a]->x0), m.y0 = fmin(m.y0, s[a]->y0);
            m.x1 = fmax(m.x1, s[a]->x1), m.y1 = fmax(m.y1, s[a]->y1);
            m.bold = m.bold && s[a]->bold;   /* a row is bold only if every piece is */
        }
        char **ow = realloc(o->owned, (o->nowned + 1) * sizeof *ow);
        if (t.oom || !ow) {
            if (ow)
                o->owned = ow;
            sbuf_free(&t);
            return -1;
        }
        o->owned = ow;
        m.len = t.len;
        m.text = o->owned[o->nowned++] = sbuf_take(&t);
        if (push_line(o, &m))
            return -1;
        i = j;
    }
    return 0;
}

static int column_of(const struct pdf_line *l, const double *mid, int ng)
{
    int c = 0;
    while (c < ng && (l->x0 + l->x1) / 2 > mid[c])
        c++;
    return c;
}

static bool spans(const struct pdf_line *l, const double *mid, int ng)
{
    for (int g = 0; g < ng; g++)
        if (l->x0 < mid[g] && l->x1 > mid[g])
            return true;
    return false;
}

/* One page's segments in reading order: top to bottom in sections separated by
 * segments that span a gutter; inside a section, column by column. */
static int order_page(struct ordered *o, const struct pdf_line *segs, size_t n)
{
    struct pdf_line **s = malloc((n ? n : 1) * sizeof *s), **col = malloc((n ? n : 1) * sizeof *col);
    double mid[MAX_GUTTERS];
    int rc = 0;
    if (!s || !col) {
        free(s);
        free(col);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        s[i] = (struct pdf_line *)&segs[i];
    qsort(s, n, sizeof *s, seg_cmp_y);
    int ng = find_gutters(s, n, mid);
    for (size_t a = 0; a < n && rc == 0;) {
        size_t z = a;
        while (z < n && !spans(s[z], mid, ng))
            z++;
        for (int c = 0; c <= ng && rc == 0; c++) {   /* the section [a, z) */
            size_t k = 0;
            for (size_t i = a; i < z; i++)
                if (column_of(s[i], mid, ng) == c)
                    col[k++] = s[i];
            rc = emit_column(o, col, k);
        }
        if (z < n && rc == 0) {
            size_t e = z + 1;   /* spanning segments on the same row go together */
            while (e < n && spans(s[e], mid, ng))
                e++;
            for (size_t i = z; i < e; i++)
                col[i - z] = s[i];
            rc = emit_column(o, col, e - z);
            z = e;
        }
        a = z;
    }
    free(s);
    free(col);
    return rc;
}

static int order_all(struct ordered *o, const struct pdf_line *lines, size_t n)
{
    for (size_t a = 0; a < n;) {
        size_t z = a + 1;
        while (z < n && lines[z].page == lines[a].page)
            z++;
        if (order_page(o, lines + a, z - a))
            return -1;
        a = z;
    }
    return 0;
}

static void ordered_free(struct ordered *o)
{
    for (size_t i = 0; i < o->nowned; i++)
        free(o->owned[i]);
    free(o->owned);
    free(o->v);
}

static int emit_lines(struct builder *b, const struct pdf_line *lines, size_t n,
                      const struct pdf_page_size *pages, int npages)
{
    struct line_info *li = calloc(n ? n : 1, sizeof *li);
    struct sbuf para = { 0 };
    struct metrics m = { 0 };
    int count = 0, level = 0;
    if (!li)
        return -1;
    for (size_t i = 0; i < n; i++) {
        trim(&lines[i], &li[i]);
        li[i].drop = li[i].len == 0;
    }
    if (drop_edges(lines, li, n, pages, npages) || (assign_levels(lines, li, n, &m.body), 0) ||
        measure(lines, li, n, &m)) {
        free(li);
        return -1;
    }
    assign_bold_levels(lines, li, n, &m);
    struct kept_lines kl = { lines, li, n };
    struct hyphen_doc *d = hyphen_doc_new(fill_words, &kl);   /* NULL: the fallback rule */
    ssize_t prev = -1;
    for (size_t i = 0; i < n && !para.oom; i++) {
        if (li[i].drop)
            continue;
        const char *s = lines[i].text + li[i].off;
        if (prev >= 0 && !breaks(&lines[prev], &li[prev], &lines[i], &li[i], &m)) {
            join_line(d, &para, s, li[i].len);
        } else {
            if (prev >= 0)
                emit(b, &para, level, &count);
            level = li[i].level;
            add_text(&para, s, li[i].len);
        }
        prev = (ssize_t)i;
    }
    if (!para.oom && prev >= 0)
        emit(b, &para, level, &count);
    bool oom = para.oom;
    hyphen_doc_free(d);
    sbuf_free(&para);
    free(li);
    return oom ? -1 : count;
}

int pdf_layout_emit(struct builder *b, const struct pdf_line *segs, size_t n,
                    const struct pdf_page_size *pages, int npages)
{
    struct ordered o = { 0 };
    int rc = order_all(&o, segs, n);
    if (rc == 0)
        rc = emit_lines(b, o.v, o.n, pages, npages);
    ordered_free(&o);
    return rc;
}
