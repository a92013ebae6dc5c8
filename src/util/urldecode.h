/* urldecode — percent-decoding of URL parts (RFC 3986 %XX). Pure; any thread. */
#ifndef RECITE_URLDECODE_H
#define RECITE_URLDECODE_H
#include <stddef.h>

/* Copies [s, s+n) into out (outlen bytes, NUL-terminated), decoding %XX. Returns the decoded
 * length, or -1 on a bad escape, a decoded NUL, or a result that does not fit. */
int url_decode(const char *s, size_t n, char *out, size_t outlen);
#endif
