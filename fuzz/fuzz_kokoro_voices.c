/* fuzz_kokoro_voices — libFuzzer target for Kokoro's voices reader (engines/kokoro_voices.c):
 * a voices .npz from a voices folder or a download is untrusted input.
 *
 * Input: the file's bytes, read both as an .npz (zip of .npy) and as one .npy. Besides "no
 * crash, no sanitizer report", it checks what kokoro.c relies on: a parse either fails with
 * a message and leaves nothing allocated, or gives voices sorted by name without
 * duplicates, one shape for all, and a style row for any token count that lies inside the
 * voice's table; a .npy header that parses announces exactly the data that follows. */
#include "engines/kokoro_voices.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(...) do { fprintf(stderr, "fuzz_kokoro_voices: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256] = "";
    struct kokoro_npy h;
    if (kokoro_npy_parse(data, size, &h, err, sizeof err) == 0) {
        if (h.data_off > size || size - h.data_off != h.count * 4)
            FAIL("npy data %zu bytes at %zu of %zu for %zu floats", size - h.data_off,
                 h.data_off, size, h.count);
    } else if (!err[0]) {
        FAIL("npy failed without a message");
    }
    struct kokoro_voices vs;
    err[0] = '\0';
    if (kokoro_voices_parse(data, size, &vs, err, sizeof err) < 0) {
        if (!err[0])
            FAIL("parse failed without a message");
        if (vs.v || vs.count)
            FAIL("failed parse left memory behind");
        return 0;
    }
    if (vs.count < 1 || vs.rows < 1 || vs.dim < 1)
        FAIL("accepted %d voices of [%d, %d]", vs.count, vs.rows, vs.dim);
    volatile float sink = 0;
    for (int i = 0; i < vs.count; i++) {
        if (i && strcmp(vs.v[i - 1].name, vs.v[i].name) >= 0)
            FAIL("voices not sorted/unique at %d", i);
        if (kokoro_voices_find(&vs, vs.v[i].name) != &vs.v[i])
            FAIL("voice %s not found", vs.v[i].name);
        for (int n = -1; n <= vs.rows + 1; n += vs.rows > 4 ? vs.rows / 3 : 1) {
            const float *s = kokoro_voice_style(&vs, &vs.v[i], n);
            sink += s[0] + s[vs.dim - 1];   /* ASan: inside the table */
        }
    }
    (void)sink;
    kokoro_voices_free(&vs);
    return 0;
}
