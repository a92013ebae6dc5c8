/* kokoro — the `kokoro` model: Kokoro-82M's ONNX export with its voices file, on the ONNX
 * Runtime seam piper uses (piper_ort.c), phonemes from espeak-ng as kokoro-onnx makes them.
 *
 * Files, in the voices folder (--voices DIR, default DATA/voices), named as kokoro-onnx's
 * releases name them: the model `kokoro*.onnx` (kokoro-v1.0.onnx; the first in name order
 * if there are several), the voices `voices*.bin` or `voices*.npz` (voices-v1.0.bin: an
 * .npz of float32 [510, 1, 256] style tables, one per voice), and optionally
 * `kokoro-config.json`, a Kokoro config.json whose "vocab" replaces the built-in v1.0 one.
 * Without a `kokoro*.onnx` the model is quietly off; with one but a missing or broken
 * voices/config file it is left out with a warning naming the file.
 *
 * Voices: every table in the voices file whose name's first letter is a language Kokoro
 * knows (as kokoro does: a = American English, b = British, e = Spanish, f = French,
 * h = Hindi, i = Italian, j = Japanese, p = Brazilian Portuguese, z = Mandarin) and that
 * espeak-ng can phonemize on this machine; the second letter is f(emale) or m(ale).
 *
 * Synthesis (kokoro-onnx's Kokoro.create, thewh1teagle/kokoro-onnx
 * src/kokoro_onnx/__init__.py): espeak's IPA kept as espeak writes it (no NFD) with the
 * punctuation marks phonemizer keeps (PIPER_PHON_MARKS) and kokoro-onnx's fixes, mapped
 * through the vocabulary (kokoro_tokens.c); sentences packed
 * into inferences of at most 510 tokens (a longer sentence split at a clause, else a word
 * boundary), each run as [0, tokens..., 0] with the style row len(tokens) and speed 1;
 * the 24 kHz audio of the inferences concatenated. Word timings: where each word's tokens
 * fall in its inference's audio, each token weighted by the model's `durations` output
 * when it has one (timestamped exports), else equally (pads included), as piper does.
 * engine_render then pads and levels.
 *
 * Threads: global_init/global_cleanup on the main thread. synthesize on worker threads:
 * phonemizing under espeak's lock (espeak.h), the model outside any lock of ours. The
 * session is created on first use under model_lock and then shared by every worker.
 *
 * Ownership: the voices, vocabulary and voice table are built by global_init and
 * read-only until global_cleanup; the model and its load error are guarded by model_lock.
 * The voice_info array belongs to the registry (engines.c). */
#include "engines/engine.h"
#include "engines/engine_list.h"
#include "engines/espeak.h"
#include "engines/kokoro_model.h"
#include "engines/kokoro_tokens.h"
#include "engines/kokoro_voices.h"
#include "engines/piper.h"
#include "engines/piper_noise.h"
#include "engines/piper_ort.h"
#include "engines/piper_phonemes.h"
#include "audio/audio.h"
#include "util/log.h"
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Kokoro's language codes (hexgrad/kokoro pipeline.py LANG_CODES / ALIASES), the espeak-ng
 * voice kokoro-onnx hands each to, and the tag the picker groups by. */
static const struct kokoro_lang {
    char code;
    const char *espeak, *bcp47, *name;
} langs[] = {
    { 'a', "en-us", "en-US", "American English" },
    { 'b', "en-gb", "en-GB", "British English" },
    { 'e', "es", "es", "Spanish" },
    { 'f', "fr-fr", "fr-FR", "French" },
    { 'h', "hi", "hi", "Hindi" },
    { 'i', "it", "it", "Italian" },
    { 'j', "ja", "ja", "Japanese" },
    { 'p', "pt-br", "pt-BR", "Brazilian Portuguese" },
    { 'z', "cmn", "zh", "Mandarin Chinese" },
};
#define LANG_COUNT (int)(sizeof langs / sizeof langs[0])

struct engine {
    int unused;   /* the model state is shared; an instance is only a token */
};

struct kvoice {
    const struct kokoro_voice *style;
    const struct kokoro_lang *lang;
};

static char model_path[PATH_MAX];
static struct kokoro_voices pack;
static struct kokoro_vocab vocab;
static struct kvoice *kvoices;   /* parallel to the registry's voice_info array */
static int kvoice_count;
static pthread_mutex_t model_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kokoro_model *model;   /* NULL until first use */
static char load_err[512];
static int ort_held;

/* The first name in dir (name order) that starts with prefix and ends with one of the
 * suffixes, into out as DIR/NAME. 0 if found. */
static int find_file(const char *dir, const char *prefix, const char *const *suffixes,
                     char *out, size_t outlen)
{
    DIR *d = opendir(dir);
    char best[256] = "";
    if (!d)
        return -1;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        size_t l = strlen(n), pl = strlen(prefix);
        if (l >= sizeof best || strncmp(n, prefix, pl) != 0)
            continue;
        for (int i = 0; suffixes[i]; i++) {
            size_t sl = strlen(suffixes[i]);
            if (l > sl && !strcmp(n + l - sl, suffixes[i]) && (!best[0] || strcmp(n, best) < 0))
                snprintf(best, sizeof best, "%s", n);
        }
    }
    closedir(d);
    if (!best[0])
        return -1;
    return snprintf(out, outlen, "%s/%s", dir, best) < (int)outlen ? 0 : -1;
}

static const struct kokoro_lang *lang_of(const char *voice)
{
    for (int i = 0; i < LANG_COUNT; i++)
        if (voice[0] == langs[i].code)
            return &langs[i];
    return NULL;
}

static int ignore_clause(void *ctx, size_t start, size_t end, const char *ipa)
{
    (void)ctx, (void)start, (void)end, (void)ipa;
    return 0;
}

/* "af_heart" -> "Heart (American English, female)" */
static void voice_name(const char *slug, const struct kokoro_lang *l, char *out, size_t len)
{
    const char *us = strchr(slug, '_');
    char given[48];
    snprintf(given, sizeof given, "%.47s", us && us[1] ? us + 1 : slug);
    if (given[0] >= 'a' && given[0] <= 'z')
        given[0] = (char)(given[0] - 32);
    const char *sex = slug[1] == 'f' ? ", female" : slug[1] == 'm' ? ", male" : "";
    snprintf(out, len, "%s (%s%s)", given, l->name, sex);
}

static void free_all(void)
{
    kokoro_model_free(model);
    model = NULL;
    load_err[0] = '\0';
    kokoro_voices_free(&pack);
    kokoro_vocab_free(&vocab);
    free(kvoices);
    kvoices = NULL;
    kvoice_count = 0;
}

/* The optional kokoro-config.json's vocabulary, else the built-in one. */
static int load_vocab(const char *dir, char *err, size_t errlen)
{
    char path[PATH_MAX + 32];
    struct buf js = { 0 };
    snprintf(path, sizeof path, "%s/kokoro-config.json", dir);
    if (buf_read_file(&js, path) < 0) {
        buf_free(&js);
        if (kokoro_vocab_default(&vocab) < 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        return 0;
    }
    char e[200];
    int rc = kokoro_vocab_parse((const char *)js.data, js.len, &vocab, e, sizeof e);
    buf_free(&js);
    if (rc < 0)
        snprintf(err, errlen, "%.300s: %s", path, e);
    return rc;
}

static int kokoro_global_init(struct voice_info **out, int *count, char *err, size_t errlen)
{
    static const char *const onnx[] = { ".onnx", NULL }, *const npz[] = { ".bin", ".npz", NULL };
    char dir[PATH_MAX], vpath[PATH_MAX];
    struct voice_info *vi = NULL;
    *out = NULL;
    *count = 0;
    if (piper_voices_dir(dir, sizeof dir) < 0) {
        snprintf(err, errlen, "the voices folder path is too long");
        return -1;
    }
    if (find_file(dir, "kokoro", onnx, model_path, sizeof model_path) < 0) {
        if (find_file(dir, "voices", npz, vpath, sizeof vpath) == 0)   /* half installed */
            log_warn("kokoro: %s has no model beside it (kokoro-v1.0.onnx, any kokoro*.onnx); "
                     "model kokoro left out", vpath);
        else
            log_debug("kokoro: no kokoro*.onnx in %s", dir);
        return RECITE_ENOTCONF;
    }
    char e[256];
    if (piper_sniff_model(model_path, e, sizeof e) < 0) {
        snprintf(err, errlen, "%.300s: %s", model_path, e);
        return -1;
    }
    if (find_file(dir, "voices", npz, vpath, sizeof vpath) < 0) {
        snprintf(err, errlen, "%.300s has no voices file beside it (voices-v1.0.bin, from "
                 "kokoro-onnx's releases)", model_path);
        return -1;
    }
    struct buf file = { 0 };
    if (buf_read_file(&file, vpath) < 0) {
        buf_free(&file);
        snprintf(err, errlen, "%.300s: cannot read it", vpath);
        return -1;
    }
    int rc = kokoro_voices_parse(file.data, file.len, &pack, e, sizeof e);
    buf_free(&file);
    if (rc < 0) {
        snprintf(err, errlen, "%.300s: %s", vpath, e);
        return -1;
    }
    if (load_vocab(dir, err, errlen) < 0)
        goto fail;
    /* Which languages espeak-ng speaks here (the espeak engine is initialised first). */
    int spoken[LANG_COUNT];
    for (int i = 0; i < LANG_COUNT; i++)
        spoken[i] = espeak_phonemize(langs[i].espeak, "a", ignore_clause, NULL, e, sizeof e) == 0;
    vi = calloc((size_t)pack.count, sizeof *vi);
    kvoices = calloc((size_t)pack.count, sizeof *kvoices);
    if (!vi || !kvoices) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (int i = 0; i < pack.count; i++) {
        const struct kokoro_lang *l = lang_of(pack.v[i].name);
        if (!l || !spoken[l - langs]) {
            log_debug("kokoro: voice %s left out (%s)", pack.v[i].name,
                      l ? "espeak-ng cannot phonemize its language" : "unknown language letter");
            continue;
        }
        struct voice_info *v = &vi[kvoice_count];
        snprintf(v->slug, sizeof v->slug, "%s", pack.v[i].name);
        voice_name(pack.v[i].name, l, v->name, sizeof v->name);
        snprintf(v->lang, sizeof v->lang, "%s", l->bcp47);
        kvoices[kvoice_count++] = (struct kvoice){ &pack.v[i], l };
    }
    if (kvoice_count == 0) {
        snprintf(err, errlen, "%.300s: no voice in a language espeak-ng speaks here", vpath);
        goto fail;
    }
    if (piper_ort_init(piper_ort_pool_threads(), err, errlen) < 0)
        goto fail;
    ort_held = 1;
    log_info("kokoro: %s with %s (%d voices)", model_path, vpath, kvoice_count);
    *out = vi;
    *count = kvoice_count;
    return 0;
fail:
    free(vi);
    free_all();
    return -1;
}

static void kokoro_global_cleanup(void)
{
    free_all();   /* the session first: it lives in the environment */
    if (ort_held)
        piper_ort_cleanup();
    ort_held = 0;
}

static struct engine *kokoro_create(char *err, size_t errlen)
{
    struct engine *e = calloc(1, sizeof *e);
    if (!e)
        snprintf(err, errlen, "kokoro: out of memory");
    return e;
}

static void kokoro_destroy(struct engine *e)
{
    free(e);
}

static const struct kvoice *find_voice(const char *slug)
{
    const struct model *m = engines_find("kokoro");
    const struct voice_info *v = m ? model_find_voice(m, slug) : NULL;
    if (!v || v < m->voices || v >= m->voices + kvoice_count)
        return NULL;
    return &kvoices[v - m->voices];
}

/* The session, loaded on first use. NULL with the load error (naming the file). */
static struct kokoro_model *model_get(char *err, size_t errlen)
{
    pthread_mutex_lock(&model_lock);
    if (!model && !load_err[0]) {
        char e[384];
        model = kokoro_model_load(model_path, e, sizeof e);
        if (!model)
            snprintf(load_err, sizeof load_err, "kokoro model %.200s: %.290s", model_path, e);
        else
            log_info("kokoro: loaded %s", model_path);
    }
    struct kokoro_model *m = model;
    if (!m)
        snprintf(err, errlen, "%s", load_err);
    pthread_mutex_unlock(&model_lock);
    return m;
}

/* A sentence's tokens, and per phoneme the tokens up to it (kokoro_tokens). */
struct ksent {
    const struct piper_sentence *s;
    int64_t *tok;
    int ntok;
    int *phon_end;
};

/* A stretch of one sentence's tokens [a, b) placed at ids[at] of an inference. */
struct piece {
    int sent, a, b, at;
};

/* Where the sentence's tokens [a, ...) may end for an inference of at most `room` tokens:
 * after a clause's ", " (or ";", ":"), else after a space, else hard at room. */
static int piece_end(const struct ksent *k, int a, int room)
{
    if (k->ntok - a <= room)
        return k->ntok;
    int clause = -1, space = -1;
    for (int i = a + 1; i <= a + room; i++) {
        int64_t t = k->tok[i - 1];
        if (t == 16 && i >= 2 && (k->tok[i - 2] == 3 || k->tok[i - 2] == 1 || k->tok[i - 2] == 2))
            clause = i;
        else if (t == 16)
            space = i;
    }
    return clause > a ? clause : space > a ? space : a + room;
}

static int grow_words(struct synth_result *out, int *cap)
{
    if (out->word_count < *cap)
        return 0;
    int ncap = *cap ? *cap * 2 : 32;
    struct word_timing *nw = realloc(out->words, (size_t)ncap * sizeof *nw);
    if (!nw)
        return -1;
    out->words = nw;
    *cap = ncap;
    return 0;
}

/* The words whose first token lies in the piece, timed over the inference's audio
 * [start_ms, start_ms + len_ms): id i of the inference spans cum[i] .. cum[i+1] of cum[n]
 * (its duration when the model exports them, else an equal share). */
static int piece_words(const struct ksent *k, const struct piece *p, const double *cum, int nids,
                       int64_t start_ms, int64_t len_ms, struct synth_result *out, int *cap)
{
    double total = cum[nids] > 0 ? cum[nids] : 1;
    for (int w = 0; w < k->s->nwords; w++) {
        const struct piper_word *pw = &k->s->words[w];
        if (pw->phon_start >= pw->phon_end || pw->phon_end > k->s->nphon)
            continue;
        int ta = pw->phon_start ? k->phon_end[pw->phon_start - 1] : 0;
        int tb = k->phon_end[pw->phon_end - 1];
        if (tb <= ta || ta < p->a || ta >= p->b)
            continue;   /* no tokens (all outside the vocabulary), or another piece's */
        if (tb > p->b)
            tb = p->b;
        if (grow_words(out, cap) < 0)
            return -1;
        int ia = p->at + ta - p->a, ib = p->at + tb - p->a;
        out->words[out->word_count++] = (struct word_timing){
            (int)(start_ms + llround(cum[ia] / total * (double)len_ms)),
            (int)(start_ms + llround(cum[ib] / total * (double)len_ms)), pw->offset, pw->length };
    }
    return 0;
}

static int append_audio(struct pcm *p, const float *a, size_t n)
{
    int16_t chunk[1024];
    for (size_t i = 0; i < n;) {
        size_t k = 0;
        for (; k < 1024 && i < n; k++, i++) {
            float v = a[i] * 32767.0f;
            chunk[k] = (int16_t)(v > 32767.0f ? 32767 : v < -32768.0f ? -32768 : lrintf(v));
        }
        if (pcm_append(p, chunk, k) < 0)
            return -1;
    }
    return 0;
}

/* One inference over pieces[0..np): ids = 0, tokens (a space between sentences), 0. */
static int run_batch(struct kokoro_model *m, const struct kvoice *kv, const struct ksent *ks,
                     struct piece *pieces, int np, struct synth_result *out, int *cap,
                     char *err, size_t errlen)
{
    int64_t ids[KOKORO_MAX_TOKENS + 2];
    int n = 0;
    ids[n++] = 0;
    for (int i = 0; i < np; i++) {
        if (i && pieces[i].sent != pieces[i - 1].sent)
            ids[n++] = 16;   /* the space between two sentences */
        pieces[i].at = n;
        const struct ksent *k = &ks[pieces[i].sent];
        memcpy(ids + n, k->tok + pieces[i].a, (size_t)(pieces[i].b - pieces[i].a) * sizeof *ids);
        n += pieces[i].b - pieces[i].a;
    }
    ids[n++] = 0;
    struct kokoro_run r;
    const float *style = kokoro_voice_style(&pack, kv->style, n - 2);
    if (kokoro_model_run(m, ids, n, style, pack.dim, 1.0f, &r, err, errlen) < 0)
        return -1;
    double cum[KOKORO_MAX_TOKENS + 3];
    cum[0] = 0;
    for (int i = 0; i < n; i++)
        cum[i + 1] = cum[i] + (!r.durations ? 1 : r.durations[i] > 0 ? r.durations[i] : 0);
    int64_t start_ms = pcm_duration_ms(&out->pcm);
    int rc = append_audio(&out->pcm, r.audio, r.count);
    kokoro_run_free(&r);
    int64_t len_ms = pcm_duration_ms(&out->pcm) - start_ms;
    for (int i = 0; rc == 0 && i < np; i++)
        rc = piece_words(&ks[pieces[i].sent], &pieces[i], cum, n, start_ms, len_ms, out, cap);
    if (rc < 0)
        snprintf(err, errlen, "kokoro: out of memory");
    return rc;
}

static int kokoro_synthesize(struct engine *e, const char *voice, const char *text,
                             struct synth_result *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const struct kvoice *kv = find_voice(voice);
    if (!kv) {
        snprintf(err, errlen, "kokoro: unknown voice \"%s\"", voice ? voice : "");
        return -1;
    }
    struct piper_text t;
    piper_noise_reset();   /* the model's noise depends on this text only (piper_noise.c) */
    if (piper_phonemize_as(kv->lang->espeak, text, PIPER_PHON_MARKS, &t, err, errlen) < 0)
        return -1;
    out->pcm.rate = KOKORO_SAMPLE_RATE;
    int rc = -1, cap = 0, np = 0, ntotal = 0;
    struct ksent *ks = calloc((size_t)t.count + 1, sizeof *ks);
    struct piece batch[KOKORO_MAX_TOKENS];
    if (!ks)
        goto oom;
    for (int i = 0; i < t.count; i++) {
        struct piper_sentence *s = &t.s[i];
        kokoro_ipa_fix(s->phon, s->nphon, kv->lang->code == 'a');
        ks[i].s = s;
        ks[i].tok = malloc(((size_t)s->nphon + 1) * sizeof *ks[i].tok);
        ks[i].phon_end = malloc(((size_t)s->nphon + 1) * sizeof *ks[i].phon_end);
        if (!ks[i].tok || !ks[i].phon_end)
            goto oom;
        ks[i].ntok = kokoro_tokens(&vocab, s->phon, s->nphon, ks[i].tok, ks[i].phon_end);
    }
    struct kokoro_model *m = NULL;
    for (int i = 0; i < t.count; i++) {
        for (int a = 0; a < ks[i].ntok;) {
            int sep = np && batch[np - 1].sent != i;   /* a space before a new sentence */
            int room = KOKORO_MAX_TOKENS - ntotal - sep;
            int b = piece_end(&ks[i], a, room > 0 ? room : KOKORO_MAX_TOKENS);
            if (np && (b - a > room || b < ks[i].ntok)) {
                /* does not fit whole: run what is packed, and start afresh */
                if (!m && !(m = model_get(err, errlen)))
                    goto out;
                if (run_batch(m, kv, ks, batch, np, out, &cap, err, errlen) < 0)
                    goto out;
                np = ntotal = 0;
                continue;
            }
            batch[np++] = (struct piece){ i, a, b, 0 };
            ntotal += sep + b - a;
            a = b;
            if (b < ks[i].ntok) {   /* the sentence goes on: this inference is full */
                if (!m && !(m = model_get(err, errlen)))
                    goto out;
                if (run_batch(m, kv, ks, batch, np, out, &cap, err, errlen) < 0)
                    goto out;
                np = ntotal = 0;
            }
        }
    }
    if (np) {
        if (!m && !(m = model_get(err, errlen)))
            goto out;
        if (run_batch(m, kv, ks, batch, np, out, &cap, err, errlen) < 0)
            goto out;
    }
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "kokoro: out of memory");
out:
    for (int i = 0; ks && i < t.count; i++) {
        free(ks[i].tok);
        free(ks[i].phon_end);
    }
    free(ks);
    piper_text_free(&t);
    if (rc < 0)
        synth_result_free(out);
    return rc;
}

const struct engine_ops kokoro_engine_ops = {
    .slug = "kokoro",
    .name = "Kokoro",
    .flags = ENGINE_SHARED_SESSION,
    .global_init = kokoro_global_init,
    .global_cleanup = kokoro_global_cleanup,
    .create = kokoro_create,
    .destroy = kokoro_destroy,
    .synthesize = kokoro_synthesize,
};
