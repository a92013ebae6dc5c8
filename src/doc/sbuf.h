/* sbuf — a growable byte buffer for building HTML and text in amortized linear time.
 * An allocation failure sets `oom` and turns later appends into no-ops, so callers check
 * once at the end instead of after every append. */
#ifndef RECITE_DOC_SBUF_H
#define RECITE_DOC_SBUF_H
#include <stdbool.h>
#include <stddef.h>

struct sbuf {
    char *p;        /* NUL-terminated when non-NULL */
    size_t len, cap;
    bool oom;
};

void sbuf_add(struct sbuf *b, const char *s, size_t n);
void sbuf_adds(struct sbuf *b, const char *s);
void sbuf_addc(struct sbuf *b, char c);
void sbuf_add_uint(struct sbuf *b, unsigned long v);
void sbuf_add_cp(struct sbuf *b, unsigned long cp);                 /* as UTF-8 */
/* HTML text or attribute value: & < > " as entities, control characters (NUL included,
 * tab/newline/CR kept) dropped, so the output is always valid HTML text. */
void sbuf_add_escaped(struct sbuf *b, const char *s, size_t n);
/* Hands the string over (never NULL unless oom: an empty buffer gives ""); resets b. */
char *sbuf_take(struct sbuf *b);
void sbuf_free(struct sbuf *b);
#endif
