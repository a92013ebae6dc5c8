/* kokoro_model — a Kokoro ONNX model on the shared ONNX Runtime seam (piper_ort.h): its
 * inputs checked once, then tokens + style + speed -> 24 kHz audio, from any thread. */
#ifndef RECITE_KOKORO_MODEL_H
#define RECITE_KOKORO_MODEL_H
#include <stddef.h>
#include <stdint.h>

#define KOKORO_SAMPLE_RATE 24000

struct kokoro_model;

/* Loads the model and checks Kokoro's interface: token ids `tokens` (or `input_ids` in
 * newer exports) int64 [1,N], `style` float [1,dim], `speed` float [1] (int32 in some
 * input_ids exports), and a float audio output (`audio`/`waveform`, else the first float
 * one). Any thread (piper_ort_init first). NULL with a message saying what does not match. */
struct kokoro_model *kokoro_model_load(const char *path, char *err, size_t errlen);
void kokoro_model_free(struct kokoro_model *m);

struct kokoro_run {
    float *audio;       /* malloc'd samples, about [-1, 1] */
    size_t count;
    float *durations;   /* malloc'd, one per id (pads included), when the model exports them
                         * (`durations`, float or int64: timestamped exports); else NULL */
};

/* One inference: ids (with their 0 pads) and a style vector of dim floats. Thread-safe
 * (ORT's Run is). 0, or -1 with a message. */
int kokoro_model_run(struct kokoro_model *m, const int64_t *ids, int n, const float *style,
                     int dim, float speed, struct kokoro_run *out, char *err, size_t errlen);
void kokoro_run_free(struct kokoro_run *r);
#endif
