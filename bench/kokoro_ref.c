/* kokoro_ref — the raw ONNX Runtime reference for `bench/piper.mjs ... kokoro`: for each
 * block text, the kokoro engine's own steps timed apart with nothing of the server around
 * them — espeak-ng's IPA with kokoro-onnx's fixes and the vocabulary (phonemize), then the
 * model's Run on one session (the raw ORT call), after one warm-up block.
 *
 *   kokoro_ref --stdin [--threads N] --voices DIR --voice NAME
 *
 * Reads NUL-terminated texts and answers each with one line
 * {"threads":N,"phon_ms":..,"ort_ms":..,"audio_ms":..} (lib.mjs rawServer), audio_ms being
 * the model's output length. A block's sentences go into one Run joined by a space token,
 * as the engine packs them (bench texts stay under 510 tokens; a longer block is cut there,
 * which the engine would split instead). --threads: the intra-op pool, by default the
 * cores, as `recite serve --workers 1` gives its worker. Built by `make bench-tools`. */
#include "audio/audio.h"
#include "config.h"
#include "engines/engine.h"
#include "engines/kokoro_model.h"
#include "engines/kokoro_tokens.h"
#include "engines/kokoro_voices.h"
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

struct ref {
    struct kokoro_model *m;
    struct kokoro_vocab vocab;
    struct kokoro_voices pack;
    const struct kokoro_voice *voice;
};

static int block(struct ref *r, const char *text, double *phon_ms, double *ort_ms,
                 double *audio_ms)
{
    char err[512];
    struct piper_text t;
    int64_t ids[KOKORO_MAX_TOKENS + 2], tok[4096];
    int n = 0;
    double t0 = now_ms();
    if (piper_phonemize_as("en-us", text, PIPER_PHON_MARKS, &t, err, sizeof err) < 0) {
        fprintf(stderr, "kokoro_ref: %s\n", err);
        return -1;
    }
    ids[n++] = 0;
    for (int i = 0; i < t.count; i++) {
        struct piper_sentence *s = &t.s[i];
        kokoro_ipa_fix(s->phon, s->nphon, 1);
        int k = kokoro_tokens(&r->vocab, s->phon, s->nphon < 4096 ? s->nphon : 4096, tok, NULL);
        if (i && n < KOKORO_MAX_TOKENS + 1)
            ids[n++] = 16;
        for (int j = 0; j < k && n < KOKORO_MAX_TOKENS + 1; j++)
            ids[n++] = tok[j];
    }
    ids[n++] = 0;
    piper_text_free(&t);
    *phon_ms = now_ms() - t0;
    struct kokoro_run run;
    double t1 = now_ms();
    int rc = kokoro_model_run(r->m, ids, n, kokoro_voice_style(&r->pack, r->voice, n - 2),
                              r->pack.dim, 1.0f, &run, err, sizeof err);
    *ort_ms = now_ms() - t1;
    size_t count = run.count;
    kokoro_run_free(&run);
    if (rc < 0) {
        fprintf(stderr, "kokoro_ref: %s\n", err);
        return -1;
    }
    *audio_ms = (double)count * 1000.0 / KOKORO_SAMPLE_RATE;
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *voice = NULL;
    long threads = sysconf(_SC_NPROCESSORS_ONLN);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atol(argv[++i]);
        else if (!strcmp(argv[i], "--voices") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--voice") && i + 1 < argc)
            voice = argv[++i];
    }
    if (!dir || !voice || threads < 1 || threads > 64) {
        fprintf(stderr, "usage: kokoro_ref --stdin [--threads N] --voices DIR --voice NAME\n");
        return 2;
    }
    log_set_level(1);
    char err[512] = "", path[4096];
    struct config cfg_cli = { .workers = 1, .voices_dir = (char *)"/nonexistent" };   /* kokoro off: the session is ours */
    engines_set_config(&cfg_cli);
    if (engines_init(err, sizeof err) <= 0 || piper_ort_init((int)threads, err, sizeof err) < 0) {
        fprintf(stderr, "kokoro_ref: %s\n", err);
        return 1;
    }
    struct ref r = { 0 };
    struct buf vf = { 0 };
    snprintf(path, sizeof path, "%s/voices-v1.0.bin", dir);
    if (buf_read_file(&vf, path) < 0 || kokoro_voices_parse(vf.data, vf.len, &r.pack, err, sizeof err) < 0 ||
        !(r.voice = kokoro_voices_find(&r.pack, voice)) || kokoro_vocab_default(&r.vocab) < 0) {
        fprintf(stderr, "kokoro_ref: %s: %s\n", path, err[0] ? err : "cannot read it or no such voice");
        return 1;
    }
    buf_free(&vf);
    snprintf(path, sizeof path, "%s/kokoro-v1.0.onnx", dir);
    if (!(r.m = kokoro_model_load(path, err, sizeof err))) {
        fprintf(stderr, "kokoro_ref: %s: %s\n", path, err);
        return 1;
    }
    double p, o, a;
    if (block(&r, "Warming up the voice before measuring.", &p, &o, &a) < 0)
        return 1;
    struct buf line = { 0 };
    int ch, rc = 0;
    while (rc == 0 && (ch = getchar()) != EOF) {
        char c = (char)ch;
        if (buf_append(&line, &c, 1) < 0)
            break;
        if (ch)
            continue;
        rc = block(&r, (const char *)line.data, &p, &o, &a);
        if (rc == 0)
            printf("{\"threads\":%ld,\"phon_ms\":%.3f,\"ort_ms\":%.3f,\"audio_ms\":%.1f}\n", threads, p, o, a);
        fflush(stdout);
        line.len = 0;
    }
    buf_free(&line);
    kokoro_model_free(r.m);
    kokoro_voices_free(&r.pack);
    kokoro_vocab_free(&r.vocab);
    engines_cleanup();
    piper_ort_cleanup();
    return rc ? 1 : 0;
}
