/* range — parsing of an HTTP Range header against a known length. Pure (fuzzed). */
#ifndef RECITE_RANGE_H
#define RECITE_RANGE_H
#include <stddef.h>
enum range_result { RANGE_NONE, RANGE_OK, RANGE_UNSATISFIABLE };
/* One "bytes=" range: a-b, a-, or -suffix. Anything else (other units, several ranges,
 * garbage) is RANGE_NONE: serve the whole body, as RFC 9110 allows. first and last are inclusive. */
enum range_result range_parse(const char *header, size_t total, size_t *first, size_t *last);
#endif
