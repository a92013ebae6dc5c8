/* engines — the model registry and the render pipeline shared by every engine
 * (synthesize, fit the silence, level the loudness; keep an upstream's Ogg Opus as is when
 * it already suits storage).
 *
 * Threads: engines_init/engines_cleanup run on the main thread, before the workers start
 * and after they stop. Between the two, the registry is read-only, so engines_count/get/
 * find and model_find_voice are safe from any thread without a lock. engine_render runs
 * on worker threads (and in `recite say`), with the caller's per-thread engine instance.
 *
 * Ownership: the registry owns each model's voice array (allocated by the engine's
 * global_init, freed here). A synth_result belongs to whoever called engine_render.
 *
 * Adding an engine: write src/engines/NAME.c defining `const struct engine_ops
 * NAME_engine_ops`, declare it in engine_list.h and add it to engine_table. The table is
 * explicit (no weak symbols or constructors) because the binary links src/ as a static
 * archive, which would silently drop an engine that nothing references. */
#include "engines/engine.h"
#include "engines/engine_list.h"
#include "util/log.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Registration order is the order of `recite voices` and GET /v1/models; the default
 * model comes first. */
static const struct engine_ops *const engine_table[] = {
    &espeak_engine_ops,
    &flite_engine_ops,
    &piper_engine_ops,    /* only with voices in --voices DIR */
    &kokoro_engine_ops,   /* only with a kokoro*.onnx in --voices DIR */
    &openai_engine_ops,   /* only with --openai-url */
    &browser_engine_ops,  /* synthesized in the page; needs espeak's voice list */
};
#define ENGINE_TABLE_LEN (int)(sizeof engine_table / sizeof engine_table[0])

static struct model models[ENGINE_TABLE_LEN];
static int model_count;
static const struct config *engines_cfg;   /* set before engines_init, read-only after */

void engines_set_config(const struct config *cfg)
{
    engines_cfg = cfg;
}

const struct config *engines_config(void)
{
    return engines_cfg;
}

int engines_init(char *err, size_t errlen)
{
    if (model_count > 0)
        engines_cleanup();
    for (int i = 0; i < ENGINE_TABLE_LEN; i++) {
        const struct engine_ops *ops = engine_table[i];
        struct voice_info *voices = NULL;
        int n = 0;
        char e[256] = "";
        int rc = ops->global_init(&voices, &n, e, sizeof e);
        if (rc == RECITE_ENOTCONF) {
            log_debug("engine %s not configured", ops->slug);
            continue;
        }
        if (rc < 0) {
            log_warn("engine %s unavailable: %s", ops->slug, e[0] ? e : "unknown error");
            continue;
        }
        models[model_count++] = (struct model){ ops, voices, n };
        log_info("engine %s: %d voices", ops->slug, n);
    }
    if (model_count == 0)
        snprintf(err, errlen, "no speech engine could be initialised");
    return model_count;
}

void engines_cleanup(void)
{
    for (int i = model_count; i-- > 0;) {
        if (models[i].ops->global_cleanup)
            models[i].ops->global_cleanup();
        free(models[i].voices);
        models[i] = (struct model){ 0 };
    }
    model_count = 0;
}

int engines_count(void)
{
    return model_count;
}

const struct model *engines_get(int i)
{
    return i >= 0 && i < model_count ? &models[i] : NULL;
}

int engines_any(unsigned flag)
{
    for (int i = 0; i < engines_count(); i++)
        if (engines_get(i)->ops->flags & flag)
            return 1;
    return 0;
}

const struct model *engines_find(const char *slug)
{
    if (!slug)
        return NULL;
    for (int i = 0; i < model_count; i++)
        if (strcmp(models[i].ops->slug, slug) == 0)
            return &models[i];
    return NULL;
}

/* Exact match first; then case-insensitive, so "en-US" finds "en-us". Callers that key
 * caches on the voice should use the returned ->slug, the canonical spelling. */
const struct voice_info *model_find_voice(const struct model *m, const char *voice)
{
    if (!m || !voice)
        return NULL;
    for (int i = 0; i < m->voice_count; i++)
        if (strcmp(m->voices[i].slug, voice) == 0)
            return &m->voices[i];
    for (int i = 0; i < m->voice_count; i++)
        if (strcasecmp(m->voices[i].slug, voice) == 0)
            return &m->voices[i];
    return NULL;
}

void synth_result_free(struct synth_result *r)
{
    if (!r)
        return;
    pcm_free(&r->pcm);
    buf_free(&r->encoded);
    free(r->words);
    r->words = NULL;
    r->word_count = 0;
}

/* After fitting the silence, word times move by the change at the start (earlier when
 * lead-in was cut, later when a pad was added); they are clamped to the audio, and a word
 * now wholly outside it (it was "spoken" in what was cut, which is silence) is dropped. */
static void shift_words(struct synth_result *r, int64_t shift_ms)
{
    int64_t dur = pcm_duration_ms(&r->pcm);
    int n = 0;
    for (int i = 0; i < r->word_count; i++) {
        int64_t s = r->words[i].start_ms - shift_ms, e = r->words[i].end_ms - shift_ms;
        if (e <= 0 || s >= dur)
            continue;
        struct word_timing w = r->words[i];
        w.start_ms = (int)(s < 0 ? 0 : s);
        w.end_ms = (int)(e > dur ? dur : e);
        r->words[n++] = w;
    }
    r->word_count = n;
    if (n == 0) {
        free(r->words);
        r->words = NULL;
    }
}

/* An upstream server's Ogg Opus is stored as is when it already is what recite stores:
 * mono, at most twice our bitrate, the silence at both ends within 20 ms (start) and 40 ms
 * (end) of the pads, and levelling it needs no limiter. The level is then set through the
 * OpusHead output gain, with no re-encoding; pcm gets the same gain, so it stays what the
 * bytes decode to. 1: kept; 0: the caller re-encodes from pcm. */
static int keep_encoded(struct synth_result *out)
{
    struct buf *b = &out->encoded;
    struct pcm *p = &out->pcm;
    if (!b->len || !p->count || p->rate <= 0 || audio_opus_channels(b->data, b->len) != 1)
        return 0;
    int64_t ms = pcm_duration_ms(p);
    if (ms <= 0 || (double)b->len * 8.0 * 1000.0 / (double)ms > 2.0 * AUDIO_OPUS_BITRATE)
        return 0;
    struct pcm fit = { .rate = p->rate };
    int64_t shift = 0;
    if (pcm_append(&fit, p->samples, p->count) < 0 ||
        pcm_fit_silence(&fit, AUDIO_PAD_START_MS, AUDIO_PAD_END_MS, &shift) < 0 || !fit.count) {
        pcm_free(&fit);
        return 0;
    }
    int64_t lead_ms = llabs(shift) * 1000 / p->rate;
    int64_t trail_ms = llabs((int64_t)p->count - (int64_t)fit.count - shift) * 1000 / p->rate;
    pcm_free(&fit);
    if (lead_ms > 20 || trail_ms > 40)
        return 0;
    double l = audio_loudness_lufs(p);
    if (!isfinite(l))
        return 0;
    double db = AUDIO_LOUDNESS_TARGET - l;
    if (db > AUDIO_LOUDNESS_MAX_GAIN_DB)
        db = AUDIO_LOUDNESS_MAX_GAIN_DB;
    int peak = 0;
    for (size_t i = 0; i < p->count; i++) {
        int a = abs(p->samples[i]);
        if (a > peak)
            peak = a;
    }
    double gain = pow(10.0, db / 20.0);
    if (peak * gain > 32767.0 * pow(10.0, AUDIO_LOUDNESS_CEILING_DB / 20.0) ||
        audio_opus_add_gain(b->data, b->len, db) < 0)
        return 0;
    for (size_t i = 0; i < p->count; i++)
        p->samples[i] = (int16_t)lrint(p->samples[i] * gain);
    return 1;
}

int engine_render(const struct model *m, struct engine *e, const char *voice,
                  const char *text, struct synth_result *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!m || !e || !text) {
        snprintf(err, errlen, "engine_render: missing model, engine or text");
        return -1;
    }
    engine_rand_reset();
    if (m->ops->synthesize(e, voice, text, out, err, errlen) < 0) {
        synth_result_free(out);
        return -1;
    }
    return engine_finish(out, err, errlen);
}

int engine_finish(struct synth_result *out, char *err, size_t errlen)
{
    if (out->encoded.len) {
        if (keep_encoded(out))
            return 0;
        buf_free(&out->encoded);   /* re-encoded from pcm like any engine's audio */
    }
    /* Exact pads, whatever the engine left: every block then joins the next with the
     * same pause (AUDIO_PAD_END_MS + AUDIO_PAD_START_MS), whichever engine made it. */
    int64_t shift;
    if (pcm_fit_silence(&out->pcm, AUDIO_PAD_START_MS, AUDIO_PAD_END_MS, &shift) < 0) {
        synth_result_free(out);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rate = out->pcm.rate > 0 ? out->pcm.rate : 1;
    /* Round to the nearest ms, symmetrically for negative shifts. */
    int64_t shift_ms = shift >= 0 ? (shift * 1000 + rate / 2) / rate
                                  : -((-shift * 1000 + rate / 2) / rate);
    shift_words(out, shift_ms);
    /* Every voice at the same loudness (audio/loudness.c), so a voice switch never jumps
     * in volume. After the silence fit: the pads are digital silence either way. */
    if (audio_normalize_loudness(&out->pcm, AUDIO_LOUDNESS_TARGET, NULL, NULL) < 0) {
        synth_result_free(out);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int engine_encode(struct synth_result *r, struct buf *opus, char *err, size_t errlen)
{
    memset(opus, 0, sizeof *opus);
    if (r->encoded.len) {
        *opus = r->encoded;   /* an upstream's Ogg Opus, kept as is (engine_finish) */
        memset(&r->encoded, 0, sizeof r->encoded);
        return 0;
    }
    /* exact level as decoded, the decoding alongside the encoding (audio/opus.c) */
    if (audio_encode_opus_level(&r->pcm, AUDIO_LOUDNESS_TARGET, opus, err, errlen)) {
        buf_free(opus);
        return -1;
    }
    return 0;
}

char *engine_word_timings_json(const struct synth_result *r)
{
    if (!r->word_count)
        return NULL;
    /* cJSON, not snprintf into an estimated size: no length to get wrong. */
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; arr && i < r->word_count; i++) {
        const struct word_timing *w = &r->words[i];
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddNumberToObject(o, "start_ms", w->start_ms) ||
            !cJSON_AddNumberToObject(o, "end_ms", w->end_ms) ||
            !cJSON_AddNumberToObject(o, "offset", w->offset) ||
            !cJSON_AddNumberToObject(o, "length", w->length) || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            cJSON_Delete(arr);
            arr = NULL;
        }
    }
    char *s = arr ? cJSON_PrintUnformatted(arr) : NULL;
    cJSON_Delete(arr);
    if (!s)
        log_warn("engine: out of memory: a block's word timings are left out");
    return s;
}
