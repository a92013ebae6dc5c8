/* url — which link targets may appear in rendered HTML. Pure. */
#ifndef RECITE_DOC_URL_H
#define RECITE_DOC_URL_H
#include <stdbool.h>
#include <stddef.h>

/* True for http:, https:, mailto: and relative URLs (no scheme). Anything with control
 * characters or white space is refused, since browsers strip those ("java\tscript:"). */
bool url_is_safe(const char *s, size_t len);
#endif
