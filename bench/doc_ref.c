/* doc_ref — the in-process reference for benchmark 5 (big documents): doc_build (markdown
 * parsing, splitting, rendering; the pure part of POST /v1/documents) on a file, timed.
 *
 *   doc_ref FILE [rounds=5] [format=markdown]
 *
 * Prints one JSON object: {"ms":[per round],"blocks","html_bytes","text_bytes"}. Built by
 * `make bench-tools` (build/bench/doc_ref); used by bench/bigdoc.mjs. */
#include "audio/audio.h"
#include "doc/doc.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: doc_ref FILE [rounds] [format]\n");
        return 2;
    }
    int rounds = argc > 2 ? atoi(argv[2]) : 5;
    enum doc_format fmt = DOC_MARKDOWN;
    if (argc > 3 && doc_format_parse(argv[3], &fmt)) {
        fprintf(stderr, "doc_ref: unknown format %s\n", argv[3]);
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    struct buf b = { 0 };
    if (buf_read_stream(&b, f)) {
        perror(argv[1]);
        return 1;
    }
    fclose(f);
    printf("{\"ms\":[");
    int blocks = 0;
    size_t html = 0, text = 0;
    for (int r = 0; r < rounds; r++) {
        char err[256] = "";
        double t0 = now_ms();
        struct doc *d = doc_build((const char *)b.data, b.len, fmt, NULL, err, sizeof err);
        double ms = now_ms() - t0;
        if (!d) {
            fprintf(stderr, "doc_ref: %s\n", err);
            return 1;
        }
        blocks = d->block_count;
        html = strlen(d->html);
        text = 0;
        for (int i = 0; i < d->block_count; i++)
            text += strlen(d->blocks[i].text);
        doc_destroy(d);
        printf("%s%.3f", r ? "," : "", ms);
    }
    printf("],\"blocks\":%d,\"html_bytes\":%zu,\"text_bytes\":%zu}\n", blocks, html, text);
    buf_free(&b);
    return 0;
}
