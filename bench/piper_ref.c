/* piper_ref — the raw ONNX Runtime reference for bench/piper.mjs: for each block text, the
 * piper engine's own steps timed apart, with nothing of the server around them — Piper's
 * phonemizer (espeak-ng) and the model's Run calls on one session (the raw ORT call), per
 * block, one block at a time, after one warm-up block (the session is created on it).
 *
 *   piper_ref [--threads N] --voices DIR --voice NAME TEXTS
 *   piper_ref --stdin [--threads N] --voices DIR --voice NAME
 *
 * --threads: ONNX Runtime's intra-op pool (the calling thread included). Default: the
 * online cores, the pool `recite serve --workers 1` gives its one worker (piper.c
 * pool_threads), so the raw call and the server's run the model with the same thread
 * budget. (Before, this ran on 1 thread while the server's worker had 2.)
 *
 * TEXTS: block texts separated by NUL bytes (the same texts the server stored). Output, one
 * JSON object: {"threads":N,"phon_ms":[...],"ort_ms":[...],"audio_ms":[...]} per block, audio_ms being
 * the model's output length (before the pads engine_render fits). --stdin: reads
 * NUL-terminated texts and answers each with one line {"phon_ms","ort_ms","audio_ms"} (then
 * flushes), so bench/piper.mjs alternates it with the server block by block (lib.mjs
 * rawServer): on a shared machine both then see the same load.
 * Built by `make bench-tools` (build/bench/piper_ref). */
#include "audio/audio.h"
#include "config.h"
#include "engines/engine.h"
#include "engines/piper_config.h"
#include "engines/piper_ort.h"
#include "engines/piper_phonemes.h"
#include "util/log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One block: phonemize, then one Run per sentence. */
static int block(const struct piper_config *cfg, struct piper_model *m, const char *text,
                 double *phon_ms, double *ort_ms, double *audio_ms)
{
    char err[512];
    struct piper_text t;
    double t0 = now_ms();
    if (piper_phonemize(cfg->espeak_voice, text, &t, err, sizeof err) < 0) {
        fprintf(stderr, "piper_ref: %s\n", err);
        return -1;
    }
    *phon_ms = now_ms() - t0;
    *ort_ms = 0;
    size_t samples = 0;
    const float scales[3] = { cfg->noise_scale, cfg->length_scale, cfg->noise_w };
    for (int i = 0; i < t.count; i++) {
        int64_t *ids;
        int n = piper_config_ids(cfg, t.s[i].phon, t.s[i].nphon, &ids, NULL);
        struct piper_run r;
        double t1 = now_ms();
        int rc = n > 0 ? piper_model_run(m, ids, n, scales, -1, &r, err, sizeof err) : -1;
        *ort_ms += now_ms() - t1;
        free(ids);
        if (rc < 0) {
            fprintf(stderr, "piper_ref: %s\n", err);
            piper_text_free(&t);
            return -1;
        }
        samples += r.count;
        piper_run_free(&r);
    }
    *audio_ms = (double)samples * 1000.0 / cfg->sample_rate;
    piper_text_free(&t);
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *voice = NULL, *file = NULL;
    long threads = sysconf(_SC_NPROCESSORS_ONLN);
    int use_stdin = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--stdin"))
            use_stdin = 1;
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atol(argv[++i]);
        else if (!strcmp(argv[i], "--voices") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--voice") && i + 1 < argc)
            voice = argv[++i];
        else
            file = argv[i];
    }
    if (!dir || !voice || (!file && !use_stdin) || threads < 1 || threads > 64) {
        fprintf(stderr, "usage: piper_ref [--stdin] [--threads N] --voices DIR --voice NAME [TEXTS]\n");
        return 2;
    }
    log_set_level(1);
    char err[512] = "", path[4096];
    struct config cfg_cli = { .workers = 1, .voices_dir = (char *)"/nonexistent" };   /* piper off: the session is ours */
    engines_set_config(&cfg_cli);
    if (engines_init(err, sizeof err) <= 0 || piper_ort_init((int)threads, err, sizeof err) < 0) {
        fprintf(stderr, "piper_ref: %s\n", err);
        return 1;
    }
    struct buf js = { 0 }, tx = { 0 };
    struct piper_config cfg;
    snprintf(path, sizeof path, "%s/%s.onnx.json", dir, voice);
    if (buf_read_file(&js, path) || piper_config_parse((const char *)js.data, js.len, &cfg, err, sizeof err) ||
        (file && buf_read_file(&tx, file)) || buf_append(&tx, "", 1)) {
        fprintf(stderr, "piper_ref: %s: %s\n", path, err[0] ? err : "cannot read");
        return 1;
    }
    snprintf(path, sizeof path, "%s/%s.onnx", dir, voice);
    struct piper_model *m = piper_model_load(path, 0, err, sizeof err);
    if (!m) {
        fprintf(stderr, "piper_ref: %s: %s\n", path, err);
        return 1;
    }
    double p, o, a;
    if (block(&cfg, m, "Warming up the voice before measuring.", &p, &o, &a) < 0)
        return 1;
    if (use_stdin) {
        struct buf line = { 0 };
        int ch, rc = 0;
        while (rc == 0 && (ch = getchar()) != EOF) {
            char c = (char)ch;
            if (buf_append(&line, &c, 1) < 0)
                break;
            if (ch)
                continue;
            rc = block(&cfg, m, (const char *)line.data, &p, &o, &a);
            if (rc == 0)
                printf("{\"threads\":%ld,\"phon_ms\":%.3f,\"ort_ms\":%.3f,\"audio_ms\":%.1f}\n",
                       threads, p, o, a);
            fflush(stdout);
            line.len = 0;
        }
        buf_free(&line);
        if (rc)
            return 1;
        goto done;
    }
    printf("{\"threads\":%ld,\"phon_ms\":[", threads);
    struct buf ort = { 0 }, aud = { 0 };
    char num[64];
    int k = 0;
    for (size_t off = 0; off < tx.len - 1; k++) {
        const char *text = (const char *)tx.data + off;
        off += strlen(text) + 1;
        if (block(&cfg, m, text, &p, &o, &a) < 0)
            return 1;
        printf("%s%.3f", k ? "," : "", p);
        int n = snprintf(num, sizeof num, "%s%.3f", k ? "," : "", o);
        buf_append(&ort, num, (size_t)n);
        n = snprintf(num, sizeof num, "%s%.1f", k ? "," : "", a);
        buf_append(&aud, num, (size_t)n);
    }
    printf("],\"ort_ms\":[%.*s],\"audio_ms\":[%.*s]}\n", (int)ort.len, ort.data ? (char *)ort.data : "",
           (int)aud.len, aud.data ? (char *)aud.data : "");
    buf_free(&ort);
    buf_free(&aud);
done:
    piper_model_free(m);
    piper_config_free(&cfg);
    buf_free(&js);
    buf_free(&tx);
    engines_cleanup();
    piper_ort_cleanup();
    return 0;
}
