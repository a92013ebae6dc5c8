/* engine — the speech engine interface. An engine lists its voices once at start-up
 * (engines_init, main thread) and synthesizes on worker threads. Each worker thread
 * creates its own engine instance with ops->create(); an engine that is not thread-safe
 * serializes internally (espeak-ng: one process-global lock, see espeak.c). */
#ifndef RECITE_ENGINE_H
#define RECITE_ENGINE_H
#include "util/err.h"
#include <stddef.h>
#include "audio/audio.h"

struct voice_info {
    char slug[64];   /* e.g. "en-us" */
    char name[96];   /* human name, e.g. "English (America)" */
    char lang[32];   /* BCP-47 tag, e.g. "en-US" */
};

struct word_timing {
    int start_ms, end_ms;   /* in the (trimmed) audio */
    int offset, length;     /* UTF-16 code units into the block text */
};

struct synth_result {
    struct pcm pcm;
    struct word_timing *words;  /* malloc'd, may be NULL */
    int word_count;
    /* Optional: the engine's audio already encoded as Ogg Opus (an upstream server's
     * response), with `pcm` its decoded samples. engine_render keeps it as is (levelled
     * through the Opus header gain) when it already meets the storage format, and then
     * workers store these bytes instead of encoding `pcm`; otherwise it is dropped. */
    struct buf encoded;
};
void synth_result_free(struct synth_result *r);

struct engine;  /* per-thread instance, opaque */

/* What an engine's work is like, so the rest of recite can place its jobs without
 * knowing engines by name (engine_ops.flags). */
enum engine_flag {
    /* Waits on the network, not the CPU (openai): its jobs run on a pool of their own
     * (--openai-concurrency) so slow upstreams never hold the CPU workers, and its
     * failures are the upstream's (502 rather than 500 for /v1/audio/speech). */
    ENGINE_NETWORK = 1u << 0,
    /* CPU-heavy with one session shared by every thread (a neural model loaded once per
     * process, e.g. an ONNX Runtime session): create() returns a cheap handle onto it. */
    ENGINE_SHARED_SESSION = 1u << 1,
    /* Synthesized in the page, never by the server (model `browser`): offered in the
     * picker and accepted on upload (POST /v1/audio); create() fails. */
    ENGINE_IN_PAGE = 1u << 2,
};

struct engine_ops {
    const char *slug;   /* model slug: "espeak", "flite", "openai" */
    const char *name;   /* human name */
    unsigned flags;     /* enum engine_flag bits */
    /* Once, on the main thread, before any create(). Fills the voice list. Returns 0, a
     * negative recite_err with a message in err (the engine is left out, with a warning), or
     * RECITE_ENOTCONF when the engine is not configured (left out quietly: openai without
     * --openai-url, piper without voices). */
    int (*global_init)(struct voice_info **voices, int *count, char *err, size_t errlen);
    void (*global_cleanup)(void);
    struct engine *(*create)(char *err, size_t errlen);
    void (*destroy)(struct engine *e);
    /* Synthesize text with a voice slug. 0 on success (pcm may be empty: nothing to say),
     * -1 with a message in err on failure. Word timings are in UTF-16 units of `text`. */
    int (*synthesize)(struct engine *e, const char *voice, const char *text,
                      struct synth_result *out, char *err, size_t errlen);
};

struct model {
    const struct engine_ops *ops;
    struct voice_info *voices;
    int voice_count;
};

/* The command-line configuration that configurable engines read in global_init (openai:
 * --openai-url ...). Set it before engines_init; without it such engines stay off. The
 * config must outlive engines_cleanup. */
struct config;
void engines_set_config(const struct config *cfg);
const struct config *engines_config(void);

/* Registry (engines.c): initialise every available engine; a failing engine is logged
 * and left out. Returns the number of models. */
int engines_init(char *err, size_t errlen);
void engines_cleanup(void);
int engines_count(void);
const struct model *engines_get(int i);
const struct model *engines_find(const char *slug);
int engines_any(unsigned flag);   /* whether a registered engine has this engine_flag */
const struct voice_info *model_find_voice(const struct model *m, const char *voice);
/* Default model and voice for `recite say` and the page: espeak / en-us. */
#define ENGINE_DEFAULT_MODEL "espeak"
#define ENGINE_DEFAULT_VOICE "en-us"
/* The model of the voices synthesized in the page (engines/browser.c). */
#define ENGINE_BROWSER_MODEL "browser"

/* Full pipeline used by workers and `recite say`: synthesize, then cut or pad the silence
 * at both ends to exactly AUDIO_PAD_START_MS / AUDIO_PAD_END_MS (pcm_fit_silence),
 * shifting word timings to match, and level the result to AUDIO_LOUDNESS_TARGET
 * (audio_normalize_loudness), leaving PCM ready to encode. An engine's `encoded` Ogg Opus
 * survives only if it already suits storage (then levelled by its header gain, pcm
 * matching it); otherwise it is dropped. `out` is overwritten; on failure it is left
 * empty. Empty PCM (nothing to say) is success. */
int engine_render(const struct model *m, struct engine *e, const char *voice,
                  const char *text, struct synth_result *out, char *err, size_t errlen);

/* The word timings as the JSON array text of `word_timings` (malloc'd), or NULL when there
 * are none (or no memory). */
char *engine_word_timings_json(const struct synth_result *r);
/* engine_render's second half, for audio from anywhere (a browser upload, POST /v1/audio):
 * fit the silence, shift the word timings, level; keep `encoded` only if it suits storage.
 * 0, or -1 with err (out emptied). */
int engine_finish(struct synth_result *out, char *err, size_t errlen);
/* The stored form of a finished result: its kept Ogg Opus (moved out of r), or its PCM
 * encoded to Ogg Opus and levelled exactly as decoded. 0, or -1 with err. */
int engine_encode(struct synth_result *r, struct buf *opus, char *err, size_t errlen);

/* Restarts the calling thread's rand() sequence (engine_rand.c): engine_render calls it
 * before every synthesis, so the same (text, model, voice) always renders the same audio. */
void engine_rand_reset(void);
#endif
