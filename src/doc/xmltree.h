/* xmltree — small helpers over libxml2 trees shared by the HTML, EPUB and chapter code.
 * Pure, any thread. Walks are iterative: a tree's depth is the input's choice. */
#ifndef RECITE_DOC_XMLTREE_H
#define RECITE_DOC_XMLTREE_H
#include <libxml/tree.h>
#include <stdbool.h>

/* The next node after n in document order below top, descending into n's children if
 * `down`; NULL at the end. */
xmlNode *xmltree_next(xmlNode *n, xmlNode *top, bool down);
/* n's text content with runs of white space collapsed to one space and the ends trimmed;
 * malloc'd ("" when there is none), NULL only when out of memory. */
char *xmltree_text(xmlNode *n);
#endif
