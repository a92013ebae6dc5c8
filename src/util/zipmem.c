/* zipmem — see zipmem.h. Thread: any (a reader belongs to its caller). */
#include "util/zipmem.h"
#include <archive.h>
#include <stdio.h>

struct archive *zipmem_open(const void *data, size_t len, const char *not_zip, char *err,
                            size_t errlen)
{
    struct archive *a = archive_read_new();
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    archive_read_support_format_zip(a);
    if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
        snprintf(err, errlen, "%s", not_zip);
        archive_read_free(a);
        return NULL;
    }
    return a;
}
