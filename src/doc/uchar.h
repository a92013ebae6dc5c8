/* uchar — Unicode character classes used by split and the document builder. Pure.
 * Approximations chosen for reading aloud, not a full Unicode database. */
#ifndef RECITE_DOC_UCHAR_H
#define RECITE_DOC_UCHAR_H
#include <stdbool.h>
#include <stdint.h>

/* True for code points that attach to the previous one (combining marks, ZWJ/ZWNJ,
 * variation selectors, emoji modifiers, tags): a cut must never fall before them. */
bool uchar_is_extend(uint32_t cp);
bool uchar_is_lower(uint32_t cp);   /* Ll below U+2000, fullwidth a-z */
bool uchar_is_upper(uint32_t cp);   /* Latin, Latin-1, Greek, Cyrillic capitals */
bool uchar_is_space(uint32_t cp);
/* A letter of any script, roughly: cased letters, or anything from U+00C0 that is not a
 * space, a combining mark or punctuation/symbols (U+2000..U+2BFF). */
bool uchar_is_letter(uint32_t cp);   /* white space incl. NBSP, ideographic and zero width space */
bool uchar_is_regional(uint32_t cp);   /* regional indicator: two of them make a flag */
#endif
