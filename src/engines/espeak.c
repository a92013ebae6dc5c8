/* espeak — the `espeak` model: every voice espeak-ng ships, with word timings.
 *
 * Threads: global_init/global_cleanup run on the main thread; synthesize runs on worker
 * threads. espeak-ng keeps all of its state in process globals and is not thread-safe
 * (two threads synthesizing at once crashed 14 of 20 runs here), so one file-local mutex,
 * espeak_lock, serializes every call into the library: voice selection and synthesis run
 * together under it, with the library in synchronous mode so that the synth callback
 * runs on the calling thread, inside the lock. espeak-ng is ~1,300x real time, so the
 * lock costs little; everything after the samples are collected (word mapping, and the
 * caller's trimming and encoding) runs outside it, in parallel. espeak_phonemize (espeak.h)
 * lends the same library, under the same lock, to engines that only need its phonemes
 * (piper.c).
 *
 * Ownership: the voice table (slug -> espeak identifier) is built by global_init and
 * read-only until global_cleanup. The voice_info array handed to the registry belongs to
 * the registry (engines.c frees it). A synth_result is the caller's. */
#include "engines/engine.h"
#include "engines/engine_list.h"
#include "engines/espeak.h"
#include "util/utf8.h"
#include <ctype.h>
#include <espeak-ng/espeak_ng.h>
#include <espeak-ng/speak_lib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* espeak-ng has no per-instance state, so an instance is only a token. */
struct engine {
    int unused;
};

struct espeak_voice {
    char slug[64];
    char ident[128];   /* espeak identifier, e.g. "gmw/en-US": selects exactly one voice */
};

struct word_event {
    int pos, len, ms;  /* 1-based character position, length in characters, ms */
};

/* What the synth callback fills; one at a time, under espeak_lock. */
struct synth_ctx {
    struct pcm *pcm;
    struct word_event *ev;
    int ev_count, ev_cap;
    int failed;        /* out of memory: the callback asked espeak to stop */
};

static pthread_mutex_t espeak_lock = PTHREAD_MUTEX_INITIALIZER;
static struct espeak_voice *espeak_voices;   /* global_init .. global_cleanup, read-only */
static int espeak_voice_count;
static int espeak_rate;
static int espeak_ready;
static struct synth_ctx *espeak_current;     /* the call in progress, under espeak_lock */

/* ---- voices ---------------------------------------------------------------------- */

/* espeak language ("en-us", "cmn-latn-pinyin", "en-gb-x-gbclan") to a BCP-47 tag
 * ("en-US", "cmn-Latn-pinyin", "en-GB-x-gbclan"): regions upper case, scripts title
 * case, everything after a singleton such as "x" left alone. */
static void lang_to_bcp47(const char *in, char *out, size_t outlen)
{
    /* espeak-ng names Klingon by its script alone; BCP-47 wants language-script. */
    if (!strcasecmp(in, "piqd")) {
        snprintf(out, outlen, "tlh-Piqd");
        return;
    }
    size_t o = 0;
    int first = 1, private_use = 0;
    const char *p = in;
    while (*p && o + 1 < outlen) {
        size_t n = strcspn(p, "-_");
        int alpha = 1;
        for (size_t i = 0; i < n; i++)
            alpha &= isalpha((unsigned char)p[i]) != 0;
        if (!first)
            out[o++] = '-';
        for (size_t i = 0; i < n && o + 1 < outlen; i++) {
            int c = tolower((unsigned char)p[i]);
            if (!first && !private_use && alpha && n == 2)
                c = toupper(c);
            else if (!first && !private_use && alpha && n == 4 && i == 0)
                c = toupper(c);
            out[o++] = (char)c;
        }
        if (!first && n == 1)
            private_use = 1;
        first = 0;
        p += n;
        if (*p)
            p++;
    }
    out[o] = '\0';
}

static void lower_copy(char *dst, size_t len, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < len; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}

static const char *ident_file(const char *ident)
{
    const char *s = strrchr(ident, '/');
    return s ? s + 1 : ident;
}

/* The first language of a voice: its `languages` field is a list of (priority byte,
 * NUL-terminated name) pairs ending with an empty name. */
static const char *first_lang(const espeak_VOICE *v)
{
    return v->languages && v->languages[0] ? v->languages + 1 : "";
}

static int slug_taken(int upto, const char *slug)
{
    for (int i = 0; i < upto; i++)
        if (strcmp(espeak_voices[i].slug, slug) == 0)
            return 1;
    return 0;
}

/* Slugs are what users and the spec call espeak voices: the voice's language code when
 * that names it unambiguously ("en-us", "fr-fr", "de", "cmn"), else the lower-cased file
 * name of its identifier ("yue-latn-jyutping", since two voices speak "yue"). We select
 * voices by identifier, not by slug, because espeak_SetVoiceByName does not accept every
 * language code ("fr-fr" fails on espeak-ng 1.51). */
static void choose_slug(const espeak_VOICE *const *list, int n, int idx, int upto, char *slug,
                        size_t len)
{
    char lang[64], file[64];
    lower_copy(lang, sizeof lang, first_lang(list[idx]));
    lower_copy(file, sizeof file, ident_file(list[idx]->identifier));
    int unique = 1;
    for (int i = 0; i < n && unique; i++)
        if (i != idx && strcasecmp(first_lang(list[i]), first_lang(list[idx])) == 0)
            unique = 0;
    const char *cand[3] = { (lang[0] && (unique || !strcmp(lang, file))) ? lang : NULL, file,
                            list[idx]->identifier };
    for (int c = 0; c < 3; c++) {
        if (!cand[c] || !cand[c][0])
            continue;
        lower_copy(slug, len, cand[c]);
        if (!slug_taken(upto, slug))
            return;
    }
    snprintf(slug, len, "voice-%d", idx);   /* unreachable with real espeak data */
}

static int skip_voice(const espeak_VOICE *v)
{
    /* mbrola voices need separately installed diphone data; ListVoices(NULL) omits them
     * today, but a data package could list them. */
    return !v->identifier || !v->identifier[0] || strncmp(v->identifier, "mb/", 3) == 0 ||
           strncmp(v->identifier, "mb-", 3) == 0;
}

/* ---- synthesis callback ---------------------------------------------------------- */

static int synth_cb(short *wav, int n, espeak_EVENT *events)
{
    struct synth_ctx *c = espeak_current;
    if (!c)
        return 1;
    if (wav && n > 0 && pcm_append(c->pcm, wav, (size_t)n) < 0) {
        c->failed = 1;
        return 1;
    }
    for (espeak_EVENT *e = events; e && e->type != espeakEVENT_LIST_TERMINATED; e++) {
        if (e->type != espeakEVENT_WORD)
            continue;
        if (c->ev_count == c->ev_cap) {
            int ncap = c->ev_cap ? c->ev_cap * 2 : 64;
            struct word_event *ne = realloc(c->ev, (size_t)ncap * sizeof *ne);
            if (!ne) {
                c->failed = 1;
                return 1;
            }
            c->ev = ne;
            c->ev_cap = ncap;
        }
        c->ev[c->ev_count++] = (struct word_event){ e->text_position, e->length,
                                                    e->audio_position };
    }
    return 0;
}

/* ---- word timings ---------------------------------------------------------------- */

static int is_space(uint32_t c)
{
    return c <= 0x20 || c == 0x7f || c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200b) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
           c == 0x205f || c == 0x3000 || c == 0xfeff;
}

/* Punctuation that is never highlighted at the edge of a word. Symbols that are spoken
 * ($, %, &, @, +, currency) are not in it: they are words of their own. */
static int is_punct(uint32_t c)
{
    if (c < 0x80)
        return strchr("!\"'(),-./:;?[]{}*_`~", (int)c) != NULL && c != 0;
    return c == 0xa1 || c == 0xab || c == 0xb7 || c == 0xbb || c == 0xbf ||
           (c >= 0x2010 && c <= 0x2027) || c == 0x2039 || c == 0x203a ||
           (c >= 0x3001 && c <= 0x3003) || (c >= 0x3008 && c <= 0x3011) ||
           (c >= 0x3014 && c <= 0x301f) || c == 0xff01 || c == 0xff08 || c == 0xff09 ||
           c == 0xff0c || c == 0xff0e || c == 0xff1a || c == 0xff1b || c == 0xff1f ||
           c == 0x055d || c == 0x0589 || c == 0x060c || c == 0x061b || c == 0x061f ||
           c == 0x06d4 || c == 0x0964 || c == 0x0965 || c == 0x1362 || c == 0x1363 ||
           c == 0x1367;
}

static int is_break(uint32_t c)
{
    return is_space(c) || is_punct(c);
}


/* espeak reports each word as a 1-based character position, a length in characters
 * (often short: "It's" is 2, "it" may be 0) and a time. Numbers and abbreviations give
 * several events for one written word ("42" -> "forty", "two"). So: events that start
 * inside the previous word are merged into it; a word is extended over word characters
 * (through inner punctuation such as "it's", "3,50", "e.g") but never past the next
 * event; leading/trailing spaces and punctuation are trimmed; and a word left empty is
 * dropped, its time going to the word before. Offsets become UTF-16 code units. */
static int map_words(const char *text, const struct synth_ctx *c, int64_t total_ms,
                     struct synth_result *out)
{
    size_t blen = strlen(text);
    uint32_t *cps = malloc((blen + 1) * sizeof *cps);
    int *u16 = malloc((blen + 1) * sizeof *u16);    /* UTF-16 offset of character i */
    struct word_timing *w = c->ev_count ? malloc((size_t)c->ev_count * sizeof *w) : NULL;
    if (!cps || !u16 || (c->ev_count && !w)) {
        free(cps);
        free(u16);
        free(w);
        return -1;
    }
    int n = 0, off = 0;
    for (size_t i = 0; i < blen; n++) {
        i += (size_t)utf8_decode(text + i, blen - i, &cps[n]);
        u16[n] = off;
        off += cps[n] >= 0x10000 ? 2 : 1;
    }
    u16[n] = off;

    int nw = 0;
    for (int i = 0; i < c->ev_count;) {
        const struct word_event *e = &c->ev[i];
        int s = e->pos - 1;
        if (s < 0 || s >= n) {
            i++;
            continue;
        }
        int end = s + (e->len > 0 ? (e->len < n - s ? e->len : n - s) : 0);
        int j = i + 1;
        for (; j < c->ev_count; j++) {
            int s2 = c->ev[j].pos - 1;
            if (s2 >= (end > s ? end : s + 1) || s2 >= n)
                break;
            if (s2 >= 0 && c->ev[j].len > 0) {
                int e2 = s2 + (c->ev[j].len < n - s2 ? c->ev[j].len : n - s2);
                if (e2 > end)
                    end = e2;
            }
        }
        int next = n;
        for (int k = j; k < c->ev_count; k++)
            if (c->ev[k].pos - 1 > s && c->ev[k].pos - 1 < n) {
                next = c->ev[k].pos - 1;
                break;
            }
        if (end > next)
            end = next > s ? next : end;
        while (end < next) {
            if (is_space(cps[end]))
                break;
            if (is_punct(cps[end])) {
                if (end + 1 < next && !is_break(cps[end + 1])) {
                    end += 2;
                    continue;
                }
                break;
            }
            end++;
        }
        int a = s, b = end;
        while (a < b && is_break(cps[a]))
            a++;
        while (b > a && is_break(cps[b - 1]))
            b--;
        if (a < b) {
            int ms = e->ms < 0 ? 0 : e->ms;
            if (nw && ms < w[nw - 1].start_ms)
                ms = w[nw - 1].start_ms;
            w[nw++] = (struct word_timing){ ms, 0, u16[a], u16[b] - u16[a] };
        }
        i = j;
    }
    for (int k = 0; k < nw; k++) {
        int64_t end_ms = k + 1 < nw ? w[k + 1].start_ms : total_ms;
        w[k].end_ms = (int)(end_ms > w[k].start_ms ? end_ms : w[k].start_ms);
    }
    free(cps);
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

static const struct espeak_voice *find_voice(const char *slug)
{
    if (!slug)
        return NULL;
    for (int i = 0; i < espeak_voice_count; i++)
        if (strcmp(espeak_voices[i].slug, slug) == 0)
            return &espeak_voices[i];
    for (int i = 0; i < espeak_voice_count; i++)
        if (strcasecmp(espeak_voices[i].slug, slug) == 0)
            return &espeak_voices[i];
    return NULL;
}

static void status_msg(espeak_ng_STATUS st, const char *what, char *err, size_t errlen)
{
    char msg[256];
    espeak_ng_GetStatusCodeMessage(st, msg, sizeof msg);
    snprintf(err, errlen, "espeak-ng %s: %s", what, msg);
}

static int espeak_global_init(struct voice_info **voices, int *count, char *err, size_t errlen)
{
    *voices = NULL;
    *count = 0;
    pthread_mutex_lock(&espeak_lock);
    int rc = -1;
    struct voice_info *vi = NULL;
    if (espeak_ready) {
        snprintf(err, errlen, "espeak-ng: already initialised");
        goto out;
    }
    espeak_ng_InitializePath(NULL);
    espeak_ng_ERROR_CONTEXT ctx = NULL;
    espeak_ng_STATUS st = espeak_ng_Initialize(&ctx);
    if (st != ENS_OK) {
        status_msg(st, "initialisation", err, errlen);
        espeak_ng_ClearErrorContext(&ctx);
        goto out;
    }
    st = espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, 0, NULL);
    if (st != ENS_OK) {
        status_msg(st, "output set-up", err, errlen);
        goto terminate;
    }
    espeak_rate = espeak_ng_GetSampleRate();
    espeak_SetSynthCallback(synth_cb);

    const espeak_VOICE **list = espeak_ListVoices(NULL);
    int n = 0;
    while (list && list[n])
        n++;
    const espeak_VOICE **keep = malloc(((size_t)n + 1) * sizeof *keep);
    espeak_voices = calloc((size_t)n + 1, sizeof *espeak_voices);
    vi = calloc((size_t)n + 1, sizeof *vi);
    if (!keep || !espeak_voices || !vi) {
        free(keep);
        snprintf(err, errlen, "espeak-ng: out of memory");
        goto terminate;
    }
    int k = 0;
    for (int i = 0; i < n; i++)
        if (!skip_voice(list[i]))
            keep[k++] = list[i];
    for (int i = 0; i < k; i++) {
        choose_slug(keep, k, i, i, espeak_voices[i].slug, sizeof espeak_voices[i].slug);
        snprintf(espeak_voices[i].ident, sizeof espeak_voices[i].ident, "%s",
                 keep[i]->identifier);
        snprintf(vi[i].slug, sizeof vi[i].slug, "%s", espeak_voices[i].slug);
        snprintf(vi[i].name, sizeof vi[i].name, "%s",
                 keep[i]->name ? keep[i]->name : espeak_voices[i].slug);
        lang_to_bcp47(first_lang(keep[i]), vi[i].lang, sizeof vi[i].lang);
    }
    free(keep);
    if (k == 0) {
        snprintf(err, errlen, "espeak-ng: no voices installed");
        goto terminate;
    }
    espeak_voice_count = k;
    espeak_ready = 1;
    *voices = vi;
    *count = k;
    vi = NULL;
    rc = 0;
    goto out;
terminate:
    espeak_ng_Terminate();
    free(espeak_voices);
    espeak_voices = NULL;
out:
    free(vi);
    pthread_mutex_unlock(&espeak_lock);
    return rc;
}

static void espeak_global_cleanup(void)
{
    pthread_mutex_lock(&espeak_lock);
    if (espeak_ready)
        espeak_ng_Terminate();
    espeak_ready = 0;
    free(espeak_voices);
    espeak_voices = NULL;
    espeak_voice_count = 0;
    pthread_mutex_unlock(&espeak_lock);
}

static struct engine *espeak_create(char *err, size_t errlen)
{
    struct engine *e = calloc(1, sizeof *e);
    if (!e)
        snprintf(err, errlen, "espeak-ng: out of memory");
    return e;
}

static void espeak_destroy(struct engine *e)
{
    free(e);
}

/* Control characters would reach espeak's embedded-command parser (\001 starts a command);
 * the text is user content. A space keeps character positions aligned. */
static char *clean_text(const char *text, size_t len)
{
    char *clean = malloc(len + 1);
    if (!clean)
        return NULL;
    for (size_t i = 0; i <= len; i++) {
        unsigned char ch = (unsigned char)text[i];
        clean[i] = (ch && ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f ? ' ' : (char)ch;
    }
    return clean;
}

int espeak_phonemize(const char *voice, const char *text, espeak_clause_fn cb, void *ctx,
                     char *err, size_t errlen)
{
    size_t len = strlen(text);
    char *clean = clean_text(text, len);
    if (!clean) {
        snprintf(err, errlen, "espeak: out of memory");
        return -1;
    }
    int rc = -1;
    pthread_mutex_lock(&espeak_lock);
    if (!espeak_ready) {
        snprintf(err, errlen, "espeak-ng is not initialised");
        goto out;
    }
    const struct espeak_voice *v = find_voice(voice);
    espeak_ng_STATUS st = espeak_ng_SetVoiceByName(v ? v->ident : voice);
    if (st != ENS_OK) {
        status_msg(st, voice, err, errlen);
        goto out;
    }
    /* espeak_TextToPhonemes moves the pointer past each clause, to NULL after the last.
     * It has read one character of the next clause ahead ("this, is" leaves it at the "s"),
     * so the next clause starts one character before it. */
    const void *p = clean;
    size_t start = 0;
    while (p) {
        const char *ipa = espeak_TextToPhonemes(&p, espeakCHARS_UTF8, espeakPHONEMES_IPA);
        size_t end = len;
        if (p) {
            end = (size_t)((const char *)p - clean);
            if (end > len)
                end = len;
            while (end > start && ((unsigned char)clean[end - 1] & 0xc0) == 0x80)
                end--;
            if (end > start)
                end--;
        }
        if (cb(ctx, start, end, ipa ? ipa : "") < 0) {
            snprintf(err, errlen, "espeak: out of memory");
            goto out;
        }
        start = end;
    }
    rc = 0;
out:
    pthread_mutex_unlock(&espeak_lock);
    free(clean);
    return rc;
}

static int espeak_synthesize(struct engine *e, const char *voice, const char *text,
                             struct synth_result *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const struct espeak_voice *v = find_voice(voice);
    if (!v) {
        snprintf(err, errlen, "espeak: unknown voice \"%s\"", voice ? voice : "");
        return -1;
    }
    size_t len = strlen(text);
    char *clean = clean_text(text, len);
    if (!clean) {
        snprintf(err, errlen, "espeak: out of memory");
        return -1;
    }

    struct synth_ctx ctx = { .pcm = &out->pcm };
    int rc = -1;
    pthread_mutex_lock(&espeak_lock);
    if (!espeak_ready) {
        pthread_mutex_unlock(&espeak_lock);
        snprintf(err, errlen, "espeak: not initialised");
        goto out;
    }
    out->pcm.rate = espeak_rate;
    espeak_ng_STATUS st = espeak_ng_SetVoiceByName(v->ident);
    if (st == ENS_OK) {
        espeak_current = &ctx;
        /* UTF-8, no SSML, no phoneme input: the text is read, never interpreted. */
        st = espeak_ng_Synthesize(clean, len + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8,
                                  NULL, NULL);
        espeak_current = NULL;
    }
    pthread_mutex_unlock(&espeak_lock);

    if (ctx.failed) {
        snprintf(err, errlen, "espeak: out of memory");
        goto out;
    }
    if (st != ENS_OK) {
        status_msg(st, v->ident, err, errlen);
        goto out;
    }
    if (map_words(text, &ctx, pcm_duration_ms(&out->pcm), out) < 0) {
        snprintf(err, errlen, "espeak: out of memory");
        goto out;
    }
    rc = 0;
out:
    if (rc < 0)
        synth_result_free(out);
    free(ctx.ev);
    free(clean);
    return rc;
}

const struct engine_ops espeak_engine_ops = {
    .slug = "espeak",
    .name = "eSpeak NG",
    .global_init = espeak_global_init,
    .global_cleanup = espeak_global_cleanup,
    .create = espeak_create,
    .destroy = espeak_destroy,
    .synthesize = espeak_synthesize,
};
