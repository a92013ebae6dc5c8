/* kokoro_model — Kokoro's ONNX model through the seam piper uses (piper_ort.c): the same
 * environment, global intra-op pool, session options and seeded noise kernel; only the
 * interface differs. Its inputs follow kokoro-onnx's _create_audio
 * (thewh1teagle/kokoro-onnx src/kokoro_onnx/__init__.py): `tokens` = [[0, *ids, 0]] (or
 * `input_ids` in newer exports), `style` = the voice's row for len(ids), `speed`; the first
 * output is the waveform at 24 kHz. Timestamped exports add `durations` (one per id), used
 * for word timings when present.
 *
 * Threads: load on whichever worker needs the model first (kokoro.c serializes that);
 * run from any number of threads at once on the one session.
 * Ownership: a kokoro_model owns its session; run's audio belongs to the caller. */
#include "engines/kokoro_model.h"
#include "engines/piper_ort.h"
#include <onnxruntime_c_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kokoro_model {
    OrtSession *session;
    char tok_name[64];   /* "tokens" or "input_ids" */
    int speed_int;       /* speed is int32 */
    char out_name[64];
    int has_durations;   /* an output `durations`, float or int64 */
};

static int check_io(struct kokoro_model *m, char *err, size_t errlen)
{
    struct piper_ort_io io[16];
    int n, have_tok = 0, have_style = 0, have_speed = 0, unknown = 0;
    char seen[256];
    if (piper_ort_ios(m->session, 0, io, 16, &n, seen, sizeof seen, err, errlen) < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        const char *name = io[i].name;
        int t = io[i].type;
        if ((!strcmp(name, "tokens") || !strcmp(name, "input_ids")) &&
            t == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 && !have_tok) {
            snprintf(m->tok_name, sizeof m->tok_name, "%.63s", name);
            have_tok = 1;
        } else if (!strcmp(name, "style") && t == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT) {
            have_style = 1;
        } else if (!strcmp(name, "speed") && (t == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT ||
                                              t == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32)) {
            have_speed = 1;
            m->speed_int = t == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32;
        } else {
            unknown = 1;
        }
    }
    if (unknown || !have_tok || !have_style || !have_speed) {
        snprintf(err, errlen, "its inputs are not Kokoro's (tokens or input_ids int64, style "
                 "float, speed float): it has %s", seen[0] ? seen : "none");
        return -1;
    }
    if (piper_ort_ios(m->session, 1, io, 16, &n, NULL, 0, err, errlen) < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        if (!strcmp(io[i].name, "durations") && (io[i].type == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT ||
                                                 io[i].type == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64))
            m->has_durations = 1;
        else if (io[i].type == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT &&
                 (!m->out_name[0] || !strcmp(io[i].name, "audio") || !strcmp(io[i].name, "waveform")))
            snprintf(m->out_name, sizeof m->out_name, "%.63s", io[i].name);
    }
    if (!m->out_name[0]) {
        snprintf(err, errlen, "it has no float audio output (Kokoro's is `audio`)");
        return -1;
    }
    return 0;
}

struct kokoro_model *kokoro_model_load(const char *path, char *err, size_t errlen)
{
    struct kokoro_model *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->session = piper_ort_session(path, err, errlen);
    if (!m->session || check_io(m, err, errlen) < 0) {
        kokoro_model_free(m);
        return NULL;
    }
    return m;
}

void kokoro_model_free(struct kokoro_model *m)
{
    if (!m)
        return;
    piper_ort_session_free(m->session);
    free(m);
}

int kokoro_model_run(struct kokoro_model *m, const int64_t *ids, int n, const float *style,
                     int dim, float speed, struct kokoro_run *r, char *err, size_t errlen)
{
    const OrtApi *ort = (const OrtApi *)piper_ort_api();
    const OrtMemoryInfo *mem = piper_ort_mem();
    int64_t shape_ids[2] = { 1, n }, shape_style[2] = { 1, dim }, shape_1[1] = { 1 };
    float speed_f = speed;
    int32_t speed_i = (int32_t)(speed + 0.5f);
    OrtValue *in[3] = { 0 }, *out[2] = { 0 };
    const char *in_names[3] = { m->tok_name, "style", "speed" };
    const char *out_names[2] = { m->out_name, "durations" };
    size_t nout = m->has_durations ? 2 : 1;
    int rc = -1;
    memset(r, 0, sizeof *r);
    if (piper_ort_check(ort->CreateTensorWithDataAsOrtValue(mem, (void *)ids, (size_t)n * sizeof *ids,
                        shape_ids, 2, ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64, &in[0]), "input", err, errlen) < 0 ||
        piper_ort_check(ort->CreateTensorWithDataAsOrtValue(mem, (void *)style, (size_t)dim * sizeof *style,
                        shape_style, 2, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, &in[1]), "input", err, errlen) < 0 ||
        piper_ort_check(m->speed_int
            ? ort->CreateTensorWithDataAsOrtValue(mem, &speed_i, sizeof speed_i, shape_1, 1,
                                                  ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32, &in[2])
            : ort->CreateTensorWithDataAsOrtValue(mem, &speed_f, sizeof speed_f, shape_1, 1,
                                                  ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, &in[2]),
            "input", err, errlen) < 0)
        goto out;
    if (piper_ort_check(ort->Run(m->session, NULL, in_names, (const OrtValue *const *)in, 3,
                                 out_names, nout, out), "model run", err, errlen) < 0 ||
        piper_ort_floats(out[0], &r->audio, &r->count, err, errlen) < 0)
        goto out;
    if (m->has_durations) {
        size_t nd = 0;
        if (piper_ort_floats(out[1], &r->durations, &nd, err, errlen) < 0)
            goto out;
        if (nd != (size_t)n) {   /* not one per id: unusable for timings, ignore */
            free(r->durations);
            r->durations = NULL;
        }
    }
    rc = 0;
out:
    for (int i = 0; i < 3; i++)
        if (in[i])
            ort->ReleaseValue(in[i]);
    for (int i = 0; i < 2; i++)
        if (out[i])
            ort->ReleaseValue(out[i]);
    if (rc < 0)
        kokoro_run_free(r);
    return rc;
}

void kokoro_run_free(struct kokoro_run *r)
{
    if (!r)
        return;
    free(r->audio);
    free(r->durations);
    memset(r, 0, sizeof *r);
}
