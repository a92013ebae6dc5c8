/* range — see range.h. */
#include "server/range.h"
#include <ctype.h>
#include <stdint.h>
#include <string.h>

static int parse_num(const char **p, size_t *out)
{
    const char *s = *p;
    size_t v = 0;
    if (!isdigit((unsigned char)*s))
        return -1;
    while (isdigit((unsigned char)*s)) {
        size_t d = (size_t)(*s - '0');
        if (v > (SIZE_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
        s++;
    }
    *p = s;
    *out = v;
    return 0;
}

enum range_result range_parse(const char *h, size_t total, size_t *first, size_t *last)
{
    if (!h)
        return RANGE_NONE;
    while (*h == ' ')
        h++;
    if (strncmp(h, "bytes=", 6))
        return RANGE_NONE;
    const char *p = h + 6;
    while (*p == ' ')
        p++;
    if (strchr(p, ','))
        return RANGE_NONE;
    size_t a = 0, b = 0;
    if (*p == '-') {
        p++;
        if (parse_num(&p, &b))
            return RANGE_NONE;
        while (*p == ' ')
            p++;
        if (*p)
            return RANGE_NONE;
        if (b == 0 || total == 0)
            return RANGE_UNSATISFIABLE;
        *first = b >= total ? 0 : total - b;
        *last = total - 1;
        return RANGE_OK;
    }
    if (parse_num(&p, &a) || *p != '-')
        return RANGE_NONE;
    p++;
    int open_end = !isdigit((unsigned char)*p);
    if (!open_end && parse_num(&p, &b))
        return RANGE_NONE;
    while (*p == ' ')
        p++;
    if (*p || (!open_end && b < a))
        return RANGE_NONE;
    if (a >= total)
        return RANGE_UNSATISFIABLE;
    *first = a;
    *last = open_end || b >= total ? total - 1 : b;
    return RANGE_OK;
}
