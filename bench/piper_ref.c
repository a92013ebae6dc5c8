/* piper_ref — the raw ONNX Runtime reference for bench/piper.mjs: for each block text, the
 * piper engine's own steps timed apart, with nothing of the server around them — Piper's
 * phonemizer (espeak-ng) and the model's Run calls on one session (the raw ORT call), per
 * block, single-threaded, after one warm-up block (the session is created on it).
 *
 *   piper_ref --voices DIR --voice NAME TEXTS
 *
 * TEXTS: block texts separated by NUL bytes (the same texts the server stored). Output, one
 * JSON object: {"phon_ms":[...],"ort_ms":[...],"audio_ms":[...]} per block, audio_ms being
 * the model's output length (before the pads engine_render fits).
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
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--voices") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--voice") && i + 1 < argc)
            voice = argv[++i];
        else
            file = argv[i];
    }
    if (!dir || !voice || !file) {
        fprintf(stderr, "usage: piper_ref --voices DIR --voice NAME TEXTS\n");
        return 2;
    }
    log_set_level(1);
    char err[512] = "", path[4096];
    struct config cfg_cli = { .workers = 1, .voices_dir = (char *)"/nonexistent" };   /* piper off: the session is ours */
    engines_set_config(&cfg_cli);
    if (engines_init(err, sizeof err) <= 0 || piper_ort_init(1, err, sizeof err) < 0) {
        fprintf(stderr, "piper_ref: %s\n", err);
        return 1;
    }
    struct buf js = { 0 }, tx = { 0 };
    struct piper_config cfg;
    snprintf(path, sizeof path, "%s/%s.onnx.json", dir, voice);
    if (buf_read_file(&js, path) || piper_config_parse((const char *)js.data, js.len, &cfg, err, sizeof err) ||
        buf_read_file(&tx, file) || buf_append(&tx, "", 1)) {
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
    printf("{\"phon_ms\":[");
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
    piper_model_free(m);
    piper_config_free(&cfg);
    buf_free(&js);
    buf_free(&tx);
    buf_free(&ort);
    buf_free(&aud);
    engines_cleanup();
    piper_ort_cleanup();
    return 0;
}
