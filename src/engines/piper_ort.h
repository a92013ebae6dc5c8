/* piper_ort — a Piper voice model (.onnx) on the ONNX Runtime C API: one process-wide
 * runtime environment, one session per model, shared by every thread that runs it. */
#ifndef RECITE_PIPER_ORT_H
#define RECITE_PIPER_ORT_H
#include <stddef.h>
#include <stdint.h>

struct piper_model;

/* Creates the runtime environment with one global intra-op thread pool of `threads`
 * threads (1: none, Run computes on its caller). Main thread, before any piper_model_load.
 * Every ONNX engine (piper, kokoro) calls it: the first call makes the environment, later
 * ones share it (their `threads` ignored) until each has called piper_ort_cleanup.
 * 0, or -1 with a message. */
int piper_ort_init(int threads, char *err, size_t errlen);
void piper_ort_cleanup(void);   /* after every model of the caller is freed */
/* The pool size for the configuration: workers + pool threads never exceed the cores. */
int piper_ort_pool_threads(void);
struct OrtApi;
const struct OrtApi *piper_ort_api(void);   /* for piper_noise.c; NULL before init */

/* The seam the ONNX engines share (piper's model below, kokoro_model.c): a session made
 * as every recite session is (the global pool, sequential, no arena, the seeded noise
 * kernel), and small helpers around the C API. */
struct OrtSession;
struct OrtStatus;
struct OrtValue;
struct OrtMemoryInfo;
/* The model file as a session. Any thread. NULL with "cannot read it" / "not a model ONNX
 * Runtime can load: ...". */
struct OrtSession *piper_ort_session(const char *path, char *err, size_t errlen);
void piper_ort_session_free(struct OrtSession *s);
/* Takes the status: 0 if NULL, else -1 with "what: message". */
int piper_ort_check(struct OrtStatus *st, const char *what, char *err, size_t errlen);
/* Name and element type (ONNXTensorElementDataType; UNDEFINED if not a tensor) of input
 * (output = 0) or output i. 0, or -1 with a message. */
int piper_ort_io_info(struct OrtSession *s, int output, size_t i, char *name, size_t namelen,
                      int *type, char *err, size_t errlen);
const char *piper_ort_type_name(int type);
struct piper_ort_io {
    char name[64];
    int type;   /* ONNXTensorElementDataType */
};
/* All inputs (output = 0) or outputs of the session into io (at most max: more is an
 * error), *n their count, and, if desclen, desc = "name (type), ..." for messages. 0, or -1
 * with a message. */
int piper_ort_ios(struct OrtSession *s, int output, struct piper_ort_io *io, int max, int *n,
                  char *desc, size_t desclen, char *err, size_t errlen);
/* A float (or int64, converted) tensor's data copied out into *out (malloc'd); the value
 * stays the caller's. */
int piper_ort_floats(struct OrtValue *v, float **out, size_t *count, char *err, size_t errlen);
const struct OrtMemoryInfo *piper_ort_mem(void);   /* CPU memory, for tensors over our arrays */

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
