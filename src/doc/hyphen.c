/* hyphen — the line-end hyphen rule (see hyphen.h). Pure, any thread; a hyphen_doc is
 * owned by its caller and holds a glib hash table of the document's words (ASCII
 * lowercased, punctuation trimmed from both ends) with their counts, built on the first
 * line-end hyphen that needs it (+~0.2 s on a 10 MiB text, on the offload pool).
 *
 * Order of evidence for "left-" + "right" (before a lowercase letter):
 *   1. the document writes "left-right" unbroken more often than "leftright": keep it;
 *   2. it writes "leftright" unbroken: join (the typesetter broke the word);
 *   3. neither: join, unless `left`'s last part is one of KEEP_WORDS and `right` is not a
 *      suffix. Why joining is the default: in typeset or hyphenated text most line-end
 *      hyphens are breaks ("incor-" "porates"); a compound that happens to fall at a line
 *      end is rarer. KEEP_WORDS are words that in English are almost only ever the first
 *      half of a hyphenated compound ("self-evident", "well-known", "half-hearted") and
 *      that hyphenation patterns seldom split a longer word after — except before a
 *      suffix ("self-ish", "well-ness", "half-ing"?), hence SUFFIXES. Deliberately not in
 *      the list: "re", "co", "ex", "non", "pre", "so": those are ordinary hyphenation
 *      points ("re-ceives", "co-ordinate" vs "coordinate", "ex-ample", "non-sense",
 *      "so-lution"), where keeping the hyphen would be wrong more often than right. */
#include "doc/hyphen.h"
#include "doc/uchar.h"
#include "util/utf8.h"
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct word {
    unsigned count;
    char key[];               /* lowercased word; the table's key points here */
};

struct hyphen_doc {
    hyphen_fill_fn fill;
    const void *ctx;
    GHashTable *words;        /* key -> struct word (owned); NULL until first needed */
    GString *key;             /* scratch for the lowercased word */
};

static const char *const KEEP_WORDS[] = { "self", "well", "half", NULL };
static const char *const SUFFIXES[] = { "ish", "less", "ness", "ly", "ing", "ed", "er", "est", "s", NULL };

struct hyphen_doc *hyphen_doc_new(hyphen_fill_fn fill, const void *ctx)
{
    struct hyphen_doc *d = calloc(1, sizeof *d);
    if (d) {
        d->fill = fill;
        d->ctx = ctx;
    }
    return d;
}

void hyphen_doc_free(struct hyphen_doc *d)
{
    if (!d)
        return;
    if (d->words)
        g_hash_table_destroy(d->words);
    if (d->key)
        g_string_free(d->key, TRUE);
    free(d);
}

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/* Length of the punctuation character at s (ASCII non-alphanumeric, or the general
 * punctuation block U+2000..U+206F, « », NBSP), 0 for a word character. */
static size_t punct_at(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80)
        return g_ascii_isalnum(s[0]) ? 0 : 1;
    if (n >= 3 && s[0] == 0xe2 && (s[1] == 0x80 || s[1] == 0x81))
        return 3;
    if (n >= 2 && s[0] == 0xc2 && (s[1] == 0xab || s[1] == 0xbb || s[1] == 0xa0))
        return 2;
    return 0;
}

/* Trims punctuation from both ends of s[*a..*e). */
static void trim_punct(const char *s, size_t *a, size_t *e)
{
    size_t k;
    while (*a < *e && (k = punct_at((const unsigned char *)s + *a, *e - *a)) > 0)
        *a += k;
    while (*a < *e) {   /* back up to the start of the last character */
        size_t b = *e - 1;
        while (b > *a && ((unsigned char)s[b] & 0xC0) == 0x80)
            b--;
        if (!punct_at((const unsigned char *)s + b, *e - b))
            break;
        *e = b;
    }
}

void hyphen_doc_add(struct hyphen_doc *d, const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        while (i < n && is_ws(s[i]))
            i++;
        size_t a = i;
        while (i < n && !is_ws(s[i]))
            i++;
        size_t e = i;
        trim_punct(s, &a, &e);
        if (a == e || !d->words)
            continue;
        /* lowercased into a reused buffer: one allocation per distinct word, not per word */
        g_string_truncate(d->key, 0);
        for (size_t j = a; j < e; j++)
            g_string_append_c(d->key, g_ascii_tolower(s[j]));
        struct word *w = g_hash_table_lookup(d->words, d->key->str);
        if (w) {
            w->count++;
            continue;
        }
        w = g_malloc(sizeof *w + d->key->len + 1);
        w->count = 1;
        memcpy(w->key, d->key->str, d->key->len + 1);
        g_hash_table_insert(d->words, w->key, w);
    }
}

static unsigned count_of(struct hyphen_doc *d, const char *a, size_t an, const char *sep,
                         const char *b, size_t bn)
{
    if (!d->words) {
        d->words = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
        d->key = g_string_sized_new(64);
        d->fill(d->ctx, d);
    }
    GString *k = g_string_new_len(a, (gssize)an);
    g_string_append(k, sep);
    g_string_append_len(k, b, (gssize)bn);
    char *low = g_ascii_strdown(k->str, (gssize)k->len);
    const struct word *w = g_hash_table_lookup(d->words, low);
    g_free(low);
    g_string_free(k, TRUE);
    return w ? w->count : 0;
}

static bool in_list(const char *const *list, const char *s, size_t n)
{
    for (; *list; list++)
        if (strlen(*list) == n && !g_ascii_strncasecmp(*list, s, n))
            return true;
    return false;
}

/* The last code point of p[0..n) (0 if empty) and its byte length. */
static uint32_t last_cp(const char *p, size_t n, size_t *bytes)
{
    size_t b = n;
    while (b > 0 && ((unsigned char)p[b - 1] & 0xC0) == 0x80)
        b--;
    if (b > 0)
        b--;
    uint32_t cp = 0;
    if (n)
        utf8_decode(p + b, n - b, &cp);
    *bytes = n - b;
    return cp;
}

/* Keep or join "left-" + "right" for an ASCII hyphen: the rule in the file comment. */
static bool keeps(struct hyphen_doc *d, const char *p, size_t n, const char *next, size_t next_len)
{
    size_t la = n, le = n;
    while (la > 0 && !is_ws(p[la - 1]))
        la--;
    trim_punct(p, &la, &le);
    size_t ra = 0, re = 0;
    while (re < next_len && !is_ws(next[re]))
        re++;
    trim_punct(next, &ra, &re);
    if (la == le || ra == re)
        return false;
    const char *l = p + la, *r = next + ra;
    size_t ln = le - la, rn = re - ra;
    if (d) {
        unsigned hyph = count_of(d, l, ln, "-", r, rn), joined = count_of(d, l, ln, "", r, rn);
        if (hyph || joined)
            return hyph >= joined;
    }
    size_t lo = ln;   /* "state-of-the" -> "the" */
    while (lo > 0 && l[lo - 1] != '-')
        lo--;
    return in_list(KEEP_WORDS, l + lo, ln - lo) && !in_list(SUFFIXES, r, rn);
}

enum hyphen_break hyphen_at_break(struct hyphen_doc *d, const char *p, size_t n,
                                  const char *next, size_t next_len, size_t *hy_bytes)
{
    size_t k, k2;
    uint32_t c = last_cp(p, n, &k);
    *hy_bytes = k;
    if (c == 0xAD)   /* a soft hyphen marks a break and nothing else */
        return HYPHEN_JOIN;
    if (c != '-' && c != 0x2010)
        return HYPHEN_NONE;
    uint32_t prev = last_cp(p, n - k, &k2), first = 0;
    if (next_len)
        utf8_decode(next, next_len, &first);
    if (!uchar_is_letter(prev))
        return HYPHEN_NONE;
    if (c == 0x2010)
        return uchar_is_lower(first) || (uchar_is_upper(first) && uchar_is_upper(prev)) ? HYPHEN_JOIN : HYPHEN_NONE;
    if (!uchar_is_lower(first))
        return HYPHEN_NONE;
    return keeps(d, p, n - k, next, next_len) ? HYPHEN_KEEP : HYPHEN_JOIN;
}
