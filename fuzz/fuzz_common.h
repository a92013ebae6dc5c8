/* fuzz_common — helpers shared by the fuzz targets: a throw-away data directory that is
 * removed at exit, and a quiet log. Header-only so each target stays one file. */
#ifndef RECITE_FUZZ_COMMON_H
#define RECITE_FUZZ_COMMON_H
#include "util/log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fuzz_dir[64];

static void fuzz_rm_dir(void)
{
    static const char *const names[] = { "recite.db", "recite.db-wal", "recite.db-shm",
                                         "recite.db-journal" };
    char p[128];
    if (!fuzz_dir[0])
        return;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", fuzz_dir, names[i]);
        unlink(p);
    }
    rmdir(fuzz_dir);
}

/* Creates /tmp/recite-fuzz-XXXXXX (removed at exit) and returns its path. */
static const char *fuzz_make_dir(void)
{
    snprintf(fuzz_dir, sizeof fuzz_dir, "/tmp/recite-fuzz-XXXXXX");
    if (!mkdtemp(fuzz_dir)) {
        perror("mkdtemp");
        abort();
    }
    atexit(fuzz_rm_dir);
    return fuzz_dir;
}
#endif
