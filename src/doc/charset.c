/* charset — detection and conversion to UTF-8 with iconv (see charset.h). Pure, any
 * thread (one iconv descriptor per call). */
#include "doc/charset.h"
#include "doc/sbuf.h"
#include "util/utf8.h"
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Copies a charset label starting at p (after "charset="), unquoted, into out. */
static bool copy_label(const char *p, const char *end, char *out, size_t outlen)
{
    while (p < end && (*p == ' ' || *p == '"' || *p == '\''))
        p++;
    size_t n = 0;
    while (p < end && n + 1 < outlen && (isalnum((unsigned char)*p) || strchr("-_.:", *p)))
        out[n++] = *p++;
    out[n] = '\0';
    return n > 0;
}

static const char *find_ci(const char *s, const char *end, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = s; p + n <= end; p++)
        if (strncasecmp(p, needle, n) == 0)
            return p;
    return NULL;
}

/* <meta charset="x"> or <meta http-equiv="Content-Type" content="text/html; charset=x"> */
static bool meta_charset(const char *s, size_t len, char *out, size_t outlen)
{
    const char *end = s + (len < 4096 ? len : 4096);
    for (const char *m = find_ci(s, end, "<meta"); m; m = find_ci(m + 5, end, "<meta")) {
        const char *close = memchr(m, '>', (size_t)(end - m));
        if (!close)
            return false;
        const char *cs = find_ci(m, close, "charset");
        if (!cs)
            continue;
        cs += 7;
        while (cs < close && *cs == ' ')
            cs++;
        if (cs < close && *cs == '=' && copy_label(cs + 1, close, out, outlen))
            return true;
    }
    return false;
}

static void normalize(char *label, size_t outlen)
{
    static const char *const western[] = { "iso-8859-1", "iso8859-1", "latin1", "l1", "us-ascii",
                                           "ascii", "iso_8859-1", "cp819", "ibm819", NULL };
    for (const char *const *w = western; *w; w++)
        if (!strcasecmp(label, *w)) {
            snprintf(label, outlen, "WINDOWS-1252");
            return;
        }
    if (!strcasecmp(label, "utf8"))
        snprintf(label, outlen, "UTF-8");
}

void charset_detect(const char *s, size_t len, const char *content_type, bool html,
                    char *out, size_t outlen)
{
    const unsigned char *u = (const unsigned char *)s;
    const char *cs;
    if (len >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf)
        snprintf(out, outlen, "UTF-8");
    else if (len >= 2 && u[0] == 0xff && u[1] == 0xfe)
        snprintf(out, outlen, "UTF-16LE");
    else if (len >= 2 && u[0] == 0xfe && u[1] == 0xff)
        snprintf(out, outlen, "UTF-16BE");
    else if (content_type && (cs = find_ci(content_type, content_type + strlen(content_type), "charset=")) &&
             copy_label(cs + 8, content_type + strlen(content_type), out, outlen))
        ;
    else if (!(html && meta_charset(s, len, out, outlen)))
        snprintf(out, outlen, utf8_valid(s, len) ? "UTF-8" : "WINDOWS-1252");
    normalize(out, outlen);
}

char *charset_to_utf8(const char *s, size_t len, const char *content_type, bool html,
                      size_t *outlen, char *err, size_t errlen)
{
    char label[64];
    charset_detect(s, len, content_type, html, label, sizeof label);
    const unsigned char *u = (const unsigned char *)s;
    size_t skip = 0;   /* the byte order mark is not text */
    if (len >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf)
        skip = 3;
    else if (len >= 2 && ((u[0] == 0xff && u[1] == 0xfe) || (u[0] == 0xfe && u[1] == 0xff)))
        skip = 2;
    struct sbuf o = { 0 };
    if (!strcasecmp(label, "UTF-8") && utf8_valid(s + skip, len - skip)) {
        sbuf_add(&o, s + skip, len - skip);
    } else {
        iconv_t cd = iconv_open("UTF-8", label);
        if (cd == (iconv_t)-1) {
            snprintf(err, errlen, "the page's character encoding \"%.40s\" is not one recite knows", label);
            return NULL;
        }
        char *in = (char *)s + skip, buf[16384];
        size_t inleft = len - skip;
        while (inleft && !o.oom) {
            char *outp = buf;
            size_t outleft = sizeof buf;
            size_t r = iconv(cd, &in, &inleft, &outp, &outleft);
            sbuf_add(&o, buf, sizeof buf - outleft);
            if (r == (size_t)-1 && errno != E2BIG) {   /* EILSEQ / EINVAL: one byte is lost */
                sbuf_adds(&o, "\xef\xbf\xbd");
                in++;
                inleft--;
            }
        }
        iconv_close(cd);
    }
    size_t n = o.len;
    char *out = sbuf_take(&o);
    if (!out) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    *outlen = n;
    return out;
}
