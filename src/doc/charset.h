/* charset — a fetched page's bytes to UTF-8. Pure.
 * The encoding is taken, in this order, from a byte order mark, the Content-Type header's
 * charset parameter, an HTML <meta charset> / http-equiv in the first 4 KiB, else UTF-8 if
 * the bytes are valid UTF-8, else windows-1252 (what browsers assume). Latin-1 and ASCII
 * labels mean windows-1252, as in browsers. Bytes that do not decode become U+FFFD. */
#ifndef RECITE_DOC_CHARSET_H
#define RECITE_DOC_CHARSET_H
#include <stdbool.h>
#include <stddef.h>

/* Returns malloc'd NUL-terminated UTF-8 (length in *outlen), or NULL with a message in
 * err (an encoding iconv does not know, or out of memory). content_type may be NULL. */
char *charset_to_utf8(const char *s, size_t len, const char *content_type, bool html,
                      size_t *outlen, char *err, size_t errlen);
/* The charset label that would be used (for tests and messages), into out. */
void charset_detect(const char *s, size_t len, const char *content_type, bool html,
                    char *out, size_t outlen);
#endif
