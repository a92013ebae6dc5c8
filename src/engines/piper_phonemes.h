/* piper_phonemes — text to Piper's phonemes: sentences of IPA code points (NFD), with the
 * clause punctuation Piper puts back, and where each written word's phonemes are. */
#ifndef RECITE_PIPER_PHONEMES_H
#define RECITE_PIPER_PHONEMES_H
#include <stddef.h>
#include <stdint.h>

struct piper_word {
    int offset, length;          /* UTF-16 code units into the text */
    int phon_start, phon_end;    /* its phonemes: sentence phon[phon_start .. phon_end) */
};

struct piper_sentence {
    uint32_t *phon;
    int nphon;
    struct piper_word *words;
    int nwords;
};

struct piper_text {
    struct piper_sentence *s;
    int count;
};

/* Phonemizes text with espeak-ng (engines/espeak.h, under its lock) as Piper does: clause by
 * clause in IPA, decomposed (NFD), language-switch flags "(en)" dropped, and after each
 * clause its punctuation from the text: ". ? !" end a sentence, ", : ;" are followed by a
 * space. 0, or -1 with a message in err (`out` is then empty). */
int piper_phonemize(const char *espeak_voice, const char *text, struct piper_text *out,
                    char *err, size_t errlen);
/* The same with options (piper_phonemize = PIPER_PHON_NFD). Without PIPER_PHON_NFD the IPA
 * stays as espeak-ng wrote it (Kokoro: phonemizer passes it on as it is, and Kokoro's
 * vocabulary has precomposed letters such as 'ç'). PIPER_PHON_MARKS (Kokoro, as phonemizer's
 * preserve_punctuation): instead of Piper's one terminator, every punctuation mark around a
 * clause that Kokoro's vocabulary knows (; : , . ! ? — … and quotes as '"'), and between
 * its words when espeak's IPA has as many words as the text, a space between clauses, a
 * sentence ending at a clause followed by . ? or !. */
#define PIPER_PHON_NFD 1u
#define PIPER_PHON_MARKS 2u
int piper_phonemize_as(const char *espeak_voice, const char *text, unsigned flags,
                       struct piper_text *out, char *err, size_t errlen);
void piper_text_free(struct piper_text *t);
#endif
