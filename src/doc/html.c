/* html — the HTML front-end: "main text only" from a web page. Pure.
 *
 * libxml2 parses (leniently, no network) into a tree; we pick the first <article>, else
 * <main>, else <body>, and walk it iteratively (no recursion: the tree depth is the
 * attacker's choice), turning a small allow-list of elements into builder events.
 * Nothing of the input's markup is copied: every tag in the output is one we name here,
 * and the only attributes are a checked href and an ol start number. Navigation,
 * scripts, forms and the like are skipped whole; unknown elements are transparent. */
#include "doc/front.h"
#include "doc/builder.h"
#include "doc/sbuf.h"
#include "doc/url.h"
#include "doc/xmltree.h"
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum act {
    ACT_INLINE_PASS,   /* unknown/inline wrapper: children only */
    ACT_BLOCK_PASS,    /* div, section, ...: children only, but a block boundary */
    ACT_SKIP,          /* not main text: neither shown nor spoken */
    ACT_SPEAK,         /* p, h1-h6 */
    ACT_CONTAINER,     /* ul, ol, li, blockquote; table parts inside a data table */
    ACT_MUTE,          /* pre, data table */
    ACT_INLINE,        /* em, strong, del, code, a */
    ACT_BR,
    ACT_HR,
};

struct elem { const char *name; enum act act; const char *tag; };

/* Sorted by name for bsearch. `tag` is what we emit (NULL: the element's own name). */
static const struct elem elems[] = {
    { "a", ACT_INLINE, "a" }, { "address", ACT_BLOCK_PASS, NULL },
    { "article", ACT_BLOCK_PASS, NULL }, { "aside", ACT_SKIP, NULL },
    { "audio", ACT_SKIP, NULL }, { "b", ACT_INLINE, "strong" },
    { "blockquote", ACT_CONTAINER, "blockquote" }, { "body", ACT_BLOCK_PASS, NULL },
    { "br", ACT_BR, NULL }, { "button", ACT_SKIP, NULL }, { "canvas", ACT_SKIP, NULL },
    { "caption", ACT_SKIP, NULL }, { "center", ACT_BLOCK_PASS, NULL },
    { "code", ACT_INLINE, "code" }, { "datalist", ACT_SKIP, NULL },
    { "dd", ACT_BLOCK_PASS, NULL }, { "del", ACT_INLINE, "del" },
    { "details", ACT_BLOCK_PASS, NULL }, { "dialog", ACT_SKIP, NULL },
    { "div", ACT_BLOCK_PASS, NULL }, { "dl", ACT_BLOCK_PASS, NULL },
    { "dt", ACT_BLOCK_PASS, NULL }, { "em", ACT_INLINE, "em" },
    { "embed", ACT_SKIP, NULL }, { "fieldset", ACT_BLOCK_PASS, NULL },
    { "figcaption", ACT_BLOCK_PASS, NULL }, { "figure", ACT_BLOCK_PASS, NULL },
    { "footer", ACT_SKIP, NULL }, { "form", ACT_SKIP, NULL }, { "frameset", ACT_SKIP, NULL },
    { "h1", ACT_SPEAK, "h1" }, { "h2", ACT_SPEAK, "h2" }, { "h3", ACT_SPEAK, "h3" },
    { "h4", ACT_SPEAK, "h4" }, { "h5", ACT_SPEAK, "h5" }, { "h6", ACT_SPEAK, "h6" },
    { "head", ACT_SKIP, NULL }, { "header", ACT_SKIP, NULL },
    { "hgroup", ACT_BLOCK_PASS, NULL }, { "hr", ACT_HR, NULL }, { "html", ACT_BLOCK_PASS, NULL },
    { "i", ACT_INLINE, "em" }, { "iframe", ACT_SKIP, NULL }, { "img", ACT_SKIP, NULL },
    { "input", ACT_SKIP, NULL }, { "kbd", ACT_INLINE, "code" },
    { "legend", ACT_BLOCK_PASS, NULL }, { "li", ACT_CONTAINER, "li" },
    { "main", ACT_BLOCK_PASS, NULL }, { "map", ACT_SKIP, NULL }, { "math", ACT_SKIP, NULL },
    { "menu", ACT_SKIP, NULL }, { "nav", ACT_SKIP, NULL }, { "noscript", ACT_SKIP, NULL },
    { "object", ACT_SKIP, NULL }, { "ol", ACT_CONTAINER, "ol" }, { "option", ACT_SKIP, NULL },
    { "p", ACT_SPEAK, "p" }, { "picture", ACT_SKIP, NULL }, { "pre", ACT_MUTE, "pre" },
    { "rp", ACT_SKIP, NULL }, { "rt", ACT_SKIP, NULL }, { "s", ACT_INLINE, "del" },
    { "samp", ACT_INLINE, "code" }, { "script", ACT_SKIP, NULL },
    { "section", ACT_BLOCK_PASS, NULL }, { "select", ACT_SKIP, NULL },
    { "strike", ACT_INLINE, "del" }, { "strong", ACT_INLINE, "strong" },
    { "style", ACT_SKIP, NULL }, { "summary", ACT_BLOCK_PASS, NULL }, { "svg", ACT_SKIP, NULL },
    { "table", ACT_MUTE, "table" }, { "tbody", ACT_CONTAINER, "tbody" },
    { "td", ACT_CONTAINER, "td" }, { "template", ACT_SKIP, NULL },
    { "textarea", ACT_SKIP, NULL }, { "tfoot", ACT_CONTAINER, "tbody" },
    { "th", ACT_CONTAINER, "th" }, { "thead", ACT_CONTAINER, "thead" },
    { "title", ACT_SKIP, NULL }, { "tr", ACT_CONTAINER, "tr" }, { "tt", ACT_INLINE, "code" },
    { "ul", ACT_CONTAINER, "ul" }, { "var", ACT_INLINE, "em" }, { "video", ACT_SKIP, NULL },
};

static int elem_cmp(const void *key, const void *e) { return strcmp(key, ((const struct elem *)e)->name); }

static const struct elem *elem_find(const xmlNode *n)
{
    return bsearch(n->name, elems, sizeof elems / sizeof elems[0], sizeof elems[0], elem_cmp);
}

static bool is_named(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && n->name && strcmp((const char *)n->name, name) == 0;
}

static xmlNode *find_first(xmlNode *top, const char *name)
{
    for (xmlNode *n = top; n; n = xmltree_next(n, top, true))
        if (is_named(n, name))
            return n;
    return NULL;
}

/* Old sites lay out the whole page with tables; a table whose cells hold paragraphs,
 * headings, lists, line breaks or other tables is layout, and its text is read. The scan
 * is bounded so nested tables cannot make it quadratic (undecided means layout). */
static bool is_layout_table(xmlNode *table)
{
    static const char *const blocky[] = { "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol",
                                          "blockquote", "pre", "div", "table", "br", NULL };
    int budget = 10000;
    for (xmlNode *n = table->children; n; n = xmltree_next(n, table, true)) {
        if (--budget == 0)
            return true;
        if (n->type != XML_ELEMENT_NODE || !n->name)
            continue;
        for (const char *const *t = blocky; *t; t++)
            if (strcmp((const char *)n->name, *t) == 0)
                return true;
    }
    return false;
}

struct walker {
    struct builder *b;
    const struct html_opts *opts;
    bool root_is_article;
    enum act *acts;        /* action taken for each open ancestor, to undo on the way up */
    bool *layout;          /* per open ancestor: is the innermost table around it layout */
    size_t depth, cap;
    bool oom;
    struct sbuf anchors;   /* ids of containers, waiting for the next spoken text (below) */
};

static bool is_table_part(const char *tag)
{
    static const char *const parts[] = { "thead", "tbody", "tr", "td", "th", NULL };
    for (const char *const *t = parts; *t; t++)
        if (strcmp(tag, *t) == 0)
            return true;
    return false;
}

static bool attr_has(xmlNode *n, const char *name, const char *const *words)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    bool hit = false;
    for (const char *const *w = words; v && *w && !hit; w++)
        hit = strstr((const char *)v, *w) != NULL;
    xmlFree(v);
    return hit;
}

/* Footnote markers and the notes themselves are not read inline: an element typed as a
 * note reference or note (EPUB's epub:type, ARIA's doc-* roles), and a superscript that
 * holds nothing but an in-page link ("<sup><a href="#fn3">3</a></sup>", "[12]"). */
static bool is_note(xmlNode *n)
{
    static const char *const words[] = { "noteref", "footnote", "endnote", "rearnote",
                                         "doc-backlink", NULL };
    if (attr_has(n, "epub:type", words) || attr_has(n, "type", words) || attr_has(n, "role", words))
        return true;
    if (!is_named(n, "sup"))
        return false;
    xmlNode *link = NULL;
    for (xmlNode *c = n->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE && c->content && strspn((const char *)c->content, " \t\r\n[]") ==
            strlen((const char *)c->content))
            continue;
        if (link || !is_named(c, "a"))
            return false;
        link = c;
    }
    if (!link)
        return false;
    xmlChar *href = xmlGetProp(link, (const xmlChar *)"href");
    bool local = href && strchr((const char *)href, '#');
    xmlFree(href);
    return local;
}

/* Splits a class or id value into words at anything not a letter or digit and looks each
 * up in a list ("cookie-banner" -> cookie, banner). */
static bool has_word(const char *v, const char *const *words)
{
    while (v && *v) {
        while (*v && !isalnum((unsigned char)*v))
            v++;
        size_t n = 0;
        while (isalnum((unsigned char)v[n]))
            n++;
        for (const char *const *w = words; n && *w; w++)
            if (strlen(*w) == n && !strncasecmp(v, *w, n))
                return true;
        v += n;
    }
    return false;
}

static bool attr_word(xmlNode *n, const char *name, const char *const *words)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    bool hit = v && has_word((const char *)v, words);
    xmlFree(v);
    return hit;
}

/* Navigation in any HTML, not only fetched pages: <nav>, and DocBook's and similar
 * generators' "Prev | Up | Next" bars (class navheader / navfooter). */
static bool is_navigation(xmlNode *n)
{
    static const char *const names[] = { "navheader", "navfooter", NULL };
    return attr_word(n, "class", names);
}

/* The chrome of a web page: not main text, whatever element carries it. */
static bool is_boilerplate(xmlNode *n)
{
    static const char *const names[] = {
        "nav", "navbar", "navigation", "menu", "breadcrumb", "breadcrumbs", "sidebar", "footer",
        "masthead", "banner", "cookie", "cookies", "consent", "gdpr", "ad", "ads", "advert",
        "adverts", "advertisement", "advertising", "sponsor", "sponsored", "promo", "promoted",
        "comment", "comments", "disqus", "related", "share", "sharing", "social", "newsletter",
        "subscribe", "subscription", "signup", "popup", "modal", "overlay", "paywall", "toolbar",
        "skiplink", "outbrain", "taboola", NULL };
    static const char *const roles[] = { "navigation", "banner", "complementary", "contentinfo",
                                         "search", "dialog", "alertdialog", "menu", "menubar", NULL };
    static const char *const hidden[] = { "true", NULL };
    if (attr_word(n, "class", names) || attr_word(n, "id", names) || attr_word(n, "role", roles) ||
        attr_word(n, "aria-hidden", hidden) || xmlHasProp(n, (const xmlChar *)"hidden"))
        return true;
    xmlChar *style = xmlGetProp(n, (const xmlChar *)"style");
    bool none = false;
    if (style) {
        char *c = (char *)style, *o = c;
        for (; *c; c++)   /* "display: none" -> "display:none" */
            if (*c != ' ')
                *o++ = (char)tolower((unsigned char)*c);
        *o = '\0';
        none = strstr((char *)style, "display:none") || strstr((char *)style, "visibility:hidden");
        xmlFree(style);
    }
    return none;
}

/* In-page link targets. An element's id (or an <a name>, as DocBook writes them) becomes
 * an empty <a id="doc-ID"> (an <a>: no stray </span> inside a block's span) at the start of its spoken text, so "#ID"
 * links can be followed in the page. The prefix keeps a document's ids from clobbering
 * the page's own. A container's id waits in w->anchors until text or a block comes. */
static void anchor_collect(struct walker *w, xmlNode *n)
{
    xmlChar *id = xmlGetProp(n, (const xmlChar *)"id");
    if (!id && is_named(n, "a"))
        id = xmlGetProp(n, (const xmlChar *)"name");
    size_t len = id ? strlen((const char *)id) : 0;
    if (len && len <= 200) {
        sbuf_adds(&w->anchors, "<a id=\"doc-");
        sbuf_add_escaped(&w->anchors, (const char *)id, len);
        sbuf_adds(&w->anchors, "\"></a>");
    }
    xmlFree(id);
}

static void anchor_flush(struct walker *w)
{
    if (w->anchors.len)
        builder_atom(w->b, w->anchors.p, w->anchors.len);
    w->anchors.len = 0;
    if (w->anchors.oom)
        w->oom = true;
}

/* A table with no text at all (DocBook's navigation bars once their icons are gone). */
static bool is_empty_table(xmlNode *n)
{
    if (!is_named(n, "table"))
        return false;
    xmlChar *t = xmlNodeGetContent(n);
    bool empty = !t || strspn((const char *)t, " \t\r\n\f\xC2\xA0") == strlen((const char *)t);
    xmlFree(t);
    return empty;
}

/* Decides what an element does and emits its opening; returns the action. *layout is
 * set when the innermost table around the element's content is a layout table. */
static enum act walker_open(struct walker *w, xmlNode *n, bool *layout)
{
    bool in_layout = w->depth ? w->layout[w->depth - 1] : false;
    *layout = in_layout;
    if (is_note(n) || (w->opts && w->opts->web_page && is_boilerplate(n)) || is_navigation(n)
        || is_empty_table(n))
        return ACT_SKIP;
    anchor_collect(w, n);
    const struct elem *e = elem_find(n);
    if (!e)
        return ACT_INLINE_PASS;
    enum act act = e->act;
    const char *tag = e->tag;
    if (act == ACT_SPEAK && tag[0] == 'h' && w->opts && w->opts->heading_shift > 0) {
        static const char *const hs[] = { "h1", "h2", "h3", "h4", "h5", "h6" };
        int lvl = tag[1] - '1' + w->opts->heading_shift;
        tag = hs[lvl > 5 ? 5 : lvl];
    }
    if (is_named(n, "header") && w->root_is_article)
        act = ACT_BLOCK_PASS;   /* an article's own header holds its title */
    if (is_named(n, "table")) {
        *layout = is_layout_table(n);
        if (*layout)
            act = ACT_BLOCK_PASS;
    } else if (in_layout && act == ACT_CONTAINER && is_table_part(tag)) {
        act = ACT_BLOCK_PASS;   /* rows and cells of a layout table */
    }
    switch (act) {
    case ACT_SPEAK: builder_block_open(w->b, tag, NULL, BUILDER_SPEAK); anchor_flush(w); break;
    case ACT_MUTE: builder_block_open(w->b, tag, NULL, BUILDER_MUTE); anchor_flush(w); break;
    case ACT_BLOCK_PASS: builder_block_open(w->b, NULL, NULL, BUILDER_CONTAINER); break;
    case ACT_CONTAINER: {
        char attrs[32] = "";
        if (strcmp(tag, "ol") == 0) {
            xmlChar *start = xmlGetProp(n, (const xmlChar *)"start");
            if (start) {
                char *end;
                long v = strtol((const char *)start, &end, 10);
                if (end != (char *)start && *end == '\0' && v >= 0 && v < 1000000000 && v != 1)
                    snprintf(attrs, sizeof attrs, "start=\"%ld\"", v);
                xmlFree(start);
            }
        }
        builder_block_open(w->b, tag, attrs, BUILDER_CONTAINER);
        break;
    }
    case ACT_INLINE:
        if (strcmp(tag, "a") == 0) {
            xmlChar *href = xmlGetProp(n, (const xmlChar *)"href");
            struct sbuf attrs = { 0 };
            if (href) {
                const char *s = (const char *)href;
                size_t len = strlen(s);
                while (len && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f'))
                    s++, len--;   /* attribute values may be padded; browsers trim them */
                while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n'
                               || s[len - 1] == '\r' || s[len - 1] == '\f'))
                    len--;
                if (url_is_safe(s, len)) {
                    sbuf_adds(&attrs, "href=\"");
                    sbuf_add_escaped(&attrs, s, len);
                    sbuf_addc(&attrs, '"');
                }
                xmlFree(href);
            }
            if (attrs.oom)
                w->oom = true;
            if (!attrs.p) {   /* no usable target: the link text stays, plain */
                sbuf_free(&attrs);
                return ACT_INLINE_PASS;
            }
            builder_inline_open(w->b, tag, attrs.p);
            sbuf_free(&attrs);
        } else {
            builder_inline_open(w->b, tag, NULL);
        }
        anchor_flush(w);
        break;
    case ACT_BR: builder_break(w->b); break;
    case ACT_HR: builder_hr(w->b); break;
    default: break;
    }
    return act;
}

static void walker_close(struct walker *w, xmlNode *n, enum act act)
{
    switch (act) {
    case ACT_SPEAK:
    case ACT_MUTE:
    case ACT_BLOCK_PASS:
    case ACT_CONTAINER:
        builder_block_close(w->b);
        break;
    case ACT_INLINE: {
        const struct elem *e = elem_find(n);
        if (e && e->tag)
            builder_inline_close(w->b, e->tag);
        break;
    }
    default:
        break;
    }
}

static bool walker_push(struct walker *w, enum act act, bool layout)
{
    if (w->depth == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        enum act *a = realloc(w->acts, cap * sizeof *a);
        if (a)
            w->acts = a;
        bool *l = a ? realloc(w->layout, cap * sizeof *l) : NULL;
        if (l)
            w->layout = l;
        if (!a || !l) {
            w->oom = true;
            return false;
        }
        w->cap = cap;
    }
    w->acts[w->depth] = act;
    w->layout[w->depth] = layout;
    w->depth++;
    return true;
}

/* Walks the subtree below root in document order, keeping an explicit stack of the
 * actions of open elements instead of recursing. */
static void walker_run(struct walker *w, xmlNode *root)
{
    xmlNode *n = root->children;
    while (n && !w->oom) {
        bool descend = false;
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            if (n->content) {
                if (w->anchors.len && strspn((const char *)n->content, " \t\r\n") < strlen((const char *)n->content))
                    anchor_flush(w);
                builder_text(w->b, (const char *)n->content, strlen((const char *)n->content));
            }
        } else if (n->type == XML_ELEMENT_NODE && n->name) {
            bool layout;
            enum act act = walker_open(w, n, &layout);
            if (act != ACT_SKIP && n->children) {
                if (!walker_push(w, act, layout))
                    break;
                descend = true;
            } else {
                walker_close(w, n, act);
            }
        }
        if (descend) {
            n = n->children;
            continue;
        }
        /* climb: close every ancestor we leave */
        while (n != root && !n->next) {
            n = n->parent;
            if (!n || n == root)
                break;
            w->depth--;
            walker_close(w, n, w->acts[w->depth]);
        }
        if (!n || n == root)
            break;
        n = n->next;
    }
}

static bool has_heading(xmlNode *root)
{
    for (xmlNode *n = root; n; n = xmltree_next(n, root, true))
        if (n->type == XML_ELEMENT_NODE && n->name && n->name[0] == 'h' && n->name[1] >= '1' &&
            n->name[1] <= '6' && !n->name[2])
            return true;
    return false;
}

static size_t text_len(xmlNode *n)
{
    xmlChar *c = xmlNodeGetContent(n);
    size_t len = 0;
    for (const char *p = c ? (const char *)c : ""; *p; p++)
        len += !isspace((unsigned char)*p);
    xmlFree(c);
    return len;
}

/* A page without <article> or <main>: the element that holds the most paragraph text
 * (each <p> of 25+ characters counts fully for its parent and half for the grandparent,
 * so the text of sibling wrappers adds up one level up), if it holds 140 characters. */
static xmlNode *densest(xmlNode *top)
{
    struct score { xmlNode *n; size_t s; } *sc = NULL;
    size_t nsc = 0, cap = 0, budget = 200000;
    for (xmlNode *n = top; n && budget; n = xmltree_next(n, top, true), budget--) {
        if (!is_named(n, "p") || !n->parent)
            continue;
        size_t len = text_len(n);
        if (len < 25)
            continue;
        xmlNode *up[2] = { n->parent, n->parent->parent };
        for (int k = 0; k < 2; k++) {
            if (!up[k] || up[k]->type != XML_ELEMENT_NODE)
                continue;
            size_t i = 0;
            while (i < nsc && sc[i].n != up[k])
                i++;
            if (i == nsc) {
                if (nsc == 4096)
                    continue;   /* bounded: hostile pages cannot make this quadratic */
                if (nsc == cap) {
                    struct score *t = realloc(sc, (cap = cap ? cap * 2 : 64) * sizeof *sc);
                    if (!t)
                        goto done;
                    sc = t;
                }
                sc[nsc++] = (struct score){ up[k], 0 };
            }
            sc[i].s += k ? len / 2 : len;
        }
    }
done:;
    xmlNode *best = NULL;
    size_t bs = 139;
    for (size_t i = 0; i < nsc; i++)
        if (sc[i].s > bs) {
            best = sc[i].n;
            bs = sc[i].s;
        }
    free(sc);
    return best;
}

/* The page's first h1, else its <title>, as plain text (malloc'd) or NULL. */
static char *first_heading_text(xmlNode *top)
{
    xmlNode *h = find_first(top, "h1");
    if (!h)
        h = find_first(top, "title");
    return h ? xmltree_text(h) : NULL;
}

int html_render_tree(struct builder *b, xmlDoc *doc, const struct html_opts *opts, char *err,
                     size_t errlen)
{
    xmlNode *top = xmlDocGetRootElement(doc);
    xmlNode *root = NULL;
    struct walker w = { .b = b, .opts = opts };
    if (top) {
        root = find_first(top, "article");
        w.root_is_article = root != NULL;
        if (!root)
            root = find_first(top, "main");
        char *page_heading = NULL;
        const char *fallback = opts ? opts->fallback_heading : NULL;
        if (!root && opts && opts->web_page) {
            root = densest(top);
            if (root && !fallback)
                fallback = page_heading = first_heading_text(top);
        }
        if (!root)
            root = find_first(top, "body");
        if (!root)
            root = top;
        if (fallback && *fallback && !has_heading(root)) {
            static const char *const hs[] = { "h1", "h2", "h3", "h4", "h5", "h6" };
            int lvl = opts->heading_shift < 0 ? 0 : opts->heading_shift > 5 ? 5 : opts->heading_shift;
            builder_block_open(b, hs[lvl], NULL, BUILDER_SPEAK);
            builder_text(b, fallback, strlen(fallback));
            builder_block_close(b);
        }
        free(page_heading);
        walker_run(&w, root);
    }
    free(w.acts);
    free(w.layout);
    sbuf_free(&w.anchors);   /* ids after the last text anchor nothing */
    if (w.oom) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int html_render(struct builder *b, const char *s, size_t len, char *err, size_t errlen)
{
    return html_render_opts(b, s, len, NULL, err, errlen);
}

int html_render_opts(struct builder *b, const char *s, size_t len, const struct html_opts *opts,
                     char *err, size_t errlen)
{
    if (len == 0)
        return 0;
    if (len > INT_MAX) {
        snprintf(err, errlen, "document too large");
        return -1;
    }
    htmlDocPtr doc = htmlReadMemory(s, (int)len, NULL, "UTF-8",
                                    HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                    HTML_PARSE_NONET | HTML_PARSE_RECOVER);
    if (!doc)
        return 0;   /* nothing parseable (e.g. only white space): an empty document */
    int rc = html_render_tree(b, doc, opts, err, errlen);
    xmlFreeDoc(doc);
    return rc;
}
