/* test_import — the PDF and EPUB front-ends on documents made here: a two-column PDF with a
 * running head, page numbers, a hyphenated line end and a paragraph running across a
 * column and a page (drawn with cairo, which poppler-glib already depends on); a PDF
 * without text, a password-protected one and a damaged one; an EPUB zipped here with
 * libarchive (spine order differing from the manifest, a chapter without a heading named
 * by the nav document, footnote markers, a linear="no" notes file); a zip bomb; and the
 * layout rules alone on synthetic lines. */
#include "check.h"
#include "doc/builder.h"
#include "doc/chapters.h"
#include "doc/doc.h"
#include "doc/pdf_layout.h"
#include <archive.h>
#include <archive_entry.h>
#include <cairo-pdf.h>
#include <cairo.h>
#include <stdlib.h>
#include <string.h>

/* ---- fixtures ----------------------------------------------------------------------- */

struct mem { unsigned char *p; size_t len, cap; };

static cairo_status_t mem_write(void *closure, const unsigned char *data, unsigned int n)
{
    struct mem *m = closure;
    if (m->len + n > m->cap) {
        m->cap = (m->len + n) * 2;
        m->p = realloc(m->p, m->cap);
    }
    memcpy(m->p + m->len, data, n);
    m->len += n;
    return CAIRO_STATUS_SUCCESS;
}

static void lines_at(cairo_t *cr, double x, double y, const char *const *lines)
{
    for (; *lines; lines++, y += 12) {
        cairo_move_to(cr, x, y);
        cairo_show_text(cr, *lines);
    }
}

static void running_head(cairo_t *cr, const char *page)
{
    cairo_set_font_size(cr, 9);
    cairo_move_to(cr, 50, 30);
    cairo_show_text(cr, "Journal of Tests \xe2\x80\x94 Volume 3");
    cairo_move_to(cr, 290, 815);
    cairo_show_text(cr, page);
    cairo_set_font_size(cr, 10);
}

/* Two A4 pages, two columns on the first. */
static struct mem make_pdf(void)
{
    struct mem m = { 0 };
    cairo_surface_t *s = cairo_pdf_surface_create_for_stream(mem_write, &m, 595, 842);
    cairo_t *cr = cairo_create(s);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    running_head(cr, "1");
    cairo_set_font_size(cr, 18);
    cairo_move_to(cr, 50, 80);
    cairo_show_text(cr, "Reading Machines");
    cairo_set_font_size(cr, 10);
    static const char *const p1[] = { "Machines that read aloud have a long his-",
                                      "tory, and the first of them were built",
                                      "for people who could not see the page.", NULL };
    lines_at(cr, 50, 120, p1);
    static const char *const p2[] = { "Later systems learned to follow the lay-", NULL };
    lines_at(cr, 62, 164, p2);
    static const char *const p2b[] = { "out of a page, reading columns in order,",
                                       "and skipping the running heads that", NULL };
    lines_at(cr, 50, 176, p2b);
    static const char *const p2c[] = { "repeat on every page, which a listener",
                                       "never wants to hear again.", NULL };
    lines_at(cr, 315, 120, p2c);
    static const char *const p3[] = { "Page numbers are dropped as well, since",
                                      "they mean nothing when the text is", NULL };
    lines_at(cr, 315, 164, p3);
    cairo_show_page(cr);
    running_head(cr, "2");
    static const char *const p3b[] = { "spoken from beginning to end.", NULL };
    lines_at(cr, 50, 120, p3b);
    static const char *const p4[] = { "A scanned page has no text at all.", NULL };
    lines_at(cr, 50, 150, p4);
    cairo_show_page(cr);
    cairo_destroy(cr);
    cairo_surface_finish(s);
    cairo_surface_destroy(s);
    return m;
}

/* A report with headings set in bold at body size, a bold word inside a paragraph, and
 * line-end hyphens the shared rule keeps ("well-" "known") and joins ("exam-" "ple"). */
static struct mem make_bold_pdf(void)
{
    struct mem m = { 0 };
    cairo_surface_t *s = cairo_pdf_surface_create_for_stream(mem_write, &m, 595, 842);
    cairo_t *cr = cairo_create(s);
    cairo_set_font_size(cr, 10);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_move_to(cr, 50, 80);
    cairo_show_text(cr, "Introduction");
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    static const char *const p1[] = { "This report describes how a reader finds the headings", NULL };
    lines_at(cr, 50, 94, p1);
    cairo_move_to(cr, 50, 106);
    cairo_show_text(cr, "of a report, even when a ");
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_show_text(cr, "bold");
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_show_text(cr, " word sits inside a line.");
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_move_to(cr, 50, 134);
    cairo_show_text(cr, "2.1 Method");
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    static const char *const p2[] = { "The method is simple and well-", "known: every exam-",
                                      "ple in this report was drawn by the test itself.", NULL };
    lines_at(cr, 50, 148, p2);
    cairo_show_page(cr);
    cairo_destroy(cr);
    cairo_surface_finish(s);
    cairo_surface_destroy(s);
    return m;
}

static struct mem make_scanned_pdf(void)
{
    struct mem m = { 0 };
    cairo_surface_t *s = cairo_pdf_surface_create_for_stream(mem_write, &m, 595, 842);
    cairo_t *cr = cairo_create(s);
    cairo_rectangle(cr, 50, 50, 400, 300);   /* a picture, no text */
    cairo_fill(cr);
    cairo_show_page(cr);
    cairo_destroy(cr);
    cairo_surface_finish(s);
    cairo_surface_destroy(s);
    return m;
}

/* A PDF whose standard security handler wants a user password (keys made up). */
static char *make_encrypted_pdf(size_t *len)
{
    static const char *const objs[] = {
        "1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n",
        "2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n",
        "3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj\n",
        "4 0 obj << /Filter /Standard /V 1 /R 2 /O <00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff>"
        " /U <ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100> /P -4 >> endobj\n",
    };
    char *out = malloc(4096);
    size_t off[4], n = (size_t)sprintf(out, "%%PDF-1.4\n");
    for (int i = 0; i < 4; i++) {
        off[i] = n;
        n += (size_t)sprintf(out + n, "%s", objs[i]);
    }
    size_t xref = n;
    n += (size_t)sprintf(out + n, "xref\n0 5\n0000000000 65535 f \n");
    for (int i = 0; i < 4; i++)
        n += (size_t)sprintf(out + n, "%010zu 00000 n \n", off[i]);
    n += (size_t)sprintf(out + n, "trailer << /Size 5 /Root 1 0 R /Encrypt 4 0 R /ID "
                         "[<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>] >>\n"
                         "startxref\n%zu\n%%%%EOF\n", xref);
    *len = n;
    return out;
}

struct zfile { const char *name; const char *body; size_t len; };

static struct mem make_zip(const struct zfile *f)
{
    struct mem m = { 0 };
    m.cap = 1 << 22;
    m.p = malloc(m.cap);
    struct archive *a = archive_write_new();
    archive_write_set_format_zip(a);
    archive_write_open_memory(a, m.p, m.cap, &m.len);
    for (; f->name; f++) {
        size_t len = f->len ? f->len : strlen(f->body);
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, f->name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)len);
        archive_write_header(a, e);
        archive_write_data(a, f->body, len);
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    return m;
}

static const char container[] =
    "<?xml version=\"1.0\"?><container version=\"1.0\" xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\">"
    "<rootfiles><rootfile full-path=\"OEBPS/content.opf\" media-type=\"application/oebps-package+xml\"/>"
    "</rootfiles></container>";

static const char opf[] =
    "<?xml version=\"1.0\"?><package xmlns=\"http://www.idpf.org/2007/opf\" version=\"3.0\">"
    "<metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:title>The Little  Book</dc:title>"
    "<dc:creator>A. Writer</dc:creator></metadata><manifest>"
    "<item id=\"c2\" href=\"text/ch%202.xhtml\" media-type=\"application/xhtml+xml\"/>"
    "<item id=\"nav\" href=\"nav.xhtml\" media-type=\"application/xhtml+xml\" properties=\"nav\"/>"
    "<item id=\"c1\" href=\"text/ch1.xhtml\" media-type=\"application/xhtml+xml\"/>"
    "<item id=\"notes\" href=\"text/notes.xhtml\" media-type=\"application/xhtml+xml\"/>"
    "<item id=\"img\" href=\"cover.png\" media-type=\"image/png\"/>"
    "</manifest><spine><itemref idref=\"nav\"/><itemref idref=\"c1\"/><itemref idref=\"img\"/>"
    "<itemref idref=\"c2\"/><itemref idref=\"notes\" linear=\"no\"/></spine></package>";

static const char nav[] =
    "<?xml version=\"1.0\"?><html xmlns=\"http://www.w3.org/1999/xhtml\" xmlns:epub=\"http://www.idpf.org/2007/ops\">"
    "<body><nav epub:type=\"toc\"><ol><li><a href=\"text/ch1.xhtml\">One</a></li>"
    "<li><a href=\"text/ch%202.xhtml#start\">The Second Chapter</a></li></ol></nav></body></html>";

static const char ch1[] =
    "<?xml version=\"1.0\"?><html xmlns=\"http://www.w3.org/1999/xhtml\" xmlns:epub=\"http://www.idpf.org/2007/ops\">"
    "<head><title>ch1</title></head><body><h1>Chapter One</h1><p><a id=\"p1\"/>It began"
    "<a epub:type=\"noteref\" href=\"notes.xhtml#n1\">1</a> with a word.</p></body></html>";

/* not well-formed XML (an HTML entity), so it goes through the HTML parser */
static const char ch2[] =
    "<html><body><p>Second&nbsp;text<sup><a href=\"notes.xhtml#n2\">[2]</a></sup> goes here.</p>"
    "<aside epub:type=\"footnote\"><p>An aside.</p></aside></body></html>";

static const char notes[] =
    "<html xmlns=\"http://www.w3.org/1999/xhtml\"><body><p id=\"n1\">A note.</p></body></html>";

static struct mem make_epub(void)
{
    const struct zfile files[] = {
        { "mimetype", "application/epub+zip", 0 }, { "META-INF/container.xml", container, 0 },
        { "OEBPS/content.opf", opf, 0 }, { "OEBPS/nav.xhtml", nav, 0 },
        { "OEBPS/text/ch1.xhtml", ch1, 0 }, { "OEBPS/text/ch 2.xhtml", ch2, 0 },
        { "OEBPS/text/notes.xhtml", notes, 0 }, { "OEBPS/cover.png", "\x89PNG", 4 }, { NULL, NULL, 0 },
    };
    return make_zip(files);
}

/* ---- tests -------------------------------------------------------------------------- */

static void check_blocks(const struct doc *d, const char *const *want)
{
    int n = 0;
    while (want[n])
        n++;
    CHECK_INT(d->block_count, n);
    for (int i = 0; i < n && i < d->block_count; i++)
        CHECK_STR(d->blocks[i].text, want[i]);
    for (int i = 0; i < d->block_count && check_failures; i++)
        fprintf(stderr, "  block %d: %s\n", i, d->blocks[i].text);
}

/* The document of a fixture PDF (freed here), or NULL with the reason printed. */
static struct doc *build_pdf(struct mem pdf)
{
    char err[256] = "";
    struct doc *d = doc_build((char *)pdf.p, pdf.len, DOC_PDF, NULL, err, sizeof err);
    CHECK(d != NULL);
    if (!d)
        fprintf(stderr, "pdf: %s\n", err);
    free(pdf.p);
    return d;
}

static void test_pdf(void)
{
    struct doc *d = build_pdf(make_pdf());
    if (!d)
        return;
    static const char *const want[] = {
        "Reading Machines",
        "Machines that read aloud have a long history, and the first of them were built for "
        "people who could not see the page.",
        "Later systems learned to follow the layout of a page, reading columns in order, and "
        "skipping the running heads that repeat on every page, which a listener never wants "
        "to hear again.",
        "Page numbers are dropped as well, since they mean nothing when the text is spoken "
        "from beginning to end.",
        "A scanned page has no text at all.",
        NULL,
    };
    check_blocks(d, want);
    CHECK_STR(d->title, "Reading Machines");
    CHECK(strstr(d->html, "<h1>") != NULL);
    CHECK(strstr(d->html, "Journal") == NULL);
    doc_destroy(d);
}

/* Bold body-size lines standing alone are headings (Contents, chapters); a bold word
 * inside a paragraph stays in it. */
static void test_pdf_bold_headings(void)
{
    struct doc *d = build_pdf(make_bold_pdf());
    if (!d)
        return;
    static const char *const want[] = {
        "Introduction",
        "This report describes how a reader finds the headings of a report, even when a bold "
        "word sits inside a line.",
        "2.1 Method",
        "The method is simple and well-known: every example in this report was drawn by the "
        "test itself.",
        NULL,
    };
    check_blocks(d, want);
    CHECK(strstr(d->html, ">Introduction</span></h1>") != NULL);
    CHECK(strstr(d->html, ">2.1 Method</span></h1>") != NULL);
    CHECK(strstr(d->html, ">bold</span></h1>") == NULL);
    doc_destroy(d);
}

static void test_pdf_errors(void)
{
    char err[256] = "";
    struct mem scan = make_scanned_pdf();
    CHECK(doc_build((char *)scan.p, scan.len, DOC_PDF, NULL, err, sizeof err) == NULL);
    CHECK(strstr(err, "no text layer") != NULL);
    free(scan.p);

    size_t len;
    char *enc = make_encrypted_pdf(&len);
    err[0] = '\0';
    CHECK(doc_build(enc, len, DOC_PDF, NULL, err, sizeof err) == NULL);
    CHECK(strstr(err, "password") != NULL);
    free(enc);

    static const char broken[] = "%PDF-1.4\n1 0 obj << /Type /Cat";
    err[0] = '\0';
    CHECK(doc_build(broken, sizeof broken - 1, DOC_PDF, NULL, err, sizeof err) == NULL);
    CHECK(strstr(err, "not a readable PDF") != NULL);
    err[0] = '\0';
    CHECK(doc_build("", 0, DOC_PDF, NULL, err, sizeof err) == NULL);
    CHECK(err[0] != '\0');
}

static void test_epub(void)
{
    struct mem z = make_epub();
    char err[256] = "";
    struct doc *d = doc_build((char *)z.p, z.len, DOC_EPUB, NULL, err, sizeof err);
    CHECK(d != NULL);
    if (!d) {
        fprintf(stderr, "epub: %s\n", err);
        free(z.p);
        return;
    }
    static const char *const want[] = {
        "The Little Book", "Chapter One", "It began with a word.", "The Second Chapter",
        "Second\xc2\xa0text goes here.", NULL,
    };
    check_blocks(d, want);
    CHECK_STR(d->title, "The Little Book");
    CHECK_STR(d->author, "A. Writer");
    CHECK(strstr(d->html, "<h1><span data-block-idx=\"0\">") != NULL);
    CHECK(strstr(d->html, "<h2><span data-block-idx=\"1\">") != NULL);
    CHECK(strstr(d->html, "<h2><span data-block-idx=\"3\">") != NULL);
    CHECK(strstr(d->html, "A note") == NULL);
    doc_destroy(d);
    free(z.p);
}

static void test_epub_errors(void)
{
    char err[256] = "";
    CHECK(doc_build("not a zip at all", 16, DOC_EPUB, NULL, err, sizeof err) == NULL);
    CHECK(strstr(err, "not an EPUB") != NULL);

    const struct zfile nocontainer[] = { { "mimetype", "application/epub+zip", 0 },
                                         { "a.xhtml", "<p>x</p>", 0 }, { NULL, NULL, 0 } };
    struct mem z = make_zip(nocontainer);
    err[0] = '\0';
    CHECK(doc_build((char *)z.p, z.len, DOC_EPUB, NULL, err, sizeof err) == NULL);
    CHECK(strstr(err, "container.xml") != NULL);
    free(z.p);

    /* 40 MiB of spaces deflate to ~40 KiB: refused without inflating it all */
    size_t big = 40u << 20;
    char *spaces = malloc(big);
    memset(spaces, ' ', big);
    const struct zfile bomb[] = { { "META-INF/container.xml", container, 0 },
                                  { "OEBPS/content.opf", opf, 0 },
                                  { "OEBPS/text/ch1.xhtml", spaces, big }, { NULL, NULL, 0 } };
    z = make_zip(bomb);
    free(spaces);
    CHECK(z.len < (1u << 20));
    err[0] = '\0';
    CHECK(doc_build((char *)z.p, z.len, DOC_EPUB, NULL, err, sizeof err) == NULL);
    CHECK(strstr(err, "zip bomb") != NULL);
    free(z.p);
}

/* Lays lines out into d (its parts freed by layout_free); returns the number emitted. */
static int layout_doc(const struct pdf_line *l, size_t n, const struct pdf_page_size *pages, int np,
                      struct doc *d, char **heading)
{
    struct builder *b = builder_create(true);
    int count = pdf_layout_emit(b, l, n, pages, np);
    CHECK_INT(builder_finish(b, d, heading), 0);
    builder_destroy(b);
    for (int i = 0; i < d->block_count && check_failures; i++)
        fprintf(stderr, "  block %d: %s\n", i, d->blocks[i].text);
    return count;
}

static void layout_free(struct doc *d, char *heading)
{
    free(heading);
    for (int i = 0; i < d->block_count; i++)
        free(d->blocks[i].text);
    free(d->blocks);
    free(d->html);
}

/* Layout rules on synthetic lines: page numbers in their forms, a heading that runs over
 * two lines, a bullet list. */
static void test_layout_rules(void)
{
    static const char *const texts[] = { "Page 1 of 3", "A Heading That", "Runs On",
                                         "\xe2\x80\xa2 first item", "\xe2\x80\xa2 second item.",
                                         "- xii -", "An ordinary line of text here." };
    struct pdf_line l[7];
    double y[] = { 800, 100, 122, 150, 162, 800, 100 };
    int page[] = { 0, 0, 0, 0, 0, 1, 1 };
    double size[] = { 10, 20, 20, 10, 10, 10, 10 };
    for (int i = 0; i < 7; i++)
        l[i] = (struct pdf_line){ texts[i], strlen(texts[i]), page[i], 50, y[i] - size[i], 300, y[i], size[i], 0 };
    struct pdf_page_size pages[2] = { { 595, 842 }, { 595, 842 } };
    struct doc d = { 0 };
    char *heading = NULL;
    int emitted = layout_doc(l, 7, pages, 2, &d, &heading);
    CHECK_INT(emitted, 4);
    CHECK_STR(heading, "A Heading That Runs On");
    CHECK_INT(d.block_count, 4);
    if (d.block_count == 4) {
        CHECK_STR(d.blocks[1].text, "\xe2\x80\xa2 first item");
        CHECK_STR(d.blocks[3].text, "An ordinary line of text here.");
    }
    layout_free(&d, heading);
}

/* Bold at body size: a line standing alone before body text is a heading; a whole line of
 * bold inside a running paragraph, a bold paragraph of two lines and a bold contents entry
 * with dot leaders are not. */
static void test_layout_bold(void)
{
    static const char *const texts[] = { "Results", "The figures show that the", "important finding",
                                         "holds in every case.", "Bold paragraph line one",
                                         "and line two.", "Last body line here.", "2 Method . . . 4",
                                         "More text follows." };
    double y[] = { 100, 112, 124, 136, 164, 176, 204, 232, 244 };
    int bold[] = { 1, 0, 1, 0, 1, 1, 0, 1, 0 };
    struct pdf_line l[9];
    for (int i = 0; i < 9; i++)
        l[i] = (struct pdf_line){ texts[i], strlen(texts[i]), 0, 50, y[i] - 10,
                                  50 + 5.0 * (double)strlen(texts[i]), y[i], 10, bold[i] };
    struct pdf_page_size page = { 595, 842 };
    struct doc d = { 0 };
    char *heading = NULL;
    int emitted = layout_doc(l, 9, &page, 1, &d, &heading);
    CHECK_INT(emitted, 5);
    CHECK_STR(heading, "Results");
    CHECK_INT(d.block_count, 5);
    if (d.block_count == 5) {
        CHECK_STR(d.blocks[1].text, "The figures show that the important finding holds in every case.");
        CHECK_STR(d.blocks[2].text, "Bold paragraph line one and line two.");
        CHECK_STR(d.blocks[4].text, "2 Method . . . 4 More text follows.");   /* a contents entry */
    }
    const char *h1 = d.html ? strstr(d.html, "</h1>") : NULL;   /* one heading only */
    CHECK(h1 != NULL && strstr(h1 + 5, "<h") == NULL);
    layout_free(&d, heading);
}

/* Chapters: the highest heading level that occurs more than once; what comes before the
 * first one is a chapter named by the title; a document without headings is one chapter. */
static void test_chapters(void)
{
    static const struct { const char *md; int n; const char *titles[5]; int blocks[5]; } cases[] = {
        { "# Book\n\nIntro.\n\n## One\n\nA.\n\n## Two &amp; more\n\nB.\n", 3,
          { "Book", "One", "Two & more" }, { 0, 2, 4 } },
        { "## One\n\nA.\n\n### Sub\n\nx\n\n## Two\n\nB.\n", 2, { "One", "Two" }, { 0, 4 } },
        { "Just a paragraph.\n\nAnd another.\n", 1, { "Doc" }, { 0 } },
        { "# Only\n\nText.\n", 1, { "Only" }, { 0 } },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char err[128];
        struct doc *d = doc_build(cases[k].md, strlen(cases[k].md), DOC_MARKDOWN, "Doc", err, sizeof err);
        struct chapter *c = NULL;
        int n = d ? chapters_find(d->html, d->block_count, d->title, &c) : -1;
        CHECK_INT(n, cases[k].n);
        for (int i = 0; i < n && i < cases[k].n; i++) {
            CHECK_STR(c[i].title, cases[k].titles[i]);
            CHECK_INT(c[i].block, cases[k].blocks[i]);
        }
        chapters_free(c, n);
        doc_destroy(d);
    }
    struct chapter *c = NULL;
    CHECK_INT(chapters_find("", 0, "x", &c), 0);
}

static void test_formats(void)
{
    enum doc_format f;
    CHECK(doc_format_guess("Book.EPUB", NULL, &f) == 0 && f == DOC_EPUB);
    CHECK(doc_format_guess("paper.pdf", NULL, &f) == 0 && f == DOC_PDF);
    CHECK(doc_format_guess("x", "application/pdf", &f) == 0 && f == DOC_PDF);
    CHECK(doc_format_parse("epub", &f) == 0 && f == DOC_EPUB);
    CHECK_STR(doc_format_name(DOC_PDF), "pdf");
}

static void write_seed(const char *dir, const char *target, const char *name, int prefix,
                       const void *p, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/%s", dir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    if (prefix >= 0)
        fputc(prefix, f);
    fwrite(p, 1, len, f);
    fclose(f);
}

/* `test_import --seeds fuzz/corpus` writes the fixtures as seeds for fuzz_pdf (first byte
 * 0: a whole PDF) and fuzz_epub. */
static int write_seeds(const char *dir)
{
    struct mem pdf = make_pdf(), scan = make_scanned_pdf(), epub = make_epub();
    size_t elen;
    char *enc = make_encrypted_pdf(&elen);
    write_seed(dir, "fuzz_pdf", "two-columns", 0, pdf.p, pdf.len);
    write_seed(dir, "fuzz_pdf", "scanned", 0, scan.p, scan.len);
    write_seed(dir, "fuzz_pdf", "encrypted", 0, enc, elen);
    write_seed(dir, "fuzz_epub", "book", -1, epub.p, epub.len);
    free(pdf.p);
    free(scan.p);
    free(epub.p);
    free(enc);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--seeds"))
        return write_seeds(argv[2]);
    test_formats();
    test_chapters();
    test_layout_rules();
    test_layout_bold();
    test_pdf();
    test_pdf_bold_headings();
    test_pdf_errors();
    test_epub();
    test_epub_errors();
    CHECK_DONE();
}
