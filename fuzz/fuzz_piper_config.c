/* fuzz_piper_config — libFuzzer target for the Piper voice reader (engines/piper_config.c):
 * a .onnx.json from a voices folder or a download is untrusted input.
 *
 * Input: the JSON text. Besides "no crash, no sanitizer report", it checks what piper.c
 * relies on: a parse either fails with a message and leaves nothing allocated, or gives a
 * sample rate in range, a non-empty espeak voice, a map sorted by code point without
 * duplicates whose id ranges lie inside the id array, the pad/BOS/EOS phonemes, speakers
 * below num_speakers; and piper_config_ids over the input's own bytes as phonemes starts
 * with BOS + pad, ends with EOS, and reports phoneme ends that never decrease. */
#include "engines/piper_config.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(...) do { fprintf(stderr, "fuzz_piper_config: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct piper_config c;
    char err[256] = "";
    if (piper_config_parse((const char *)data, size, &c, err, sizeof err) < 0) {
        if (!err[0])
            FAIL("parse failed without a message");
        if (c.map || c.ids || c.speakers)
            FAIL("failed parse left memory behind");
        return 0;
    }
    if (c.sample_rate < 8000 || c.sample_rate > 192000 || !c.espeak_voice[0])
        FAIL("accepted sample rate %d / voice '%s'", c.sample_rate, c.espeak_voice);
    for (int i = 0; i < c.map_count; i++) {
        if (i && c.map[i].cp <= c.map[i - 1].cp)
            FAIL("map not sorted/unique at %d", i);
        if (c.map[i].count < 1 || c.map[i].first < 0 || c.map[i].first + c.map[i].count > c.id_count)
            FAIL("map entry %d outside the ids", i);
    }
    if (!piper_config_phoneme(&c, '_') || !piper_config_phoneme(&c, '^') || !piper_config_phoneme(&c, '$'))
        FAIL("accepted a map without pad/BOS/EOS");
    for (int i = 0; i < c.speaker_count; i++)
        if (c.speakers[i].id < 0 || c.speakers[i].id >= c.num_speakers)
            FAIL("speaker %d has id %d of %d", i, c.speakers[i].id, c.num_speakers);
    int n = (int)(size < 512 ? size : 512);
    uint32_t *ph = malloc((size_t)n * sizeof *ph + 1);
    int *ends = malloc((size_t)n * sizeof *ends + 1);
    for (int i = 0; i < n; i++)
        ph[i] = data[i];
    int64_t *ids = NULL;
    int len = piper_config_ids(&c, ph, n, &ids, ends);
    if (len >= 0) {
        const struct piper_phoneme *bos = piper_config_phoneme(&c, '^');
        const struct piper_phoneme *eos = piper_config_phoneme(&c, '$');
        if (len < bos->count || ids[0] != c.ids[bos->first] ||
            ids[len - 1] != c.ids[eos->first + eos->count - 1])
            FAIL("ids do not start with BOS and end with EOS");
        for (int i = 1; i < n; i++)
            if (ends[i] < ends[i - 1] || ends[i] > len)
                FAIL("phoneme ends out of order");
    }
    free(ids);
    free(ph);
    free(ends);
    piper_config_free(&c);
    return 0;
}
