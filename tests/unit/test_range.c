/* Unit tests of HTTP Range parsing (GET /v1/audio/{hash} answers 206 / 416 from these). */
#include "check.h"
#include "server/range.h"

static void expect(const char *h, size_t total, enum range_result want, size_t first, size_t last)
{
    size_t f = 12345, l = 12345;
    enum range_result got = range_parse(h, total, &f, &l);
    CHECK_INT(got, want);
    if (got == want && want == RANGE_OK) {
        CHECK_INT(f, first);
        CHECK_INT(l, last);
    }
}

int main(void)
{
    expect("bytes=0-99", 1000, RANGE_OK, 0, 99);
    expect("bytes=100-", 1000, RANGE_OK, 100, 999);
    expect("bytes=-10", 1000, RANGE_OK, 990, 999);
    expect("bytes=-5000", 1000, RANGE_OK, 0, 999);
    expect("bytes=900-5000", 1000, RANGE_OK, 900, 999);
    expect("bytes=999-999", 1000, RANGE_OK, 999, 999);
    expect("bytes=1000-", 1000, RANGE_UNSATISFIABLE, 0, 0);
    expect("bytes=-0", 1000, RANGE_UNSATISFIABLE, 0, 0);
    expect("bytes=5-1", 1000, RANGE_NONE, 0, 0);
    expect("bytes=0-1,5-9", 1000, RANGE_NONE, 0, 0);
    expect("items=0-1", 1000, RANGE_NONE, 0, 0);
    expect("bytes=abc", 1000, RANGE_NONE, 0, 0);
    expect("bytes=", 1000, RANGE_NONE, 0, 0);
    expect("bytes=99999999999999999999999-", 1000, RANGE_NONE, 0, 0);
    expect(NULL, 1000, RANGE_NONE, 0, 0);
    CHECK_DONE();
}
