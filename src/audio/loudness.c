/* loudness — ITU-R BS.1770-4 integrated loudness of mono PCM, and normalization to a target
 * loudness with a look-ahead peak limiter, so that every voice of every engine plays at the
 * same level (AUDIO_LOUDNESS_TARGET, -18 LUFS).
 *
 * Measurement: K-weighting (a high-shelf then a high-pass biquad, designed for the signal's
 * own sample rate from the analogue prototype, so 16 kHz flite and 22,050 Hz espeak-ng are
 * measured without resampling; at 48 kHz the coefficients equal the ones printed in
 * BS.1770), mean square over 400 ms blocks with 75 % overlap, an absolute gate at -70 LUFS
 * and a relative gate 10 LU below the loudness of the blocks that passed it. Mono: the one
 * channel has weight 1.0, so a 997 Hz sine at -20 dBFS peak reads -23.0 LUFS.
 *
 * Pure functions on caller-owned buffers; any thread. */
#include "audio/audio.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_MS 400
#define STEP_MS 100          /* 75 % overlap */
#define ABS_GATE (-70.0)
#define REL_GATE (-10.0)
#define LIMIT_MAX_DB 6.0     /* most gain reduction the limiter is asked for */

struct biquad {
    double b0, b1, b2, a1, a2;
    double z1, z2;           /* transposed direct form II state */
};

static double biquad_run(struct biquad *f, double x)
{
    double y = f->b0 * x + f->z1;
    f->z1 = f->b1 * x - f->a1 * y + f->z2;
    f->z2 = f->b2 * x - f->a2 * y;
    return y;
}

/* The two K-weighting stages for `rate` (the bilinear design also used by libebur128). */
static void k_filters(int rate, struct biquad *shelf, struct biquad *hp)
{
    double f0 = 1681.974450955533, g = 3.999843853973347, q = 0.7071752369554196;
    double k = tan(M_PI * f0 / rate);
    double vh = pow(10.0, g / 20.0), vb = pow(vh, 0.4996667741545416);
    double a0 = 1.0 + k / q + k * k;
    *shelf = (struct biquad){ (vh + vb * k / q + k * k) / a0, 2.0 * (k * k - vh) / a0,
                              (vh - vb * k / q + k * k) / a0, 2.0 * (k * k - 1.0) / a0,
                              (1.0 - k / q + k * k) / a0, 0, 0 };
    f0 = 38.13547087602444;
    q = 0.5003270373238773;
    k = tan(M_PI * f0 / rate);
    a0 = 1.0 + k / q + k * k;
    *hp = (struct biquad){ 1.0, -2.0, 1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0,
                           0, 0 };
}

static double to_lufs(double mean_square)
{
    return mean_square > 0 ? -0.691 + 10.0 * log10(mean_square) : -INFINITY;
}

double audio_loudness_lufs(const struct pcm *p)
{
    if (!p || !p->samples || p->count == 0 || p->rate <= 0)
        return -INFINITY;
    size_t step = (size_t)p->rate * STEP_MS / 1000;
    size_t nsteps = p->count / step;          /* whole 100 ms steps */
    if (step == 0)
        return -INFINITY;
    /* Energy of each 100 ms step of the K-weighted signal; a 400 ms block is 4 steps. */
    double *e = calloc(nsteps ? nsteps : 1, sizeof *e);
    if (!e)
        return -INFINITY;
    struct biquad shelf, hp;
    k_filters(p->rate, &shelf, &hp);
    double total = 0;
    for (size_t i = 0; i < p->count; i++) {
        double y = biquad_run(&hp, biquad_run(&shelf, p->samples[i] / 32768.0));
        total += y * y;
        if (i / step < nsteps)
            e[i / step] += y * y;
    }
    int per_block = BLOCK_MS / STEP_MS;
    double result;
    if (nsteps < (size_t)per_block) {
        /* Shorter than one gating block (a single short word): BS.1770 has no answer;
         * the ungated mean square of the whole signal is the useful one here. */
        result = to_lufs(total / (double)p->count);
        free(e);
        return result;
    }
    size_t nblocks = nsteps - (size_t)per_block + 1;
    double block_len = (double)step * per_block;
    double sum = 0;
    size_t n = 0;
    for (size_t b = 0; b < nblocks; b++) {
        double z = (e[b] + e[b + 1] + e[b + 2] + e[b + 3]) / block_len;
        e[b] = z;                              /* reuse: block mean squares */
        if (to_lufs(z) > ABS_GATE) {
            sum += z;
            n++;
        }
    }
    if (n == 0) {
        free(e);
        return -INFINITY;
    }
    double rel = to_lufs(sum / (double)n) + REL_GATE;
    sum = 0;
    n = 0;
    for (size_t b = 0; b < nblocks; b++) {
        double l = to_lufs(e[b]);
        if (l > ABS_GATE && l > rel) {
            sum += e[b];
            n++;
        }
    }
    free(e);
    return n ? to_lufs(sum / (double)n) : -INFINITY;
}

/* ---- normalization --------------------------------------------------------------- */

/* Sliding minimum over [i - w, i + w] (monotonic deque, O(n)). */
static void sliding_min(const float *in, float *out, size_t n, size_t w)
{
    size_t *dq = malloc(n * sizeof *dq);
    if (!dq) {
        memcpy(out, in, n * sizeof *out);   /* no smoothing; still a valid bound */
        return;
    }
    size_t head = 0, tail = 0, next = 0;
    for (size_t i = 0; i < n; i++) {
        size_t hi = i + w < n ? i + w : n - 1;
        for (; next <= hi; next++) {
            while (tail > head && in[dq[tail - 1]] >= in[next])
                tail--;
            dq[tail++] = next;
        }
        while (dq[head] + w < i)
            head++;
        out[i] = in[dq[head]];
    }
    free(dq);
}

/* Gain curve g[i] <= ceiling / |x[i]| everywhere, smooth: a sliding minimum over
 * +-lookahead, a moving average over half that width (which keeps the bound, since every
 * averaged value is itself a minimum over a window that contains i), and a release that
 * rises back to 1 over ~60 ms. */
static int limiter_gains(const float *x, size_t n, int rate, float ceiling, float *g)
{
    size_t la = (size_t)rate * 3 / 1000 + 1;   /* 3 ms look-ahead */
    float *req = malloc(n * sizeof *req), *m = malloc(n * sizeof *m);
    if (!req || !m) {
        free(req);
        free(m);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        req[i] = a > ceiling ? ceiling / a : 1.0f;
    }
    sliding_min(req, m, n, la);
    size_t half = la / 2;
    double acc = 0;
    size_t lo = 0, hi = 0;   /* window [lo, hi) */
    for (size_t i = 0; i < n; i++) {
        size_t want_lo = i >= half ? i - half : 0, want_hi = i + half + 1 < n ? i + half + 1 : n;
        while (hi < want_hi)
            acc += m[hi++];
        while (lo < want_lo)
            acc -= m[lo++];
        float avg = (float)(acc / (double)(hi - lo));
        g[i] = avg < req[i] ? avg : req[i];   /* equal in exact arithmetic; rounding guard */
    }
    float rel = 1.0f - expf(-1.0f / (0.06f * (float)rate));
    for (size_t i = 1; i < n; i++) {
        float up = g[i - 1] + (1.0f - g[i - 1]) * rel;
        if (g[i] > up)
            g[i] = up;
    }
    free(req);
    free(m);
    return 0;
}

/* One gain-and-limit pass; *limited tells whether the limiter had to act. */
static int gain_pass(struct pcm *p, double db, int *limited)
{
    float gain = (float)pow(10.0, db / 20.0);
    float ceiling = (float)(32767.0 * pow(10.0, AUDIO_LOUDNESS_CEILING_DB / 20.0));
    float *x = malloc(p->count * sizeof *x), *g = NULL;
    if (!x)
        return -1;
    float peak = 0;
    for (size_t i = 0; i < p->count; i++) {
        x[i] = (float)p->samples[i] * gain;
        if (fabsf(x[i]) > peak)
            peak = fabsf(x[i]);
    }
    *limited = peak > ceiling;
    if (*limited) {
        if (!(g = malloc(p->count * sizeof *g)) ||
            limiter_gains(x, p->count, p->rate, ceiling, g) < 0) {
            free(x);
            free(g);
            return -1;
        }
    }
    for (size_t i = 0; i < p->count; i++) {
        float v = g ? x[i] * g[i] : x[i];
        long s = lrintf(v);
        p->samples[i] = (int16_t)(s > 32767 ? 32767 : s < -32768 ? -32768 : s);
    }
    free(x);
    free(g);
    return 0;
}

int audio_normalize_loudness(struct pcm *p, double target_lufs, double *measured,
                             double *gain_db)
{
    double l = audio_loudness_lufs(p);
    if (measured)
        *measured = l;
    if (gain_db)
        *gain_db = 0;
    if (!isfinite(l))
        return 0;   /* silence or empty: nothing to level */
    double db = target_lufs - l;
    if (db > AUDIO_LOUDNESS_MAX_GAIN_DB)
        db = AUDIO_LOUDNESS_MAX_GAIN_DB;
    /* The limiter is a guard, not a compressor: if reaching the target would take more
     * than LIMIT_MAX_DB off the peaks (isolated clicks far above the speech), aim lower. */
    int pk = 1;
    for (size_t i = 0; i < p->count; i++)
        if (abs(p->samples[i]) > pk)
            pk = abs(p->samples[i]);
    double room = AUDIO_LOUDNESS_CEILING_DB + LIMIT_MAX_DB - 20.0 * log10(pk / 32767.0);
    if (db > room)
        db = room;
    if (fabs(db) < 0.05 && pk <= 32767.0 * pow(10.0, AUDIO_LOUDNESS_CEILING_DB / 20.0))
        return 0;   /* level already, and the peaks under the ceiling */
    int limited = 0;
    if (gain_pass(p, db, &limited) < 0)
        return -1;
    /* The limiter takes a little loudness off peaky speech: measure again and make up
     * for it (a second pass converges; the makeup gain stays small). */
    double after = limited ? audio_loudness_lufs(p) : target_lufs;
    double makeup = isfinite(after) ? target_lufs - after : 0;
    if (makeup > 0.1 && makeup < 6 && db + makeup <= AUDIO_LOUDNESS_MAX_GAIN_DB) {
        if (gain_pass(p, makeup, &limited) < 0)
            return -1;   /* p holds the first pass: levelled, a little quiet */
        db += makeup;
    }
    if (gain_db)
        *gain_db = db;
    return 0;
}
