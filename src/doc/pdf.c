/* pdf — the PDF front-end: poppler-glib reads each page's text in reading order (its text
 * layer orders columns), one box, font size and boldness per line; pdf_layout.c turns the lines into
 * paragraphs and headings. Pure (bytes in, builder events out); any thread.
 *
 * poppler keeps process-wide state (its GlobalParams, created lazily by the first document
 * opened) and does not promise that documents may be read on several threads at once, so
 * every parse holds one mutex: PDF imports run one at a time, other work is not held up.
 * Errors are the user's to fix and say so: a password, a damaged file, no text layer. */
#include "doc/front.h"
#include "doc/builder.h"
#include "doc/pdf_layout.h"
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <poppler.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t pdf_lock = PTHREAD_MUTEX_INITIALIZER;

struct lines {
    struct pdf_line *v;
    size_t n, cap;
    char **texts;             /* one poppler string per page, owned */
    struct pdf_page_size *pages;
    int npages;
};

static int lines_push(struct lines *L, const struct pdf_line *l)
{
    if (L->n == L->cap) {
        size_t cap = L->cap ? L->cap * 2 : 256;
        struct pdf_line *v = realloc(L->v, cap * sizeof *v);
        if (!v)
            return -1;
        L->v = v;
        L->cap = cap;
    }
    L->v[L->n++] = *l;
    return 0;
}

/* The attributes of character `ci`, walking the page's attribute list forwards. */
static const PopplerTextAttributes *attr_at(GList **at, int ci)
{
    while (*at) {
        PopplerTextAttributes *a = (*at)->data;
        if (ci < a->start_index)
            return NULL;
        if (ci <= a->end_index)
            return a;
        *at = (*at)->next;
    }
    return NULL;
}

/* Bold by the font's name, or underlined: how reports mark a heading at body size. Names
 * seen: "ABCDEF+DejaVuSans-Bold", "Helvetica-BoldOblique", "Inter-SemiBold",
 * "Arial-Black", "Roboto-Medium"; URW's "NimbusRomNo9L-Medi" (Times bold, DocBook/groff
 * PDFs); TeX's Computer Modern "CMBX12"/"CMB10", "CMSSBX10", EC/cm-super "ECBX1000",
 * "SFBX1000", "SFSX1000" (LaTeX and texinfo bold), whose names do not say "bold". */
static bool emphasised(const PopplerTextAttributes *a)
{
    static const char *const anywhere[] = { "bold", "black", "heavy", "demi", "-medi", NULL };
    static const char *const tex[] = { "cmb", "cmssbx", "ecbx", "sfbx", "sfsx", NULL };
    if (!a)
        return false;
    if (a->is_underlined)
        return true;
    if (!a->font_name)
        return false;
    const char *name = strchr(a->font_name, '+');   /* after a subset prefix */
    gchar *low = g_ascii_strdown(name ? name + 1 : a->font_name, -1);
    bool b = false;
    for (const char *const *w = anywhere; *w && !b; w++)
        b = strstr(low, *w) != NULL;
    for (const char *const *w = tex; *w && !b; w++)
        b = !strncmp(low, *w, strlen(*w));
    g_free(low);
    return b;
}

/* Whether character box r starts a new segment after box q: poppler's text lines can run
 * across a column gutter (and even join lines of two columns at different heights), so a
 * line is cut where the text jumps back, jumps far ahead or changes height; pdf_layout.c
 * puts the pieces in reading order. */
static bool jumps(const PopplerRectangle *q, const PopplerRectangle *r, double size)
{
    double h = q->y2 - q->y1, em = size > 0 ? size : h > 0 ? h : 10;
    return r->x1 < q->x1 - 0.5 || r->x1 > q->x2 + em || fabs(r->y2 - q->y2) > 0.6 * (h > 0 ? h : em);
}

/* Cuts one page's text into segments (lines, or pieces of lines), each with the union of
 * its characters' boxes, its first character's font size and whether all its characters
 * are emphasised. The layout has one
 * rectangle per character of the text, newlines included; should a poppler version
 * disagree, characters past the end have no box and stay with the segment they are in. */
static int page_lines(struct lines *L, PopplerPage *page, int pno, size_t *chars)
{
    char *text = poppler_page_get_text(page);
    if (!text)
        return 0;
    L->texts[pno] = text;
    PopplerRectangle *rects = NULL;
    guint nr = 0;
    if (!poppler_page_get_text_layout(page, &rects, &nr))
        nr = 0;
    GList *attrs = poppler_page_get_text_attributes(page), *at = attrs;
    struct pdf_line l = { .text = text, .page = pno };
    const PopplerRectangle *last = NULL;   /* the segment's last non-space box */
    int ci = 0, rc = 0, plain = 0;   /* plain: characters of the segment not emphasised */
    for (const char *q = text; rc == 0; q = g_utf8_next_char(q), ci++) {
        bool end = !*q || *q == '\n';
        const PopplerRectangle *r = !end && !strchr(" \t\r", *q) && (guint)ci < nr ? &rects[ci] : NULL;
        if (r && last && jumps(last, r, l.size))
            end = true;
        if (end) {
            l.len = (size_t)(q - l.text);
            l.bold = plain == 0;
            if (last)
                rc = lines_push(L, &l);
            l = (struct pdf_line){ .text = *q == '\n' ? q + 1 : q, .page = pno };
            last = NULL;
            plain = 0;
            if (!*q)
                break;
            if (*q == '\n')
                continue;
        }
        if (strchr(" \t\r", *q))
            continue;
        (*chars)++;
        if (!r)
            continue;
        const PopplerTextAttributes *a = attr_at(&at, ci);
        plain += !emphasised(a);
        if (!last) {
            l.x0 = r->x1, l.y0 = r->y1, l.x1 = r->x2, l.y1 = r->y2;
            l.size = a ? a->font_size : 0;
        } else {
            l.x0 = MIN(l.x0, r->x1), l.y0 = MIN(l.y0, r->y1);
            l.x1 = MAX(l.x1, r->x2), l.y1 = MAX(l.y1, r->y2);
        }
        last = r;
    }
    poppler_page_free_text_attributes(attrs);
    g_free(rects);
    return rc;
}

static int read_pages(struct lines *L, PopplerDocument *doc, size_t *chars, char *err, size_t errlen)
{
    for (int i = 0; i < L->npages; i++) {
        PopplerPage *page = poppler_document_get_page(doc, i);
        if (!page)
            continue;
        poppler_page_get_size(page, &L->pages[i].width, &L->pages[i].height);
        int rc = page_lines(L, page, i, chars);
        g_object_unref(page);
        if (rc) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

int pdf_render(struct builder *b, const char *s, size_t len, char *err, size_t errlen)
{
    if (len > INT_MAX) {
        snprintf(err, errlen, "the PDF is too large");
        return -1;
    }
    int rc = -1;
    struct lines L = { 0 };
    GError *gerr = NULL;
    pthread_mutex_lock(&pdf_lock);
    /* poppler reads the bytes in place; they outlive the document */
    GBytes *bytes = g_bytes_new_static(s, len);
    PopplerDocument *doc = poppler_document_new_from_bytes(bytes, NULL, &gerr);
    if (!doc) {
        if (gerr && gerr->domain == POPPLER_ERROR && gerr->code == POPPLER_ERROR_ENCRYPTED)
            snprintf(err, errlen, "the PDF is password-protected: remove the password and upload it again");
        else
            snprintf(err, errlen, "this is not a readable PDF (the file is damaged or not a PDF)");
        goto out;
    }
    L.npages = poppler_document_get_n_pages(doc);
    if (L.npages <= 0) {
        snprintf(err, errlen, "the PDF has no pages");
        goto out;
    }
    L.texts = calloc((size_t)L.npages, sizeof *L.texts);
    L.pages = calloc((size_t)L.npages, sizeof *L.pages);
    if (!L.texts || !L.pages) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    gchar *author = poppler_document_get_author(doc);
    if (author && g_utf8_validate(author, -1, NULL))
        builder_set_author(b, author);
    g_free(author);
    size_t chars = 0;
    if (read_pages(&L, doc, &chars, err, errlen))
        goto out;
    if (chars == 0) {
        snprintf(err, errlen, "the PDF has no text layer (scanned pages?): recite cannot read "
                 "images of text, run it through OCR first");
        goto out;
    }
    if (pdf_layout_emit(b, L.v, L.n, L.pages, L.npages) < 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    rc = 0;
out:
    if (doc)
        g_object_unref(doc);
    g_bytes_unref(bytes);
    pthread_mutex_unlock(&pdf_lock);
    if (gerr)
        g_error_free(gerr);
    for (int i = 0; L.texts && i < L.npages; i++)
        g_free(L.texts[i]);
    free(L.texts);
    free(L.pages);
    free(L.v);
    return rc;
}
