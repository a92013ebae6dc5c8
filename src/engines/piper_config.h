/* piper_config — a Piper voice's NAME.onnx.json: what the model needs besides its weights
 * (sample rate, espeak-ng voice, phoneme_id_map, inference scales, speakers, language), and
 * the phoneme-id vector Piper builds from it. Pure: no I/O, no global state. */
#ifndef RECITE_PIPER_CONFIG_H
#define RECITE_PIPER_CONFIG_H
#include <stddef.h>
#include <stdint.h>

struct piper_phoneme {
    uint32_t cp;        /* one code point, e.g. U+02C8 'ˈ' */
    int first, count;   /* its ids: ids[first .. first+count) */
};

struct piper_speaker {
    char name[64];
    int id;
};

struct piper_config {
    int sample_rate;
    char espeak_voice[64];     /* espeak.voice, e.g. "en-us" */
    char lang_code[32];        /* language.code, e.g. "en_US" */
    char lang_name[64];        /* language.name_english, e.g. "English" */
    char region[64];           /* language.country_english, e.g. "United States" */
    char dataset[64];          /* dataset, e.g. "lessac" */
    char quality[16];          /* audio.quality, e.g. "medium" */
    float noise_scale, length_scale, noise_w;   /* inference.* (Piper's defaults if absent) */
    int num_speakers;
    struct piper_speaker *speakers;   /* speaker_id_map, sorted by id */
    int speaker_count;
    struct piper_phoneme *map;        /* phoneme_id_map, sorted by cp */
    int map_count;
    int64_t *ids;
    int id_count;
};

/* Parses the JSON text (len bytes, need not be NUL-terminated). 0, or -1 with a message
 * in err saying what is missing or wrong; `c` is then empty. */
int piper_config_parse(const char *json, size_t len, struct piper_config *c, char *err,
                       size_t errlen);
void piper_config_free(struct piper_config *c);
const struct piper_phoneme *piper_config_phoneme(const struct piper_config *c, uint32_t cp);

/* Piper's phoneme ids for one sentence: BOS '^', pad '_', then each phoneme's ids followed
 * by a pad, then EOS '$'. Phonemes missing from the map are skipped, as Piper does.
 * *ids is malloc'd. If phon_end is not NULL it receives, for each phoneme i, the index
 * just past its ids (so phoneme i spans ids[phon_end[i-1] .. phon_end[i]), pad included).
 * Returns the number of ids, or -1 when out of memory. */
int piper_config_ids(const struct piper_config *c, const uint32_t *phonemes, int n,
                     int64_t **ids, int *phon_end);
#endif
