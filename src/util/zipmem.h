/* zipmem — a libarchive reader over a zip archive held in memory (EPUB books, Kokoro's
 * voices .npz): the one place that sets it up. */
#pragma once
#include <stddef.h>

struct archive;

/* A reader positioned before the first entry of the zip at data[0..len), or NULL with `err`
 * set: "out of memory", or `not_zip` when the bytes are not a zip archive. The caller walks
 * it with archive_read_next_header() and frees it with archive_read_free(). */
struct archive *zipmem_open(const void *data, size_t len, const char *not_zip, char *err,
                            size_t errlen);
