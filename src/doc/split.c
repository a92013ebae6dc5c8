/* split — cut one speakable block into audio-sized pieces (SPEC section 2). Pure, any thread.
 *
 * The text is decoded once into code points (with their byte offsets), so every length
 * rule counts characters and every cut lands between code points. Then:
 *   1. sentences are found (terminator, closing quotes, whitespace; CJK stops need none);
 *   2. a sentence longer than SPLIT_LONG is cut into clauses of at most SPLIT_TARGET: at
 *      the last pause point that leaves SPLIT_MIN_SIDE on both sides, else after the last
 *      space, else hard at SPLIT_TARGET (moved back to a grapheme boundary);
 *   3. sentences and clauses are packed greedily into pieces of at most SPLIT_TARGET.
 * Whitespace always stays at the end of the piece before it, so the pieces tile the
 * input exactly. All scans are linear (lookbacks are bounded), so hostile input is cheap. */
#include "doc/split.h"
#include "doc/uchar.h"
#include "util/utf8.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct cps {
    uint32_t *cp;    /* code points, n of them */
    size_t *off;     /* byte offset of each code point; off[n] == byte length */
    size_t n;
};

struct packer {
    const struct cps *t;
    struct split_piece *out;
    int count, cap;
    size_t start, cur;   /* current piece: first code point, length in code points */
    bool failed;
};

/* ---- character classes ------------------------------------------------------------ */

static bool is_terminator(uint32_t c) { return c == '.' || c == '!' || c == '?' || c == 0x2026; }

/* 。！？ and the halfwidth ideographic stop end a sentence without any following space. */
static bool is_cjk_terminator(uint32_t c)
{
    return c == 0x3002 || c == 0xFF01 || c == 0xFF1F || c == 0xFF61;
}

static bool is_closer(uint32_t c)
{
    switch (c) {
    case '"': case '\'': case ')': case ']': case 0x201D: case 0x2019: case 0xBB:
    case 0x300D: case 0x300F: case 0xFF09: case 0x3011: case 0x3015: case 0x300B: case 0x3009:
        return true;
    default:
        return false;
    }
}

/* Opening punctuation that may precede the first letter of the next sentence. */
static bool is_opener(uint32_t c)
{
    switch (c) {
    case '"': case '\'': case '(': case '[': case 0x201C: case 0x2018: case 0xAB:
    case 0xBF: case 0xA1:
        return true;
    default:
        return false;
    }
}

/* Pause points; the ASCII ones only count when followed by a space ("1,000" is no pause). */
static bool is_pause(uint32_t c, bool space_follows)
{
    if (c == ',' || c == ';' || c == ':')
        return space_follows;
    return c == 0x2014 || c == 0xFF0C || c == 0xFF1B || c == 0xFF1A || c == 0x3001;
}

static bool is_ascii_alpha(uint32_t c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
static bool is_digit(uint32_t c) { return c >= '0' && c <= '9'; }

/* ---- grapheme boundaries ---------------------------------------------------------- */

/* May a piece boundary fall before code point i? `from` is the start of the current
 * piece (itself a boundary), which bounds the regional-indicator lookback. */
static bool is_boundary(const struct cps *t, size_t from, size_t i)
{
    if (i == 0 || i >= t->n)
        return true;
    uint32_t c = t->cp[i], prev = t->cp[i - 1];
    if (uchar_is_extend(c) || prev == 0x200D)   /* combining marks, VS, modifiers, ZWJ */
        return false;
    if (prev == '\r' && c == '\n')
        return false;
    if (uchar_is_regional(c) && uchar_is_regional(prev)) {
        size_t k = 0;   /* flags are pairs: break only after an even number of RIs */
        for (size_t j = i; j > from && uchar_is_regional(t->cp[j - 1]); j--)
            k++;
        return k % 2 == 0;
    }
    return true;
}

/* ---- sentences -------------------------------------------------------------------- */

static bool token_in(const char *tok, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(tok, *list) == 0)
            return true;
    return false;
}

/* Is the '.' at index dot the end of an abbreviation rather than of a sentence?
 * `next` is the first letter after the following white space (and openers). */
static bool is_abbreviation(const struct cps *t, size_t dot, size_t next)
{
    static const char *const always[] = {
        "e.g", "i.e", "dr", "mr", "mrs", "ms", "mx", "prof", "st", "vs", "jr", "sr", "mt",
        "cf", "viz", "rev", "gen", "col", "capt", "lt", "sgt", "gov", "sen", NULL
    };
    static const char *const before_number[] = {
        "no", "nos", "nr", "fig", "figs", "vol", "vols", "p", "pp", "ch", "sec", "eq", "art",
        "op", NULL
    };
    char tok[16];
    size_t b = dot;
    while (b > 0 && dot - b < sizeof tok - 1 && (is_ascii_alpha(t->cp[b - 1]) || t->cp[b - 1] == '.'))
        b--;
    if (b == dot)
        return false;
    if (b > 0 && (is_ascii_alpha(t->cp[b - 1]) || is_digit(t->cp[b - 1])
                  || uchar_is_lower(t->cp[b - 1]) || uchar_is_upper(t->cp[b - 1])))
        return false;   /* the token is the tail of a longer word */
    size_t n = dot - b;
    for (size_t i = 0; i < n; i++)
        tok[i] = (char)(t->cp[b + i] | (t->cp[b + i] == '.' ? 0 : 0x20));
    tok[n] = '\0';
    if (n == 1 && uchar_is_upper(t->cp[b]))
        return true;   /* an initial: "J. R. R. Tolkien" */
    if (token_in(tok, always))
        return true;
    if (strchr(tok, '.')) {   /* dotted initialism: "U.S.", "J.R.R.", "a.m." */
        bool single = true;
        for (size_t i = 0; i < n; i++)
            if (tok[i] != '.' && ((i > 0 && tok[i - 1] != '.') || (i + 1 < n && tok[i + 1] != '.')))
                single = false;
        if (single && tok[0] != '.')
            return true;
    }
    return next < t->n && is_digit(t->cp[next]) && token_in(tok, before_number);
}

/* If a sentence ends at the terminator run starting at i, returns the index just past the
 * end (closing quotes and white space included); else 0. *resume is where to continue. */
static size_t sentence_end_at(const struct cps *t, size_t from, size_t i, size_t *resume)
{
    size_t n = t->n, j = i;
    uint32_t c = t->cp[i];
    *resume = i + 1;
    if (c == '\n') {
        while (j < n && uchar_is_space(t->cp[j]))
            j++;
        *resume = j;
        return is_boundary(t, from, j) ? j : 0;
    }
    bool cjk = is_cjk_terminator(c);
    while (j < n && (is_cjk_terminator(t->cp[j]) || is_terminator(t->cp[j]))) {
        cjk |= is_cjk_terminator(t->cp[j]);
        j++;
    }
    bool single_dot = (j == i + 1 && c == '.');
    *resume = j;
    while (j < n && is_closer(t->cp[j]))
        j++;
    if (!cjk && j < n && !uchar_is_space(t->cp[j]))
        return 0;   /* "3.14", "v1.2", "example.com" */
    size_t end = j;
    while (end < n && uchar_is_space(t->cp[end]))
        end++;
    if (!cjk && end < n) {
        size_t next = end;
        while (next < n && is_opener(t->cp[next]))
            next++;
        if (next < n && uchar_is_lower(t->cp[next]))
            return 0;   /* "etc. and", "wait... what", "\"Is it?\" he asked" */
        if (single_dot && is_abbreviation(t, i, next))
            return 0;
    }
    *resume = end > i ? end : i + 1;
    return is_boundary(t, from, end) ? end : 0;
}

/* ---- packing ---------------------------------------------------------------------- */

static void packer_emit(struct packer *p, size_t a, size_t b)
{
    if (p->failed || a >= b)
        return;
    if (p->count == p->cap) {
        int cap = p->cap ? p->cap * 2 : 8;
        struct split_piece *o = realloc(p->out, (size_t)cap * sizeof *o);
        if (!o) {
            p->failed = true;
            return;
        }
        p->out = o;
        p->cap = cap;
    }
    p->out[p->count].off = p->t->off[a];
    p->out[p->count].len = p->t->off[b] - p->t->off[a];
    p->count++;
}

/* Adds the unit [a, b) (a sentence or a clause) to the current piece, or starts a new one. */
static void packer_add(struct packer *p, size_t a, size_t b)
{
    size_t len = b - a;
    if (p->cur > 0 && p->cur + len > SPLIT_TARGET) {
        packer_emit(p, p->start, a);
        p->start = a;
        p->cur = 0;
    }
    p->cur += len;
}

/* ---- long sentences --------------------------------------------------------------- */

/* Last pause point in (s, s + TARGET] with MIN_SIDE on both sides, or 0. */
static size_t find_pause(const struct cps *t, size_t s, size_t e)
{
    size_t best = 0, lim = s + SPLIT_TARGET < e ? s + SPLIT_TARGET : e;
    for (size_t q = s; q < lim; q++) {
        bool space_after = q + 1 < e && uchar_is_space(t->cp[q + 1]);
        if (!is_pause(t->cp[q], space_after))
            continue;
        size_t c = q + 1;
        while (c < e && uchar_is_space(t->cp[c]))
            c++;
        if (c - s >= SPLIT_MIN_SIDE && e - c >= SPLIT_MIN_SIDE && c - s <= SPLIT_TARGET
            && is_boundary(t, s, c))
            best = c;
    }
    return best;
}

/* Just after the last white space in (s, s + TARGET], or 0. */
static size_t find_space(const struct cps *t, size_t s, size_t e)
{
    for (size_t c = s + SPLIT_TARGET; c > s; c--)
        if (c < e && uchar_is_space(t->cp[c - 1]) && is_boundary(t, s, c))
            return c;
    return 0;
}

/* Hard cut near s + TARGET at a grapheme boundary; a pathological cluster (thousands of
 * combining marks) is still cut so that no piece grows without bound. */
static size_t find_hard(const struct cps *t, size_t s, size_t e)
{
    for (size_t c = s + SPLIT_TARGET; c > s; c--)
        if (is_boundary(t, s, c))
            return c;
    for (size_t c = s + SPLIT_TARGET + 1; c < e && c <= s + SPLIT_LONG; c++)
        if (is_boundary(t, s, c))
            return c;
    return s + SPLIT_TARGET;
}

static void add_sentence(struct packer *p, size_t s, size_t e)
{
    if (e - s <= SPLIT_LONG) {
        packer_add(p, s, e);
        return;
    }
    while (e - s > SPLIT_TARGET) {
        size_t c = find_pause(p->t, s, e);
        if (!c)
            c = find_space(p->t, s, e);
        if (!c)
            c = find_hard(p->t, s, e);
        packer_add(p, s, c);
        s = c;
    }
    packer_add(p, s, e);
}

/* ---- entry point ------------------------------------------------------------------ */

int split_block(const char *text, size_t len, struct split_piece **out)
{
    *out = NULL;
    if (len == 0)
        return 0;
    if (utf8_codepoints(text, len) <= SPLIT_TARGET) {
        *out = malloc(sizeof **out);
        if (!*out)
            return -1;
        (*out)[0] = (struct split_piece){ 0, len };
        return 1;
    }
    struct cps t = { malloc(len * sizeof *t.cp), malloc((len + 1) * sizeof *t.off), 0 };
    if (!t.cp || !t.off) {
        free(t.cp);
        free(t.off);
        return -1;
    }
    for (size_t i = 0; i < len;) {
        t.off[t.n] = i;
        i += (size_t)utf8_decode(text + i, len - i, &t.cp[t.n]);
        t.n++;
    }
    t.off[t.n] = len;

    struct packer p = { .t = &t };
    size_t start = 0;
    for (size_t i = 0; i < t.n;) {
        uint32_t c = t.cp[i];
        if (!is_terminator(c) && !is_cjk_terminator(c) && c != '\n') {
            i++;
            continue;
        }
        size_t resume, end = sentence_end_at(&t, start, i, &resume);
        if (end) {
            add_sentence(&p, start, end);
            start = end;
        }
        i = resume > i ? resume : i + 1;
    }
    if (start < t.n)
        add_sentence(&p, start, t.n);
    packer_emit(&p, p.start, t.n);

    free(t.cp);
    free(t.off);
    if (p.failed) {
        free(p.out);
        return -1;
    }
    *out = p.out;
    return p.count;
}
