/* piper_config — reads a Piper voice's .onnx.json (cJSON) and builds Piper's phoneme-id
 * vectors from it. Pure functions, any thread; a piper_config is owned by whoever parsed
 * it (piper.c keeps one per voice file, read-only after start-up).
 *
 * Piper's rules, kept exactly (piper-phonemize's phoneme_ids.cpp and piper's config
 * loader): every phoneme_id_map key is one code point (else the voice is refused, as Piper
 * refuses it); a phoneme maps to one or more ids; a sentence is BOS, pad, each phoneme's
 * ids plus a pad, EOS; a phoneme missing from the map is skipped. */
#include "engines/piper_config.h"
#include "util/utf8.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Piper's defaults when a voice's `inference` section leaves a value out. */
#define PIPER_NOISE_SCALE 0.667f
#define PIPER_LENGTH_SCALE 1.0f
#define PIPER_NOISE_W 0.8f

static void copy_str(char *dst, size_t len, const cJSON *item)
{
    const char *s = cJSON_GetStringValue(item);
    snprintf(dst, len, "%s", s ? s : "");
}

static float num_or(const cJSON *obj, const char *key, float def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) && v->valuedouble > 0 && v->valuedouble < 100 ? (float)v->valuedouble
                                                                             : def;
}

static int cmp_phoneme(const void *a, const void *b)
{
    uint32_t x = ((const struct piper_phoneme *)a)->cp, y = ((const struct piper_phoneme *)b)->cp;
    return x < y ? -1 : x > y;
}

static int cmp_speaker(const void *a, const void *b)
{
    return ((const struct piper_speaker *)a)->id - ((const struct piper_speaker *)b)->id;
}

/* One code point of valid UTF-8, or -1. */
static int64_t single_cp(const char *s)
{
    size_t n = strlen(s);
    uint32_t cp;
    if (n == 0 || !utf8_valid(s, n) || (size_t)utf8_decode(s, n, &cp) != n)
        return -1;
    return cp;
}

static int read_map(const cJSON *map, struct piper_config *c, char *err, size_t errlen)
{
    int n = cJSON_GetArraySize(map), total = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, map) {
        if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) < 1) {
            snprintf(err, errlen, "phoneme_id_map[\"%.20s\"] is not a list of ids", e->string);
            return -1;
        }
        total += cJSON_GetArraySize(e);
        if (total > 1 << 20) {
            snprintf(err, errlen, "phoneme_id_map is too large");
            return -1;
        }
    }
    c->map = calloc((size_t)n + 1, sizeof *c->map);
    c->ids = calloc((size_t)total + 1, sizeof *c->ids);
    if (!c->map || !c->ids) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    cJSON_ArrayForEach(e, map) {
        int64_t cp = single_cp(e->string ? e->string : "");
        if (cp < 0) {
            snprintf(err, errlen, "phoneme_id_map key \"%.20s\" is not one code point", e->string);
            return -1;
        }
        struct piper_phoneme *p = &c->map[c->map_count++];
        *p = (struct piper_phoneme){ (uint32_t)cp, c->id_count, 0 };
        const cJSON *id;
        cJSON_ArrayForEach(id, e) {
            if (!cJSON_IsNumber(id) || id->valuedouble < 0 || id->valuedouble > 1e9 ||
                id->valuedouble != (double)(int64_t)id->valuedouble) {
                snprintf(err, errlen, "phoneme_id_map[\"%.20s\"] has an id that is not a "
                         "non-negative integer", e->string);
                return -1;
            }
            c->ids[c->id_count++] = (int64_t)id->valuedouble;
            p->count++;
        }
    }
    qsort(c->map, (size_t)c->map_count, sizeof *c->map, cmp_phoneme);
    for (int i = 1; i < c->map_count; i++)
        if (c->map[i].cp == c->map[i - 1].cp) {
            snprintf(err, errlen, "phoneme_id_map lists U+%04X twice", (unsigned)c->map[i].cp);
            return -1;
        }
    static const struct { uint32_t cp; const char *what; } need[] = {
        { '_', "pad" }, { '^', "beginning of sentence" }, { '$', "end of sentence" }
    };
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (!piper_config_phoneme(c, need[i].cp)) {
            snprintf(err, errlen, "phoneme_id_map has no \"%c\" (%s)", (char)need[i].cp,
                     need[i].what);
            return -1;
        }
    return 0;
}

static int read_speakers(const cJSON *map, struct piper_config *c, char *err, size_t errlen)
{
    int n = cJSON_GetArraySize(map);
    if (n <= 0)
        return 0;
    c->speakers = calloc((size_t)n, sizeof *c->speakers);
    if (!c->speakers) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, map) {
        if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble >= c->num_speakers ||
            !e->string || !e->string[0]) {
            snprintf(err, errlen, "speaker_id_map[\"%.20s\"] is not a speaker id below "
                     "num_speakers", e->string ? e->string : "");
            return -1;
        }
        struct piper_speaker *s = &c->speakers[c->speaker_count++];
        snprintf(s->name, sizeof s->name, "%s", e->string);
        s->id = (int)e->valuedouble;
    }
    qsort(c->speakers, (size_t)c->speaker_count, sizeof *c->speakers, cmp_speaker);
    return 0;
}

int piper_config_parse(const char *json, size_t len, struct piper_config *c, char *err,
                       size_t errlen)
{
    memset(c, 0, sizeof *c);
    cJSON *root = cJSON_ParseWithLength(json, len);
    int rc = -1;
    if (!root || !cJSON_IsObject(root)) {
        snprintf(err, errlen, "not a JSON object");
        goto out;
    }
    const cJSON *audio = cJSON_GetObjectItemCaseSensitive(root, "audio");
    const cJSON *rate = cJSON_GetObjectItemCaseSensitive(audio, "sample_rate");
    if (!cJSON_IsNumber(rate) || rate->valuedouble < 8000 || rate->valuedouble > 192000) {
        snprintf(err, errlen, "no audio.sample_rate (8000-192000)");
        goto out;
    }
    c->sample_rate = (int)rate->valuedouble;
    copy_str(c->quality, sizeof c->quality, cJSON_GetObjectItemCaseSensitive(audio, "quality"));

    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "phoneme_type");
    if (type && !(cJSON_IsString(type) && strcmp(type->valuestring, "espeak") == 0)) {
        snprintf(err, errlen, "phoneme_type \"%.20s\" is not supported (only \"espeak\")",
                 cJSON_IsString(type) ? type->valuestring : "?");
        goto out;
    }
    const cJSON *espeak = cJSON_GetObjectItemCaseSensitive(root, "espeak");
    copy_str(c->espeak_voice, sizeof c->espeak_voice,
             cJSON_GetObjectItemCaseSensitive(espeak, "voice"));
    if (!c->espeak_voice[0]) {
        snprintf(err, errlen, "no espeak.voice");
        goto out;
    }
    const cJSON *lang = cJSON_GetObjectItemCaseSensitive(root, "language");
    copy_str(c->lang_code, sizeof c->lang_code, cJSON_GetObjectItemCaseSensitive(lang, "code"));
    copy_str(c->lang_name, sizeof c->lang_name,
             cJSON_GetObjectItemCaseSensitive(lang, "name_english"));
    copy_str(c->region, sizeof c->region,
             cJSON_GetObjectItemCaseSensitive(lang, "country_english"));
    copy_str(c->dataset, sizeof c->dataset, cJSON_GetObjectItemCaseSensitive(root, "dataset"));

    const cJSON *inf = cJSON_GetObjectItemCaseSensitive(root, "inference");
    c->noise_scale = num_or(inf, "noise_scale", PIPER_NOISE_SCALE);
    c->length_scale = num_or(inf, "length_scale", PIPER_LENGTH_SCALE);
    c->noise_w = num_or(inf, "noise_w", PIPER_NOISE_W);

    const cJSON *ns = cJSON_GetObjectItemCaseSensitive(root, "num_speakers");
    c->num_speakers = cJSON_IsNumber(ns) && ns->valuedouble >= 1 && ns->valuedouble <= 100000
                          ? (int)ns->valuedouble : 1;
    if (c->num_speakers > 1 &&
        read_speakers(cJSON_GetObjectItemCaseSensitive(root, "speaker_id_map"), c, err,
                      errlen) < 0)
        goto out;

    const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "phoneme_id_map");
    if (!cJSON_IsObject(map) || cJSON_GetArraySize(map) == 0) {
        snprintf(err, errlen, "no phoneme_id_map");
        goto out;
    }
    if (read_map(map, c, err, errlen) < 0)
        goto out;
    rc = 0;
out:
    cJSON_Delete(root);
    if (rc < 0)
        piper_config_free(c);
    return rc;
}

void piper_config_free(struct piper_config *c)
{
    if (!c)
        return;
    free(c->map);
    free(c->ids);
    free(c->speakers);
    memset(c, 0, sizeof *c);
}

const struct piper_phoneme *piper_config_phoneme(const struct piper_config *c, uint32_t cp)
{
    struct piper_phoneme key = { .cp = cp };
    if (!c->map_count)
        return NULL;
    return bsearch(&key, c->map, (size_t)c->map_count, sizeof *c->map, cmp_phoneme);
}

static int push(int64_t **v, int *n, int *cap, const struct piper_config *c,
                const struct piper_phoneme *p)
{
    if (*n + p->count > *cap) {
        int ncap = (*cap ? *cap * 2 : 64) + p->count;
        int64_t *nv = realloc(*v, (size_t)ncap * sizeof *nv);
        if (!nv)
            return -1;
        *v = nv;
        *cap = ncap;
    }
    memcpy(*v + *n, c->ids + p->first, (size_t)p->count * sizeof **v);
    *n += p->count;
    return 0;
}

int piper_config_ids(const struct piper_config *c, const uint32_t *phonemes, int n,
                     int64_t **ids, int *phon_end)
{
    const struct piper_phoneme *pad = piper_config_phoneme(c, '_');
    const struct piper_phoneme *bos = piper_config_phoneme(c, '^');
    const struct piper_phoneme *eos = piper_config_phoneme(c, '$');
    int64_t *v = NULL;
    int len = 0, cap = 0;
    *ids = NULL;
    if (!pad || !bos || !eos || push(&v, &len, &cap, c, bos) < 0 ||
        push(&v, &len, &cap, c, pad) < 0)
        goto oom;
    for (int i = 0; i < n; i++) {
        const struct piper_phoneme *p = piper_config_phoneme(c, phonemes[i]);
        if (p && (push(&v, &len, &cap, c, p) < 0 || push(&v, &len, &cap, c, pad) < 0))
            goto oom;
        if (phon_end)
            phon_end[i] = len;
    }
    if (push(&v, &len, &cap, c, eos) < 0)
        goto oom;
    *ids = v;
    return len;
oom:
    free(v);
    return -1;
}
