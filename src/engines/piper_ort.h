/* piper_ort — a Piper voice model (.onnx) on the ONNX Runtime C API: one process-wide
 * runtime environment, one session per model, shared by every thread that runs it. */
#ifndef RECITE_PIPER_ORT_H
#define RECITE_PIPER_ORT_H
#include <stddef.h>
#include <stdint.h>

struct piper_model;

/* Creates the runtime environment with one global intra-op thread pool of `threads`
 * threads (1: none, Run computes on its caller). Main thread, before any piper_model_load.
 * 0, or -1 with a message. */
int piper_ort_init(int threads, char *err, size_t errlen);
void piper_ort_cleanup(void);   /* after every model is freed */
struct OrtApi;
const struct OrtApi *piper_ort_api(void);   /* for piper_noise.c; NULL before init */

/* Loads and checks a model: Piper's inputs `input` (int64 [1,N]), `input_lengths` (int64
 * [1]), `scales` (float [3]), and `sid` (int64 [1]) when need_sid; a float output `output`
 * (else the first output); an optional float output `durations` (per phoneme id). Any
 * thread. NULL with a message naming what does not match. */
struct piper_model *piper_model_load(const char *path, int need_sid, char *err, size_t errlen);
void piper_model_free(struct piper_model *m);
int piper_model_has_durations(const struct piper_model *m);

struct piper_run {
    float *audio;       /* malloc'd samples in [-1, 1] (roughly) */
    size_t count;
    float *durations;   /* malloc'd, one per id, when the model exports them; else NULL */
};

/* One sentence: ids -> audio. Thread-safe (ORT's Run is); sid < 0: none. 0, or -1 with a
 * message. */
int piper_model_run(struct piper_model *m, const int64_t *ids, int n, const float scales[3],
                    int sid, struct piper_run *out, char *err, size_t errlen);
void piper_run_free(struct piper_run *r);
#endif
