/* cli_export — `recite export`: a whole document (from the data dir by id, or a local
 * file) to one audio file, block after block with the same pads the player uses, with a
 * progress bar on a terminal. Main thread only. */
#include "cli.h"
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

static void progress(int done, int total)
{
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
        char *data = f ? cli_read_all(f) : NULL;
        if (f)
            fclose(f);
        enum doc_format fmt;
        if (doc_format_guess(what, NULL, &fmt))
            fmt = DOC_TEXT;
        *doc = data ? doc_build(data, strlen(data), fmt, NULL, err, sizeof err) : NULL;
        free(data);
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
    audio_encoder_fn encode = cli_encoder_for(cfg->output);
    if (!encode) {
        fprintf(stderr, "recite export: the output file must end in .ogg, .wav or .mp3\n");
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
    struct pcm all = { 0 };
    struct buf out = { 0 };
    if (cli_engine_open(cfg, "export", &m, &e)) {
        rc = 2;
        goto out;
    }
    progress(0, n);
    for (int i = 0; i < n; i++) {
        struct synth_result sr;
        if (engine_render(m, e, cfg->voice, blocks[i].text, &sr, err, sizeof err)) {
            fprintf(stderr, "\nrecite export: block %d: %s\n", i, err);
            goto out;
        }
        if (sr.pcm.count && (!all.rate || all.rate == sr.pcm.rate)) {
            all.rate = sr.pcm.rate;
            pcm_append(&all, sr.pcm.samples, sr.pcm.count);
        }
        synth_result_free(&sr);
        progress(i + 1, n);
    }
    if (!all.count) {
        fprintf(stderr, "recite export: the document has nothing to say\n");
        goto out;
    }
    if (cli_encode(encode, &all, &out, err, sizeof err) || cli_write_file(cfg->output, &out)) {
        fprintf(stderr, "recite export: %s\n", err[0] ? err : "cannot write the output");
        goto out;
    }
    fprintf(stderr, "%s: %d blocks, %.1f s of audio\n", cfg->output, n,
            (double)pcm_duration_ms(&all) / 1000.0);
    rc = 0;
out:
    if (e)
        m->ops->destroy(e);
    pcm_free(&all);
    buf_free(&out);
    doc_destroy(doc);
    doc_record_free(&rec);
    engines_cleanup();
    return rc;
}
