/* test_doc — doc_build for markdown, HTML and plain text. Every document built here also
 * goes through check_doc(): balanced HTML made only of allowed tags and attributes,
 * data-block-idx 0..n-1 exactly once each, and each span's text equal to its block. */
#include "check.h"
#include "doc/doc.h"
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- helpers ---------------------------------------------------------------------- */

static const char *const allowed_tags[] = {
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "ul", "ol", "li", "blockquote", "pre", "code",
    "em", "strong", "del", "a", "br", "table", "thead", "tbody", "tr", "th", "td", "hr",
    "span", "img", NULL
};
/* id: in-page link targets, always "doc-" + the source id (html.c anchor_collect) */
static const char *const allowed_attrs[] = { "href", "start", "data-block-idx", "src", "alt", "id", NULL };

static bool in_list(const char *s, size_t n, const char *const *list)
{
    for (; *list; list++)
        if (strlen(*list) == n && strncmp(s, *list, n) == 0)
            return true;
    return false;
}

static bool is_void(const char *s, size_t n)
{
    static const char *const v[] = { "br", "hr", "img", NULL };
    return in_list(s, n, v);
}

/* Tags balanced and allowed, attributes allowed and double-quoted. */
static bool html_ok(const char *h)
{
    const char *stack[512];
    size_t slen[512];
    int depth = 0;
    for (const char *p = strchr(h, '<'); p; p = strchr(p + 1, '<')) {
        bool close = p[1] == '/';
        const char *name = p + 1 + close;
        size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789");
        if (!in_list(name, n, allowed_tags)) {
            fprintf(stderr, "tag not allowed: %.20s\n", p);
            return false;
        }
        const char *q = name + n;
        while (*q == ' ') {   /* attributes: name="value" */
            q++;
            size_t an = strspn(q, "abcdefghijklmnopqrstuvwxyz-");
            if (!in_list(q, an, allowed_attrs) || q[an] != '=' || q[an + 1] != '"') {
                fprintf(stderr, "attribute not allowed: %.30s\n", q);
                return false;
            }
            q = strchr(q + an + 2, '"');
            if (!q)
                return false;
            q++;
        }
        if (*q != '>') {
            fprintf(stderr, "malformed tag: %.30s\n", p);
            return false;
        }
        if (close) {
            if (depth == 0 || slen[depth - 1] != n || strncmp(stack[depth - 1], name, n) != 0) {
                fprintf(stderr, "unbalanced close: %.20s\n", p);
                return false;
            }
            depth--;
        } else if (!is_void(name, n)) {
            if (depth == 512)
                return false;
            stack[depth] = name;
            slen[depth++] = n;
        }
    }
    if (depth)
        fprintf(stderr, "unclosed: %.*s\n", (int)slen[depth - 1], stack[depth - 1]);
    return depth == 0;
}

static int count_str(const char *h, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(h, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* The text shown in span N: tags dropped, <br> as "\n", entities decoded. */
static char *span_text(const char *h, int idx)
{
    char open[48];
    snprintf(open, sizeof open, "<span data-block-idx=\"%d\">", idx);
    const char *p = strstr(h, open);
    if (!p)
        return NULL;
    p += strlen(open);
    const char *end = strstr(p, "</span>");
    if (!end)
        return NULL;
    char *out = malloc((size_t)(end - p) + 1), *o = out;
    while (p < end) {
        if (*p == '<') {
            if (strncmp(p, "<br>", 4) == 0)
                *o++ = '\n';
            p = strchr(p, '>') + 1;
        } else if (*p == '&') {
            static const struct { const char *e; char c; } ents[] = {
                { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' } };
            size_t i;
            for (i = 0; i < 4; i++)
                if (strncmp(p, ents[i].e, strlen(ents[i].e)) == 0)
                    break;
            *o++ = i < 4 ? ents[i].c : '&';
            p += i < 4 ? strlen(ents[i].e) : 1;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

static void check_doc(const struct doc *d)
{
    CHECK(d != NULL);
    if (!d)
        return;
    CHECK(html_ok(d->html));
    CHECK(d->title && *d->title);
    /* counted as a tag: text may mention data-block-idx, but it cannot open a <span> */
    CHECK_INT(count_str(d->html, "<span data-block-idx=\""), d->block_count);
    for (int i = 0; i < d->block_count; i++) {
        CHECK_INT(d->blocks[i].idx, i);
        CHECK(d->blocks[i].text && *d->blocks[i].text);
        char *shown = span_text(d->html, i);
        if (!shown || strcmp(shown, d->blocks[i].text) != 0)
            fprintf(stderr, "block %d:\n  span: \"%s\"\n  text: \"%s\"\n", i,
                    shown ? shown : "(missing)", d->blocks[i].text);
        CHECK(shown && strcmp(shown, d->blocks[i].text) == 0);
        free(shown);
    }
    if (d->block_count > 0) {   /* spans appear in index order */
        char a[40], b[40];
        for (int i = 0; i + 1 < d->block_count; i++) {
            snprintf(a, sizeof a, "data-block-idx=\"%d\"", i);
            snprintf(b, sizeof b, "data-block-idx=\"%d\"", i + 1);
            CHECK(strstr(d->html, a) < strstr(d->html, b));
        }
    }
}

static struct doc *build(const char *s, enum doc_format f, const char *title)
{
    char err[128] = "";
    struct doc *d = doc_build(s, strlen(s), f, title, err, sizeof err);
    if (!d)
        fprintf(stderr, "doc_build failed: %s\n", err);
    check_doc(d);
    return d;
}

static const char *block(const struct doc *d, int i)
{
    return d && i < d->block_count ? d->blocks[i].text : "(no such block)";
}

/* ---- markdown --------------------------------------------------------------------- */

static void test_markdown_structure(void)
{
    struct doc *d = build(
        "# Title *here*\n\n"
        "## Second\n\n"
        "Para with `inline code` and a [link](https://example.com/a?b=1&c=2) here.\n"
        "Soft break.  \nHard break.\n\n"
        "- one\n- two\n  - nested *a*\n  - nested b\n- three\n\n"
        "> quoted\n> text\n\n"
        "```sh\nrm -rf /  # not spoken\n```\n\n"
        "| h1 | h2 |\n|----|----|\n| cell | data |\n\n"
        "---\n\n"
        "![a picture](pic.png) caption\n",
        DOC_MARKDOWN, NULL);
    if (!d)
        return;
    CHECK_INT(d->block_count, 10);
    CHECK_STR(block(d, 0), "Title here");
    CHECK_STR(block(d, 1), "Second");
    CHECK_STR(block(d, 2), "Para with inline code and a link here. Soft break.\nHard break.");
    CHECK_STR(block(d, 3), "one");
    CHECK_STR(block(d, 4), "two");
    CHECK_STR(block(d, 5), "nested a");
    CHECK_STR(block(d, 6), "nested b");
    CHECK_STR(block(d, 7), "three");
    CHECK_STR(block(d, 8), "quoted text");
    CHECK_STR(block(d, 9), "caption");
    CHECK_STR(block(d, 10), "(no such block)");   /* code, table, rule, image: not spoken */
    CHECK_STR(d->title, "Title here");
    CHECK(strstr(d->html, "<h1><span data-block-idx=\"0\">Title <em>here</em></span></h1>"));
    CHECK(strstr(d->html, "<h2>"));
    CHECK(strstr(d->html, "<code>inline code</code>"));
    CHECK(strstr(d->html, "<a href=\"https://example.com/a?b=1&amp;c=2\">link</a>"));
    CHECK(strstr(d->html, "<br>"));
    /* a tight item's text ends where its nested list begins */
    CHECK(strstr(d->html, "<li><span data-block-idx=\"4\">two</span>\n<ul>")
          || strstr(d->html, "<li><span data-block-idx=\"4\">two</span><ul>"));
    CHECK(strstr(d->html, "<blockquote>"));
    CHECK(strstr(d->html, "<pre><code>rm -rf /  # not spoken\n</code></pre>"));
    CHECK(strstr(d->html, "<td>cell</td>"));
    CHECK(strstr(d->html, "<hr>"));
    CHECK(strstr(d->html, "<img src=\"pic.png\" alt=\"a picture\">"));
    CHECK(!strstr(d->html, "data-block-idx=\"11\""));
    doc_destroy(d);
}

static void test_markdown_loose_and_ordered(void)
{
    struct doc *d = build("3. first\n\n   second para\n4. next\n\n1) x\n", DOC_MARKDOWN, NULL);
    if (!d)
        return;
    CHECK_INT(d->block_count, 4);
    CHECK_STR(block(d, 1), "second para");
    CHECK(strstr(d->html, "<ol start=\"3\">"));
    CHECK(strstr(d->html, "<li><p><span data-block-idx=\"0\">first</span></p>"));
    doc_destroy(d);
}

static void test_markdown_raw_html(void)
{
    struct doc *d = build(
        "<script>alert('x')</script>\n\n"
        "Text <script>steal()</script> and <img src=x onerror=alert(1)> and <b>bold</b>.\n\n"
        "<div onclick=\"evil()\">\n*block*\n</div>\n\n"
        "<!-- a comment -->\n\n"
        "[click](javascript:alert(1)) [data](data:text/html;base64,xx) [ok](/relative) "
        "<javascript:alert(2)>\n\n"
        "Line one<br>line two\n",
        DOC_MARKDOWN, NULL);
    if (!d)
        return;
    CHECK(!strstr(d->html, "<script"));
    CHECK(!strstr(d->html, "<img src=x"));
    CHECK(!strstr(d->html, "<div"));
    CHECK(!strstr(d->html, "<b>"));
    CHECK(!strstr(d->html, "href=\"javascript"));   /* shown as text, never as a target */
    CHECK(!strstr(d->html, "href=\"data:"));
    CHECK(!strstr(d->html, "comment"));
    CHECK(strstr(d->html, "&lt;script&gt;"));   /* an HTML block is shown as text */
    CHECK(strstr(d->html, "<a href=\"/relative\">ok</a>"));
    CHECK_STR(block(d, 0), "Text steal() and  and bold.");   /* inline tags dropped, unspoken */
    CHECK_STR(block(d, 1), "click data ok javascript:alert(2)");
    CHECK_STR(block(d, 2), "Line one\nline two");
    CHECK_INT(d->block_count, 3);
    doc_destroy(d);
}

static void test_markdown_entities(void)
{
    struct doc *d = build("Caf&eacute; &amp; &lt;tag&gt; &#x1F600; &#0; &nosuch; \"q\"\n", DOC_MARKDOWN, NULL);
    if (!d)
        return;
    CHECK_STR(block(d, 0), "Caf\xC3\xA9 & <tag> \xF0\x9F\x98\x80 \xEF\xBF\xBD &nosuch; \"q\"");
    CHECK(strstr(d->html, "&amp; &lt;tag&gt;"));
    CHECK(strstr(d->html, "&quot;q&quot;"));
    doc_destroy(d);
}

/* A long paragraph whose emphasis and link cross sentence-packing boundaries. */
static void test_markdown_split_inline(void)
{
    char md[4096] = "Start ";
    strcat(md, "*");
    for (int i = 0; i < 12; i++)
        strcat(md, "This sentence is emphasised and it goes on. ");
    strcat(md, "End of emphasis.* Then [a link that spans ");
    for (int i = 0; i < 8; i++)
        strcat(md, "More words here. ");
    strcat(md, "the end](https://x.example) done.\n");
    struct doc *d = build(md, DOC_MARKDOWN, NULL);
    if (!d)
        return;
    CHECK(d->block_count >= 3);
    CHECK(strstr(d->html, "</em></span><span data-block-idx=\"1\"><em>"));
    CHECK(strstr(d->html, "</a></span><span data-block-idx="));
    for (int i = 0; i < d->block_count; i++)
        CHECK(strlen(block(d, i)) <= 325);
    /* the pieces join up to the paragraph's text */
    size_t total = 0;
    for (int i = 0; i < d->block_count; i++)
        total += strlen(block(d, i));
    CHECK_INT(total, strlen(md) - strlen("\n**[]") - strlen("(https://x.example)"));
    doc_destroy(d);
}

static void test_markdown_autolinks(void)
{
    struct doc *d = build("See www.example.com, <https://a.example> and me@example.com.\n\n"
                          "Text about <span data-block-idx=\"7\"> and data-block-idx=\"8\".\n",
                          DOC_MARKDOWN, NULL);
    if (!d)
        return;
    CHECK(strstr(d->html, "<a href=\"http://www.example.com\">www.example.com</a>"));
    CHECK(strstr(d->html, "<a href=\"https://a.example\">https://a.example</a>"));
    CHECK(strstr(d->html, "<a href=\"mailto:me@example.com\">me@example.com</a>"));
    CHECK_STR(block(d, 0), "See www.example.com, https://a.example and me@example.com.");
    /* text can never forge a block marker: check_doc counted exactly block_count spans */
    CHECK_STR(block(d, 1), "Text about  and data-block-idx=\"8\".");
    doc_destroy(d);
}

static void test_markdown_empty_blocks(void)
{
    struct doc *d = build("#\n\n&nbsp;\n\n-\n- \n\n**  **\n\n> \n", DOC_MARKDOWN, NULL);
    if (!d)
        return;
    CHECK_INT(d->block_count, 0);
    CHECK_STR(d->title, "Untitled");
    doc_destroy(d);
    d = build("", DOC_MARKDOWN, NULL);
    CHECK_INT(d ? d->block_count : -1, 0);
    doc_destroy(d);
}

/* ---- HTML ------------------------------------------------------------------------- */

static void test_html_main_text(void)
{
    struct doc *d = build(
        "<!doctype html><html><head><title>Page</title><style>p{}</style>"
        "<script>var a = '<p>no</p>';</script></head><body>"
        "<header><h1>Site name</h1><nav><a href=\"/\">Home</a></nav></header>"
        "<main><p>Main but not article.</p>"
        "<article><header><h1>The   Real\n Title</h1></header>"
        "<p onclick=\"evil()\" style=\"x\">First   para,\n  <b>bold</b> <i>it</i> "
        "<a href=\"javascript:alert(1)\">bad</a> <a href=\" https://ok.example/?a=1&amp;b=2 \">good</a>.</p>"
        "<script>alert(1)</script><noscript>Enable JS</noscript>"
        "<div>Loose <span>text</span> in a div<div>inner div</div></div>"
        "<ul><li>One</li><li>Two<ul><li>Nested</li></ul></li></ul>"
        "<blockquote>Quote <p>para</p></blockquote>"
        "<pre>  code\n  kept</pre>"
        "<table><tr><th>h</th></tr><tr><td>cell</td></tr></table>"
        "<form><button>Send</button></form><aside>Related</aside>"
        "<iframe src=\"https://evil\"></iframe><svg><text>svg</text></svg>"
        "<footer>Share</footer></article></main>"
        "<footer>Copyright</footer></body></html>",
        DOC_HTML, NULL);
    if (!d)
        return;
    const char *want[] = { "The Real Title", "First para, bold it bad good.", "Loose text in a div",
                           "inner div", "One", "Two", "Nested", "Quote", "para" };
    CHECK_INT(d->block_count, 9);
    for (int i = 0; i < 9; i++)
        CHECK_STR(block(d, i), want[i]);
    CHECK_STR(d->title, "The Real Title");
    static const char *const never[] = { "Site name", "Home", "Main but not", "alert", "Enable JS",
                                         "Send", "Related", "evil", "svg", "Share", "Copyright",
                                         "<script", "onclick", "style", "javascript:", "<iframe",
                                         "<b>", "<div", NULL };
    for (const char *const *n = never; *n; n++) {
        if (strstr(d->html, *n))
            fprintf(stderr, "html contains \"%s\"\n", *n);
        CHECK(!strstr(d->html, *n));
    }
    CHECK(strstr(d->html, "<strong>bold</strong> <em>it</em>"));
    CHECK(strstr(d->html, "<a href=\"https://ok.example/?a=1&amp;b=2\">good</a>"));
    CHECK(strstr(d->html, "<pre>  code\n  kept</pre>"));
    CHECK(strstr(d->html, "<td>cell</td>"));
    doc_destroy(d);
}

static void test_html_fallbacks(void)
{
    struct doc *d = build("<main><nav>Menu</nav><p>In main.</p></main><p>Outside.</p>", DOC_HTML, NULL);
    if (d) {
        CHECK_INT(d->block_count, 1);
        CHECK_STR(block(d, 0), "In main.");
    }
    doc_destroy(d);
    d = build("Just <em>some</em> text &amp; more", DOC_HTML, NULL);
    if (d) {
        CHECK_INT(d->block_count, 1);
        CHECK_STR(block(d, 0), "Just some text & more");
        CHECK(strstr(d->html, "<p><span data-block-idx=\"0\">Just <em>some</em> text &amp; more</span></p>"));
    }
    doc_destroy(d);
    /* a layout table's text is read; a data table's is not */
    d = build("<table><tr><td><p>Layout para.</p><table><tr><td>3</td></tr></table></td></tr></table>",
              DOC_HTML, NULL);
    if (d) {
        CHECK_INT(d->block_count, 1);
        CHECK_STR(block(d, 0), "Layout para.");
        CHECK(strstr(d->html, "<table><tr><td>3</td></tr></table>")
              || strstr(d->html, "<table><tbody><tr><td>3</td></tr></tbody></table>"));
    }
    doc_destroy(d);
    d = build("<p>Line<br>break</p><p>a<a>b</a><a href=\"mailto:x@y.z\">m</a></p>", DOC_HTML, NULL);
    if (d) {
        CHECK_STR(block(d, 0), "Line\nbreak");
        CHECK(strstr(d->html, "<a href=\"mailto:x@y.z\">m</a>"));
    }
    doc_destroy(d);
}

/* ---- plain text ------------------------------------------------------------------- */

/* Pauses follow structure (doc.h DOC_SEAM_*): what ends at a seam decides its silence. */
static void test_pauses(void)
{
    char para[1200] = "";
    for (int i = 0; i < 8; i++)   /* ~8 x 70 characters: split at sentence ends */
        strcat(para, "This sentence is here to make the paragraph long enough to be split. ");
    for (int i = 0; i < 8; i++)   /* then one sentence of ~450: cut at a comma */
        strcat(para, "and a clause that goes on without a stop, ");
    strcat(para, "until it ends.");
    char md[2000];
    snprintf(md, sizeof md, "# Title\n\n%s\n\n- item one\n- item two\n\nLast paragraph.\n\n"
             "## Next section\n\n### Sub\n\nText.", para);
    struct doc *d = build(md, DOC_MARKDOWN, NULL);
    if (!d)
        return;
    int n = d->block_count;
    CHECK(n >= 9);
    CHECK_INT(d->blocks[0].pause_ms, DOC_PAUSE(DOC_SEAM_HEADING_MS));      /* after # Title */
    CHECK_INT(d->blocks[1].pause_ms, DOC_PAUSE(DOC_SEAM_SENTENCE_MS));     /* a split paragraph */
    bool clause = false;
    int k = 1;
    for (; k < n && strstr(d->blocks[k].text, "item one") == NULL; k++)
        clause |= d->blocks[k].pause_ms == DOC_PAUSE(DOC_SEAM_CLAUSE_MS);
    CHECK(clause);                                                        /* the comma cut */
    CHECK_INT(d->blocks[k - 1].pause_ms, DOC_PAUSE(DOC_SEAM_PARAGRAPH_MS)); /* paragraph end */
    CHECK_INT(d->blocks[k].pause_ms, DOC_PAUSE(DOC_SEAM_ITEM_MS));          /* list items */
    CHECK_INT(d->blocks[k + 1].pause_ms, DOC_PAUSE(DOC_SEAM_ITEM_MS));
    CHECK_STR(d->blocks[k + 2].text, "Last paragraph.");
    CHECK_INT(d->blocks[k + 2].pause_ms, DOC_PAUSE(DOC_SEAM_SECTION_MS));   /* before ## */
    CHECK_INT(d->blocks[k + 3].pause_ms, DOC_PAUSE(DOC_SEAM_HEADING_MS));   /* ## then ### */
    CHECK_INT(d->blocks[k + 4].pause_ms, DOC_PAUSE(DOC_SEAM_HEADING_MS));
    CHECK(DOC_PAUSE(DOC_SEAM_CLAUSE_MS) > 0);
    doc_destroy(d);
}

/* DocBook HTML (the Valgrind manual): navigation bars and image-only tables go, <a name>
 * and id targets become prefixed anchors so "#..." links can be followed in the page. */
static void test_html_anchors(void)
{
    const char *in = "<body><div class=\"navheader\"><table><tr><td><a href=\"p.html\"><img src=\"p.png\">"
                     "</a></td><th>Valgrind User Manual</th></tr></table></div>"
                     "<h2><a name=\"core\"></a>2. Core</h2><p>See <a href=\"#core.x\">x</a>.</p>"
                     "<table><tr><td><img src=\"i.png\"></td></tr></table>"
                     "<div id=\"sec&quot;x\"><p>Text one.</p></div>"
                     "<div class=\"navfooter\"><table><tr><td><a href=\"n.html\">Next</a></td></tr></table></div></body>";
    struct doc *d = build(in, DOC_HTML, NULL);
    if (!d)
        return;
    CHECK_INT(d->block_count, 3);
    CHECK(strstr(d->html, "Valgrind User Manual") == NULL);
    CHECK(strstr(d->html, "Next") == NULL);
    CHECK(strstr(d->html, "<table") == NULL);
    CHECK(strstr(d->html, "<h2><span data-block-idx=\"0\"><a id=\"doc-core\"></a>2. Core"));
    CHECK(strstr(d->html, "<a id=\"doc-sec&quot;x\"></a>Text one."));
    CHECK_STR(block(d, 2), "Text one.");
    doc_destroy(d);
}

static void test_text(void)
{
    struct doc *d = build("  First para line one\r\nline two  \n\n\n \t\nSecond <para> & \"x\"\n\n",
                          DOC_TEXT, NULL);
    if (!d)
        return;
    CHECK_INT(d->block_count, 2);
    /* hard-wrapped: a single newline inside a paragraph is a space (unwrap.h); a short
     * opening line without sentence punctuation is the title */
    CHECK_STR(block(d, 0), "First para line one line two");
    CHECK_STR(block(d, 1), "Second <para> & \"x\"");
    CHECK(strstr(d->html, "<h1><span data-block-idx=\"0\">First para line one line two</span></h1>"));
    CHECK(strstr(d->html, "<p><span data-block-idx=\"1\">Second &lt;para&gt; &amp; &quot;x&quot;</span></p>"));
    CHECK_STR(d->title, "First para line one line two");
    doc_destroy(d);
    /* markup in plain text is text */
    d = build("# not a heading\n*not em*", DOC_TEXT, NULL);
    if (d)
        CHECK_STR(block(d, 0), "# not a heading *not em*");
    doc_destroy(d);
}

/* ---- validation, titles, formats -------------------------------------------------- */

static void test_invalid_utf8(void)
{
    static const char *const bad[] = { "abc\xFF", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
                                       "trunc\xE2\x82", NULL };
    for (const char *const *b = bad; *b; b++) {
        char err[128] = "";
        for (int f = DOC_TEXT; f <= DOC_HTML; f++) {
            struct doc *d = doc_build(*b, strlen(*b), (enum doc_format)f, NULL, err, sizeof err);
            CHECK(d == NULL);
            CHECK_STR(err, "content is not valid UTF-8");
            doc_destroy(d);
        }
    }
    char err[128];
    struct doc *d = doc_build("ok", 2, DOC_TEXT, "bad\xFF", err, sizeof err);
    CHECK(d == NULL);
    doc_destroy(d);
}

static void test_titles(void)
{
    struct doc *d = build("# Heading\n\ntext", DOC_MARKDOWN, "  Given  title ");
    CHECK_STR(d ? d->title : NULL, "Given title");
    doc_destroy(d);
    d = build("# Heading\n\ntext", DOC_MARKDOWN, "");
    CHECK_STR(d ? d->title : NULL, "Heading");
    doc_destroy(d);
    d = build("Intro para.\n\n## Later *heading*\n", DOC_MARKDOWN, NULL);
    CHECK_STR(d ? d->title : NULL, "Later heading");
    doc_destroy(d);
    d = build("The quick brown fox jumps over the lazy dog and keeps running far away.", DOC_TEXT, NULL);
    CHECK_STR(d ? d->title : NULL, "The quick brown fox jumps over the lazy dog and keeps\xE2\x80\xA6");
    doc_destroy(d);
    d = build("Short one.", DOC_TEXT, NULL);
    CHECK_STR(d ? d->title : NULL, "Short one.");
    doc_destroy(d);
    d = build("```\ncode only\n```\n", DOC_MARKDOWN, NULL);
    CHECK_STR(d ? d->title : NULL, "Untitled");
    doc_destroy(d);
}

static void test_formats(void)
{
    enum doc_format f = DOC_HTML;
    CHECK_INT(doc_format_parse("text", &f), 0); CHECK_INT(f, DOC_TEXT);
    CHECK_INT(doc_format_parse("plain", &f), 0); CHECK_INT(f, DOC_TEXT);
    CHECK_INT(doc_format_parse("txt", &f), 0); CHECK_INT(f, DOC_TEXT);
    CHECK_INT(doc_format_parse("markdown", &f), 0); CHECK_INT(f, DOC_MARKDOWN);
    CHECK_INT(doc_format_parse("md", &f), 0); CHECK_INT(f, DOC_MARKDOWN);
    CHECK_INT(doc_format_parse("html", &f), 0); CHECK_INT(f, DOC_HTML);
    CHECK_INT(doc_format_parse("htm", &f), 0); CHECK_INT(f, DOC_HTML);
    CHECK_INT(doc_format_parse("docx", &f), -1);
    CHECK_INT(doc_format_parse(NULL, &f), -1);
    CHECK_INT(doc_format_guess("notes.MD", NULL, &f), 0); CHECK_INT(f, DOC_MARKDOWN);
    CHECK_INT(doc_format_guess("a.b/book.markdown", "text/plain", &f), 0); CHECK_INT(f, DOC_MARKDOWN);
    CHECK_INT(doc_format_guess("x.txt", NULL, &f), 0); CHECK_INT(f, DOC_TEXT);
    CHECK_INT(doc_format_guess("x.text", NULL, &f), 0); CHECK_INT(f, DOC_TEXT);
    CHECK_INT(doc_format_guess("page.htm", NULL, &f), 0); CHECK_INT(f, DOC_HTML);
    CHECK_INT(doc_format_guess("upload", "text/html; charset=utf-8", &f), 0); CHECK_INT(f, DOC_HTML);
    CHECK_INT(doc_format_guess("upload.bin", "text/markdown", &f), 0); CHECK_INT(f, DOC_MARKDOWN);
    CHECK_INT(doc_format_guess(NULL, "text/plain", &f), 0); CHECK_INT(f, DOC_TEXT);
    CHECK_INT(doc_format_guess("a.docx", "application/msword", &f), -1);
    CHECK_INT(doc_format_guess(NULL, NULL, &f), -1);
    CHECK_INT(doc_estimate_ms(""), 0);
    CHECK_INT(doc_estimate_ms("Hi"), 300);
    CHECK_INT(doc_estimate_ms("0123456789"), 650);
    CHECK_INT(doc_estimate_ms("\xE6\xBC\xA2\xE5\xAD\x97\xE6\xBC\xA2\xE5\xAD\x97\xE6\xBC\xA2"), 325);
}

/* ---- robustness and speed --------------------------------------------------------- */

/* NUL and other control bytes are valid UTF-8 but never reach the HTML or the blocks. */
static void test_control_chars(void)
{
    static const char md[] = "A\0b \x01c\n\n![al\0t `x\0y` \x1b](p.png) `co\0de` [l\0](u\0rl)\n\n"
                             "```\nbl\0ock\x7f\n```\n\n<div>\0</div>\n\nLast.\n";
    static const char html[] = "<p>A\0b\x02</p><pre>p\0re</pre><p>Last.</p>";
    static const char text[] = "A\0b\x03\n\nLast.";
    const struct { const char *s; size_t n; enum doc_format f; } in[] = {
        { md, sizeof md - 1, DOC_MARKDOWN }, { html, sizeof html - 1, DOC_HTML },
        { text, sizeof text - 1, DOC_TEXT },
    };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        char err[128];
        struct doc *d = doc_build(in[i].s, in[i].n, in[i].f, NULL, err, sizeof err);
        check_doc(d);
        if (!d)
            continue;
        CHECK(d->block_count >= 2);
        CHECK_STR(block(d, d->block_count - 1), "Last.");
        CHECK(strstr(d->html, "Last.</span>"));   /* nothing cut the html short */
        for (const char *p = d->html; *p; p++)
            CHECK((unsigned char)*p >= 0x20 || *p == '\n' || *p == '\t' || *p == '\r');
        for (int k = 0; k < d->block_count; k++)
            for (const char *p = d->blocks[k].text; *p; p++)
                CHECK((unsigned char)*p >= 0x20 || *p == '\n' || *p == '\t' || *p == '\r');
        doc_destroy(d);
    }
}

/* Random documents from syntax fragments: every format must build and pass check_doc. */
static void test_generated(void)
{
    static const char *const atoms[] = {
        "# ", "\n", "\n\n", "- ", "  - ", "1. ", "> ", "```\n", "`", "*", "**", "_", "~~",
        "[", "](", ")", "http://x.y ", "www.z.com ", "<", ">", "</", "script", "p", "div", "a href=",
        "\"", "'", "&amp;", "&#", ";", "| a | b |\n|---|---|\n", "    ", "text ", "Sentence. ",
        "e.g. ", "\xE6\xBC\xA2\xE5\xAD\x97\xE3\x80\x82", "\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7",
        "\xCC\x81", "<br>", "<li>", "<ul>", "<table>", "<td>", "<pre>", "<article>", "![i](x.png)",
        "<!--", "-->", "\\", "---\n", "\t", "\r\n", "&nbsp;",
    };
    unsigned seed = 99;
    char *buf = malloc(20000);
    for (int iter = 0; iter < 300; iter++) {
        size_t len = 0, target = (size_t)(iter * 53 % 15000);
        while (len < target) {
            seed = seed * 1103515245u + 12345u;
            const char *a = atoms[(seed >> 16) % (sizeof atoms / sizeof atoms[0])];
            size_t al = strlen(a);
            memcpy(buf + len, a, al);
            len += al;
        }
        buf[len] = '\0';
        struct doc *d = build(buf, (enum doc_format)(iter % 3), NULL);
        if (d)
            CHECK(!strstr(d->html, "<script") && !strstr(d->html, "<div"));
        doc_destroy(d);
    }
    free(buf);
}

static void test_big_markdown(void)
{
    size_t cap = 2300000, len = 0;
    char *md = malloc(cap);
    int chapter = 0;
    while (len < 2000000) {
        len += (size_t)snprintf(md + len, cap - len, "## Chapter %d\n\n", ++chapter);
        for (int p = 0; p < 8; p++)
            len += (size_t)snprintf(md + len, cap - len,
                "Paragraph %d of chapter %d has *some emphasis*, a [link](https://example.com/%d) "
                "and `code`. It is about two hundred characters long, which is a typical size "
                "for the paragraphs of a novel. The narrator stops here.\n\n", p, chapter, p);
        len += (size_t)snprintf(md + len, cap - len, "- a list item\n\n");
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char err[128];
    struct doc *d = doc_build(md, len, DOC_MARKDOWN, NULL, err, sizeof err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    CHECK(d != NULL);
    if (d) {
        printf("  2 MB markdown (%zu bytes): %d blocks in %.1f ms\n", len, d->block_count, ms);
        CHECK(d->block_count > 9000 && d->block_count < 12000);
        CHECK_INT(count_str(d->html, "data-block-idx="), d->block_count);
        CHECK(html_ok(d->html));
    }
    doc_destroy(d);
    free(md);
}

int main(void)
{
    test_markdown_structure();
    test_markdown_loose_and_ordered();
    test_markdown_raw_html();
    test_markdown_entities();
    test_markdown_split_inline();
    test_markdown_autolinks();
    test_markdown_empty_blocks();
    test_html_main_text();
    test_html_fallbacks();
    test_text();
    test_pauses();
    test_html_anchors();
    test_invalid_utf8();
    test_titles();
    test_formats();
    test_control_chars();
    test_generated();
    test_big_markdown();
    CHECK_DONE();
}
