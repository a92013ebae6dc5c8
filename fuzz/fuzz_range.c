/* fuzz_range — libFuzzer target for the pure request parsers of GET /v1/audio/{hash}:
 * range_parse (HTTP Range against a known length), ids_is_hash / ids_is_uuid (the path
 * segments of /v1/audio/{hash} and /v1/documents/{id}) and utf8_valid.
 *
 * Input: 8 bytes of total length, then the header text. Checked properties:
 *   - RANGE_OK means first <= last < total (so the memcpy in api_audio.c is in bounds);
 *   - ids_is_hash accepts exactly 64 lowercase hex digits, ids_is_uuid exactly the
 *     8-4-4-4-12 hex form. */
#include "server/range.h"
#include "util/ids.h"
#include "util/utf8.h"
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(...) do { fprintf(stderr, "fuzz_range: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

static int is_hash_ref(const char *s)
{
    size_t n = strlen(s);
    if (n != 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
            return 0;
    return 1;
}

static int is_uuid_ref(const char *s)
{
    if (strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    uint64_t total = 0;
    memcpy(&total, data, 8);
    /* small totals are the interesting ones; keep some huge ones too */
    if (!(total >> 63))
        total %= 1u << 20;
    char *h = malloc(size - 8 + 1);
    if (!h)
        return 0;
    memcpy(h, data + 8, size - 8);
    h[size - 8] = '\0';

    size_t first = 0, last = 0;
    enum range_result r = range_parse(h, (size_t)total, &first, &last);
    if (r == RANGE_OK && !(first <= last && last < total))
        FAIL("range \"%s\" of %llu gave %zu-%zu", h, (unsigned long long)total, first, last);
    if (r != RANGE_OK && r != RANGE_NONE && r != RANGE_UNSATISFIABLE)
        FAIL("unknown result %d", (int)r);

    if (!!ids_is_hash(h) != is_hash_ref(h))
        FAIL("ids_is_hash(\"%s\") = %d", h, (int)ids_is_hash(h));
    if (ids_is_uuid(h) && !is_uuid_ref(h))
        FAIL("ids_is_uuid accepted \"%s\"", h);
    (void)utf8_valid(h, size - 8);
    free(h);
    return 0;
}
