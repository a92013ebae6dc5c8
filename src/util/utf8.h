/* utf8 — validation and counting helpers. Pure. */
#ifndef RECITE_UTF8_H
#define RECITE_UTF8_H
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

bool utf8_valid(const char *s, size_t len);          /* strict: no overlongs, surrogates */
size_t utf8_codepoints(const char *s, size_t len);
size_t utf8_utf16_units(const char *s, size_t len);  /* length in UTF-16 code units */
/* Decodes one code point at s (len bytes available); returns bytes consumed (>=1). */
int utf8_decode(const char *s, size_t len, uint32_t *cp);
#endif
