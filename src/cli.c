/* cli — `recite say` and `recite voices`, and helpers shared with `recite export`.
 * Main thread only. */
#include "cli.h"
#include "engines/engine.h"
#include "engines/piper.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

audio_encoder_fn cli_encoder_for(const char *path)
{
    const char *ext = strrchr(path, '.');
    if (!ext)
        return NULL;
    if (!strcmp(ext, ".ogg") || !strcmp(ext, ".opus"))
        return audio_encode_opus;
    if (!strcmp(ext, ".wav"))
        return audio_encode_wav;
    if (!strcmp(ext, ".mp3"))
        return audio_encode_mp3;
    return NULL;
}

int cli_encode(audio_encoder_fn encode, const struct pcm *p, struct buf *out, char *err,
               size_t errlen)
{
    /* the same exact level as served audio: Opus costs ~0.4 LU, corrected in the header gain */
    if (encode == audio_encode_opus)
        return audio_encode_opus_level(p, AUDIO_LOUDNESS_TARGET, out, err, errlen);
    return encode(p, out, err, errlen) ? -1 : 0;
}

char *cli_read_all(FILE *f)
{
    struct buf b = { 0 };
    if (buf_read_stream(&b, f)) {
        buf_free(&b);
        return NULL;
    }
    return (char *)b.data;
}

int cli_write_file(const char *path, const struct buf *b)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int bad = fwrite(b->data, 1, b->len, f) != b->len;
    return fclose(f) || bad ? -1 : 0;
}

int cli_engine_open(const struct config *cfg, const char *cmd, const struct model **m,
                    struct engine **e)
{
    char err[256] = "";
    if (engines_init(err, sizeof err) <= 0) {
        fprintf(stderr, "recite %s: no speech engine available: %s\n", cmd, err);
        return -1;
    }
    if (!(*m = engines_find(cfg->model))) {
        fprintf(stderr, "recite %s: unknown model '%s' (see `recite voices`)\n", cmd, cfg->model);
        return -1;
    }
    if (!model_find_voice(*m, cfg->voice)) {
        fprintf(stderr, "recite %s: unknown voice '%s' for model %s (see `recite voices`)\n",
                cmd, cfg->voice, cfg->model);
        return -1;
    }
    if (!(*e = (*m)->ops->create(err, sizeof err))) {
        fprintf(stderr, "recite %s: %s\n", cmd, err[0] ? err : "the engine failed to start");
        return -1;
    }
    return 0;
}

int cli_voices(const struct config *cfg)
{
    char err[256] = "";
    if (cfg->nargs >= 1 && strcmp(cfg->args[0], "add") == 0)
        return cli_voices_add(cfg);
    if (cfg->nargs > 0) {
        fprintf(stderr, "recite voices: unknown argument '%s'\n", cfg->args[0]);
        config_usage(stderr, CMD_VOICES);
        return 2;
    }
    if (engines_init(err, sizeof err) <= 0) {
        fprintf(stderr, "recite voices: no speech engine available: %s\n", err);
        return 1;
    }
    for (int i = 0; i < engines_count(); i++) {
        const struct model *m = engines_get(i);
        if ((m->ops->flags & ENGINE_IN_PAGE))
            continue;   /* `browser`: voices of the web page, no command can use them */
        for (int v = 0; v < m->voice_count; v++)
            printf("%s\t%s\t%s\t%s\n", m->ops->slug, m->voices[v].slug, m->voices[v].lang,
                   m->voices[v].name);
    }
    if (!engines_find("piper") && isatty(STDERR_FILENO)) {
        char dir[4096];
        if (piper_voices_dir(dir, sizeof dir) == 0)
            fprintf(stderr, "(no Piper voices in %s: `recite voices add en_US-lessac-medium` "
                    "adds a natural one)\n", dir);
    }
    engines_cleanup();
    return 0;
}

int cli_say(const struct config *cfg)
{
    char err[256] = "";
    int rc = 1;
    if (!cfg->output) {
        fprintf(stderr, "recite say: -o FILE is required\n");
        config_usage(stderr, CMD_SAY);
        return 2;
    }
    audio_encoder_fn encode = cli_encoder_for(cfg->output);
    if (!encode) {
        fprintf(stderr, "recite say: the output file must end in .ogg, .wav or .mp3\n");
        return 2;
    }
    char *text;
    if (cfg->nargs) {
        struct buf b = { 0 };
        for (int i = 0; i < cfg->nargs; i++) {
            if (i)
                buf_append(&b, " ", 1);
            buf_append(&b, cfg->args[i], strlen(cfg->args[i]));
        }
        buf_append(&b, "", 1);
        text = (char *)b.data;
    } else {
        text = cli_read_all(stdin);
    }
    if (!text || !text[strspn(text, " \t\r\n")]) {
        fprintf(stderr, "recite say: no text given (pass it as an argument or on stdin)\n");
        free(text);
        return 2;
    }
    const struct model *m = NULL;
    struct engine *e = NULL;
    struct synth_result sr = { 0 };
    struct buf out = { 0 };
    if (cli_engine_open(cfg, "say", &m, &e)) {
        rc = 2;
        goto out;
    }
    if (engine_render(m, e, cfg->voice, text, &sr, err, sizeof err) ||
        cli_encode(encode, &sr.pcm, &out, err, sizeof err)) {
        fprintf(stderr, "recite say: %s\n", err[0] ? err : "synthesis failed");
        goto out;
    }
    if (cli_write_file(cfg->output, &out)) {
        fprintf(stderr, "recite say: cannot write %s\n", cfg->output);
        goto out;
    }
    fprintf(stderr, "%s: %.2f s of audio\n", cfg->output, (double)pcm_duration_ms(&sr.pcm) / 1000.0);
    rc = 0;
out:
    if (e)
        m->ops->destroy(e);
    synth_result_free(&sr);
    buf_free(&out);
    free(text);
    engines_cleanup();
    return rc;
}
