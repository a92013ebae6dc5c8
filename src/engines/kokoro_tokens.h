/* kokoro_tokens — Kokoro's tokens: its vocabulary (one code point -> one id), the fixes
 * kokoro-onnx makes to espeak-ng's IPA, and the mapping of phonemes to token ids. Pure: no
 * I/O, no global state. */
#ifndef RECITE_KOKORO_TOKENS_H
#define RECITE_KOKORO_TOKENS_H
#include <stddef.h>
#include <stdint.h>

/* At most this many tokens per inference, the two 0 pads not counted (kokoro-onnx's
 * MAX_PHONEME_LENGTH; the model's context is 512). */
#define KOKORO_MAX_TOKENS 510

struct kokoro_vocab_entry {
    uint32_t cp;
    int id;
};

struct kokoro_vocab {
    struct kokoro_vocab_entry *e;   /* sorted by cp */
    int count;
};

/* Kokoro v1.0's vocabulary (the "vocab" of hexgrad/Kokoro-82M config.json, which
 * kokoro-onnx ships as its config.json): 114 symbols. 0, or -1 when out of memory. */
int kokoro_vocab_default(struct kokoro_vocab *v);
/* The "vocab" object of a Kokoro config.json: every key one code point, every id in
 * 1..1023. 0, or -1 with a message (`v` is then empty). */
int kokoro_vocab_parse(const char *json, size_t len, struct kokoro_vocab *v, char *err,
                       size_t errlen);
void kokoro_vocab_free(struct kokoro_vocab *v);
int kokoro_vocab_id(const struct kokoro_vocab *v, uint32_t cp);   /* -1: not in it */

/* kokoro-onnx's fixes to espeak's IPA (tokenizer.py, phonemize), the ones that keep every
 * phoneme in place (so word positions stay valid): "kəkˈoːɹoʊ" -> "kˈoʊkəɹoʊ" (and the
 * British form), 'ʲ' -> 'j', 'r' -> 'ɹ', 'x' -> 'k', 'ɬ' -> 'l', and for American English
 * "nˈaɪnti" -> "nˈaɪndi" (not before 'ː'). In place. */
void kokoro_ipa_fix(uint32_t *phon, int n, int american);

/* The token ids of phonemes (no pads): each phoneme in the vocabulary gives its id, the
 * others are dropped (as kokoro-onnx drops them). tokens has room for n; phon_end, if not
 * NULL, receives for each phoneme i the number of tokens up to and including it. Returns
 * the token count. */
int kokoro_tokens(const struct kokoro_vocab *v, const uint32_t *phon, int n, int64_t *tokens,
                  int *phon_end);
#endif
