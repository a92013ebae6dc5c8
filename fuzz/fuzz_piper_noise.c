/* fuzz_piper_noise — libFuzzer target for the ONNX protobuf edit of engines/piper_noise.c
 * (a voice's .onnx comes from a download or a user's folder: untrusted bytes).
 *
 * Input: the model bytes. Besides "no crash, no sanitizer report": piper_noise_patch returns
 * -1, 0 (and no output) or the number of nodes moved with a non-empty output; an output is
 * a well-formed message again, and patching it again moves nothing (every noise node already
 * is in recite's domain) and keeps it well-formed. The output may be shorter than the input:
 * a node's repeated domain fields collapse into one and non-minimal varints are re-encoded
 * minimal (tests/fuzz-regressions/fuzz_piper_noise: an earlier "output > input" check was
 * wrong, not the patch). */
#include "engines/piper_noise.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FAIL(...) do { fprintf(stderr, "fuzz_piper_noise: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *out = NULL, *again = NULL;
    size_t len = 0, len2 = 0;
    int n = piper_noise_patch(data, size, &out, &len);
    if (n <= 0) {
        if (out || len)
            FAIL("no change (%d) but an output", n);
        return 0;
    }
    if (!out || len == 0)
        FAIL("%d nodes moved but no output", n);
    int m = piper_noise_patch(out, len, &again, &len2);
    if (m != 0)
        FAIL("patching the output again gave %d", m);
    free(again);
    free(out);
    return 0;
}
