/* Minimal test harness: CHECK macros print both values on failure; main() returns the
 * number of failures so `make unit` stops at the first failing module. */
#ifndef RECITE_CHECK_H
#define RECITE_CHECK_H
#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(cond) do { if (!(cond)) { check_failures++; \
    fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_INT(a, b) do { long long _a = (long long)(a), _b = (long long)(b); if (_a != _b) { \
    check_failures++; fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", \
    __FILE__, __LINE__, #a, #b, _a, _b); } } while (0)
#define CHECK_STR(a, b) do { const char *_a = (a), *_b = (b); \
    if (!_a || !_b || strcmp(_a, _b) != 0) { check_failures++; \
    fprintf(stderr, "%s:%d: %s == %s failed:\n  got:  \"%s\"\n  want: \"%s\"\n", \
    __FILE__, __LINE__, #a, #b, _a ? _a : "(null)", _b ? _b : "(null)"); } } while (0)
/* UTF-16 length of a UTF-8 prefix of valid text: an oracle for word-timing offsets, kept
 * independent of util/utf8.c's utf8_utf16_units so a bug there cannot hide in both. */
static inline int u16_len(const char *s, size_t n)
{
    int u = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xc0) != 0x80)
            u += c >= 0xf0 ? 2 : 1;
    }
    return u;
}

#define CHECK_DONE() do { if (check_failures) fprintf(stderr, "%d check(s) failed\n", \
    check_failures); else printf("ok\n"); return check_failures != 0; } while (0)
#endif
