/* decode_dsp — the two signal changes POST /v1/audio/speech needs on decoded audio:
 * resampling (windowed sinc, table-driven) for the 24 kHz `pcm`/`wav` formats, and a
 * pitch-preserving tempo change (WSOLA) for `speed`, the same kind of change the web player
 * makes with playbackRate and preservesPitch.
 *
 * Pure functions on caller-owned buffers; any thread. */
#include "audio/audio.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ZERO_CROSSINGS 16     /* kernel half-width, in zero crossings of the sinc */
#define TABLE_RES 256         /* kernel table entries per input sample */

static double sinc(double x)
{
    return fabs(x) < 1e-9 ? 1.0 : sin(M_PI * x) / (M_PI * x);
}

/* Blackman-windowed sinc h(u), u in input samples from the output instant. */
static double kernel(double u, double cutoff, double width)
{
    if (fabs(u) >= width)
        return 0;
    double w = 0.42 + 0.5 * cos(M_PI * u / width) + 0.08 * cos(2 * M_PI * u / width);
    return cutoff * sinc(cutoff * u) * w;
}

int pcm_resample(struct pcm *p, int rate)
{
    if (rate <= 0)
        return -1;
    if (p->rate == rate || p->count == 0 || p->rate <= 0) {
        p->rate = rate;
        return 0;
    }
    double ratio = (double)rate / p->rate;
    double cutoff = (ratio < 1.0 ? ratio : 1.0) * 0.97;   /* of the input Nyquist */
    double width = ZERO_CROSSINGS / cutoff;
    size_t tlen = (size_t)(width * TABLE_RES) + 2;
    size_t nout = (size_t)((double)p->count * ratio);
    float *table = malloc(tlen * sizeof *table);
    int16_t *out = malloc((nout ? nout : 1) * sizeof *out);
    if (!table || !out) {
        free(table);
        free(out);
        return -1;
    }
    for (size_t i = 0; i < tlen; i++)
        table[i] = (float)kernel((double)i / TABLE_RES, cutoff, width);
    long iw = (long)ceil(width);
    for (size_t n = 0; n < nout; n++) {
        double t = (double)n / ratio;
        long c = (long)floor(t);
        double acc = 0;
        for (long k = c - iw + 1; k <= c + iw; k++) {
            if (k < 0 || k >= (long)p->count)
                continue;
            double u = fabs(t - (double)k) * TABLE_RES;
            size_t i = (size_t)u;
            if (i + 1 >= tlen)
                continue;
            double f = u - (double)i;
            acc += p->samples[k] * (table[i] + (table[i + 1] - table[i]) * f);
        }
        long v = lrint(acc);
        out[n] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
    }
    free(table);
    free(p->samples);
    p->samples = out;
    p->count = p->cap = nout;
    p->rate = rate;
    return 0;
}

/* Where, within [lo, hi], the segment of length len best continues `ref` (normalized
 * cross-correlation, coarse stride 2 and then the neighbours). */
static size_t best_match(const int16_t *x, size_t lo, size_t hi, const int16_t *ref, size_t len)
{
    size_t best = lo;
    double best_score = -INFINITY;
    for (int pass = 0; pass < 2; pass++) {
        size_t a = lo, b = hi, step = 2;
        if (pass == 1) {
            a = best > lo ? best - 1 : lo;
            b = best + 1 < hi ? best + 1 : hi;
            step = 1;
        }
        for (size_t pos = a; pos <= b; pos += step) {
            double c = 0, e = 1e-9;
            for (size_t i = 0; i < len; i += 2) {
                double v = x[pos + i];
                c += v * ref[i];
                e += v * v;
            }
            double score = c / sqrt(e);
            if (score > best_score) {
                best_score = score;
                best = pos;
            }
        }
    }
    return best;
}

int pcm_time_stretch(struct pcm *p, double speed)
{
    if (!(speed >= 0.25 && speed <= 4.0))
        return -1;
    if (fabs(speed - 1.0) < 1e-3 || p->count == 0 || p->rate <= 0)
        return 0;
    size_t n = (size_t)p->rate / 50 & ~(size_t)1;   /* 20 ms frames */
    size_t hs = n / 2;                               /* output hop: 50 % overlap */
    size_t delta = (size_t)p->rate / 100;            /* search +-10 ms */
    double ha = (double)hs * speed;                  /* input hop */
    if (p->count < n + 2 * delta) {
        /* Too short to stretch by frames: shorter or longer silence is all there is. */
        return 0;
    }
    size_t nframes = (size_t)((double)(p->count - n) / ha) + 1;
    size_t nout = (nframes - 1) * hs + n;
    float *acc = calloc(nout, sizeof *acc), *w = malloc(n * sizeof *w);
    int16_t *out = malloc(nout * sizeof *out);
    if (!acc || !w || !out) {
        free(acc);
        free(w);
        free(out);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        w[i] = (float)(0.5 - 0.5 * cos(2 * M_PI * (double)i / (double)n));   /* periodic Hann */
    size_t prev = 0;
    for (size_t k = 0; k < nframes; k++) {
        size_t ideal = (size_t)llround((double)k * ha), pos = 0;
        if (ideal + n > p->count)
            ideal = p->count - n;
        if (k > 0) {
            size_t natural = prev + hs;   /* what would follow the previous frame */
            size_t lo = ideal > delta ? ideal - delta : 0;
            size_t hi = ideal + delta + n <= p->count ? ideal + delta : p->count - n;
            if (natural + hs > p->count)
                natural = p->count - hs;
            pos = lo <= hi ? best_match(p->samples, lo, hi, p->samples + natural, hs) : ideal;
        }
        for (size_t i = 0; i < n; i++) {
            /* The first frame's first half and the last frame's second half are not
             * overlapped by a neighbour: no fade there. */
            float wi = (k == 0 && i < hs) || (k + 1 == nframes && i >= hs) ? 1.0f : w[i];
            acc[k * hs + i] += (float)p->samples[pos + i] * wi;
        }
        prev = pos;
    }
    for (size_t i = 0; i < nout; i++) {
        long v = lrintf(acc[i]);
        out[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
    }
    free(acc);
    free(w);
    free(p->samples);
    p->samples = out;
    p->count = p->cap = nout;
    return 0;
}
