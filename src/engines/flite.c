/* flite — the `flite` model: every general-purpose voice Debian's flite 2.2 ships (slt, kal,
 * kal16, awb, rms), with word timings from the utterance's Token and Word relations.
 * (cmu_time_awb is left out: a limited-domain voice that can only say the time of day.)
 *
 * Threads: global_init runs on the main thread and registers every voice once for the life
 * of the process (flite's registration is not thread-safe, and registering twice would
 * load a voice twice); global_cleanup leaves them registered, so a later engines_init finds
 * them again. After registration, synthesis keeps its state in the utterance it creates,
 * and two threads synthesizing at once were measured safe (tests/unit/test_flite.c runs
 * that), so synthesize takes no lock and workers run flite in parallel.
 * A caveat: flite reports internal errors with exit() unless a process-global jmp_buf is
 * set, which cannot be done per thread. Random-input runs found no input that reaches it;
 * the text is also reduced to what the English front end handles (see clean_text).
 *
 * Ownership: the voice table is static and read-only after registration; a synth_result
 * is the caller's. */
#include "engines/engine.h"
#include "engines/engine_list.h"
#include "util/utf8.h"
#include <flite/flite.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

cst_voice *register_cmu_us_slt(const char *voxdir);
cst_voice *register_cmu_us_kal(const char *voxdir);
cst_voice *register_cmu_us_kal16(const char *voxdir);
cst_voice *register_cmu_us_awb(const char *voxdir);
cst_voice *register_cmu_us_rms(const char *voxdir);

struct flite_voice_def {
    const char *slug, *name, *lang;
    cst_voice *(*reg)(const char *voxdir);
};

/* Order: the order of the picker; slt, the most natural, first. */
static const struct flite_voice_def voice_defs[] = {
    { "slt", "SLT (female)", "en-US", register_cmu_us_slt },
    { "rms", "RMS (male)", "en-US", register_cmu_us_rms },
    { "awb", "AWB (male, Scottish)", "en-GB-scotland", register_cmu_us_awb },
    { "kal16", "Kal (male, diphone, 16 kHz)", "en-US", register_cmu_us_kal16 },
    { "kal", "Kal (male, diphone, 8 kHz)", "en-US", register_cmu_us_kal },
};
#define NVOICES (int)(sizeof voice_defs / sizeof voice_defs[0])

static cst_voice *flite_voices[NVOICES];   /* registered once, main thread */
static int flite_registered;

struct engine {
    int unused;   /* no per-thread state: the utterance holds it */
};

/* ---- text ------------------------------------------------------------------------ */


/* What flite's English front end gets for a character: ASCII as is, Latin letters without
 * their accents, typographic punctuation as its ASCII cousin, anything else a space (flite
 * would spell the UTF-8 bytes of "é" as nonsense words, and of an emoji as silence). */
static const char *const latin_ascii[0x180 - 0xc0] = {   /* U+00C0..U+017F */
        "A", "A", "A", "A", "A", "A", "AE", "C", "E", "E", "E", "E", "I", "I", "I", "I",
        "D", "N", "O", "O", "O", "O", "O", "x", "O", "U", "U", "U", "U", "Y", "Th", "ss",
        "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
        "d", "n", "o", "o", "o", "o", "o", "/", "o", "u", "u", "u", "u", "y", "th", "y",
        "A", "a", "A", "a", "A", "a", "C", "c", "C", "c", "C", "c", "C", "c", "D", "d",
        "D", "d", "E", "e", "E", "e", "E", "e", "E", "e", "E", "e", "G", "g", "G", "g",
        "G", "g", "G", "g", "H", "h", "H", "h", "I", "i", "I", "i", "I", "i", "I", "i",
        "I", "i", "IJ", "ij", "J", "j", "K", "k", "k", "L", "l", "L", "l", "L", "l", "L",
        "l", "L", "l", "N", "n", "N", "n", "N", "n", "n", "N", "n", "O", "o", "O", "o",
        "O", "o", "OE", "oe", "R", "r", "R", "r", "R", "r", "S", "s", "S", "s", "S", "s",
        "S", "s", "T", "t", "T", "t", "T", "t", "U", "u", "U", "u", "U", "u", "U", "u",
        "U", "u", "U", "u", "W", "w", "Y", "y", "Y", "Z", "z", "Z", "z", "Z", "z", "s",
};

static const char *ascii_for(uint32_t c, char one[2])
{
    if (c < 0x80) {
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
            return " ";
        one[0] = (char)c;
        one[1] = '\0';
        return one;
    }
    if (c >= 0xc0 && c < 0x180)
        return latin_ascii[c - 0xc0];
    switch (c) {
    case 0x2018: case 0x2019: case 0x201a: case 0x201b: case 0x2032:
        return "'";
    case 0x201c: case 0x201d: case 0x201e: case 0x00ab: case 0x00bb: case 0x2033:
        return "\"";
    case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2212:
        return "-";
    case 0x2014: case 0x2015:
        return ", ";
    case 0x2026:
        return "...";
    default:
        return " ";
    }
}

struct clean_text {
    char *s;            /* what flite reads */
    size_t len;
    size_t *src;        /* src[i]: byte offset in the original of clean byte i's character */
    size_t *src_end;    /* ... and the end of that character */
};

static void clean_free(struct clean_text *c)
{
    free(c->s);
    free(c->src);
    free(c->src_end);
}

static int clean_text(const char *text, struct clean_text *c)
{
    size_t blen = strlen(text), cap = blen * 2 + 16;   /* no mapping is longer than its UTF-8 */
    memset(c, 0, sizeof *c);
    c->s = malloc(cap + 1);
    c->src = malloc(cap * sizeof *c->src);
    c->src_end = malloc(cap * sizeof *c->src_end);
    if (!c->s || !c->src || !c->src_end) {
        clean_free(c);
        return -1;
    }
    for (size_t i = 0; i < blen;) {
        uint32_t cp;
        size_t n = (size_t)utf8_decode(text + i, blen - i, &cp);
        char one[2];
        const char *rep = ascii_for(cp, one);
        for (const char *r = rep; *r && c->len < cap; r++) {
            c->s[c->len] = *r;
            c->src[c->len] = i;
            c->src_end[c->len] = i + n;
            c->len++;
        }
        i += n;
    }
    c->s[c->len] = '\0';
    return 0;
}

/* UTF-16 offset of every byte offset of the original text (u16[blen] = total). */
static int *utf16_offsets(const char *text, size_t blen)
{
    int *u16 = malloc((blen + 1) * sizeof *u16);
    if (!u16)
        return NULL;
    int off = 0;
    for (size_t i = 0; i < blen;) {
        uint32_t cp;
        size_t n = (size_t)utf8_decode(text + i, blen - i, &cp);
        for (size_t k = 0; k < n; k++)
            u16[i + k] = off;
        off += cp >= 0x10000 ? 2 : 1;
        i += n;
    }
    u16[blen] = off;
    return u16;
}

/* ---- word timings ---------------------------------------------------------------- */

/* Start and end (seconds) of a word from its segments; 0 if it has none (flite makes
 * empty "words" of characters it cannot say). */
static int word_span(cst_item *word, float *start, float *end)
{
    cst_item *w = item_as(word, "Word");
    cst_item *syl = w ? item_as(w, "SylStructure") : NULL;
    if (!syl || !item_daughter(syl) || !item_daughter(item_daughter(syl)))
        return 0;
    float e = ffeature_float(w, "R:SylStructure.daughtern.daughtern.R:Segment.end");
    float s = ffeature_float(w, "R:SylStructure.daughter1.daughter1.R:Segment.p.end");
    if (!(e > 0) || s < 0 || s > e)
        return 0;
    *start = s;
    *end = e;
    return 1;
}

/* One timing per token that produced speech ("42" is one token of two words): the
 * token's text is found in the cleaned text after the previous token, mapped back to the
 * original bytes and then to UTF-16 units. Times are made monotonic. */
static int map_words(cst_utterance *u, const char *text, const struct clean_text *c,
                     int64_t total_ms, struct synth_result *out)
{
    cst_relation *tokens = (cst_relation *)utt_relation(u, "Token");
    int ntok = 0;
    for (cst_item *t = tokens ? relation_head(tokens) : NULL; t; t = item_next(t))
        ntok++;
    if (ntok == 0)
        return 0;
    size_t blen = strlen(text);
    int *u16 = utf16_offsets(text, blen);
    struct word_timing *w = malloc((size_t)ntok * sizeof *w);
    if (!u16 || !w) {
        free(u16);
        free(w);
        return -1;
    }
    int nw = 0;
    size_t cursor = 0;
    for (cst_item *t = relation_head(tokens); t; t = item_next(t)) {
        const char *name = item_feat_string(t, "name");
        size_t nlen = name ? strlen(name) : 0;
        if (!nlen)
            continue;
        const char *hit = strstr(c->s + cursor, name);
        if (!hit)
            continue;
        size_t cs = (size_t)(hit - c->s), ce = cs + nlen;
        cursor = ce;
        float s = 0, e = 0, ws, we;
        int any = 0;
        for (cst_item *d = item_daughter(t); d; d = item_next(d)) {
            if (!word_span(d, &ws, &we))
                continue;
            if (!any || ws < s)
                s = ws;
            if (!any || we > e)
                e = we;
            any = 1;
        }
        if (!any)
            continue;
        /* Trim cleaned-text spaces that stand for unsayable characters at the edges. */
        while (cs < ce && c->s[cs] == ' ')
            cs++;
        while (ce > cs && c->s[ce - 1] == ' ')
            ce--;
        if (cs == ce)
            continue;
        int a = u16[c->src[cs]], b = u16[c->src_end[ce - 1]];
        int start_ms = (int)(s * 1000.0f + 0.5f), end_ms = (int)(e * 1000.0f + 0.5f);
        if (nw && start_ms < w[nw - 1].start_ms)
            start_ms = w[nw - 1].start_ms;
        if (nw && a < w[nw - 1].offset + w[nw - 1].length)
            continue;   /* never overlap the previous word's text */
        if (end_ms > total_ms)
            end_ms = (int)total_ms;
        if (end_ms < start_ms)
            end_ms = start_ms;
        w[nw++] = (struct word_timing){ start_ms, end_ms, a, b - a };
    }
    free(u16);
    if (nw == 0) {
        free(w);
        w = NULL;
    }
    out->words = w;
    out->word_count = nw;
    return 0;
}

/* ---- engine ops ------------------------------------------------------------------ */

static int find_voice(const char *slug)
{
    if (!slug)
        return -1;
    for (int i = 0; i < NVOICES; i++)
        if (strcmp(voice_defs[i].slug, slug) == 0)
            return i;
    for (int i = 0; i < NVOICES; i++)
        if (strcasecmp(voice_defs[i].slug, slug) == 0)
            return i;
    return -1;
}

static int flite_global_init(struct voice_info **voices, int *count, char *err, size_t errlen)
{
    *voices = NULL;
    *count = 0;
    if (!flite_registered) {
        flite_init();
        for (int i = 0; i < NVOICES; i++)
            flite_voices[i] = voice_defs[i].reg(NULL);
        flite_registered = 1;
    }
    struct voice_info *vi = calloc(NVOICES, sizeof *vi);
    if (!vi) {
        snprintf(err, errlen, "flite: out of memory");
        return -1;
    }
    int n = 0;
    for (int i = 0; i < NVOICES; i++) {
        if (!flite_voices[i])
            continue;
        snprintf(vi[n].slug, sizeof vi[n].slug, "%s", voice_defs[i].slug);
        snprintf(vi[n].name, sizeof vi[n].name, "%s", voice_defs[i].name);
        snprintf(vi[n].lang, sizeof vi[n].lang, "%s", voice_defs[i].lang);
        n++;
    }
    if (n == 0) {
        free(vi);
        snprintf(err, errlen, "flite: no voice could be registered");
        return -1;
    }
    *voices = vi;
    *count = n;
    return 0;
}

static void flite_global_cleanup(void)
{
    /* Voices stay registered for the life of the process: see the top of the file. */
}

static struct engine *flite_create(char *err, size_t errlen)
{
    struct engine *e = calloc(1, sizeof *e);
    if (!e)
        snprintf(err, errlen, "flite: out of memory");
    return e;
}

static void flite_destroy(struct engine *e)
{
    free(e);
}

static int flite_synthesize(struct engine *e, const char *voice, const char *text,
                            struct synth_result *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int vi = find_voice(voice);
    if (vi < 0 || !flite_voices[vi]) {
        snprintf(err, errlen, "flite: unknown voice \"%s\"", voice ? voice : "");
        return -1;
    }
    struct clean_text c;
    if (clean_text(text, &c) < 0) {
        snprintf(err, errlen, "flite: out of memory");
        return -1;
    }
    int rc = -1;
    cst_utterance *u = NULL;
    if (strspn(c.s, " \t\n\r") == c.len) {
        rc = 0;   /* nothing flite can say */
        goto out;
    }
    u = flite_synth_text(c.s, flite_voices[vi]);
    cst_wave *w = u ? utt_wave(u) : NULL;
    if (!w) {
        snprintf(err, errlen, "flite: synthesis failed");
        goto out;
    }
    out->pcm.rate = w->sample_rate;
    int ch = w->num_channels > 0 ? w->num_channels : 1;
    if (ch == 1) {
        if (pcm_append(&out->pcm, w->samples, (size_t)w->num_samples) < 0)
            goto oom;
    } else {
        for (int i = 0; i < w->num_samples; i++)
            if (pcm_append(&out->pcm, &w->samples[(size_t)i * (size_t)ch], 1) < 0)
                goto oom;
    }
    if (map_words(u, text, &c, pcm_duration_ms(&out->pcm), out) < 0)
        goto oom;
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "flite: out of memory");
out:
    if (u)
        delete_utterance(u);
    clean_free(&c);
    if (rc < 0)
        synth_result_free(out);
    return rc;
}

const struct engine_ops flite_engine_ops = {
    .slug = "flite",
    .name = "Flite",
    .global_init = flite_global_init,
    .global_cleanup = flite_global_cleanup,
    .create = flite_create,
    .destroy = flite_destroy,
    .synthesize = flite_synthesize,
};
