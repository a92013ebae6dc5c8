/* markdown — the markdown front-end: md4c parser callbacks -> builder events. Pure.
 *
 * md4c's own HTML renderer is not used: it passes raw HTML through. Here raw HTML blocks
 * are shown as escaped text in a <pre> (comments are dropped), inline raw HTML tags are
 * dropped (their text content stays), links keep only safe URLs, and images become an
 * <img> atom that is shown but not spoken. md4c skips the <p> of tight list items, so
 * their text arrives directly in the <li>, where the builder makes it a block. */
#include "doc/front.h"
#include "doc/builder.h"
#include "doc/sbuf.h"
#include "doc/url.h"
#include <libxml/HTMLparser.h>
#include <md4c.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* md4c 0.4.8 (Debian 12) reads a few bytes past the end of its input on some malformed
 * documents (found by fuzzing; valgrind shows it inside md_parse). We parse a copy with
 * this much padding after it, and clamp every text range it reports to the real end. */
#define MD_PAD 64

struct md_state {
    struct builder *b;
    const char *begin, *end;  /* the input as given to md_parse */
    int img_depth;           /* > 0 inside an image: its text is the alt text */
    struct sbuf alt, src;    /* the outermost image being collected */
    bool in_html_block;
    struct sbuf html_block;  /* raw HTML block, shown once we know it is not a comment */
    struct sbuf scratch;
};

static const char *const heading_tags[] = { "h1", "h2", "h3", "h4", "h5", "h6" };

/* Appends the UTF-8 of an entity ("&amp;", "&#233;", "&#x1F600;"); unknown names stay
 * as written, as browsers do. */
static void add_entity(struct sbuf *out, const char *s, size_t n)
{
    if (n >= 4 && s[1] == '#') {
        bool hex = s[2] == 'x' || s[2] == 'X';
        unsigned long v = 0;
        for (size_t i = hex ? 3 : 2; i + 1 < n; i++) {
            char c = s[i];
            int d = c >= '0' && c <= '9' ? c - '0'
                  : hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
            if (d < 0 || v > 0x10FFFF) {
                v = 0xFFFD;
                break;
            }
            v = v * (hex ? 16 : 10) + (unsigned long)d;
        }
        sbuf_add_cp(out, v);   /* 0, surrogates and out of range become U+FFFD */
        return;
    }
    char name[64];
    if (n >= 3 && n - 2 < sizeof name) {
        memcpy(name, s + 1, n - 2);
        name[n - 2] = '\0';
        const htmlEntityDesc *e = htmlEntityLookup((const xmlChar *)name);
        if (e) {
            sbuf_add_cp(out, e->value);
            return;
        }
    }
    sbuf_add(out, s, n);
}

/* The decoded value of an md4c attribute (href, src). */
static void add_attribute(struct sbuf *out, const MD_ATTRIBUTE *a)
{
    for (int i = 0; a->substr_offsets && a->substr_offsets[i] < a->size; i++) {
        const char *s = a->text + a->substr_offsets[i];
        size_t n = a->substr_offsets[i + 1] - a->substr_offsets[i];
        switch (a->substr_types[i]) {
        case MD_TEXT_ENTITY: add_entity(out, s, n); break;
        case MD_TEXT_NULLCHAR: sbuf_add_cp(out, 0xFFFD); break;
        default: sbuf_add(out, s, n); break;
        }
    }
}

/* `href="..."` for a safe URL, else "" (the link is kept, minus its target). */
static const char *link_attrs(struct md_state *st, const MD_ATTRIBUTE *href)
{
    struct sbuf url = { 0 };
    add_attribute(&url, href);
    st->scratch.len = 0;
    sbuf_add(&st->scratch, "", 0);
    if (url.p && url_is_safe(url.p, url.len)) {
        sbuf_adds(&st->scratch, "href=\"");
        /* md4c hands over permissive "www." autolinks without a scheme */
        if (strncasecmp(url.p, "www.", 4) == 0)
            sbuf_adds(&st->scratch, "http://");
        sbuf_add_escaped(&st->scratch, url.p, url.len);
        sbuf_addc(&st->scratch, '"');
    }
    sbuf_free(&url);
    return st->scratch.p ? st->scratch.p : "";
}

static void flush_image(struct md_state *st)
{
    struct sbuf *h = &st->scratch;
    h->len = 0;
    sbuf_adds(h, "<img");
    if (st->src.p && url_is_safe(st->src.p, st->src.len)) {
        sbuf_adds(h, " src=\"");
        sbuf_add_escaped(h, st->src.p, st->src.len);
        sbuf_addc(h, '"');
    }
    sbuf_adds(h, " alt=\"");
    if (st->alt.p)
        sbuf_add_escaped(h, st->alt.p, st->alt.len);
    sbuf_adds(h, "\">");
    builder_atom(st->b, h->p, h->len);
}

/* An HTML block that is nothing but comments is dropped; anything else is shown as text. */
static void flush_html_block(struct md_state *st)
{
    const char *s = st->html_block.p ? st->html_block.p : "";
    size_t n = st->html_block.len;
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    bool comment = n >= 7 && strncmp(s, "<!--", 4) == 0 && strncmp(s + n - 3, "-->", 3) == 0;
    if (!comment && n) {
        builder_block_open(st->b, "pre", NULL, BUILDER_MUTE);
        builder_text(st->b, s, n);
        builder_block_close(st->b);
    }
    st->html_block.len = 0;
}

static int md_enter_block(MD_BLOCKTYPE type, void *detail, void *user)
{
    struct md_state *st = user;
    struct builder *b = st->b;
    switch (type) {
    case MD_BLOCK_DOC: break;
    case MD_BLOCK_QUOTE: builder_block_open(b, "blockquote", NULL, BUILDER_CONTAINER); break;
    case MD_BLOCK_UL: builder_block_open(b, "ul", NULL, BUILDER_CONTAINER); break;
    case MD_BLOCK_OL: {
        unsigned start = ((MD_BLOCK_OL_DETAIL *)detail)->start;
        char attrs[32] = "";
        if (start != 1)
            snprintf(attrs, sizeof attrs, "start=\"%u\"", start);
        builder_block_open(b, "ol", attrs, BUILDER_CONTAINER);
        break;
    }
    case MD_BLOCK_LI: builder_block_open(b, "li", NULL, BUILDER_CONTAINER); break;
    case MD_BLOCK_HR: builder_hr(b); break;
    case MD_BLOCK_H: {
        unsigned level = ((MD_BLOCK_H_DETAIL *)detail)->level;
        builder_block_open(b, heading_tags[level >= 1 && level <= 6 ? level - 1 : 5], NULL,
                           BUILDER_SPEAK);
        break;
    }
    case MD_BLOCK_CODE:
        builder_block_open(b, "pre", NULL, BUILDER_MUTE);
        builder_inline_open(b, "code", NULL);
        break;
    case MD_BLOCK_HTML:
        st->in_html_block = true;
        st->html_block.len = 0;
        break;
    case MD_BLOCK_P: builder_block_open(b, "p", NULL, BUILDER_SPEAK); break;
    case MD_BLOCK_TABLE: builder_block_open(b, "table", NULL, BUILDER_MUTE); break;
    case MD_BLOCK_THEAD: builder_block_open(b, "thead", NULL, BUILDER_CONTAINER); break;
    case MD_BLOCK_TBODY: builder_block_open(b, "tbody", NULL, BUILDER_CONTAINER); break;
    case MD_BLOCK_TR: builder_block_open(b, "tr", NULL, BUILDER_CONTAINER); break;
    case MD_BLOCK_TH: builder_block_open(b, "th", NULL, BUILDER_CONTAINER); break;
    case MD_BLOCK_TD: builder_block_open(b, "td", NULL, BUILDER_CONTAINER); break;
    }
    return 0;
}

static int md_leave_block(MD_BLOCKTYPE type, void *detail, void *user)
{
    struct md_state *st = user;
    switch (type) {
    case MD_BLOCK_DOC:
    case MD_BLOCK_HR:
        break;
    case MD_BLOCK_HTML:
        st->in_html_block = false;
        flush_html_block(st);
        break;
    default:
        builder_block_close(st->b);   /* also closes the <code> of a code block */
        break;
    }
    return 0;
}

static const char *span_tag(MD_SPANTYPE type)
{
    switch (type) {
    case MD_SPAN_EM: return "em";
    case MD_SPAN_STRONG: return "strong";
    case MD_SPAN_CODE: return "code";
    case MD_SPAN_DEL: return "del";
    case MD_SPAN_A: return "a";
    default: return NULL;
    }
}

static int md_enter_span(MD_SPANTYPE type, void *detail, void *user)
{
    struct md_state *st = user;
    if (type == MD_SPAN_IMG) {
        if (st->img_depth++ == 0) {
            st->alt.len = 0;
            st->src.len = 0;
            add_attribute(&st->src, &((MD_SPAN_IMG_DETAIL *)detail)->src);
        }
        return 0;
    }
    const char *tag = span_tag(type);
    if (!tag || st->img_depth)
        return 0;
    const char *attrs = type == MD_SPAN_A ? link_attrs(st, &((MD_SPAN_A_DETAIL *)detail)->href) : NULL;
    builder_inline_open(st->b, tag, attrs);
    return 0;
}

static int md_leave_span(MD_SPANTYPE type, void *detail, void *user)
{
    struct md_state *st = user;
    if (type == MD_SPAN_IMG) {
        if (st->img_depth > 0 && --st->img_depth == 0)
            flush_image(st);
        return 0;
    }
    const char *tag = span_tag(type);
    if (tag && !st->img_depth)
        builder_inline_close(st->b, tag);
    return 0;
}

/* Inline raw HTML is dropped, except <br> which is too common in tables and READMEs. */
static bool is_br_tag(const char *s, size_t n)
{
    if (n < 4 || s[0] != '<' || s[n - 1] != '>' || strncasecmp(s + 1, "br", 2) != 0)
        return false;
    for (size_t i = 3; i < n - 1; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '/')
            return false;
    return true;
}

static int md_text(MD_TEXTTYPE type, const MD_CHAR *s, MD_SIZE n, void *user)
{
    struct md_state *st = user;
    uintptr_t p = (uintptr_t)s, b = (uintptr_t)st->begin, e = (uintptr_t)st->end;
    if (p >= b && p <= e + MD_PAD && p + n > e)   /* see MD_PAD */
        n = p < e ? (MD_SIZE)(e - p) : 0;
    if (st->in_html_block) {
        sbuf_add(&st->html_block, s, n);
        return 0;
    }
    struct sbuf *alt = st->img_depth ? &st->alt : NULL;
    switch (type) {
    case MD_TEXT_NULLCHAR:
        if (alt) sbuf_add_cp(alt, 0xFFFD);
        else builder_text(st->b, "\xEF\xBF\xBD", 3);
        break;
    case MD_TEXT_BR:
        if (alt) sbuf_addc(alt, ' ');
        else builder_break(st->b);
        break;
    case MD_TEXT_SOFTBR:
        if (alt) sbuf_addc(alt, ' ');
        else builder_text(st->b, " ", 1);
        break;
    case MD_TEXT_ENTITY:
        st->scratch.len = 0;
        add_entity(&st->scratch, s, n);
        if (alt) sbuf_add(alt, st->scratch.p, st->scratch.len);
        else builder_text(st->b, st->scratch.p, st->scratch.len);
        break;
    case MD_TEXT_HTML:
        if (!alt && is_br_tag(s, n))
            builder_break(st->b);
        break;
    default:
        if (alt) sbuf_add(alt, s, n);
        else builder_text(st->b, s, n);
        break;
    }
    return 0;
}

int markdown_render(struct builder *b, const char *s, size_t len, char *err, size_t errlen)
{
    if (len > UINT_MAX) {
        snprintf(err, errlen, "document too large");
        return -1;
    }
    MD_PARSER parser = {
        .flags = MD_FLAG_TABLES | MD_FLAG_STRIKETHROUGH | MD_FLAG_PERMISSIVEAUTOLINKS,
        .enter_block = md_enter_block,
        .leave_block = md_leave_block,
        .enter_span = md_enter_span,
        .leave_span = md_leave_span,
        .text = md_text,
    };
    char *copy = malloc(len + MD_PAD);
    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(copy, s, len);
    memset(copy + len, '\n', MD_PAD);   /* an over-read sees blank lines: the document's end */
    struct md_state st = { .b = b, .begin = copy, .end = copy + len };
    int rc = md_parse(copy, (MD_SIZE)len, &parser, &st);
    free(copy);
    bool oom = st.alt.oom || st.src.oom || st.html_block.oom || st.scratch.oom;
    sbuf_free(&st.alt);
    sbuf_free(&st.src);
    sbuf_free(&st.html_block);
    sbuf_free(&st.scratch);
    if (rc != 0 || oom) {
        snprintf(err, errlen, oom ? "out of memory" : "could not parse markdown");
        return -1;
    }
    return 0;
}
