/* kokoro_tokens — Kokoro's vocabulary and tokens (see kokoro_tokens.h).
 *
 * Sources, read not copied: the default vocabulary is the "vocab" of Kokoro v1.0's
 * config.json (hexgrad/Kokoro-82M on Hugging Face; kokoro-onnx ships the same file as
 * src/kokoro_onnx/config.json and maps phonemes through it, tokenizer.py tokenize()); the
 * IPA fixes are kokoro-onnx's tokenizer.py phonemize(). A phoneme outside the vocabulary
 * is dropped, as both do.
 *
 * Pure functions, any thread; a kokoro_vocab belongs to whoever made it (kokoro.c keeps
 * one, read-only after start-up). */
#include "engines/kokoro_tokens.h"
#include "util/utf8.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Kokoro v1.0's vocabulary: code point, id. */
static const struct kokoro_vocab_entry default_vocab[] = {
    { ';', 1 }, { ':', 2 }, { ',', 3 }, { '.', 4 }, { '!', 5 }, { '?', 6 },
    { 0x2014, 9 } /* — */, { 0x2026, 10 } /* … */, { '"', 11 }, { '(', 12 }, { ')', 13 },
    { 0x201c, 14 } /* “ */, { 0x201d, 15 } /* ” */, { ' ', 16 },
    { 0x0303, 17 } /* combining tilde */, { 0x02a3, 18 } /* ʣ */, { 0x02a5, 19 } /* ʥ */,
    { 0x02a6, 20 } /* ʦ */, { 0x02a8, 21 } /* ʨ */, { 0x1d5d, 22 } /* ᵝ */,
    { 0xab67, 23 } /* ꭧ */,
    { 'A', 24 }, { 'I', 25 }, { 'O', 31 }, { 'Q', 33 }, { 'S', 35 }, { 'T', 36 }, { 'W', 39 },
    { 'Y', 41 }, { 0x1d4a, 42 } /* ᵊ */,
    { 'a', 43 }, { 'b', 44 }, { 'c', 45 }, { 'd', 46 }, { 'e', 47 }, { 'f', 48 }, { 'h', 50 },
    { 'i', 51 }, { 'j', 52 }, { 'k', 53 }, { 'l', 54 }, { 'm', 55 }, { 'n', 56 }, { 'o', 57 },
    { 'p', 58 }, { 'q', 59 }, { 'r', 60 }, { 's', 61 }, { 't', 62 }, { 'u', 63 }, { 'v', 64 },
    { 'w', 65 }, { 'x', 66 }, { 'y', 67 }, { 'z', 68 },
    { 0x0251, 69 } /* ɑ */, { 0x0250, 70 } /* ɐ */, { 0x0252, 71 } /* ɒ */, { 0x00e6, 72 } /* æ */,
    { 0x03b2, 75 } /* β */, { 0x0254, 76 } /* ɔ */, { 0x0255, 77 } /* ɕ */, { 0x00e7, 78 } /* ç */,
    { 0x0256, 80 } /* ɖ */, { 0x00f0, 81 } /* ð */, { 0x02a4, 82 } /* ʤ */, { 0x0259, 83 } /* ə */,
    { 0x025a, 85 } /* ɚ */, { 0x025b, 86 } /* ɛ */, { 0x025c, 87 } /* ɜ */, { 0x025f, 90 } /* ɟ */,
    { 0x0261, 92 } /* ɡ */, { 0x0265, 99 } /* ɥ */, { 0x0268, 101 } /* ɨ */, { 0x026a, 102 } /* ɪ */,
    { 0x029d, 103 } /* ʝ */, { 0x026f, 110 } /* ɯ */, { 0x0270, 111 } /* ɰ */, { 0x014b, 112 } /* ŋ */,
    { 0x0273, 113 } /* ɳ */, { 0x0272, 114 } /* ɲ */, { 0x0274, 115 } /* ɴ */, { 0x00f8, 116 } /* ø */,
    { 0x0278, 118 } /* ɸ */, { 0x03b8, 119 } /* θ */, { 0x0153, 120 } /* œ */, { 0x0279, 123 } /* ɹ */,
    { 0x027e, 125 } /* ɾ */, { 0x027b, 126 } /* ɻ */, { 0x0281, 128 } /* ʁ */, { 0x027d, 129 } /* ɽ */,
    { 0x0282, 130 } /* ʂ */, { 0x0283, 131 } /* ʃ */, { 0x0288, 132 } /* ʈ */, { 0x02a7, 133 } /* ʧ */,
    { 0x028a, 135 } /* ʊ */, { 0x028b, 136 } /* ʋ */, { 0x028c, 138 } /* ʌ */, { 0x0263, 139 } /* ɣ */,
    { 0x0264, 140 } /* ɤ */, { 0x03c7, 142 } /* χ */, { 0x028e, 143 } /* ʎ */, { 0x0292, 147 } /* ʒ */,
    { 0x0294, 148 } /* ʔ */, { 0x02c8, 156 } /* ˈ */, { 0x02cc, 157 } /* ˌ */, { 0x02d0, 158 } /* ː */,
    { 0x02b0, 162 } /* ʰ */, { 0x02b2, 164 } /* ʲ */, { 0x2193, 169 } /* ↓ */, { 0x2192, 171 } /* → */,
    { 0x2197, 172 } /* ↗ */, { 0x2198, 173 } /* ↘ */, { 0x1d7b, 177 } /* ᵻ */,
};

static int cmp_entry(const void *a, const void *b)
{
    uint32_t x = ((const struct kokoro_vocab_entry *)a)->cp;
    uint32_t y = ((const struct kokoro_vocab_entry *)b)->cp;
    return x < y ? -1 : x > y;
}

int kokoro_vocab_default(struct kokoro_vocab *v)
{
    size_t n = sizeof default_vocab / sizeof *default_vocab;
    v->e = malloc(sizeof default_vocab);
    v->count = 0;
    if (!v->e)
        return -1;
    memcpy(v->e, default_vocab, sizeof default_vocab);
    qsort(v->e, n, sizeof *v->e, cmp_entry);
    v->count = (int)n;
    return 0;
}

int kokoro_vocab_parse(const char *json, size_t len, struct kokoro_vocab *v, char *err,
                       size_t errlen)
{
    memset(v, 0, sizeof *v);
    cJSON *root = cJSON_ParseWithLength(json, len);
    int rc = -1;
    if (!root) {
        snprintf(err, errlen, "not valid JSON");
        return -1;
    }
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(root, "vocab");
    int n = cJSON_IsObject(vocab) ? cJSON_GetArraySize(vocab) : 0;
    if (n < 1 || n > 4096) {
        snprintf(err, errlen, "no \"vocab\" object of phoneme ids");
        goto out;
    }
    v->e = calloc((size_t)n, sizeof *v->e);
    if (!v->e) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, vocab) {
        uint32_t cp;
        size_t kl = it->string ? strlen(it->string) : 0;
        if (!kl || utf8_decode(it->string, kl, &cp) != (int)kl) {
            snprintf(err, errlen, "vocab key \"%.40s\" is not one character", it->string ? it->string : "");
            goto out;
        }
        if (!cJSON_IsNumber(it) || it->valuedouble < 1 || it->valuedouble > 1023 ||
            it->valuedouble != (double)(int)it->valuedouble) {
            snprintf(err, errlen, "vocab \"%.40s\": the id is not a whole number in 1..1023", it->string);
            goto out;
        }
        v->e[v->count++] = (struct kokoro_vocab_entry){ cp, (int)it->valuedouble };
    }
    qsort(v->e, (size_t)v->count, sizeof *v->e, cmp_entry);
    for (int i = 1; i < v->count; i++)
        if (v->e[i].cp == v->e[i - 1].cp) {
            snprintf(err, errlen, "vocab has U+%04X twice", (unsigned)v->e[i].cp);
            goto out;
        }
    rc = 0;
out:
    cJSON_Delete(root);
    if (rc < 0)
        kokoro_vocab_free(v);
    return rc;
}

void kokoro_vocab_free(struct kokoro_vocab *v)
{
    if (!v)
        return;
    free(v->e);
    v->e = NULL;
    v->count = 0;
}

int kokoro_vocab_id(const struct kokoro_vocab *v, uint32_t cp)
{
    struct kokoro_vocab_entry key = { cp, 0 };
    const struct kokoro_vocab_entry *e =
        v->count ? bsearch(&key, v->e, (size_t)v->count, sizeof *v->e, cmp_entry) : NULL;
    return e ? e->id : -1;
}

/* Whether phon[at..] starts with the UTF-32 string s (n code points). */
static int starts(const uint32_t *phon, int len, int at, const uint32_t *s, int n)
{
    if (at + n > len)
        return 0;
    for (int i = 0; i < n; i++)
        if (phon[at + i] != s[i])
            return 0;
    return 1;
}

void kokoro_ipa_fix(uint32_t *phon, int n, int american)
{
    /* https://en.wiktionary.org/wiki/kokoro#English, as kokoro-onnx spells it */
    static const uint32_t koko_us[] = { 'k', 0x259, 'k', 0x2c8, 'o', 0x2d0, 0x279, 'o', 0x28a };
    static const uint32_t fix_us[] = { 'k', 0x2c8, 'o', 0x28a, 'k', 0x259, 0x279, 'o', 0x28a };
    static const uint32_t koko_gb[] = { 'k', 0x259, 'k', 0x2c8, 0x254, 0x2d0, 0x279, 0x259, 0x28a };
    static const uint32_t fix_gb[] = { 'k', 0x2c8, 0x259, 0x28a, 'k', 0x259, 0x279, 0x259, 0x28a };
    static const uint32_t ninety[] = { 'n', 0x2c8, 'a', 0x26a, 'n', 't', 'i' };
    for (int i = 0; i < n; i++) {
        if (starts(phon, n, i, koko_us, 9))
            memcpy(phon + i, fix_us, sizeof fix_us);
        else if (starts(phon, n, i, koko_gb, 9))
            memcpy(phon + i, fix_gb, sizeof fix_gb);
    }
    for (int i = 0; i < n; i++) {
        switch (phon[i]) {
        case 0x2b2: phon[i] = 'j'; break;     /* ʲ */
        case 'r': phon[i] = 0x279; break;     /* ɹ */
        case 'x': phon[i] = 'k'; break;
        case 0x26c: phon[i] = 'l'; break;     /* ɬ */
        default: break;
        }
    }
    if (american)   /* "(?<=nˈaɪn)ti(?!ː)" -> "di" */
        for (int i = 0; i + 7 <= n; i++)
            if (starts(phon, n, i, ninety, 7) && (i + 7 == n || phon[i + 7] != 0x2d0))
                phon[i + 5] = 'd';
}

int kokoro_tokens(const struct kokoro_vocab *v, const uint32_t *phon, int n, int64_t *tokens,
                  int *phon_end)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        int id = kokoro_vocab_id(v, phon[i]);
        if (id >= 0)
            tokens[k++] = id;
        if (phon_end)
            phon_end[i] = k;
    }
    return k;
}
