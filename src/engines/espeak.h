/* espeak — what the espeak engine (espeak.c) offers other engines besides its ops table:
 * espeak-ng's phonemizer, behind the one process-wide lock that guards every espeak-ng call
 * (espeak-ng is not thread-safe; a second lock elsewhere would not protect it). */
#ifndef RECITE_ESPEAK_H
#define RECITE_ESPEAK_H
#include <stddef.h>

/* One clause: the bytes [start, end) of the text that espeak-ng consumed for it (the clause
 * and what follows it up to the next one: its punctuation and spaces), and its phonemes in
 * IPA as espeak_TextToPhonemes gives them (UTF-8, words separated by spaces). Called inside
 * the lock: it must be quick and must not call espeak. Returns 0, or -1 to stop. */
typedef int (*espeak_clause_fn)(void *ctx, size_t start, size_t end, const char *ipa);

/* Text (UTF-8) to IPA phonemes clause by clause with the espeak-ng voice `voice` (an
 * espeak slug such as "en-us", or any name espeak_SetVoiceByName knows, such as "de").
 * Needs the espeak engine initialised (engines_init). 0, or -1 with a message in err. */
int espeak_phonemize(const char *voice, const char *text, espeak_clause_fn cb, void *ctx,
                     char *err, size_t errlen);
#endif
