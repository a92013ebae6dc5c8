/* title — a document's title from what the user gave or what the document says. Pure. */
#ifndef RECITE_DOC_TITLE_H
#define RECITE_DOC_TITLE_H

#define TITLE_HEADING_MAX 80   /* code points, including the "…" of a cut title */
#define TITLE_WORDS_MAX 60

/* The given title if it has any non-space text, else the first heading, else the first
 * words of the first block, else "Untitled". Any argument may be NULL. Returns a malloc'd
 * string, NULL only if out of memory. */
char *title_derive(const char *given, const char *heading, const char *first_block);
#endif
