/* cli — the one-shot commands (`say`, `voices`, `export`) and the helpers they share. */
#ifndef RECITE_CLI_H
#define RECITE_CLI_H
#include <stdio.h>
#include "config.h"
#include "audio/audio.h"

struct model;
struct engine;
typedef int (*audio_encoder_fn)(const struct pcm *, struct buf *, char *, size_t);

int cli_say(const struct config *cfg);
int cli_voices(const struct config *cfg);
int cli_voices_add(const struct config *cfg);   /* cli_voices.c */
/* A Piper voice name's path in the voices repository, without extension:
 * "en_US-lessac-medium" -> "en/en_US/lessac/medium/en_US-lessac-medium". 0 or -1. */
int cli_voice_path(const char *name, char *out, size_t len);
int cli_export(const struct config *cfg);
int cli_user(const struct config *cfg);   /* cli_user.c */

/* Encoder chosen by the file extension (.ogg/.opus, .wav, .mp3), or NULL. */
audio_encoder_fn cli_encoder_for(const char *path);
/* Encodes with `encode`, levelling Ogg Opus exactly like served audio. 0 or -1. */
int cli_encode(audio_encoder_fn encode, const struct pcm *p, struct buf *out, char *err,
               size_t errlen);
/* Reads a whole stream into a NUL-terminated malloc'd string. */
char *cli_read_all(FILE *f);
int cli_write_file(const char *path, const struct buf *b);
/* engines_init + the --model/--voice check + an engine instance; messages name `cmd`.
 * On failure returns -1 after printing why (engines are cleaned up by the caller). */
int cli_engine_open(const struct config *cfg, const char *cmd, const struct model **m,
                    struct engine **e);
#endif
