/* raw_ref — the in-process reference for the benchmarks: the same code a worker runs for
 * one block (engine_render = synthesis + silence fitting + loudness, then audio_encode_opus and
 * audio_opus_level), with nothing of the server around it: no queue, no SQLite, no WebSocket.
 *
 *   raw_ref [--threads N] [--stages] [--model M] [--voice V] [--voices DIR] TEXTS
 *   raw_ref --stdin [--model M] [--voice V] [--voices DIR]
 * (--voices: the piper model's voices folder, as for `recite serve`.)
 *
 * TEXTS is a file of block texts separated by NUL bytes (the bench scripts write the texts
 * the server stored for the document, so both sides speak exactly the same words). One
 * warm-up block is rendered first (espeak-ng loads the voice on first use; the server's
 * worker is warmed up the same way). Output, one JSON object on stdout:
 *   --threads 1 (latency): {"ms":[per block render+encode],"audio_ms":[...],...}
 *   --threads N (throughput): N threads, each with its own engine instance (as each worker
 *     has), take blocks from a shared counter; {"wall_s","audio_s","blocks",...}
 *   --stdin: a server of its own for interleaved measurements: reads NUL-terminated texts
 *     from stdin and answers each with one line {"ms","audio_ms","bytes"} (then flushes),
 *     so a benchmark can time the server and the reference block by block, alternating
 *     (one block at a time; --threads N then only says how many workers to size for: the
 *     piper model's intra-op pool is cores − N + 1, as in a server with --workers N).
 *   --stages: also "stages":[[synthesize, engine_finish, audio_encode_opus,
 *     audio_opus_level, engine_encode] ms per block] (with --stdin: "stages":[...] on each
 *     line), for bench/piper.mjs: where a block's time goes. The encode and the level check
 *     are timed apart, then the block is encoded again as a worker does (engine_encode: the
 *     level's decoding alongside the encoding); "ms" is then synthesize + finish + that.
 * Built by `make bench-tools` (build/bench/raw_ref); used by bench/ttfa.mjs,
 * bench/throughput.mjs, bench/fairshare.mjs and bench/piper.mjs. */
#include "audio/audio.h"
#include "config.h"
#include "engines/engine.h"
#include "util/log.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct texts {
    char **t;
    int n;
};

struct run {
    const struct model *m;
    const char *voice;
    struct texts *tx;
    atomic_int next;
    double *ms;            /* per block, latency mode */
    int64_t *audio_ms;     /* per block */
    size_t *bytes;         /* per block, encoded size */
    double (*stage_ms)[5]; /* --stages: synthesize, finish, encode, level, engine_encode */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int load(const char *path, struct texts *tx)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    struct buf b = { 0 };
    int rc = buf_read_stream(&b, f);
    fclose(f);
    if (rc)
        return -1;
    tx->n = 0;
    tx->t = NULL;
    for (size_t i = 0; i < b.len;) {
        char *s = (char *)b.data + i;
        size_t l = strlen(s);
        if (l) {
            tx->t = realloc(tx->t, sizeof *tx->t * (size_t)(tx->n + 1));
            tx->t[tx->n++] = s;
        }
        i += l + 1;
    }
    return tx->n ? 0 : -1;
}

/* One block exactly as workers_run_job (src/jobs/workers.c) does it, minus the store:
 * render, then the engine's own Ogg Opus if it has one, else encode and level it. With
 * --stages (stage != NULL) the same calls are made one by one and timed apart:
 * engine_render = engine_rand_reset + the engine's synthesize + engine_finish, and
 * engine_encode = audio_encode_opus + audio_opus_level for engines without their own Opus;
 * then engine_encode itself, timed, on the same samples (stage[4]). */
static int one_block(struct run *r, struct engine *e, const char *text, int64_t *audio_ms,
                     size_t *bytes, double *stage)
{
    char err[256] = "";
    struct synth_result sr = { 0 };
    struct buf opus = { 0 };
    int rc;
    if (stage) {
        double t0 = now_s(), t1, t2, t3;
        int stage_kept;
        engine_rand_reset();
        rc = r->m->ops->synthesize(e, r->voice, text, &sr, err, sizeof err);
        t1 = now_s();
        if (!rc)
            rc = engine_finish(&sr, err, sizeof err);
        t2 = now_s();
        stage_kept = !rc && sr.encoded.len;
        if (stage_kept) {   /* an upstream's Ogg Opus, kept (engine_encode) */
            opus = sr.encoded;
            memset(&sr.encoded, 0, sizeof sr.encoded);
        } else if (!rc && sr.pcm.count) {
            rc = audio_encode_opus(&sr.pcm, &opus, err, sizeof err);
        }
        t3 = now_s();
        if (!rc && opus.len && !stage_kept)
            audio_opus_level(&opus, AUDIO_LOUDNESS_TARGET, NULL);
        stage[0] = (t1 - t0) * 1000;
        stage[1] = (t2 - t1) * 1000;
        stage[2] = (t3 - t2) * 1000;
        stage[3] = (now_s() - t3) * 1000;
        stage[4] = stage[2] + stage[3];
        if (!rc && sr.pcm.count && !stage_kept) {
            struct buf again = { 0 };
            double t4 = now_s();
            rc = engine_encode(&sr, &again, err, sizeof err);
            stage[4] = (now_s() - t4) * 1000;
            buf_free(&again);
        }
    } else {
        rc = engine_render(r->m, e, r->voice, text, &sr, err, sizeof err);
        if (!rc && sr.pcm.count)
            rc = engine_encode(&sr, &opus, err, sizeof err);
    }
    if (rc)
        fprintf(stderr, "raw_ref: %s\n", err);
    *audio_ms = pcm_duration_ms(&sr.pcm);
    *bytes = opus.len;
    buf_free(&opus);
    synth_result_free(&sr);
    return rc;
}

static void *thread_main(void *arg)
{
    struct run *r = arg;
    char err[256] = "";
    struct engine *e = r->m->ops->create(err, sizeof err);
    if (!e) {
        fprintf(stderr, "raw_ref: engine: %s\n", err);
        return NULL;
    }
    int i;
    while ((i = atomic_fetch_add(&r->next, 1)) < r->tx->n) {
        double t0 = now_s();
        double *st = r->stage_ms ? r->stage_ms[i] : NULL;
        one_block(r, e, r->tx->t[i], &r->audio_ms[i], &r->bytes[i], st);
        r->ms[i] = st ? st[0] + st[1] + st[4] : (now_s() - t0) * 1000;
    }
    r->m->ops->destroy(e);
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = 1;
    const char *model = "espeak", *voice = "en-us", *file = NULL;
    static struct config cfg;   /* --voices for the piper model; workers = threads */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--model") && i + 1 < argc)
            model = argv[++i];
        else if (!strcmp(argv[i], "--voice") && i + 1 < argc)
            voice = argv[++i];
        else if (!strcmp(argv[i], "--voices") && i + 1 < argc)
            cfg.voices_dir = argv[++i];
        else if (strcmp(argv[i], "--stdin") && strcmp(argv[i], "--stages"))
            file = argv[i];
    }
    int use_stdin = 0, stages = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--stdin"))
            use_stdin = 1;
        if (!strcmp(argv[i], "--stages"))
            stages = 1;
    }
    if (use_stdin)
        file = NULL;
    struct texts tx = { 0 };
    if ((!use_stdin && (!file || load(file, &tx))) || threads < 1) {
        fprintf(stderr, "usage: raw_ref [--threads N] [--model M] [--voice V] TEXTS (NUL-separated)\n");
        return 2;
    }
    log_set_level(0);
    char err[256] = "";
    cfg.workers = threads;
    engines_set_config(&cfg);
    if (engines_init(err, sizeof err) <= 0) {
        fprintf(stderr, "raw_ref: %s\n", err);
        return 1;
    }
    struct run r = { .m = engines_find(model), .voice = voice, .tx = &tx };
    if (!r.m) {
        fprintf(stderr, "raw_ref: unknown model %s\n", model);
        return 2;
    }
    r.ms = calloc((size_t)tx.n, sizeof *r.ms);
    r.audio_ms = calloc((size_t)tx.n, sizeof *r.audio_ms);
    r.bytes = calloc((size_t)tx.n, sizeof *r.bytes);
    if (stages)
        r.stage_ms = calloc((size_t)tx.n, sizeof *r.stage_ms);

    /* warm-up: load the voice (process-global in espeak-ng) */
    struct engine *warm = r.m->ops->create(err, sizeof err);
    int64_t a;
    size_t b;
    one_block(&r, warm, "Warming up the voice.", &a, &b, NULL);
    r.m->ops->destroy(warm);

    if (use_stdin) {
        struct engine *e = r.m->ops->create(err, sizeof err);
        struct buf line = { 0 };
        int ch;
        while ((ch = getchar()) != EOF) {
            if (ch) {
                char c = (char)ch;
                buf_append(&line, &c, 1);
                continue;
            }
            buf_append(&line, "", 1);
            double t0 = now_s(), st[5];
            one_block(&r, e, (const char *)line.data, &a, &b, stages ? st : NULL);
            printf("{\"ms\":%.3f,\"audio_ms\":%lld,\"bytes\":%zu",
                   stages ? st[0] + st[1] + st[4] : (now_s() - t0) * 1000, (long long)a, b);
            if (stages)
                printf(",\"stages\":[%.3f,%.3f,%.3f,%.3f,%.3f]", st[0], st[1], st[2], st[3], st[4]);
            printf("}\n");
            fflush(stdout);
            line.len = 0;
        }
        buf_free(&line);
        r.m->ops->destroy(e);
        engines_cleanup();
        return 0;
    }
    pthread_t *th = calloc((size_t)threads, sizeof *th);
    double t0 = now_s();
    for (int i = 0; i < threads; i++)
        pthread_create(&th[i], NULL, thread_main, &r);
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    double wall = now_s() - t0;

    double audio_s = 0, busy = 0;
    for (int i = 0; i < tx.n; i++) {
        audio_s += (double)r.audio_ms[i] / 1000;
        busy += r.ms[i];
    }
    printf("{\"threads\":%d,\"blocks\":%d,\"wall_s\":%.4f,\"audio_s\":%.3f,\"busy_ms\":%.2f,\"ms\":[",
           threads, tx.n, wall, audio_s, busy);
    for (int i = 0; i < tx.n; i++)
        printf("%s%.3f", i ? "," : "", r.ms[i]);
    printf("],\"audio_ms\":[");
    for (int i = 0; i < tx.n; i++)
        printf("%s%lld", i ? "," : "", (long long)r.audio_ms[i]);
    printf("],\"bytes\":[");
    for (int i = 0; i < tx.n; i++)
        printf("%s%zu", i ? "," : "", r.bytes[i]);
    printf("]");
    if (r.stage_ms) {
        printf(",\"stages\":[");
        for (int i = 0; i < tx.n; i++)
            printf("%s[%.3f,%.3f,%.3f,%.3f,%.3f]", i ? "," : "", r.stage_ms[i][0],
                   r.stage_ms[i][1], r.stage_ms[i][2], r.stage_ms[i][3], r.stage_ms[i][4]);
        printf("]");
    }
    printf("}\n");
    engines_cleanup();
    return 0;
}
