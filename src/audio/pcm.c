/* pcm — growable PCM and byte buffers, and silence trimming.
 * Pure functions on caller-owned structs; any thread (no shared state). A struct pcm or
 * struct buf owns its malloc'd array; *_free releases it and leaves an empty struct. */
#include "audio/audio.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Grows an array of `elem`-sized items so that it holds at least `need`; doubles so that
 * appending sample by sample stays linear. */
static int grow(void **data, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 4096 / elem;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return -1;
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / elem)
        return -1;
    void *n = realloc(*data, ncap * elem);
    if (!n)
        return -1;
    *data = n;
    *cap = ncap;
    return 0;
}

int pcm_append(struct pcm *p, const int16_t *s, size_t n)
{
    if (n == 0)
        return 0;
    if (n > SIZE_MAX - p->count)
        return -1;
    void *data = p->samples;
    if (grow(&data, &p->cap, p->count + n, sizeof *p->samples) < 0)
        return -1;
    p->samples = data;
    memcpy(p->samples + p->count, s, n * sizeof *s);
    p->count += n;
    return 0;
}

void pcm_free(struct pcm *p)
{
    if (!p)
        return;
    free(p->samples);
    p->samples = NULL;
    p->count = p->cap = 0;
}

int64_t pcm_duration_ms(const struct pcm *p)
{
    if (!p || p->rate <= 0)
        return 0;
    return (int64_t)p->count * 1000 / p->rate;
}

int buf_append(struct buf *b, const void *d, size_t n)
{
    if (n == 0)
        return 0;
    if (n > SIZE_MAX - b->len)
        return -1;
    void *data = b->data;
    if (grow(&data, &b->cap, b->len + n, 1) < 0)
        return -1;
    b->data = data;
    memcpy(b->data + b->len, d, n);
    b->len += n;
    return 0;
}

int buf_read_stream(struct buf *b, FILE *f)
{
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_append(b, chunk, n))
            return -1;
    if (ferror(f) || buf_append(b, "", 1))
        return -1;
    b->len--;   /* the terminating NUL stays, uncounted */
    return 0;
}

int buf_read_file(struct buf *b, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    int rc = buf_read_stream(b, f);
    fclose(f);
    return rc;
}

void buf_free(struct buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* Speech detection. A sample is "loud" above 1% of full scale: espeak-ng, flite and
 * decoded network audio all sit at or near digital zero between utterances, while the
 * quietest speech onsets (fricatives) reach several percent. A single loud sample is not
 * enough (clicks, dither spikes): the loud sample must start (or end) a 5 ms window in
 * which at least a quarter of the samples are loud — a voiced sound crosses zero, so we
 * cannot ask for every sample. */
#define TRIM_THRESHOLD 328      /* ~1% of 32767 */
#define TRIM_WINDOW_MS 5

static int loud(int16_t s)
{
    return s > TRIM_THRESHOLD || s < -TRIM_THRESHOLD;
}

/* Finds the first and last loud sample (inclusive). Returns 0 when there is no speech. */
static int speech_bounds(const struct pcm *p, size_t *first, size_t *last)
{
    size_t n = p->count;
    int rate = p->rate > 0 ? p->rate : 1;
    size_t w = (size_t)rate * TRIM_WINDOW_MS / 1000;
    if (w == 0)
        w = 1;
    if (w > n)
        w = n;
    size_t need = w / 4 ? w / 4 : 1;

    /* Forward: count of loud samples in [i, i + w) slides along. */
    size_t cnt = 0, start = n;
    for (size_t i = 0; i < w; i++)
        cnt += (size_t)loud(p->samples[i]);
    for (size_t i = 0; i < n; i++) {
        if (loud(p->samples[i]) && cnt >= need) {
            start = i;
            break;
        }
        cnt -= (size_t)loud(p->samples[i]);
        if (i + w < n)
            cnt += (size_t)loud(p->samples[i + w]);
    }
    if (start == n)
        return 0;

    /* Backward: count of loud samples in (i - w, i]. The window ending at the last loud
     * sample of [start, start + w) holds all of that window's loud samples, so this
     * always stops at or after `start`. */
    size_t end = start;
    cnt = 0;
    for (size_t i = 0; i < w; i++)
        cnt += (size_t)loud(p->samples[n - 1 - i]);
    for (size_t i = n; i-- > start;) {
        if (loud(p->samples[i]) && cnt >= need) {
            end = i;
            break;
        }
        cnt -= (size_t)loud(p->samples[i]);
        if (i >= w)
            cnt += (size_t)loud(p->samples[i - w]);
    }
    *first = start;
    *last = end;
    return 1;
}

static size_t ms_to_samples(int ms, int rate)
{
    return ms > 0 && rate > 0 ? (size_t)ms * (size_t)rate / 1000 : 0;
}

size_t pcm_trim_silence(struct pcm *p, int pad_start_ms, int pad_end_ms)
{
    if (!p || p->count == 0)
        return 0;
    size_t n = p->count, start, end;
    if (!speech_bounds(p, &start, &end)) {
        /* Nothing to say: everything is "removed from the start". */
        p->count = 0;
        return n;
    }
    size_t pad_s = ms_to_samples(pad_start_ms, p->rate);
    size_t pad_e = ms_to_samples(pad_end_ms, p->rate);
    /* The pads are at most what the input had: this function never invents silence,
     * because its caller shifts word timings by the (unsigned) number removed. For exact
     * pads, see pcm_fit_silence. */
    size_t from = start > pad_s ? start - pad_s : 0;
    size_t to = end + 1 + (pad_e < n - end - 1 ? pad_e : n - end - 1);
    if (from > 0)
        memmove(p->samples, p->samples + from, (to - from) * sizeof *p->samples);
    p->count = to - from;
    return from;
}

int pcm_fit_silence(struct pcm *p, int pad_start_ms, int pad_end_ms, int64_t *shift)
{
    *shift = 0;
    if (!p || p->count == 0)
        return 0;
    size_t n = p->count, start, end;
    if (!speech_bounds(p, &start, &end)) {
        p->count = 0;
        *shift = (int64_t)n;
        return 0;
    }
    size_t pad_s = ms_to_samples(pad_start_ms, p->rate);
    size_t pad_e = ms_to_samples(pad_end_ms, p->rate);
    size_t speech = end + 1 - start;
    if (pad_s > SIZE_MAX - speech || pad_s + speech > SIZE_MAX - pad_e)
        return -1;
    size_t total = pad_s + speech + pad_e;
    /* Keep the original samples around the speech where there are enough (quiet room
     * tone, the tail of a decaying vowel) and fill only the missing part with zeros. */
    size_t keep_s = start < pad_s ? start : pad_s;
    size_t keep_e = n - end - 1 < pad_e ? n - end - 1 : pad_e;
    size_t add_s = pad_s - keep_s;
    if (total > p->cap) {
        void *data = p->samples;
        if (grow(&data, &p->cap, total, sizeof *p->samples) < 0)
            return -1;
        p->samples = data;
    }
    memmove(p->samples + add_s, p->samples + (start - keep_s),
            (keep_s + speech + keep_e) * sizeof *p->samples);
    memset(p->samples, 0, add_s * sizeof *p->samples);
    size_t tail = add_s + keep_s + speech + keep_e;
    memset(p->samples + tail, 0, (total - tail) * sizeof *p->samples);
    p->count = total;
    *shift = (int64_t)start - (int64_t)pad_s;
    return 0;
}
