/* fuzz_pdf — libFuzzer target for the PDF front-end (doc/pdf.c, doc/pdf_layout.c).
 *
 * First byte even: the rest is a PDF file through doc_build (poppler-glib parses; poppler
 * itself is not instrumented, so coverage guides through our side). First byte odd: the
 * rest describes text segments for pdf_layout_emit directly — 7 bytes of page step,
 * geometry and size, a length byte, then the text — which reaches the reading order,
 * running heads, paragraph and hyphenation rules thousands of times faster than whole
 * PDFs do. Seeds: `build/tests/test_import --seeds DIR` writes the test PDFs. */
#include "doc/builder.h"
#include "doc/pdf_layout.h"
#include "fuzz_import_check.h"
#include <stdint.h>

#define MAX_SEGS 512

static void fuzz_layout(const uint8_t *p, size_t n)
{
    struct pdf_line segs[MAX_SEGS];
    struct pdf_page_size pages[MAX_SEGS] = { { 0, 0 } };
    size_t k = 0;
    int page = 0;
    while (n >= 8 && k < MAX_SEGS) {
        const uint8_t *h = p;
        size_t len = h[6] % 64u;
        p += 8, n -= 8;
        if (len > n)
            len = n;
        const char *text = (const char *)p;
        p += len, n -= len;
        if (!utf8_valid(text, len) || memchr(text, 0, len))
            continue;   /* poppler hands over valid UTF-8 */
        if (k && (h[0] & 1))
            page++;
        double x0 = h[1] * 3.0, y0 = h[2] * 4.0;
        segs[k++] = (struct pdf_line){ text, len, page, x0, y0, x0 + h[3] * 3.0,
                                       y0 + (h[7] & 0x3f) + 1, h[4] ? 1 + h[5] / 8.0 : 0,
                                       (h[7] >> 6) & 1 };
        pages[page] = (struct pdf_page_size){ 612, 792 };
    }
    struct builder *b = builder_create(true);
    if (!b)
        return;
    if (pdf_layout_emit(b, segs, k, pages, page + 1) >= 0) {
        struct doc *d = calloc(1, sizeof *d);
        char *heading = NULL;
        if (d && builder_finish(b, d, &heading) == 0) {
            d->title = strdup("t");
            import_check(d, "");
        }
        free(heading);
        doc_destroy(d);
    }
    builder_destroy(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1) {
        fuzz_layout(data + 1, size - 1);
        return 0;
    }
    char err[256] = "";
    struct doc *d = doc_build((const char *)data + 1, size - 1, DOC_PDF, NULL, err, sizeof err);
    import_check(d, err);
    doc_destroy(d);
    return 0;
}
