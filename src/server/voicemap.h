/* voicemap — OpenAI's voice names (alloy, ash, ... verse) to local (model, voice) pairs for
 * POST /v1/audio/speech, so an OpenAI client's defaults speak with the best voice installed. */
#ifndef RECITE_VOICEMAP_H
#define RECITE_VOICEMAP_H
#include <stddef.h>

struct model;
struct voice_info;
struct voicemap;

/* Builds the map from the engines loaded (engines_init first) and `spec`
 * (--openai-voice-map, "alloy=espeak:en-us,nova=flite:slt"; NULL: defaults only).
 * NULL with a message in err for a malformed entry or an unknown model or voice. */
struct voicemap *voicemap_create(const char *spec, char *err, size_t errlen);
void voicemap_destroy(struct voicemap *vm);
/* The local model and voice for an OpenAI voice name: 0, or -1 if the name is not mapped. */
int voicemap_find(const struct voicemap *vm, const char *name, const struct model **m,
                  const struct voice_info **v);
/* Entries in order (OpenAI's eleven first): the name, or NULL past the end. */
const char *voicemap_get(const struct voicemap *vm, int i, const struct model **m,
                         const struct voice_info **v);
#endif
