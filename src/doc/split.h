/* split — cut one speakable block's text into audio blocks (SPEC section 2). Pure. */
#ifndef RECITE_SPLIT_H
#define RECITE_SPLIT_H
#include <stddef.h>

#define SPLIT_TARGET 250     /* pack sentences up to this many characters (code points) */
#define SPLIT_LONG 325       /* a sentence longer than this is split at a pause point */
#define SPLIT_MIN_SIDE 40    /* a pause-point split leaves at least this much on each side */

struct split_piece { size_t off, len; };  /* byte offset and length into the input */

/* Splits text[0..len) into pieces that, concatenated, equal the input exactly.
 * Returns the number of pieces (>= 1 for non-empty input, 0 for empty) and stores a
 * malloc'd array in *out (caller frees), or -1 on allocation failure. */
int split_block(const char *text, size_t len, struct split_piece **out);
#endif
