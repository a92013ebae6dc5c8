/* doc — the public face of src/doc (see doc.h): validate, pick a front-end, build, title.
 * Pure, any thread. doc_build's result is owned by the caller (doc_destroy). */
#include "doc/doc.h"
#include "doc/builder.h"
#include "doc/front.h"
#include "doc/title.h"
#include "util/utf8.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MS_PER_CODEPOINT 65
#define MIN_ESTIMATE_MS 300

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

int doc_format_parse(const char *name, enum doc_format *out)
{
    static const struct { const char *name; enum doc_format fmt; } names[] = {
        { "text", DOC_TEXT }, { "plain", DOC_TEXT }, { "txt", DOC_TEXT },
        { "markdown", DOC_MARKDOWN }, { "md", DOC_MARKDOWN },
        { "html", DOC_HTML }, { "htm", DOC_HTML }, { "pdf", DOC_PDF }, { "epub", DOC_EPUB },
    };
    if (!name)
        return -1;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(name, names[i].name) == 0) {
            *out = names[i].fmt;
            return 0;
        }
    return -1;
}

int doc_format_guess(const char *filename, const char *mime, enum doc_format *out)
{
    static const struct { const char *ext; enum doc_format fmt; } exts[] = {
        { "md", DOC_MARKDOWN }, { "markdown", DOC_MARKDOWN }, { "mdown", DOC_MARKDOWN },
        { "mkd", DOC_MARKDOWN }, { "txt", DOC_TEXT }, { "text", DOC_TEXT },
        { "html", DOC_HTML }, { "htm", DOC_HTML }, { "xhtml", DOC_HTML },
        { "pdf", DOC_PDF }, { "epub", DOC_EPUB },
    };
    static const struct { const char *type; enum doc_format fmt; } types[] = {
        { "text/markdown", DOC_MARKDOWN }, { "text/x-markdown", DOC_MARKDOWN },
        { "text/plain", DOC_TEXT }, { "text/html", DOC_HTML },
        { "application/xhtml+xml", DOC_HTML }, { "application/pdf", DOC_PDF },
        { "application/epub+zip", DOC_EPUB },
    };
    if (filename) {
        const char *base = strrchr(filename, '/');
        base = base ? base + 1 : filename;
        const char *dot = strrchr(base, '.');
        if (dot && dot != base)
            for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
                if (strcasecmp(dot + 1, exts[i].ext) == 0) {
                    *out = exts[i].fmt;
                    return 0;
                }
    }
    if (mime) {
        while (*mime == ' ' || *mime == '\t')
            mime++;
        size_t n = strcspn(mime, "; \t");   /* drop "; charset=utf-8" */
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strlen(types[i].type) == n && strncasecmp(mime, types[i].type, n) == 0) {
                *out = types[i].fmt;
                return 0;
            }
    }
    return -1;
}

const char *doc_format_name(enum doc_format fmt)
{
    static const char *const names[] = { "text", "markdown", "html", "pdf", "epub" };
    return (unsigned)fmt < sizeof names / sizeof names[0] ? names[fmt] : "text";
}

int doc_format_is_binary(enum doc_format fmt) { return fmt == DOC_PDF || fmt == DOC_EPUB; }

int doc_estimate_ms(const char *text)
{
    if (!text || !*text)
        return 0;
    size_t n = utf8_codepoints(text, strlen(text));
    if (n > (size_t)INT_MAX / MS_PER_CODEPOINT)
        return INT_MAX;
    int ms = (int)n * MS_PER_CODEPOINT;
    return ms < MIN_ESTIMATE_MS ? MIN_ESTIMATE_MS : ms;
}

void doc_destroy(struct doc *d)
{
    if (!d)
        return;
    for (int i = 0; i < d->block_count; i++)
        free(d->blocks[i].text);
    free(d->blocks);
    free(d->html);
    free(d->title);
    free(d->author);
    free(d->source_url);
    free(d);
}

static struct doc *build(const char *content, size_t len, enum doc_format fmt, const char *title,
                         const struct html_opts *opts, char *err, size_t errlen)
{
    if (!content)
        content = "";   /* tolerate (NULL, 0) as the empty document */
    if (!doc_format_is_binary(fmt) && !utf8_valid(content, len)) {
        set_err(err, errlen, "content is not valid UTF-8");
        return NULL;
    }
    if (title && !utf8_valid(title, strlen(title))) {
        set_err(err, errlen, "title is not valid UTF-8");
        return NULL;
    }
    char msg[128] = "out of memory";
    struct builder *b = builder_create(fmt == DOC_HTML || doc_format_is_binary(fmt));
    struct doc *d = calloc(1, sizeof *d);
    char *heading = NULL;
    if (!b || !d)
        goto fail;
    int rc;
    switch (fmt) {
    case DOC_MARKDOWN: rc = markdown_render(b, content, len, msg, sizeof msg); break;
    case DOC_HTML: rc = html_render_opts(b, content, len, opts, msg, sizeof msg); break;
    case DOC_TEXT: rc = text_render(b, content, len, msg, sizeof msg); break;
    case DOC_PDF: rc = pdf_render(b, content, len, msg, sizeof msg); break;
    case DOC_EPUB: rc = epub_render(b, content, len, msg, sizeof msg); break;
    default:
        snprintf(msg, sizeof msg, "unknown document format");
        rc = -1;
        break;
    }
    if (rc != 0)
        goto fail;
    if (builder_finish(b, d, &heading) != 0) {
        snprintf(msg, sizeof msg, "out of memory");
        goto fail;
    }
    d->title = title_derive(title, heading, d->block_count ? d->blocks[0].text : NULL);
    if (!d->title)
        goto fail;
    free(heading);
    builder_destroy(b);
    return d;
fail:
    free(heading);
    builder_destroy(b);
    doc_destroy(d);
    set_err(err, errlen, msg);
    return NULL;
}

struct doc *doc_build(const char *content, size_t len, enum doc_format fmt,
                      const char *title, char *err, size_t errlen)
{
    return build(content, len, fmt, title, NULL, err, errlen);
}

struct doc *doc_build_web_page(const char *html, size_t len, const char *title, char *err,
                               size_t errlen)
{
    static const struct html_opts web = { .web_page = true };
    return build(html, len, DOC_HTML, title, &web, err, errlen);
}
