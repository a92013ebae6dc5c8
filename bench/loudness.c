/* loudness — what every voice measures before and after levelling, with recite's own
 * BS.1770 meter (src/audio/loudness.c), on the voice's preview sentence. bench/loudness.sh
 * builds and runs it and sets ffmpeg's ebur128 on the served audio beside it.
 *
 * Output: one line per voice, tab-separated: model, voice, lang, raw LUFS (the engine's
 * own level, after the silence fit), levelled LUFS (engine_render), gain applied (dB). */
#include "audio/audio.h"
#include "engines/engine.h"
#include "server/api_openai.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    char err[256] = "";
    if (engines_init(err, sizeof err) <= 0) {
        fprintf(stderr, "loudness: %s\n", err);
        return 1;
    }
    const char *only = argc > 1 ? argv[1] : NULL;   /* a model slug, or every model */
    for (int i = 0; i < engines_count(); i++) {
        const struct model *m = engines_get(i);
        if ((only && strcmp(only, m->ops->slug)) || !strcmp(m->ops->slug, "openai"))
            continue;
        struct engine *e = m->ops->create(err, sizeof err);
        for (int v = 0; e && v < m->voice_count; v++) {
            const struct voice_info *vi = &m->voices[v];
            const char *text = preview_sentence(vi->lang);
            struct synth_result raw;
            double before = NAN, after = NAN;
            if (m->ops->synthesize(e, vi->slug, text, &raw, err, sizeof err) == 0) {
                int64_t shift;
                pcm_fit_silence(&raw.pcm, AUDIO_PAD_START_MS, AUDIO_PAD_END_MS, &shift);
                before = audio_loudness_lufs(&raw.pcm);
                synth_result_free(&raw);
            }
            struct synth_result r;
            if (engine_render(m, e, vi->slug, text, &r, err, sizeof err) == 0) {
                after = audio_loudness_lufs(&r.pcm);
                synth_result_free(&r);
            }
            printf("%s\t%s\t%s\t%.2f\t%.2f\t%+.2f\n", m->ops->slug, vi->slug, vi->lang, before,
                   after, after - before);
        }
        if (e)
            m->ops->destroy(e);
    }
    engines_cleanup();
    return 0;
}
