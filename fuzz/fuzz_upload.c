/* fuzz_upload — libFuzzer target for the upload validator of POST /v1/audio
 * (audio_upload_decode, src/audio/upload.c): the bytes a browser, or anyone, uploads as a
 * block's audio, with the Ogg page walker (ogg_probe.c), the WAV header check and the
 * decoders (libopusfile, decode.c) behind it.
 *
 * Input: the first byte picks the Content-Type (bits 0-1: none, audio/ogg, audio/wav,
 * audio/mpeg) and the block text (bit 2: one word, or a long sentence); the rest is the
 * body. Checked properties:
 *   - accepted (0): PCM with samples at a positive rate, lasting what the text allows, and
 *     the word timings it carries (audio_upload_words) read without a crash: text or none,
 *     or a refusal with a message;
 *   - refused: one of the three codes, a message, and nothing left allocated in `out`. */
#include "audio/audio.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(...) do { fprintf(stderr, "fuzz_upload: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const ctypes[] = { NULL, "audio/ogg", "audio/wav", "audio/mpeg" };
    static const char *const texts[] = {
        "Hello.",
        "This sentence is long enough that a plausible recording of it lasts a few seconds.",
    };
    if (size < 1)
        return 0;
    const char *ctype = ctypes[data[0] & 3], *text = texts[(data[0] >> 2) & 1];
    struct pcm out;
    int is_opus = -1;
    char err[256] = "";
    int rc = audio_upload_decode(data + 1, size - 1, ctype, text, &out, &is_opus, err, sizeof err);
    if (rc == 0) {
        if (!out.samples || out.count == 0 || out.rate <= 0)
            FAIL("accepted without samples (count %zu, rate %d)", out.count, out.rate);
        int64_t ms = pcm_duration_ms(&out);
        if (ms > 5000 + 250 * (int64_t)strlen(text))
            FAIL("accepted %lld ms for \"%s\"", (long long)ms, text);
        if (is_opus != 0 && is_opus != 1)
            FAIL("is_opus %d", is_opus);
        pcm_free(&out);
        char *words = (char *)1;
        err[0] = '\0';
        if (audio_upload_words(data + 1, size - 1, &words, err, sizeof err)) {
            if (words || !err[0])
                FAIL("word timings refused with %s", words ? "text left" : "no message");
        } else {
            free(words);
        }
    } else {
        if (rc != AUDIO_UPLOAD_INVALID && rc != AUDIO_UPLOAD_UNSUPPORTED &&
            rc != AUDIO_UPLOAD_IMPLAUSIBLE)
            FAIL("unknown code %d", rc);
        if (!err[0])
            FAIL("refused (%d) without a message", rc);
        if (out.samples || out.count)
            FAIL("refused (%d) but left %zu samples", rc, out.count);
    }
    return 0;
}
