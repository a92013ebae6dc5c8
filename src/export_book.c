/* export_book — render, mark chapters, write the audiobook (see export_book.h). One thread
 * (export_run starts and joins its own workers). The block start times are this call's. */
#include "export_book.h"
#include "doc/chapters.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct marks {
    const struct export_opts *user;   /* the caller's callbacks, forwarded */
    int64_t *start_ms;                /* per block */
};

static void on_block_start(void *ctx, int idx, int64_t at_ms)
{
    struct marks *m = ctx;
    m->start_ms[idx] = at_ms;
    if (m->user->block_start)
        m->user->block_start(m->user->ctx, idx, at_ms);
}

static void on_progress(void *ctx, int done, int total)
{
    struct marks *m = ctx;
    if (m->user->progress)
        m->user->progress(m->user->ctx, done, total);
}

int export_book(const struct export_opts *o, const struct export_block *blocks, int n,
                const struct chapter *ch, int nch, const struct book_meta *meta,
                const char *path, enum book_format fmt, struct export_stats *st,
                char *err, size_t errlen)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.rendering.ogg", path) >= (int)sizeof tmp) {
        snprintf(err, errlen, "the output path is too long");
        return -1;
    }
    struct marks m = { .user = o, .start_ms = calloc((size_t)(n > 0 ? n : 1), sizeof(int64_t)) };
    struct book_chapter *bc = calloc((size_t)(nch > 0 ? nch : 1), sizeof *bc);
    int rc = -1;
    if (!m.start_ms || !bc) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    struct export_opts mine = *o;
    mine.progress = on_progress;
    mine.block_start = on_block_start;
    mine.ctx = &m;
    if (export_run(&mine, blocks, n, tmp, AUDIO_FMT_OPUS, st, err, errlen))
        goto out;
    int k = 0;
    for (int i = 0; i < nch; i++) {
        if (ch[i].block < 0 || ch[i].block >= n)
            continue;
        int64_t at = m.start_ms[ch[i].block];
        if (k && at <= bc[k - 1].start_ms)
            continue;   /* a chapter with no audio of its own joins the next one */
        bc[k++] = (struct book_chapter){ .start_ms = at, .title = ch[i].title };
    }
    for (int i = 0; i < k; i++)
        bc[i].end_ms = i + 1 < k ? bc[i + 1].start_ms : st->duration_ms;
    if (k && bc[0].start_ms > 0)
        bc[0].start_ms = 0;
    rc = book_write(tmp, path, fmt, bc, k, meta, err, errlen);
out:
    unlink(tmp);
    free(m.start_ms);
    free(bc);
    return rc;
}
