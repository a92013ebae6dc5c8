/* url_import — fetch, choose a reader by content type, convert, build (see url_import.h).
 * Runs on an offload thread; everything it allocates is freed or handed to the caller. */
#include "net/url_import.h"
#include "doc/charset.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The content type without parameters, into out ("" if none). */
static void media_type(const char *ct, char *out, size_t n)
{
    size_t k = 0;
    while (ct && *ct == ' ')
        ct++;
    while (ct && ct[k] && ct[k] != ';' && ct[k] != ' ' && k + 1 < n) {
        out[k] = ct[k];
        k++;
    }
    out[k] = '\0';
}

/* A server that sends no useful type: the bytes decide. */
static int sniff(const char *s, size_t len, enum doc_format *fmt)
{
    if (len >= 5 && !memcmp(s, "%PDF-", 5))
        *fmt = DOC_PDF;
    else if (len >= 4 && !memcmp(s, "PK\x03\x04", 4))
        *fmt = DOC_EPUB;
    else {
        size_t i = 0;
        while (i < len && strchr(" \t\r\n", s[i]))
            i++;
        if (i == len || s[i] != '<')
            return -1;
        *fmt = DOC_HTML;
    }
    return 0;
}

static int reader_for(const char *ct, const char *s, size_t len, enum doc_format *fmt)
{
    static const struct { const char *type; enum doc_format fmt; } types[] = {
        { "text/html", DOC_HTML }, { "application/xhtml+xml", DOC_HTML },
        { "text/plain", DOC_TEXT }, { "text/markdown", DOC_MARKDOWN },
        { "text/x-markdown", DOC_MARKDOWN }, { "application/pdf", DOC_PDF },
        { "application/epub+zip", DOC_EPUB },
    };
    char mt[128];
    media_type(ct, mt, sizeof mt);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(mt, types[i].type)) {
            *fmt = types[i].fmt;
            return 0;
        }
    if (!mt[0] || !strcmp(mt, "application/octet-stream") || !strcmp(mt, "binary/octet-stream"))
        return sniff(s, len, fmt);
    return -1;
}

struct doc *url_import(const char *url, const struct fetch_opts *o, const char *title,
                       enum doc_format *fmt, int *status, char *err, size_t errlen)
{
    struct fetch_result r;
    *status = fetch_url(url, o, &r, err, errlen);
    if (*status)
        return NULL;
    struct doc *d = NULL;
    *status = 422;
    if (reader_for(r.content_type, r.body, r.len, fmt) != 0) {
        char mt[128];
        media_type(r.content_type, mt, sizeof mt);
        snprintf(err, errlen, "%.200s is %s, not a web page or a document recite can read "
                 "(HTML, text, markdown, PDF, EPUB)", url, mt[0] ? mt : "of an unknown type");
        goto out;
    }
    if (r.len == 0) {
        snprintf(err, errlen, "%.200s is empty", url);
        goto out;
    }
    if (doc_format_is_binary(*fmt)) {
        d = doc_build(r.body, r.len, *fmt, title, err, errlen);
    } else {
        size_t n;
        char *text = charset_to_utf8(r.body, r.len, r.content_type, *fmt == DOC_HTML, &n, err, errlen);
        if (text)
            d = *fmt == DOC_HTML ? doc_build_web_page(text, n, title, err, errlen)
                                 : doc_build(text, n, *fmt, title, err, errlen);
        free(text);
    }
    if (d && d->block_count == 0) {
        snprintf(err, errlen, "found no text to read at %.200s", url);
        doc_destroy(d);
        d = NULL;
    }
    if (d)
        *status = 0;
out:
    fetch_result_free(&r);
    return d;
}
