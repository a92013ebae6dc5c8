/* test_kokoro — the kokoro model's pure parts: the voices file reader (NumPy .npy headers
 * and .npz zips, kokoro_voices.c).
 *
 * The .npz files here are written with libarchive's zip writer (stored and deflated), a
 * different writer from the tests' Node one (tests/data/kokoro/make_kokoro.mjs, used by
 * tests/integration/kokoro.test.mjs), and the .npy headers exactly as numpy.lib.format
 * writes version 1.0 ("{'descr': '<f4', 'fortran_order': False, 'shape': (R, 1, D), }"
 * padded with spaces to a 64-byte boundary and '\n'). */
#include "engines/kokoro_voices.h"
#include "check.h"
#include <archive.h>
#include <archive_entry.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A .npy of `count` floats (value i*scale) with this dict text; version 1 or 2. */
static uint8_t *make_npy(const char *dict, int version, size_t count, float scale, size_t *len)
{
    size_t pre = version == 1 ? 10 : 12, dl = strlen(dict);
    size_t pad = (64 - (pre + dl + 1) % 64) % 64, hlen = dl + pad + 1;
    *len = pre + hlen + count * 4;
    uint8_t *p = malloc(*len);
    memcpy(p, "\x93NUMPY", 6);
    p[6] = (uint8_t)version;
    p[7] = 0;
    p[8] = (uint8_t)(hlen & 0xff);
    p[9] = (uint8_t)(hlen >> 8);
    if (version != 1)
        p[10] = p[11] = 0;
    memcpy(p + pre, dict, dl);
    memset(p + pre + dl, ' ', pad);
    p[pre + hlen - 1] = '\n';
    for (size_t i = 0; i < count; i++) {
        float v = (float)i * scale;
        memcpy(p + pre + hlen + i * 4, &v, 4);
    }
    return p;
}

static uint8_t *make_voice(int rows, int dim, float scale, size_t *len)
{
    char dict[128];
    snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, 1, %d), }",
             rows, dim);
    return make_npy(dict, 1, (size_t)rows * (size_t)dim, scale, len);
}

struct member {
    const char *name;
    const uint8_t *data;
    size_t len;
};

/* A zip of the members (deflated or stored), written by libarchive. */
static uint8_t *make_zip(const struct member *m, int n, int deflate, size_t *len)
{
    size_t cap = 1 << 22;
    uint8_t *buf = malloc(cap);
    struct archive *a = archive_write_new();
    archive_write_set_format_zip(a);
    archive_write_set_options(a, deflate ? "zip:compression=deflate" : "zip:compression=store");
    archive_write_open_memory(a, buf, cap, len);
    for (int i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, m[i].name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)m[i].len);
        archive_write_header(a, e);
        archive_write_data(a, m[i].data, m[i].len);
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    return buf;
}

static void test_npy(void)
{
    struct kokoro_npy h;
    char err[256];
    size_t len;
    uint8_t *p = make_voice(4, 8, 1, &len);
    CHECK_INT(kokoro_npy_parse(p, len, &h, err, sizeof err), 0);
    CHECK_INT(h.ndim, 3);
    CHECK_INT(h.shape[0], 4);
    CHECK_INT(h.shape[1], 1);
    CHECK_INT(h.shape[2], 8);
    CHECK_INT(h.count, 32);
    CHECK_INT(h.data_off % 64, 0);   /* numpy aligns the data to 64 bytes */
    CHECK_INT(kokoro_npy_parse(p, len - 1, &h, err, sizeof err), -1);   /* short data */
    CHECK(strstr(err, "bytes of data") != NULL);
    CHECK_INT(kokoro_npy_parse(p, 9, &h, err, sizeof err), -1);
    free(p);

    static const struct { const char *dict; int version; size_t count; int ok; const char *says; } cases[] = {
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 2, 3, 1, NULL },
        { "{'shape': (2, 2), 'fortran_order': False, 'descr': '<f4'}", 1, 4, 1, NULL },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 1, 1, 1, NULL },
        { "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (1, 1, 2)}", 1, 2, 1, NULL },
        { "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", 1, 6, 0, "float32" },
        { "{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }", 1, 3, 0, "float32" },
        { "{'descr': '<f4', 'fortran_order': True, 'shape': (3,), }", 1, 3, 0, "Fortran" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (3), }", 1, 3, 0, "dict" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1}", 1, 3, 0, "dict" },
        { "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,)}", 1, 3, 0, "dict" },
        { "{'descr': '<f4', 'shape': (3,), }", 1, 3, 0, "dict" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), } x", 1, 3, 0, "dict" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3, 4, 5), }", 1, 120, 0, "dict" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999,), }", 1, 0, 0, "dict" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        p = make_npy(cases[i].dict, cases[i].version, cases[i].count, 1, &len);
        err[0] = 0;
        int rc = kokoro_npy_parse(p, len, &h, err, sizeof err);
        if (rc != (cases[i].ok ? 0 : -1) || (cases[i].says && !strstr(err, cases[i].says)))
            fprintf(stderr, "npy case %zu: rc %d err \"%s\"\n", i, rc, err);
        CHECK_INT(rc, cases[i].ok ? 0 : -1);
        if (cases[i].ok)
            CHECK_INT(h.count, cases[i].count);
        free(p);
    }
    uint8_t bad[16] = "\x93NUMPY\x04\x00\x00\x00";
    CHECK_INT(kokoro_npy_parse(bad, sizeof bad, &h, err, sizeof err), -1);
    CHECK(strstr(err, "version") != NULL);
}

static void test_npz(void)
{
    char err[256];
    size_t la, lb, lc, lz;
    uint8_t *a = make_voice(5, 8, 1.0f, &la), *b = make_voice(5, 8, -1.0f, &lb);
    for (int deflate = 0; deflate < 2; deflate++) {
        struct member m[] = { { "bm_lewis.npy", b, lb }, { "af_heart.npy", a, la },
                              { "README.txt", (const uint8_t *)"hi", 2 } };
        uint8_t *z = make_zip(m, 3, deflate, &lz);
        struct kokoro_voices vs;
        CHECK_INT(kokoro_voices_parse(z, lz, &vs, err, sizeof err), 0);
        CHECK_INT(vs.count, 2);
        CHECK_INT(vs.rows, 5);
        CHECK_INT(vs.dim, 8);
        if (vs.count == 2) {
            CHECK_STR(vs.v[0].name, "af_heart");   /* sorted */
            CHECK_STR(vs.v[1].name, "bm_lewis");
            const struct kokoro_voice *v = kokoro_voices_find(&vs, "bm_lewis");
            CHECK(v == &vs.v[1]);
            CHECK(kokoro_voices_find(&vs, "af_nobody") == NULL);
            /* row = token count (kokoro-onnx: voice[len(tokens)]), clamped to the table */
            CHECK(kokoro_voice_style(&vs, &vs.v[0], 2)[0] == 16.0f);
            CHECK(kokoro_voice_style(&vs, &vs.v[0], 2)[3] == 19.0f);
            CHECK(kokoro_voice_style(&vs, v, 0)[1] == -1.0f);
            CHECK(kokoro_voice_style(&vs, v, 99)[0] == -32.0f);   /* row 4, the last */
        }
        kokoro_voices_free(&vs);
        free(z);
    }
    /* errors, each naming what is wrong */
    struct kokoro_voices vs;
    CHECK_INT(kokoro_voices_parse("PK\x03\x04garbage", 11, &vs, err, sizeof err), -1);
    CHECK_INT(kokoro_voices_parse("hello", 5, &vs, err, sizeof err), -1);
    CHECK(strstr(err, "not a NumPy .npz") != NULL);
    CHECK(vs.v == NULL && vs.count == 0);
    struct member only_txt[] = { { "a.txt", (const uint8_t *)"x", 1 } };
    uint8_t *z = make_zip(only_txt, 1, 0, &lz);
    CHECK_INT(kokoro_voices_parse(z, lz, &vs, err, sizeof err), -1);
    CHECK(strstr(err, "no voices") != NULL);
    free(z);
    size_t lc2;
    uint8_t *c = make_voice(6, 8, 1.0f, &lc);
    struct member mixed[] = { { "af_heart.npy", a, la }, { "af_bella.npy", c, lc } };
    z = make_zip(mixed, 2, 0, &lz);
    CHECK_INT(kokoro_voices_parse(z, lz, &vs, err, sizeof err), -1);
    CHECK(strstr(err, "af_bella.npy") && strstr(err, "differs"));
    free(z);
    struct member badname[] = { { "af heart.npy", a, la } };
    z = make_zip(badname, 1, 0, &lz);
    CHECK_INT(kokoro_voices_parse(z, lz, &vs, err, sizeof err), -1);
    CHECK(strstr(err, "not a voice name") != NULL);
    free(z);
    struct member dup[] = { { "af_heart.npy", a, la }, { "af_heart.npy", a, la } };
    z = make_zip(dup, 2, 0, &lz);
    CHECK_INT(kokoro_voices_parse(z, lz, &vs, err, sizeof err), -1);
    CHECK(strstr(err, "twice") != NULL);
    free(z);
    uint8_t *f8 = make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (5, 1, 8), }", 1, 80,
                           1, &lc2);
    struct member wrongtype[] = { { "af_heart.npy", f8, lc2 } };
    z = make_zip(wrongtype, 1, 1, &lz);
    CHECK_INT(kokoro_voices_parse(z, lz, &vs, err, sizeof err), -1);
    CHECK(strstr(err, "af_heart.npy") && strstr(err, "float32"));
    free(z);
    free(f8);
    /* a truncated zip: damaged, not a crash */
    struct member one[] = { { "af_heart.npy", a, la } };
    z = make_zip(one, 1, 1, &lz);
    CHECK_INT(kokoro_voices_parse(z, lz / 2, &vs, err, sizeof err), -1);
    free(z);
    free(a);
    free(b);
    free(c);
}

int main(void)
{
    test_npy();
    test_npz();
    CHECK_DONE();
}
