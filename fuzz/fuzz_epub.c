/* fuzz_epub — libFuzzer target for the EPUB front-end (doc/epub.c and the HTML front-end
 * it feeds). The input is the EPUB file. libarchive and libxml2 are not instrumented;
 * coverage guides through the container, package, spine, TOC and path resolution code.
 * Seeds: `build/tests/test_import --seeds DIR` writes the test EPUBs. */
#include "fuzz_import_check.h"
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256] = "";
    struct doc *d = doc_build((const char *)data, size, DOC_EPUB, NULL, err, sizeof err);
    import_check(d, err);
    doc_destroy(d);
    return 0;
}
