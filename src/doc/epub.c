/* epub — the EPUB front-end: the zip (libarchive, from memory) -> META-INF/container.xml ->
 * the OPF package -> the spine's chapters in order, each (X)HTML chapter through the HTML
 * front-end (html.c). The book's title is an h1; chapter headings move down one level, and
 * a chapter without any heading gets its table-of-contents label (nav document or NCX).
 * Footnote markers are left out by html.c. Pure (bytes in, builder events out); any thread.
 *
 * Zip bombs: only the text members (XHTML, XML, OPF, NCX) are inflated, each read in
 * chunks and stopped at EPUB_ENTRY_MAX, all of them together at EPUB_TOTAL_MAX, and at most
 * EPUB_ENTRIES_MAX members are looked at: whatever the headers claim, memory stays bounded.
 * XML is parsed without network, DTD loading or entity substitution (no XXE). */
#include "doc/front.h"
#include "doc/builder.h"
#include "doc/sbuf.h"
#include "doc/xmltree.h"
#include "util/zipmem.h"
#include <archive.h>
#include <archive_entry.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EPUB_ENTRY_MAX (16u << 20)
#define EPUB_TOTAL_MAX (64u << 20)
#define EPUB_ENTRIES_MAX 20000

struct member { char *name; char *data; size_t len; };

struct book {
    struct member *m;
    size_t n;
    char *opf_dir;            /* "OEBPS/" or "" */
    struct { char *file, *label; } *toc;
    size_t ntoc;
};

static bool wanted(const char *name)
{
    static const char *const exts[] = { ".xhtml", ".html", ".htm", ".xml", ".opf", ".ncx", NULL };
    size_t n = strlen(name);
    for (const char *const *e = exts; *e; e++) {
        size_t k = strlen(*e);
        if (n > k && strcasecmp(name + n - k, *e) == 0)
            return true;
    }
    return false;
}

static void book_free(struct book *bk)
{
    for (size_t i = 0; i < bk->n; i++) {
        free(bk->m[i].name);
        free(bk->m[i].data);
    }
    for (size_t i = 0; i < bk->ntoc; i++) {
        free(bk->toc[i].file);
        free(bk->toc[i].label);
    }
    free(bk->m);
    free(bk->toc);
    free(bk->opf_dir);
}

/* Reads one member into memory, at most `room` bytes. 0, or -1 with err. */
static int read_member(struct archive *a, struct sbuf *o, size_t room, char *err, size_t errlen)
{
    char buf[65536];
    for (;;) {
        la_ssize_t got = archive_read_data(a, buf, sizeof buf);
        if (got == 0)
            return 0;
        if (got < 0) {
            snprintf(err, errlen, "the EPUB is damaged (%s)", archive_error_string(a) ?
                     archive_error_string(a) : "unreadable member");
            return -1;
        }
        if ((size_t)got > room || o->len + (size_t)got > EPUB_ENTRY_MAX) {
            snprintf(err, errlen, "the EPUB unpacks to too much text (a file over %u MiB or "
                     "over %u MiB in all): refusing it as a possible zip bomb",
                     EPUB_ENTRY_MAX >> 20, EPUB_TOTAL_MAX >> 20);
            return -1;
        }
        room -= (size_t)got;
        sbuf_add(o, buf, (size_t)got);
        if (o->oom) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
}

static int unzip(struct book *bk, const char *s, size_t len, char *err, size_t errlen)
{
    struct archive *a = zipmem_open(s, len, "this is not an EPUB (not a zip archive)", err, errlen);
    struct archive_entry *e;
    size_t total = 0, seen = 0, cap = 0;
    int rc = -1;
    if (!a)
        return -1;
    for (;;) {
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN) {
            snprintf(err, errlen, bk->n || seen ? "the EPUB is damaged (%s)" :
                     "this is not an EPUB (%s)", archive_error_string(a) ? archive_error_string(a) :
                     "not a zip archive");
            goto out;
        }
        if (++seen > EPUB_ENTRIES_MAX) {
            snprintf(err, errlen, "the EPUB has too many files (over %d)", EPUB_ENTRIES_MAX);
            goto out;
        }
        const char *name = archive_entry_pathname(e);
        if (!name || archive_entry_filetype(e) != AE_IFREG || !wanted(name))
            continue;
        struct sbuf body = { 0 };
        if (read_member(a, &body, EPUB_TOTAL_MAX - total, err, errlen)) {
            sbuf_free(&body);
            goto out;
        }
        total += body.len;
        if (bk->n == cap) {
            cap = cap ? cap * 2 : 32;
            struct member *m = realloc(bk->m, cap * sizeof *m);
            if (!m) {
                sbuf_free(&body);
                snprintf(err, errlen, "out of memory");
                goto out;
            }
            bk->m = m;
        }
        struct member *m = &bk->m[bk->n];
        m->len = body.len;
        m->data = sbuf_take(&body);
        m->name = strdup(name);
        if (!m->data || !m->name) {
            free(m->data);
            free(m->name);
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        bk->n++;
    }
    rc = 0;
out:
    archive_read_free(a);
    return rc;
}

static const struct member *member_find(const struct book *bk, const char *name)
{
    for (size_t i = 0; i < bk->n; i++)
        if (strcmp(bk->m[i].name, name) == 0)
            return &bk->m[i];
    return NULL;
}

static xmlDoc *parse_xml(const struct member *m)
{
    if (!m || m->len > INT_MAX)
        return NULL;
    return xmlReadMemory(m->data, (int)m->len, NULL, NULL,
                         XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

static bool named(const xmlNode *n, const char *local)
{
    return n->type == XML_ELEMENT_NODE && n->name && strcmp((const char *)n->name, local) == 0;
}

static xmlNode *first_named(xmlNode *top, const char *local)
{
    for (xmlNode *n = top; n; n = xmltree_next(n, top, true))
        if (named(n, local))
            return n;
    return NULL;
}

static char *prop(xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    char *s = v ? strdup((const char *)v) : NULL;
    xmlFree(v);
    return s;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : (c | 32) >= 'a' && (c | 32) <= 'f' ? (c | 32) - 'a' + 10 : -1;
}

/* base_dir + href -> the member name: fragment dropped, %XX decoded, "." and ".."
 * segments resolved (never above the root). malloc'd, NULL for an absolute URL. */
static char *resolve(const char *base_dir, const char *href)
{
    if (!href || strstr(href, "://") || href[0] == '/')
        return NULL;
    struct sbuf o = { 0 };
    sbuf_adds(&o, base_dir);
    for (const char *p = href; *p && *p != '#' && *p != '?'; p++) {
        if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
            sbuf_addc(&o, (char)(hexval(p[1]) * 16 + hexval(p[2])));
            p += 2;
        } else {
            sbuf_addc(&o, *p);
        }
    }
    char *path = sbuf_take(&o);
    if (!path)
        return NULL;
    /* resolve segments in place */
    char *out = path, *seg = path;
    size_t olen = 0;
    while (*seg) {
        char *end = strchr(seg, '/');
        size_t n = end ? (size_t)(end - seg) : strlen(seg);
        if ((n == 1 && seg[0] == '.') || n == 0) {
            /* skip */
        } else if (n == 2 && seg[0] == '.' && seg[1] == '.') {
            while (olen && out[olen - 1] != '/')
                olen--;
            if (olen)
                olen--;
            while (olen && out[olen - 1] != '/')
                olen--;
        } else {
            memmove(out + olen, seg, n);
            olen += n;
            if (end)
                out[olen++] = '/';
        }
        if (!end)
            break;
        seg = end + 1;
    }
    out[olen] = '\0';
    if (olen && out[olen - 1] == '/')
        out[olen - 1] = '\0';
    return path;
}

static void toc_add(struct book *bk, const char *dir, const char *href, xmlNode *label_node)
{
    char *file = resolve(dir, href), *label = label_node ? xmltree_text(label_node) : NULL;
    if (!file || !label || !*label) {
        free(file);
        free(label);
        return;
    }
    for (size_t i = 0; i < bk->ntoc; i++)
        if (!strcmp(bk->toc[i].file, file)) {   /* the first entry for a file names it */
            free(file);
            free(label);
            return;
        }
    void *t = realloc(bk->toc, (bk->ntoc + 1) * sizeof *bk->toc);
    if (!t) {
        free(file);
        free(label);
        return;
    }
    bk->toc = t;
    bk->toc[bk->ntoc].file = file;
    bk->toc[bk->ntoc].label = label;
    bk->ntoc++;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path + 1) : 0;
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = '\0';
    }
    return d;
}

/* Chapter labels from the EPUB 3 nav document or the EPUB 2 NCX (best effort). */
static void read_toc(struct book *bk, const char *path, bool is_nav)
{
    const struct member *m = member_find(bk, path);
    xmlDoc *doc = parse_xml(m);
    if (!doc && m && m->len <= INT_MAX)
        doc = htmlReadMemory(m->data, (int)m->len, NULL, "UTF-8", HTML_PARSE_NOERROR |
                             HTML_PARSE_NOWARNING | HTML_PARSE_NONET | HTML_PARSE_RECOVER);
    char *dir = dir_of(path);
    xmlNode *top = doc ? xmlDocGetRootElement(doc) : NULL;
    for (xmlNode *n = top; n && dir; n = xmltree_next(n, top, true)) {
        if (is_nav && named(n, "a")) {
            char *href = prop(n, "href");
            toc_add(bk, dir, href, n);
            free(href);
        } else if (!is_nav && named(n, "navPoint")) {
            xmlNode *content = first_named(n, "content"), *label = first_named(n, "navLabel");
            char *src = content ? prop(content, "src") : NULL;
            toc_add(bk, dir, src, label);
            free(src);
        }
    }
    free(dir);
    xmlFreeDoc(doc);
}

static const char *toc_label(const struct book *bk, const char *file)
{
    for (size_t i = 0; i < bk->ntoc; i++)
        if (!strcmp(bk->toc[i].file, file))
            return bk->toc[i].label;
    return NULL;
}

static int render_chapter(struct builder *b, const struct book *bk, const char *file,
                          char *err, size_t errlen)
{
    const struct member *m = member_find(bk, file);
    if (!m || !m->len)
        return 0;   /* a spine item that is missing reads as nothing, like a cover image */
    xmlDoc *doc = parse_xml(m);
    if (!doc)   /* not well-formed XML (or HTML entities it does not define): HTML it is */
        doc = htmlReadMemory(m->data, (int)m->len, NULL, "UTF-8", HTML_PARSE_NOERROR |
                             HTML_PARSE_NOWARNING | HTML_PARSE_NONET | HTML_PARSE_RECOVER);
    if (!doc)
        return 0;
    struct html_opts o = { .heading_shift = 1, .fallback_heading = toc_label(bk, file) };
    int rc = html_render_tree(b, doc, &o, err, errlen);
    xmlFreeDoc(doc);
    return rc;
}

static const char *rootfile_path(const struct book *bk, char **owned)
{
    xmlDoc *c = parse_xml(member_find(bk, "META-INF/container.xml"));
    xmlNode *rf = c ? first_named(xmlDocGetRootElement(c), "rootfile") : NULL;
    *owned = rf ? prop(rf, "full-path") : NULL;
    xmlFreeDoc(c);
    return *owned;
}

struct item { char *id, *href, *type, *props; };

static void items_free(struct item *it, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(it[i].id);
        free(it[i].href);
        free(it[i].type);
        free(it[i].props);
    }
    free(it);
}

static const struct item *item_find(const struct item *it, size_t n, const char *id)
{
    for (size_t i = 0; id && i < n; i++)
        if (it[i].id && !strcmp(it[i].id, id))
            return &it[i];
    return NULL;
}

static bool is_html_type(const char *t)
{
    return t && (!strcmp(t, "application/xhtml+xml") || !strcmp(t, "text/html"));
}

static int read_package(struct builder *b, struct book *bk, xmlDoc *opf, char *err, size_t errlen)
{
    xmlNode *top = xmlDocGetRootElement(opf);
    xmlNode *manifest = top ? first_named(top, "manifest") : NULL;
    xmlNode *spine = top ? first_named(top, "spine") : NULL;
    xmlNode *meta = top ? first_named(top, "metadata") : NULL;
    if (!manifest || !spine) {
        snprintf(err, errlen, "the EPUB's package file has no manifest or spine");
        return -1;
    }
    struct item *it = NULL;
    size_t n = 0;
    for (xmlNode *c = manifest->children; c; c = c->next) {
        if (!named(c, "item"))
            continue;
        void *t = realloc(it, (n + 1) * sizeof *it);
        if (!t) {
            items_free(it, n);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        it = t;
        it[n++] = (struct item){ prop(c, "id"), prop(c, "href"), prop(c, "media-type"),
                                 prop(c, "properties") };
    }
    /* chapter labels: EPUB 3's nav document, else the spine's NCX */
    for (size_t i = 0; i < n; i++)
        if (it[i].props && strstr(it[i].props, "nav")) {
            char *p = resolve(bk->opf_dir, it[i].href);
            if (p)
                read_toc(bk, p, true);
            free(p);
        }
    if (!bk->ntoc) {
        char *tocid = prop(spine, "toc");
        const struct item *ncx = item_find(it, n, tocid);
        char *p = ncx ? resolve(bk->opf_dir, ncx->href) : NULL;
        if (p)
            read_toc(bk, p, false);
        free(p);
        free(tocid);
    }
    xmlNode *title = meta ? first_named(meta, "title") : NULL;
    char *book_title = title ? xmltree_text(title) : NULL;
    if (book_title && *book_title) {
        builder_block_open(b, "h1", NULL, BUILDER_SPEAK);
        builder_text(b, book_title, strlen(book_title));
        builder_block_close(b);
    }
    free(book_title);
    xmlNode *creator = meta ? first_named(meta, "creator") : NULL;
    char *author = creator ? xmltree_text(creator) : NULL;
    builder_set_author(b, author);
    free(author);
    int rc = 0, chapters = 0;
    for (xmlNode *c = spine->children; c && rc == 0; c = c->next) {
        if (!named(c, "itemref"))
            continue;
        char *idref = prop(c, "idref"), *linear = prop(c, "linear");
        const struct item *x = item_find(it, n, idref);
        /* linear="no" holds notes and the like, reached by links; the nav page is a list
         * of links, not reading matter */
        bool read = x && is_html_type(x->type) && !(linear && !strcmp(linear, "no")) &&
                    !(x->props && strstr(x->props, "nav"));
        char *file = read ? resolve(bk->opf_dir, x->href) : NULL;
        if (file) {
            rc = render_chapter(b, bk, file, err, errlen);
            chapters++;
        }
        free(file);
        free(idref);
        free(linear);
    }
    items_free(it, n);
    if (rc == 0 && !chapters) {
        snprintf(err, errlen, "the EPUB's spine lists no readable chapters");
        return -1;
    }
    return rc;
}

int epub_render(struct builder *b, const char *s, size_t len, char *err, size_t errlen)
{
    struct book bk = { 0 };
    char *opf_path = NULL;
    xmlDoc *opf = NULL;
    int rc = -1;
    if (unzip(&bk, s, len, err, errlen))
        goto out;
    if (!rootfile_path(&bk, &opf_path)) {
        snprintf(err, errlen, "this is not an EPUB (no META-INF/container.xml naming a package)");
        goto out;
    }
    opf = parse_xml(member_find(&bk, opf_path));
    if (!opf) {
        snprintf(err, errlen, "the EPUB's package file (%.100s) is missing or not XML", opf_path);
        goto out;
    }
    bk.opf_dir = dir_of(opf_path);
    if (!bk.opf_dir) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    rc = read_package(b, &bk, opf, err, errlen);
out:
    xmlFreeDoc(opf);
    free(opf_path);
    book_free(&bk);
    return rc;
}
