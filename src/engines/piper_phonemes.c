/* piper_phonemes — Piper's phonemizer, on the espeak engine's locked espeak-ng.
 *
 * Threads: any (worker threads); espeak-ng itself runs only inside espeak_phonemize, under
 * the espeak engine's lock, and the clause callback there only copies the IPA out, so the
 * decomposition and word bookkeeping here run outside the lock, in parallel.
 * Ownership: a piper_text belongs to its caller (piper_text_free).
 *
 * What Piper does (piper-phonemize, phonemize.cpp), kept here: espeak_TextToPhonemes one
 * clause at a time in IPA; each clause decomposed to NFD ("ç" -> "c" + U+0327); phonemes
 * between "(" and ")" dropped (espeak's language-switch flags such as "(en)"); then the
 * clause's terminator — the last character before the next clause that is not a space,
 * looked for from the second character back, as Piper looks — is put back: "." "?" "!"
 * end the sentence, "," ":" ";" are followed by a space phoneme.
 *
 * Words: espeak separates the words of a clause's IPA by spaces. When a clause has as many
 * IPA words as written words, written word i gets IPA word i's phonemes; otherwise (numbers,
 * abbreviations: "42" is two IPA words) the clause's phonemes are shared out among its
 * written words by their length. */
#include "engines/piper_phonemes.h"
#include "engines/espeak.h"
#include "util/utf8.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

struct clause {
    size_t start, end;   /* bytes of the text */
    char *ipa;
};

struct clauses {
    struct clause *c;
    int n, cap;
};

static int grow(void **p, int *cap, int need, size_t size)
{
    if (need <= *cap)
        return 0;
    int ncap = *cap ? *cap : 16;
    while (ncap < need)
        ncap *= 2;
    void *np = realloc(*p, (size_t)ncap * size);
    if (!np)
        return -1;
    *p = np;
    *cap = ncap;
    return 0;
}

/* Under espeak's lock: copy and go. */
static int on_clause(void *ctx, size_t start, size_t end, const char *ipa)
{
    struct clauses *cl = ctx;
    if (grow((void **)&cl->c, &cl->cap, cl->n + 1, sizeof *cl->c) < 0)
        return -1;
    char *copy = strdup(ipa);
    if (!copy)
        return -1;
    cl->c[cl->n++] = (struct clause){ start, end, copy };
    return 0;
}

/* Piper's terminator: from the character before the next clause back to (not including)
 * the first character of the text, the first that is not a space. `pos` is where the next
 * clause starts (the end of the text after the last one). Piper looks from two bytes before
 * espeak's pointer, which is one character past that start (espeak.c). */
static int terminator(const char *text, size_t pos)
{
    for (size_t i = pos >= 1 ? pos - 1 : 0; i > 0; i--)
        if (text[i] != ' ')
            return (unsigned char)text[i];
    return 0;
}

struct builder {
    struct piper_sentence *cur;
    int phon_cap, word_cap;
    int *spoken;     /* per sentence: phonemes that came from espeak (not punctuation) */
    int spoken_cap;
    int nfd;         /* decompose espeak's IPA (Piper); else keep it as espeak wrote it */
};

/* PIPER_PHON_MARKS (Kokoro): the punctuation marks phonemizer keeps (its default marks),
 * as kokoro-onnx's normalize_text and Kokoro's vocabulary leave them — curly and angle
 * quotes become '"'; brackets, '¡', '¿' are not in the vocabulary — or 0. */
static uint32_t kokoro_mark(uint32_t c)
{
    switch (c) {
    case ';': case ':': case ',': case '.': case '!': case '?':
    case 0x2014: case 0x2026:   /* — … */
        return c;
    case '"': case 0x201c: case 0x201d: case 0xab: case 0xbb:   /* " “ ” « » */
        return '"';
    default:
        return 0;
    }
}

static int add_phon(struct builder *b, uint32_t cp)
{
    struct piper_sentence *s = b->cur;
    if (grow((void **)&s->phon, &b->phon_cap, s->nphon + 1, sizeof *s->phon) < 0)
        return -1;
    s->phon[s->nphon++] = cp;
    return 0;
}

/* NFD of the clause's IPA, flags dropped, appended to the sentence. ipa_words receives the
 * [start, end) phoneme range of each IPA word (up to max). Returns the IPA word count, or
 * -1 when out of memory. */
static int add_ipa(struct builder *b, const char *ipa, int (*ipa_words)[2], int max)
{
    const UNormalizer2 *nfd;
    UErrorCode ue = U_ZERO_ERROR;
    int32_t n16 = 0;
    u_strFromUTF8Lenient(NULL, 0, &n16, ipa, -1, &ue);
    ue = U_ZERO_ERROR;
    UChar *src = malloc(((size_t)n16 + 1) * sizeof *src);
    UChar *dst = malloc(((size_t)n16 * 4 + 8) * sizeof *dst);   /* NFD grows at most 4x here */
    int nw = -1;
    if (!src || !dst)
        goto out;
    u_strFromUTF8Lenient(src, n16 + 1, NULL, ipa, -1, &ue);
    int32_t nd = 0;
    if (b->nfd) {
        nfd = unorm2_getNFDInstance(&ue);
        nd = U_SUCCESS(ue) ? unorm2_normalize(nfd, src, n16, dst, n16 * 4 + 8, &ue) : 0;
        if (U_FAILURE(ue))
            nd = 0;   /* cannot happen with valid input; say nothing rather than garbage */
    } else {
        memcpy(dst, src, (size_t)n16 * sizeof *dst);
        nd = n16;
    }
    nw = 0;
    int in_flag = 0, word_open = 0;
    for (int32_t i = 0; i < nd;) {
        UChar32 cp;
        U16_NEXT(dst, i, nd, cp);
        if (in_flag) {
            in_flag = cp != ')';
            continue;
        }
        if (cp == '(') {
            in_flag = 1;
            continue;
        }
        if (cp == ' ') {
            if (word_open && nw <= max)
                ipa_words[nw - 1][1] = b->cur->nphon;
            word_open = 0;
        } else if (!word_open) {
            if (nw < max)
                ipa_words[nw][0] = b->cur->nphon;
            nw++;
            word_open = 1;
        }
        if (add_phon(b, (uint32_t)cp) < 0) {
            nw = -1;
            goto out;
        }
    }
    if (word_open && nw <= max)
        ipa_words[nw - 1][1] = b->cur->nphon;
out:
    free(src);
    free(dst);
    return nw;
}

static int is_word_char(uint32_t c)
{
    return !u_isUWhiteSpace((UChar32)c) && !u_ispunct((UChar32)c) && !u_iscntrl((UChar32)c);
}

/* The written words of text[start, end): runs without white space, trimmed of
 * punctuation. Offsets in UTF-16 units; u16_at is the UTF-16 offset of text[start]. */
struct byte_span {
    size_t a, b;   /* a written word's bytes: its first word character .. past its last */
};

static int text_words(const char *text, size_t start, size_t end, int u16_at,
                      struct piper_word **w, int *cap, struct byte_span **bs, int *bs_cap,
                      int *nw)
{
    *nw = 0;
    int off = u16_at, wstart = -1, wend = -1;
    size_t ba = 0, bb = 0;
    for (size_t i = start; i <= end;) {
        uint32_t cp = ' ';
        int step = 1, units = 0;
        if (i < end) {
            step = utf8_decode(text + i, end - i, &cp);
            units = cp >= 0x10000 ? 2 : 1;
        }
        if (u_isUWhiteSpace((UChar32)cp) || i == end) {
            if (wstart >= 0) {
                if (grow((void **)w, cap, *nw + 1, sizeof **w) < 0 ||
                    grow((void **)bs, bs_cap, *nw + 1, sizeof **bs) < 0)
                    return -1;
                (*bs)[*nw] = (struct byte_span){ ba, bb };
                (*w)[(*nw)++] = (struct piper_word){ wstart, wend - wstart, 0, 0 };
            }
            wstart = -1;
        } else if (is_word_char(cp)) {
            if (wstart < 0) {
                wstart = off;
                ba = i;
            }
            wend = off + units;
            bb = i + (size_t)step;
        }
        off += units;
        i += (size_t)step;
    }
    return 0;
}

/* Inserts n phonemes at the sentence's position at. */
static int insert_phon(struct builder *b, int at, const uint32_t *m, int n)
{
    struct piper_sentence *s = b->cur;
    if (grow((void **)&s->phon, &b->phon_cap, s->nphon + n, sizeof *s->phon) < 0)
        return -1;
    memmove(s->phon + at + n, s->phon + at, (size_t)(s->nphon - at) * sizeof *s->phon);
    memcpy(s->phon + at, m, (size_t)n * sizeof *m);
    s->nphon += n;
    return 0;
}

/* Marks mode, inside a clause whose IPA words match its written words one to one: the marks
 * between written words i and i+1 (an opening or closing quote mid-sentence), as phonemizer
 * keeps them — a mark touching word i after it, one touching word i+1 before it, one apart
 * from both before word i+1 followed by a space. iw (the IPA words) is shifted to match.
 * Returns the phonemes added, or -1 when out of memory. */
static int inner_marks(struct builder *b, const char *text, const struct byte_span *bs, int n,
                       int (*iw)[2])
{
    int added = 0;
    for (int i = n - 2; i >= 0; i--) {
        uint32_t after[16], before[16];
        int na = 0, nb = 0, space = 0;
        for (size_t k = bs[i].b; k < bs[i + 1].a;) {
            uint32_t cp, m;
            k += (size_t)utf8_decode(text + k, bs[i + 1].a - k, &cp);
            if (u_isUWhiteSpace((UChar32)cp)) {
                if (nb && before[nb - 1] != ' ' && nb < 16)
                    before[nb++] = ' ';   /* the mark stood apart: a space after it */
                space = 1;
            } else if ((m = kokoro_mark(cp))) {
                if (!space && na < 16)
                    after[na++] = m;
                else if (space && nb < 15)
                    before[nb++] = m;
            }
        }
        int at_b = iw[i + 1][0], at_a = iw[i][1];
        if (nb && insert_phon(b, at_b, before, nb) < 0)
            return -1;
        for (int j = i + 1; nb && j < n; j++) {
            iw[j][0] += nb;
            iw[j][1] += nb;
        }
        if (na && insert_phon(b, at_a, after, na) < 0)
            return -1;
        for (int j = i + 1; na && j < n; j++) {
            iw[j][0] += na;
            iw[j][1] += na;
        }
        added += na + nb;
    }
    return added;
}

#define MAX_IPA_WORDS 512

/* The clause's written words get phonemes [p0, p1) of the sentence. */
static int add_words(struct builder *b, const struct piper_word *tw, int ntw,
                     int (*iw)[2], int niw, int p0, int p1)
{
    struct piper_sentence *s = b->cur;
    if (ntw == 0)
        return 0;
    if (grow((void **)&s->words, &b->word_cap, s->nwords + ntw, sizeof *s->words) < 0)
        return -1;
    int total = 0;
    for (int i = 0; i < ntw; i++)
        total += tw[i].length;
    int acc = 0;
    for (int i = 0; i < ntw; i++) {
        struct piper_word w = tw[i];
        if (niw == ntw && niw <= MAX_IPA_WORDS) {
            w.phon_start = iw[i][0];
            w.phon_end = iw[i][1];
        } else {
            w.phon_start = p0 + (int)((long long)(p1 - p0) * acc / (total ? total : 1));
            acc += w.length;
            w.phon_end = p0 + (int)((long long)(p1 - p0) * acc / (total ? total : 1));
        }
        s->words[s->nwords++] = w;
    }
    return 0;
}

int piper_phonemize(const char *espeak_voice, const char *text, struct piper_text *out,
                    char *err, size_t errlen)
{
    return piper_phonemize_as(espeak_voice, text, PIPER_PHON_NFD, out, err, errlen);
}

/* Marks mode, before a clause's IPA: the marks in text[*at, end) up to its first word
 * character (an opening quote); *at is left there. */
static int lead_marks(struct builder *b, const char *text, size_t *at, size_t end)
{
    while (*at < end) {
        uint32_t cp;
        int step = utf8_decode(text + *at, end - *at, &cp);
        if (is_word_char(cp))
            break;
        uint32_t m = kokoro_mark(cp);
        if (m && add_phon(b, m) < 0)
            return -1;
        *at += (size_t)step;
    }
    return 0;
}

/* Marks mode, after a clause's IPA: the marks after its last word character, in order, a
 * space where the text has one between two of them. Returns 1 if one ends a sentence
 * (. ? !), 0 if not, -1 when out of memory. */
static int trail_marks(struct builder *b, const char *text, size_t from, size_t end)
{
    size_t tail = from;
    for (size_t i = from; i < end;) {
        uint32_t cp;
        i += (size_t)utf8_decode(text + i, end - i, &cp);
        if (is_word_char(cp))
            tail = i;
    }
    int ends = 0, any = 0, space = 0;
    for (size_t i = tail; i < end;) {
        uint32_t cp;
        i += (size_t)utf8_decode(text + i, end - i, &cp);
        uint32_t m = kokoro_mark(cp);
        if (u_isUWhiteSpace((UChar32)cp)) {
            space = 1;
        } else if (m) {
            if ((space && any && add_phon(b, ' ') < 0) || add_phon(b, m) < 0)
                return -1;
            ends |= m == '.' || m == '?' || m == '!';
            any = 1;
            space = 0;
        }
    }
    return ends;
}

int piper_phonemize_as(const char *espeak_voice, const char *text, unsigned flags,
                       struct piper_text *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct clauses cl = { 0 };
    struct builder b = { .nfd = (flags & PIPER_PHON_NFD) != 0 };
    int marks = (flags & PIPER_PHON_MARKS) != 0;
    struct piper_word *tw = NULL;
    struct byte_span *bs = NULL;
    int tw_cap = 0, bs_cap = 0, cap = 0, rc = -1, u16_at = 0;
    int (*iw)[2] = malloc(MAX_IPA_WORDS * sizeof *iw);
    if (!iw) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (espeak_phonemize(espeak_voice, text, on_clause, &cl, err, errlen) < 0)
        goto out;
    size_t len = strlen(text);
    size_t u16_pos = 0;
    for (int k = 0; k < cl.n; k++) {
        const struct clause *c = &cl.c[k];
        u16_at += (int)utf8_utf16_units(text + u16_pos, c->start - u16_pos);
        u16_pos = c->start;
        if (!b.cur) {
            if (grow((void **)&out->s, &cap, out->count + 1, sizeof *out->s) < 0)
                goto oom;
            if (grow((void **)&b.spoken, &b.spoken_cap, out->count + 1, sizeof *b.spoken) < 0)
                goto oom;
            b.spoken[out->count] = 0;
            b.cur = &out->s[out->count++];
            *b.cur = (struct piper_sentence){ 0 };
            b.phon_cap = b.word_cap = 0;
        }
        size_t words_at = c->start;
        if (marks && lead_marks(&b, text, &words_at, k + 1 < cl.n ? c->end : len) < 0)
            goto oom;
        int p0 = b.cur->nphon;
        int niw = add_ipa(&b, c->ipa, iw, MAX_IPA_WORDS);
        if (niw < 0)
            goto oom;
        int p1 = b.cur->nphon;
        b.spoken[out->count - 1] += p1 - p0;
        int ntw;
        if (text_words(text, c->start, c->end, u16_at, &tw, &tw_cap, &bs, &bs_cap, &ntw) < 0)
            goto oom;
        if (marks && niw == ntw && niw > 1 && niw <= MAX_IPA_WORDS) {
            int added = inner_marks(&b, text, bs, ntw, iw);
            if (added < 0)
                goto oom;
            p1 += added;
        }
        if (add_words(&b, tw, ntw, iw, niw, p0, p1) < 0)
            goto oom;
        if (marks) {   /* Kokoro: every mark after the clause, then a space unless it ended */
            int ends = trail_marks(&b, text, words_at, k + 1 < cl.n ? c->end : len);
            if (ends < 0)
                goto oom;
            if (ends)
                b.cur = NULL;
            else if (k + 1 < cl.n && b.cur->nphon && b.cur->phon[b.cur->nphon - 1] != ' ' &&
                     add_phon(&b, ' ') < 0)
                goto oom;
            continue;
        }
        int t = terminator(text, k + 1 < cl.n ? c->end : len);
        if (t == '.' || t == '?' || t == '!' || t == ',' || t == ':' || t == ';') {
            if (add_phon(&b, (uint32_t)t) < 0 || (strchr(",:;", t) && add_phon(&b, ' ') < 0))
                goto oom;
            if (strchr(".?!", t))
                b.cur = NULL;
        }
    }
    /* A sentence with nothing to say (only punctuation: "...") is dropped. */
    int n = 0;
    for (int i = 0; i < out->count; i++) {
        if (b.spoken[i] > 0) {
            out->s[n++] = out->s[i];
        } else {
            free(out->s[i].phon);
            free(out->s[i].words);
        }
    }
    out->count = n;
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "out of memory");
out:
    for (int k = 0; k < cl.n; k++)
        free(cl.c[k].ipa);
    free(cl.c);
    free(tw);
    free(bs);
    free(iw);
    free(b.spoken);
    if (rc < 0)
        piper_text_free(out);
    return rc;
}

void piper_text_free(struct piper_text *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->count; i++) {
        free(t->s[i].phon);
        free(t->s[i].words);
    }
    free(t->s);
    t->s = NULL;
    t->count = 0;
}
