/* chapters — chapter starts from a document's rendered html (see chapters.h). Pure, any
 * thread. The html is ours (builder.c): headings hold spans carrying data-block-idx. */
#include "doc/chapters.h"
#include "doc/xmltree.h"
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct head { int level, block; char *title; };

static int heading_level(const xmlNode *n)
{
    const char *s = (const char *)n->name;
    return n->type == XML_ELEMENT_NODE && s && s[0] == 'h' && s[1] >= '1' && s[1] <= '6' && !s[2]
           ? s[1] - '0' : 0;
}

/* The first data-block-idx below h, or -1. */
static int first_block(xmlNode *h)
{
    for (xmlNode *n = h->children; n; n = xmltree_next(n, h, true)) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        xmlChar *v = xmlGetProp(n, (const xmlChar *)"data-block-idx");
        if (v) {
            long b = strtol((const char *)v, NULL, 10);
            xmlFree(v);
            return b >= 0 && b < INT_MAX ? (int)b : -1;
        }
    }
    return -1;
}

void chapters_free(struct chapter *c, int n)
{
    for (int i = 0; c && i < n; i++)
        free(c[i].title);
    free(c);
}

int chapters_find(const char *html, int block_count, const char *doc_title, struct chapter **out)
{
    *out = NULL;
    if (block_count <= 0)
        return 0;
    struct head *hs = NULL;
    int nh = 0, count[7] = { 0 };
    size_t len = html ? strlen(html) : 0;
    htmlDocPtr doc = len && len < INT_MAX
        ? htmlReadMemory(html, (int)len, NULL, "UTF-8", HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                         HTML_PARSE_NONET | HTML_PARSE_RECOVER)
        : NULL;
    xmlNode *top = doc ? xmlDocGetRootElement(doc) : NULL;
    for (xmlNode *n = top; n; n = xmltree_next(n, top, true)) {
        int level = heading_level(n), b;
        if (!level || (b = first_block(n)) < 0 || b >= block_count)
            continue;
        struct head *g = realloc(hs, (size_t)(nh + 1) * sizeof *hs);
        char *title = xmltree_text(n);
        if (!g || !title) {
            free(g ? g : hs);
            free(title);
            hs = NULL;
            nh = -1;
            break;
        }
        hs = g;
        hs[nh++] = (struct head){ level, b, title };
        count[level]++;
    }
    xmlFreeDoc(doc);
    if (nh < 0)
        return -1;
    int level = 0;   /* 0: every heading */
    for (int l = 1; l <= 6 && !level; l++)
        if (count[l] > 1)
            level = l;
    struct chapter *c = calloc((size_t)nh + 1, sizeof *c);
    int n = 0;
    if (c) {
        for (int i = 0; i < nh; i++) {
            if ((level && hs[i].level != level) || (n && c[n - 1].block >= hs[i].block))
                continue;
            if (n == 0 && hs[i].block > 0) {   /* the blocks before the first chapter: named
                                                 * by their own first heading (a book title) */
                const char *name = hs[0].block < hs[i].block ? hs[0].title
                                   : doc_title && *doc_title ? doc_title : "Introduction";
                c[n].block = 0;
                c[n++].title = strdup(name);
            }
            c[n].block = hs[i].block;
            c[n++].title = hs[i].title;
            hs[i].title = NULL;
        }
        if (n == 0)
            c[n++] = (struct chapter){ 0, strdup(doc_title && *doc_title ? doc_title : "Untitled") };
    }
    for (int i = 0; i < nh; i++)
        free(hs[i].title);
    free(hs);
    for (int i = 0; c && i < n; i++)
        if (!c[i].title) {
            chapters_free(c, n);
            c = NULL;
        }
    if (!c)
        return -1;
    *out = c;
    return n;
}
