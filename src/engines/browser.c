/* browser — the `browser` model: voices synthesized in the page by a WebAssembly espeak-ng
 * (SPEC sections 6 and 9), never by the server. The server only needs the list, to offer
 * the voices in the picker and to check an upload's X-Voice (POST /v1/audio): it is the
 * espeak model's list, since the page runs the same synthesizer (a different build of it).
 *
 * Threads: global_init runs on the main thread inside engines_init, after espeak's (the
 * table order), and reads the registry as it stands. Ownership: the voice array is the
 * registry's, like every engine's. create() always fails: a worker that somehow got a
 * browser job reports a clear error instead of synthesizing it. */
#include "engines/engine_list.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int browser_global_init(struct voice_info **voices, int *count, char *err, size_t errlen)
{
    *voices = NULL;
    *count = 0;
    const struct model *es = engines_find("espeak");
    if (!es || es->voice_count <= 0)
        return RECITE_ENOTCONF;   /* no espeak-ng list to offer: the model is left out quietly */
    struct voice_info *v = malloc((size_t)es->voice_count * sizeof *v);
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(v, es->voices, (size_t)es->voice_count * sizeof *v);
    *voices = v;
    *count = es->voice_count;
    return 0;
}

static struct engine *browser_create(char *err, size_t errlen)
{
    snprintf(err, errlen, "model \"browser\" is synthesized in the page, never by the server");
    return NULL;
}

static void browser_destroy(struct engine *e)
{
    (void)e;
}

static int browser_synthesize(struct engine *e, const char *voice, const char *text,
                              struct synth_result *out, char *err, size_t errlen)
{
    (void)e, (void)voice, (void)text, (void)out;
    snprintf(err, errlen, "model \"browser\" is synthesized in the page, never by the server");
    return -1;
}

const struct engine_ops browser_engine_ops = {
    .slug = ENGINE_BROWSER_MODEL,
    .name = "In this browser",
    .flags = ENGINE_IN_PAGE,
    .global_init = browser_global_init,
    .create = browser_create,
    .destroy = browser_destroy,
    .synthesize = browser_synthesize,
};
