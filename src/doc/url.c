/* url — link sanitizing for rendered documents (see url.h). Pure, any thread.
 * An allow-list of schemes, because a deny-list (javascript:, data:, vbscript:, ...)
 * is always one scheme short. */
#include "doc/url.h"
#include <strings.h>

bool url_is_safe(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7F)
            return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '/' || c == '?' || c == '#')
            return true;   /* no scheme before the path: relative */
        if (c == ':')
            return (i == 4 && strncasecmp(s, "http", 4) == 0)
                || (i == 5 && strncasecmp(s, "https", 5) == 0)
                || (i == 6 && strncasecmp(s, "mailto", 6) == 0);
    }
    return true;
}
