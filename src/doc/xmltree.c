/* xmltree — document-order walk and collapsed text of libxml2 nodes (see xmltree.h). */
#include "doc/xmltree.h"
#include <stdlib.h>
#include <string.h>

xmlNode *xmltree_next(xmlNode *n, xmlNode *top, bool down)
{
    if (down && n->children)
        return n->children;
    while (n && n != top) {
        if (n->next)
            return n->next;
        n = n->parent;
    }
    return NULL;
}

char *xmltree_text(xmlNode *n)
{
    xmlChar *c = xmlNodeGetContent(n);
    const char *s = c ? (const char *)c : "";
    char *out = malloc(strlen(s) + 1), *o = out;
    bool space = false;
    for (; out && *s; s++) {
        if (strchr(" \t\r\n\f", *s)) {
            space = o != out;
            continue;
        }
        if (space)
            *o++ = ' ';
        space = false;
        *o++ = *s;
    }
    if (out)
        *o = '\0';
    xmlFree(c);
    return out;
}
