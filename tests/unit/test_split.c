/* test_split — split_block against the cases in tests/data/split (format in the README
 * there), plus invariants on generated hostile text. Run from the repository root. */
#include "check.h"
#include "audio/audio.h"
#include "doc/doc.h"
#include "doc/split.h"
#include "util/utf8.h"
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CASE_DIR "tests/data/split"

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct buf b = { 0 };
    int rc = buf_read_stream(&b, f);
    fclose(f);
    if (rc) {
        buf_free(&b);
        return NULL;
    }
    *len = b.len;
    return (char *)b.data;
}

static uint32_t cp_at(const char *s, size_t len, size_t off)
{
    uint32_t cp = 0;
    if (off < len)
        utf8_decode(s + off, len - off, &cp);
    return cp;
}

static uint32_t cp_before(const char *s, size_t off)
{
    size_t p = off;
    while (p > 0 && ((unsigned char)s[--p] & 0xC0) == 0x80)
        ;
    uint32_t cp = 0;
    utf8_decode(s + p, off - p, &cp);
    return cp;
}

static bool is_ri(uint32_t c) { return c >= 0x1F1E6 && c <= 0x1F1FF; }

/* An independent (simplified) grapheme check: what must never start a piece or end one. */
static bool cut_splits_grapheme(const char *s, size_t len, size_t off)
{
    if (off == 0 || off >= len)
        return false;
    if (((unsigned char)s[off] & 0xC0) == 0x80)
        return true;   /* inside a UTF-8 sequence */
    uint32_t next = cp_at(s, len, off), prev = cp_before(s, off);
    if ((next >= 0x300 && next <= 0x36F) || next == 0x200D || (next >= 0xFE00 && next <= 0xFE0F)
        || (next >= 0x1F3FB && next <= 0x1F3FF) || prev == 0x200D)
        return true;
    if (is_ri(next) && is_ri(prev)) {
        int k = 0;
        for (size_t p = off; p > 0 && is_ri(cp_before(s, p)); p -= 4)
            k++;
        return k % 2 == 1;
    }
    return false;
}

/* The invariants every split must satisfy; returns false (after reporting) on a breach. */
static bool check_invariants(const char *name, const char *s, size_t len,
                             const struct split_piece *p, int n)
{
    bool ok = true;
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        size_t cps = utf8_codepoints(s + p[i].off, p[i].len);
        if (p[i].off != at || p[i].len == 0 || cps > SPLIT_LONG) {
            fprintf(stderr, "%s: piece %d off %zu len %zu (%zu code points), expected off %zu\n",
                    name, i, p[i].off, p[i].len, cps, at);
            ok = false;
        }
        if (i > 0 && cut_splits_grapheme(s, len, p[i].off)) {
            fprintf(stderr, "%s: piece %d starts inside a grapheme (byte %zu)\n", name, i, p[i].off);
            ok = false;
        }
        at = p[i].off + p[i].len;
    }
    if (at != len) {
        fprintf(stderr, "%s: pieces cover %zu of %zu bytes\n", name, at, len);
        ok = false;
    }
    CHECK(ok);
    return ok;
}

/* Decodes the |piece| notation: \n and \\ escapes. */
static char *unescape(const char *s, size_t n, size_t *out_len)
{
    char *o = malloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n) {
            i++;
            o[k++] = s[i] == 'n' ? '\n' : s[i];
        } else {
            o[k++] = s[i];
        }
    }
    o[k] = '\0';
    *out_len = k;
    return o;
}

/* Builds a `text` document and lays its block texts end to end in *joined, with *out the
 * pieces over it, so a case's expectations read the same as for one block. Checks what
 * every block of unwrapped text must be: not empty, no line break, no longer than 325. */
static int text_doc_blocks(const char *name, const char *in, size_t len, struct doc **d,
                           char **joined, struct split_piece **out)
{
    char err[128];
    *d = doc_build(in, len, DOC_TEXT, NULL, err, sizeof err);
    *joined = NULL;
    *out = NULL;
    if (!*d) {
        fprintf(stderr, "%s: %s\n", name, err);
        return -1;
    }
    size_t total = 0;
    for (int i = 0; i < (*d)->block_count; i++)
        total += strlen((*d)->blocks[i].text);
    *joined = malloc(total + 1);
    *out = calloc((size_t)(*d)->block_count + 1, sizeof **out);
    size_t at = 0;
    for (int i = 0; i < (*d)->block_count; i++) {
        const char *t = (*d)->blocks[i].text;
        size_t tl = strlen(t);
        if (tl == 0 || strchr(t, '\n') || utf8_codepoints(t, tl) > SPLIT_LONG) {
            fprintf(stderr, "%s: block %d is empty, has a line break or is too long\n", name, i);
            CHECK(0);
        }
        memcpy(*joined + at, t, tl);
        (*out)[i] = (struct split_piece){ at, tl };
        at += tl;
    }
    (*joined)[at] = '\0';
    return (*d)->block_count;
}

static void run_case(const char *file)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", CASE_DIR, file);
    size_t flen;
    char *buf = read_file(path, &flen);
    CHECK(buf != NULL);
    if (!buf)
        return;
    char *in = buf;
    bool text_doc = false;
    while (strncmp(in, "# ", 2) == 0 || strncmp(in, "#\n", 2) == 0) {
        text_doc |= strncmp(in, "# format: text\n", 15) == 0;
        char *nl = strchr(in, '\n');
        if (!nl)
            break;
        in = nl + 1;
    }
    char *sep = strstr(in, "\n----\n");
    CHECK(sep != NULL);
    if (!sep) {
        free(buf);
        return;
    }
    size_t len = (size_t)(sep - in);
    struct split_piece *p;
    struct doc *d = NULL;
    char *joined = NULL;
    int n;
    bool ok;
    if (text_doc) {   /* a whole plain-text document: the pieces are its blocks */
        n = text_doc_blocks(file, in, len, &d, &joined, &p);
        ok = n >= 1;
        in = joined;
    } else {
        n = split_block(in, len, &p);
        ok = n >= 1 && check_invariants(file, in, len, p, n);
    }
    CHECK(n >= 1);
    if (n < 1) {
        doc_destroy(d);
        free(buf);
        return;
    }

    int want_pieces = 0;
    for (char *line = sep + 6; ok && *line;) {
        char *nl = strchr(line, '\n');
        size_t ll = nl ? (size_t)(nl - line) : strlen(line);
        long v;
        if (ll >= 2 && line[0] == '|' && line[ll - 1] == '|') {
            size_t wl;
            char *want = unescape(line + 1, ll - 2, &wl);
            if (want_pieces >= n) {
                fprintf(stderr, "%s: expected more than %d pieces\n", file, n);
                CHECK(want_pieces < n);
            } else {
                char *got = strndup(in + p[want_pieces].off, p[want_pieces].len);
                if (strcmp(got, want) != 0)
                    fprintf(stderr, "%s: piece %d differs\n", file, want_pieces);
                CHECK_STR(got, want);
                free(got);
            }
            free(want);
            want_pieces++;
        } else if (sscanf(line, "count %ld", &v) == 1) {
            if (n != v)
                fprintf(stderr, "%s: count\n", file);
            CHECK_INT(n, v);
        } else if (sscanf(line, "max %ld", &v) == 1) {
            for (int i = 0; i < n; i++) {
                size_t cps = utf8_codepoints(in + p[i].off, p[i].len);
                if ((long)cps > v)
                    fprintf(stderr, "%s: piece %d has %zu code points\n", file, i, cps);
                CHECK((long)cps <= v);
            }
        } else if (sscanf(line, "min %ld", &v) == 1) {
            for (int i = 0; i + 1 < n; i++) {
                size_t cps = utf8_codepoints(in + p[i].off, p[i].len);
                if ((long)cps < v)
                    fprintf(stderr, "%s: piece %d has %zu code points\n", file, i, cps);
                CHECK((long)cps >= v);
            }
        } else if (d && ll > 7 && strncmp(line, "html |", 6) == 0 && line[ll - 1] == '|') {
            size_t wl;
            char *want = unescape(line + 6, ll - 7, &wl);
            if (!strstr(d->html, want))
                fprintf(stderr, "%s: the HTML lacks \"%s\"\n", file, want);
            CHECK(strstr(d->html, want) != NULL);
            free(want);
        } else if (ll > 0) {
            fprintf(stderr, "%s: unknown line \"%.*s\"\n", file, (int)ll, line);
            CHECK(0);
        }
        line = nl ? nl + 1 : line + ll;
    }
    if (want_pieces && want_pieces != n) {
        fprintf(stderr, "%s: %d pieces, expected %d\n", file, n, want_pieces);
        CHECK_INT(n, want_pieces);
    }
    free(p);
    free(joined);
    doc_destroy(d);
    free(buf);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int run_cases(void)
{
    DIR *d = opendir(CASE_DIR);
    CHECK(d != NULL);
    if (!d)
        return 0;
    char *names[256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcmp(e->d_name + l - 5, ".case") == 0)
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    for (int i = 0; i < n; i++) {
        int before = check_failures;
        run_case(names[i]);
        printf("  %-32s %s\n", names[i], check_failures == before ? "ok" : "FAILED");
        free(names[i]);
    }
    return n;
}

/* Random text from pieces chosen to hit every rule at once, including invalid bytes. */
static void test_generated(void)
{
    static const char *const atoms[] = {
        "word", " ", "  ", ". ", "e.g. ", "Dr. ", "J. ", "3.14", "... ", "\xE2\x80\xA6 ",
        "! ", "?\" ", ", ", "; ", "\xE2\x80\x94", "\xE3\x80\x82", "\xEF\xBC\x8C", "\n",
        "\xE6\xBC\xA2\xE5\xAD\x97", "e\xCC\x81", "\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7",
        "\xF0\x9F\x87\xAB\xF0\x9F\x87\xB7", "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD", "\xEF\xB8\x8F",
        "\xCC\x81", "\xE2\x80\x8D", "\xFF", "\xE2\x80", "Tolkien", "\xC2\xA0",
    };
    unsigned seed = 12345;
    char *buf = malloc(40000);
    for (int iter = 0; iter < 400; iter++) {
        size_t len = 0, target = (size_t)(iter * 37 % 9000);
        while (len < target) {
            seed = seed * 1103515245u + 12345u;
            const char *a = atoms[(seed >> 16) % (sizeof atoms / sizeof atoms[0])];
            size_t al = strlen(a);
            memcpy(buf + len, a, al);
            len += al;
        }
        struct split_piece *p;
        int n = split_block(buf, len, &p);
        CHECK(n >= (len ? 1 : 0));
        if (n >= 0) {
            /* invalid bytes are allowed here, so only check coverage and length */
            size_t at = 0;
            bool ok = true;
            for (int i = 0; i < n; i++) {
                ok &= p[i].off == at && p[i].len > 0
                      && utf8_codepoints(buf + p[i].off, p[i].len) <= SPLIT_LONG;
                at = p[i].off + p[i].len;
            }
            CHECK(ok && at == len);
            if (utf8_valid(buf, len))
                check_invariants("generated", buf, len, p, n);
        }
        free(p);
    }
    free(buf);
}

static void test_edges(void)
{
    struct split_piece *p = (void *)1;
    CHECK_INT(split_block("", 0, &p), 0);
    CHECK(p == NULL);
    CHECK_INT(split_block("x", 1, &p), 1);
    CHECK_INT(p[0].len, 1);
    free(p);

    /* 250 code points of 3-byte characters: one piece; 251 + no space: two */
    char buf[3 * 400];
    for (int i = 0; i < 400; i++)
        memcpy(buf + 3 * i, "\xE6\xBC\xA2", 3);
    CHECK_INT(split_block(buf, 3 * 250, &p), 1);
    free(p);
    int n = split_block(buf, 3 * 400, &p);
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK_INT(p[0].len, 3 * 250);
        check_invariants("cjk-400", buf, 3 * 400, p, n);
    }
    free(p);

    /* a pathological grapheme (thousands of combining marks) is still cut, bounded */
    size_t zl = 1 + 2 * 3000;
    char *z = malloc(zl);
    z[0] = 'a';
    for (int i = 0; i < 3000; i++)
        memcpy(z + 1 + 2 * i, "\xCC\x81", 2);
    n = split_block(z, zl, &p);
    CHECK(n > 1);
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        CHECK(utf8_codepoints(z + p[i].off, p[i].len) <= SPLIT_LONG);
        at += p[i].len;
    }
    CHECK_INT(at, zl);
    free(p);
    free(z);
}

int main(void)
{
    int cases = run_cases();
    CHECK(cases >= 20);
    test_edges();
    test_generated();
    CHECK_DONE();
}
