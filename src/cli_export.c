/* cli_export — `recite export`: a whole document (from the data dir by id, or a local
 * file: text, markdown, HTML, PDF, EPUB) to one audio file, streamed block by block
 * (export.c: worker threads, audio the data dir already has reused, memory bounded by a
 * few blocks), with a progress bar on a terminal. .m4b, and .ogg/.mp3 of a document with
 * chapters, are audiobooks with chapter marks and title/author (export_book.c). Main
 * thread (the workers are export.c's). */
#include "cli.h"
#include "export.h"
#include "export_book.h"
#include "doc/chapters.h"
#include "audio/audio.h"
#include "doc/doc.h"
#include "engines/engine.h"
#include "store/store.h"
#include "util/ids.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void progress(void *ctx, int done, int total)
{
    (void)ctx;
    if (!isatty(STDERR_FILENO))
        return;
    int width = 30, fill = total ? done * width / total : width;
    fprintf(stderr, "\r[%.*s%*s] %d/%d blocks", fill, "##############################",
            width - fill, "", done, total);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

/* Loads the document's blocks: a file path if it exists, else a document id in --data. */
static int load_blocks(const struct config *cfg, const char *what, struct doc **doc,
                       struct doc_record *rec, const struct doc_block **blocks, int *n)
{
    char err[256] = "";
    struct stat st;
    if (!stat(what, &st) && S_ISREG(st.st_mode)) {
        FILE *f = fopen(what, "rb");
        struct buf data = { 0 };   /* bytes, not a string: PDF and EPUB files hold NULs */
        int bad = !f || buf_read_stream(&data, f);
        if (f)
            fclose(f);
        enum doc_format fmt;
        if (doc_format_guess(what, NULL, &fmt))
            fmt = DOC_TEXT;
        *doc = bad ? NULL : doc_build((const char *)data.data, data.len, fmt, NULL, err, sizeof err);
        buf_free(&data);
        if (!*doc) {
            fprintf(stderr, "recite export: cannot read %s: %s\n", what, err[0] ? err : "read error");
            return -1;
        }
        *blocks = (*doc)->blocks;
        *n = (*doc)->block_count;
        return 0;
    }
    if (!ids_is_uuid(what)) {
        fprintf(stderr, "recite export: %s is neither a file nor a document id\n", what);
        return -1;
    }
    struct store *s = store_open(cfg->data_dir, err, sizeof err);
    if (!s) {
        fprintf(stderr, "recite export: cannot open %s: %s\n", cfg->data_dir, err);
        return -1;
    }
    int rc = store_doc_get(s, STORE_OWNER_ANY, what, rec);
    store_close(s);
    if (rc) {
        fprintf(stderr, "recite export: no document %s in %s\n", what, cfg->data_dir);
        return -1;
    }
    *blocks = rec->blocks;
    *n = rec->block_count;
    return 0;
}

int cli_export(const struct config *cfg)
{
    char err[256] = "";
    if (cfg->nargs != 1 || !cfg->output) {
        config_usage(stderr, CMD_EXPORT);
        return 2;
    }
    enum audio_format fmt = AUDIO_FMT_OPUS;
    enum book_format bfmt;
    int is_book = book_format_for(cfg->output, &bfmt) == 0;
    if (audio_format_for(cfg->output, &fmt) && !is_book) {
        fprintf(stderr, "recite export: the output file must end in .m4b, .ogg, .mp3 or .wav\n");
        return 2;
    }
    struct doc *doc = NULL;
    struct doc_record rec = { 0 };
    const struct doc_block *blocks;
    int n, rc = 1;
    if (load_blocks(cfg, cfg->args[0], &doc, &rec, &blocks, &n))
        return 1;
    const struct model *m = NULL;
    struct engine *e = NULL;
    struct export_block *eb = calloc((size_t)n + 1, sizeof *eb);
    struct chapter *ch = NULL;
    int nch = 0;
    if (cli_engine_open(cfg, "export", &m, &e)) {
        rc = 2;
        goto out;
    }
    m->ops->destroy(e);   /* the check is done; each export worker makes its own */
    e = NULL;
    if (!eb)
        goto out;
    for (int i = 0; i < n; i++)
        eb[i] = (struct export_block){ blocks[i].text, i + 1 < n ? blocks[i].pause_ms : 0 };
    struct export_opts o = { .model = m, .voice = cfg->voice, .data_dir = cfg->data_dir,
                             .threads = cfg->workers, .progress = progress };
    struct export_stats st;
    const char *html = doc ? doc->html : rec.html, *title = doc ? doc->title : rec.s.title;
    struct book_meta meta = { title, doc ? doc->author : rec.author };
    nch = chapters_find(html, n, title, &ch);
    if (nch < 0)
        goto out;
    /* .m4b is always a book; .ogg and .mp3 become one when there are chapters to mark */
    is_book = is_book && (bfmt == BOOK_M4B || nch > 1);
    progress(NULL, 0, n);
    if (is_book ? export_book(&o, eb, n, ch, nch, &meta, cfg->output, bfmt, &st, err, sizeof err)
                : export_run(&o, eb, n, cfg->output, fmt, &st, err, sizeof err)) {
        fprintf(stderr, "%srecite export: %s\n", isatty(STDERR_FILENO) ? "\n" : "", err);
        goto out;
    }
    fprintf(stderr, "%s: %d blocks (%d from the cache), %.1f s of audio", cfg->output, n,
            st.cached, (double)st.duration_ms / 1000.0);
    if (is_book)
        fprintf(stderr, ", %d chapter%s", nch, nch == 1 ? "" : "s");
    fputc('\n', stderr);
    rc = 0;
out:
    if (e)
        m->ops->destroy(e);
    free(eb);
    chapters_free(ch, nch);
    doc_destroy(doc);
    doc_record_free(&rec);
    engines_cleanup();
    return rc;
}
