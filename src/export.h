/* export — a run of a document's blocks, rendered on worker threads, written in order to
 * one audio file with memory bounded by a few blocks (never the whole book). Audio that the
 * data directory already holds for the same variant (text | model | voice) is decoded and
 * reused instead of synthesized. `recite export` uses it; chapter export can call it once
 * per chapter. Called from one thread; it starts and joins its own workers. */
#ifndef RECITE_EXPORT_H
#define RECITE_EXPORT_H
#include "audio/audio.h"
#include <stdint.h>

struct model;

struct export_block {
    const char *text;
    int pause_ms;           /* extra silence after the block, beyond the pads in its audio */
};

struct export_opts {
    const struct model *model;
    const char *voice;
    const char *data_dir;   /* reuse its cached audio if DIR/recite.db exists; may be NULL */
    int threads;            /* worker threads (< 1: one) */
    void (*progress)(void *ctx, int done, int total);   /* main thread, after each block */
    /* optional, main thread: block idx starts at at_ms in the file (chapter marks) */
    void (*block_start)(void *ctx, int idx, int64_t at_ms);
    void *ctx;
};

struct export_stats {
    int cached, synthesized, skipped;
    int64_t duration_ms;    /* of the file written */
};

/* Renders blocks[0..n) and writes them to a new file `path` in `fmt` (opened at the rate
 * of the first block that has audio; later blocks at another rate are resampled). 0, or -1
 * with a message in err (a failing block stops the export; the partial file stays).
 * "nothing to say" when no block had audio (no file is created then). */
int export_run(const struct export_opts *o, const struct export_block *blocks, int n,
               const char *path, enum audio_format fmt, struct export_stats *st, char *err,
               size_t errlen);
#endif
