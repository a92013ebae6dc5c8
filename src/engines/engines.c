/* engines — the model registry and the render pipeline shared by every engine.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Registration order is the order of `recite voices` and GET /v1/models; the default
 * model comes first. */
static const struct engine_ops *const engine_table[] = {
    &espeak_engine_ops,
};
#define ENGINE_TABLE_LEN (int)(sizeof engine_table / sizeof engine_table[0])

static struct model models[ENGINE_TABLE_LEN];
static int model_count;

int engines_init(char *err, size_t errlen)
{
    if (model_count > 0)
        engines_cleanup();
    for (int i = 0; i < ENGINE_TABLE_LEN; i++) {
        const struct engine_ops *ops = engine_table[i];
        struct voice_info *voices = NULL;
        int n = 0;
        char e[256] = "";
        if (ops->global_init(&voices, &n, e, sizeof e) < 0) {
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

int engine_render(const struct model *m, struct engine *e, const char *voice,
                  const char *text, struct synth_result *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!m || !e || !text) {
        snprintf(err, errlen, "engine_render: missing model, engine or text");
        return -1;
    }
    if (m->ops->synthesize(e, voice, text, out, err, errlen) < 0) {
        synth_result_free(out);
        return -1;
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
    return 0;
}
