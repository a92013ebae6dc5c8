/* piper — the `piper` model: Piper voices (NAME.onnx + NAME.onnx.json in --voices DIR,
 * default DATA/voices) run with ONNX Runtime, phonemes from espeak-ng.
 *
 * Threads: global_init/global_cleanup on the main thread. synthesize on worker threads (and
 * `recite say`): phonemizing goes through the espeak engine's lock (espeak.h) for the
 * espeak-ng calls only; the model runs outside any lock of ours.
 *
 * Voices: one per .onnx file with a readable .onnx.json beside it; a multi-speaker file
 * gives one voice per speaker, slug "BASE:SPEAKER". A file whose json is missing or broken
 * is logged with its name and left out; the others are served. The ONNX session of a file
 * is created on first use (loading a voice costs a second or more and ~60 MB, and most
 * voices in a folder are never used), under that file's own mutex, then shared by every
 * worker: ORT's Run is thread-safe, so N workers hold the weights once. A file whose model
 * fails to load keeps the message (naming the file) and every job for it fails with it.
 *
 * Ownership: the file table is built by global_init and read-only until global_cleanup,
 * except each file's model/error, which its mutex guards. The voice_info array belongs to
 * the registry (engines.c). */
#include "engines/engine.h"
#include "engines/engine_list.h"
#include "engines/piper.h"
#include "engines/piper_config.h"
#include "engines/piper_noise.h"
#include "engines/piper_ort.h"
#include "engines/piper_phonemes.h"
#include "audio/audio.h"
#include "config.h"
#include "util/log.h"
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Piper puts this much silence between the sentences of one text (its
 * sentence_silence_seconds default). */
#define PIPER_SENTENCE_SILENCE_MS 200

struct engine {
    int unused;   /* the model state is shared; an instance is only a token */
};

struct piper_file {
    char path[PATH_MAX];
    char base[64];
    struct piper_config cfg;
    pthread_mutex_t lock;        /* guards model and load_err */
    struct piper_model *model;   /* NULL until first use */
    char load_err[512];          /* set when loading failed: every job says it */
};

struct piper_voice {
    int file;
    int speaker;   /* -1: single-speaker model */
};

static struct piper_file *files;
static int file_count;
static struct piper_voice *voices;   /* parallel to the registry's voice_info array */
static int voice_count;

int piper_voices_dir(char *out, size_t len)
{
    const struct config *cfg = engines_config();
    if (cfg && cfg->voices_dir && cfg->voices_dir[0])
        return snprintf(out, len, "%s", cfg->voices_dir) < (int)len ? 0 : -1;
    const char *data = cfg && cfg->data_dir ? cfg->data_dir : "./recite-data";
    return snprintf(out, len, "%s/voices", data) < (int)len ? 0 : -1;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "en_US" -> "en-US"; "" stays "". */
static void bcp47(const char *code, char *out, size_t len)
{
    size_t i = 0;
    for (; code[i] && i + 1 < len; i++)
        out[i] = code[i] == '_' ? '-' : code[i];
    out[i] = '\0';
}

/* "Lessac (United States, medium)", "Libritts p231 (United States, high)": the picker
 * already groups voices by language, so the name carries the region and quality. */
static void voice_name(const struct piper_file *f, const char *speaker, char *out, size_t len)
{
    char ds[64];
    snprintf(ds, sizeof ds, "%s", f->cfg.dataset[0] ? f->cfg.dataset : f->base);
    ds[0] = (char)(ds[0] >= 'a' && ds[0] <= 'z' ? ds[0] - 32 : ds[0]);
    const char *region = f->cfg.region[0] ? f->cfg.region : f->cfg.lang_code;
    int n = snprintf(out, len, "%.40s", ds);
    if (speaker && n < (int)len)
        n += snprintf(out + n, len - (size_t)n, " %.20s", speaker);
    if ((region[0] || f->cfg.quality[0]) && n < (int)len)
        snprintf(out + n, len - (size_t)n, " (%.24s%s%.12s)", region,
                 region[0] && f->cfg.quality[0] ? ", " : "", f->cfg.quality);
}

/* A cheap look at the model file before it is listed: it exists, and it starts as an ONNX
 * ModelProto does (field 1, ir_version, a varint: byte 0x08). The full check is ONNX
 * Runtime's, on first use. */
int piper_sniff_model(const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errlen, "cannot open it");
        return -1;
    }
    int c = fgetc(fp);
    fclose(fp);
    if (c != 0x08) {
        snprintf(err, errlen, "it is not an ONNX model");
        return -1;
    }
    return 0;
}

/* Reads DIR/NAME.onnx.json for DIR/NAME.onnx into f. 0, or -1 having logged why. */
static int load_file(const char *dir, const char *name, struct piper_file *f)
{
    char json_path[PATH_MAX + 8], err[256];
    size_t n = strlen(name) - 5;   /* without ".onnx" */
    if (n >= sizeof f->base) {
        log_warn("piper: %s/%s: the name is too long for a voice (63 bytes at most)", dir, name);
        return -1;
    }
    memcpy(f->base, name, n);
    f->base[n] = '\0';
    if (snprintf(f->path, sizeof f->path, "%s/%s", dir, name) >= (int)sizeof f->path ||
        snprintf(json_path, sizeof json_path, "%s.json", f->path) >= (int)sizeof json_path) {
        log_warn("piper: %s/%s: the path is too long", dir, name);
        return -1;
    }
    if (piper_sniff_model(f->path, err, sizeof err) < 0) {
        log_warn("piper: %s: %s; voice %s left out", f->path, err, f->base);
        return -1;
    }
    struct buf json = { 0 };
    if (buf_read_file(&json, json_path) < 0) {
        buf_free(&json);
        log_warn("piper: %s is missing or unreadable (every voice needs its .onnx.json); "
                 "voice %s left out", json_path, f->base);
        return -1;
    }
    int rc = piper_config_parse((const char *)json.data, json.len, &f->cfg, err, sizeof err);
    buf_free(&json);
    if (rc < 0) {
        log_warn("piper: %s: %s; voice %s left out", json_path, err, f->base);
        return -1;
    }
    pthread_mutex_init(&f->lock, NULL);
    return 0;
}

static void free_tables(void)
{
    for (int i = 0; i < file_count; i++) {
        piper_model_free(files[i].model);
        piper_config_free(&files[i].cfg);
        pthread_mutex_destroy(&files[i].lock);
    }
    free(files);
    free(voices);
    files = NULL;
    voices = NULL;
    file_count = voice_count = 0;
}

/* The .onnx names in dir, sorted (the voice order of `recite voices`). */
static int list_models(const char *dir, char ***names)
{
    DIR *d = opendir(dir);
    *names = NULL;
    if (!d)
        return 0;
    int n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        /* kokoro*.onnx is Kokoro's model (kokoro.c), not a Piper voice */
        if (l <= 5 || strcmp(de->d_name + l - 5, ".onnx") != 0 || de->d_name[0] == '.' ||
            strncmp(de->d_name, "kokoro", 6) == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(*names, (size_t)cap * sizeof *nn);
            if (!nn)
                break;
            *names = nn;
        }
        if (!((*names)[n] = strdup(de->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (n)
        qsort(*names, (size_t)n, sizeof **names, cmp_name);
    return n;
}

static int piper_global_init(struct voice_info **out, int *count, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    char **names = NULL;
    struct voice_info *vi = NULL;
    *out = NULL;
    *count = 0;
    if (piper_voices_dir(dir, sizeof dir) < 0) {
        snprintf(err, errlen, "the voices folder path is too long");
        return -1;
    }
    int n = list_models(dir, &names);
    if (n == 0) {
        log_debug("piper: no voices in %s (recite voices add NAME)", dir);
        return RECITE_ENOTCONF;
    }
    int rc = -1;
    files = calloc((size_t)n, sizeof *files);
    if (!files)
        goto oom;
    for (int i = 0; i < n; i++)
        if (load_file(dir, names[i], &files[file_count]) == 0)
            file_count++;
    int nv = 0;
    for (int i = 0; i < file_count; i++)
        nv += files[i].cfg.num_speakers > 1 && files[i].cfg.speaker_count ? files[i].cfg.speaker_count : 1;
    if (nv == 0) {
        snprintf(err, errlen, "no usable voice in %s (see the warnings above)", dir);
        goto out;
    }
    vi = calloc((size_t)nv, sizeof *vi);
    voices = calloc((size_t)nv, sizeof *voices);
    if (!vi || !voices)
        goto oom;
    for (int i = 0; i < file_count; i++) {
        const struct piper_file *f = &files[i];
        int multi = f->cfg.num_speakers > 1 && f->cfg.speaker_count;
        for (int s = 0; s < (multi ? f->cfg.speaker_count : 1); s++) {
            struct voice_info *v = &vi[voice_count];
            const char *spk = multi ? f->cfg.speakers[s].name : NULL;
            if (multi)
                snprintf(v->slug, sizeof v->slug, "%.40s:%.22s", f->base, spk);
            else
                snprintf(v->slug, sizeof v->slug, "%s", f->base);
            voice_name(f, spk, v->name, sizeof v->name);
            bcp47(f->cfg.lang_code[0] ? f->cfg.lang_code : f->cfg.espeak_voice, v->lang,
                  sizeof v->lang);
            voices[voice_count++] = (struct piper_voice){ i, multi ? f->cfg.speakers[s].id : -1 };
        }
    }
    if (piper_ort_init(piper_ort_pool_threads(), err, errlen) < 0)
        goto out;
    *out = vi;
    *count = voice_count;
    vi = NULL;
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "out of memory");
out:
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(vi);
    if (rc < 0)
        free_tables();
    return rc;
}

static void piper_global_cleanup(void)
{
    free_tables();   /* sessions first: they live in the environment */
    piper_ort_cleanup();
}

static struct engine *piper_create(char *err, size_t errlen)
{
    struct engine *e = calloc(1, sizeof *e);
    if (!e)
        snprintf(err, errlen, "piper: out of memory");
    return e;
}

static void piper_destroy(struct engine *e)
{
    free(e);
}

static const struct piper_voice *find_voice(const char *slug, const struct model **mout)
{
    const struct model *m = engines_find("piper");
    const struct voice_info *v = model_find_voice(m, slug);
    *mout = m;
    if (!v || v < m->voices || v >= m->voices + voice_count)
        return NULL;
    return &voices[v - m->voices];
}

/* The file's session, loaded on first use. NULL with the file's load error. */
static struct piper_model *model_of(struct piper_file *f, int need_sid, char *err, size_t errlen)
{
    pthread_mutex_lock(&f->lock);
    if (!f->model && !f->load_err[0]) {
        char e[256];
        f->model = piper_model_load(f->path, need_sid, e, sizeof e);
        if (!f->model)
            snprintf(f->load_err, sizeof f->load_err, "piper voice %.200s: %s", f->path, e);
        else
            log_info("piper: loaded %s", f->path);
    }
    struct piper_model *m = f->model;
    if (!m)
        snprintf(err, errlen, "%s", f->load_err);
    pthread_mutex_unlock(&f->lock);
    return m;
}

/* Piper's conversion: each sentence is scaled so its peak is full scale (at most x100,
 * for a near-silent one), then clipped to 16 bits. */
static int append_audio(struct pcm *p, const float *a, size_t n)
{
    float peak = 0.01f;
    for (size_t i = 0; i < n; i++)
        if (fabsf(a[i]) > peak)
            peak = fabsf(a[i]);
    float scale = 32767.0f / peak;
    int16_t chunk[1024];
    for (size_t i = 0; i < n;) {
        size_t k = 0;
        for (; k < 1024 && i < n; k++, i++) {
            float v = a[i] * scale;
            chunk[k] = (int16_t)(v > 32767.0f ? 32767 : v < -32768.0f ? -32768 : lrintf(v));
        }
        if (pcm_append(p, chunk, k) < 0)
            return -1;
    }
    return 0;
}

static int append_silence(struct pcm *p, int ms)
{
    static const int16_t zeros[1024];
    size_t n = (size_t)p->rate * (size_t)ms / 1000;
    while (n) {
        size_t k = n < 1024 ? n : 1024;
        if (pcm_append(p, zeros, k) < 0)
            return -1;
        n -= k;
    }
    return 0;
}

/* Word times in one sentence: each id weighs its duration when the model exports them,
 * else 1, and the sentence's audio is spread over the ids by weight. A word runs from its
 * first phoneme's first id to its last phoneme's last id. */
static int add_words(const struct piper_sentence *s, const int *phon_end, int nids,
                     const float *dur, int64_t start_ms, int64_t len_ms, int bos_len,
                     struct synth_result *out, int *cap)
{
    double *cum = malloc(((size_t)nids + 1) * sizeof *cum);
    if (!cum)
        return -1;
    cum[0] = 0;
    for (int i = 0; i < nids; i++)
        cum[i + 1] = cum[i] + (dur && dur[i] > 0 ? dur[i] : dur ? 0 : 1);
    double total = cum[nids] > 0 ? cum[nids] : 1;
    for (int w = 0; w < s->nwords; w++) {
        const struct piper_word *pw = &s->words[w];
        if (pw->phon_start >= pw->phon_end || pw->phon_end > s->nphon)
            continue;
        int a = pw->phon_start ? phon_end[pw->phon_start - 1] : bos_len;
        int b = phon_end[pw->phon_end - 1];
        if (b <= a)
            continue;   /* its phonemes are all missing from the map */
        if (out->word_count == *cap) {
            int ncap = *cap ? *cap * 2 : 32;
            struct word_timing *nw = realloc(out->words, (size_t)ncap * sizeof *nw);
            if (!nw) {
                free(cum);
                return -1;
            }
            out->words = nw;
            *cap = ncap;
        }
        out->words[out->word_count++] = (struct word_timing){
            (int)(start_ms + llround(cum[a] / total * (double)len_ms)),
            (int)(start_ms + llround(cum[b] / total * (double)len_ms)), pw->offset, pw->length };
    }
    free(cum);
    return 0;
}

static int piper_synthesize(struct engine *e, const char *voice, const char *text,
                            struct synth_result *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const struct model *m;
    const struct piper_voice *pv = find_voice(voice, &m);
    if (!pv) {
        snprintf(err, errlen, "piper: unknown voice \"%s\"", voice ? voice : "");
        return -1;
    }
    struct piper_file *f = &files[pv->file];
    struct piper_text t;
    piper_noise_reset();   /* the model's noise depends on this text only (piper_noise.c) */
    if (piper_phonemize(f->cfg.espeak_voice, text, &t, err, errlen) < 0)
        return -1;
    int rc = -1, cap = 0;
    out->pcm.rate = f->cfg.sample_rate;
    struct piper_model *model = t.count ? model_of(f, pv->speaker >= 0, err, errlen) : NULL;
    if (t.count && !model)
        goto out;
    const float scales[3] = { f->cfg.noise_scale, f->cfg.length_scale, f->cfg.noise_w };
    const struct piper_phoneme *bos = piper_config_phoneme(&f->cfg, '^');
    const struct piper_phoneme *pad = piper_config_phoneme(&f->cfg, '_');
    for (int i = 0; i < t.count; i++) {
        const struct piper_sentence *s = &t.s[i];
        int64_t *ids = NULL;
        int *phon_end = malloc(((size_t)s->nphon + 1) * sizeof *phon_end);
        int nids = phon_end ? piper_config_ids(&f->cfg, s->phon, s->nphon, &ids, phon_end) : -1;
        struct piper_run r = { 0 };
        int ok = nids > 0;
        if (!ok)
            snprintf(err, errlen, "piper: out of memory");
        if (ok && i > 0)
            ok = append_silence(&out->pcm, PIPER_SENTENCE_SILENCE_MS) == 0;
        int64_t start_ms = pcm_duration_ms(&out->pcm);
        if (ok)
            ok = piper_model_run(model, ids, nids, scales, pv->speaker, &r, err, errlen) == 0;
        if (ok && (append_audio(&out->pcm, r.audio, r.count) < 0 ||
                   add_words(s, phon_end, nids, r.durations, start_ms,
                             pcm_duration_ms(&out->pcm) - start_ms, bos->count + pad->count,
                             out, &cap) < 0)) {
            snprintf(err, errlen, "piper: out of memory");
            ok = 0;
        }
        piper_run_free(&r);
        free(ids);
        free(phon_end);
        if (!ok)
            goto out;
    }
    rc = 0;
out:
    piper_text_free(&t);
    if (rc < 0)
        synth_result_free(out);
    return rc;
}

const struct engine_ops piper_engine_ops = {
    .slug = "piper",
    .name = "Piper",
    .flags = ENGINE_SHARED_SESSION,
    .global_init = piper_global_init,
    .global_cleanup = piper_global_cleanup,
    .create = piper_create,
    .destroy = piper_destroy,
    .synthesize = piper_synthesize,
};
