/* piper_ort — Piper voice models on the ONNX Runtime C API.
 *
 * Threads: piper_ort_init/cleanup on the main thread (engines_init/cleanup). A model is
 * loaded by whichever worker first needs it (piper.c serializes that per voice) and then
 * run by any number of threads at once: OrtApi::Run on one session is thread-safe, so the
 * workers share one session per voice and its weights are in memory once.
 *
 * Threads inside the runtime: the environment owns ONE global intra-op pool
 * (CreateEnvWithGlobalThreadPools; sessions opt out of pools of their own with
 * DisablePerSessionThreads), sized by piper.c so that workers + pool threads never exceed
 * the cores, with spinning off (idle pool threads would otherwise burn a core each on a
 * 2-core box). Inter-op parallelism is off (sequential execution).
 *
 * Memory: the CPU memory arena and memory patterns are off (as Piper itself runs its
 * sessions), so a Run's intermediate tensors are freed when it returns; with an arena each
 * concurrent Run would leave its peak behind and the resident size would grow with the
 * number of workers.
 *
 * The API version is the headers' ORT_API_VERSION: Debian 13's runtime and the npm one on
 * Debian 12 are both built against the same headers (scripts/onnxruntime.sh).
 *
 * Noise: the model's RandomNormalLike nodes are swapped for recite's seeded kernel before
 * the session is made (piper_noise.c), so renders are deterministic.
 *
 * Ownership: a piper_model owns its session; a piper_run owns its arrays. */
#include "engines/piper_ort.h"
#include "engines/piper_noise.h"
#include "engines/engine.h"
#include "config.h"
#include "audio/audio.h"
#include <fcntl.h>
#include <onnxruntime_c_api.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

static const OrtApi *ort;
static OrtEnv *ort_env;
static OrtMemoryInfo *ort_mem;
static int ort_users;   /* engines holding the environment (piper, kokoro): main thread only */

struct piper_model {
    OrtSession *session;
    int has_sid;
    int has_durations;
    char out_name[64];
};

int piper_ort_check(OrtStatus *st, const char *what, char *err, size_t errlen)
{
    if (!st)
        return 0;
    snprintf(err, errlen, "%s: %s", what, ort->GetErrorMessage(st));
    ort->ReleaseStatus(st);
    return -1;
}

/* Debian 13's onnxruntime (built against Debian's shared libonnx) prints ~570 "Schema
 * error: Trying to register schema ... already registered" lines on stderr when a process
 * creates its first session: harmless, once, but it buried the server's log. So the first
 * session is this one-node model (Identity, float [1]), made by piper_ort_init on the main
 * thread — before any worker or other logging thread exists — with stderr pointed at
 * /dev/null for the duration; real sessions come later, quietly. */
static const unsigned char warm_model[] = {
    0x08, 0x07, 0x3a, 0x37, 0x0a, 0x10, 0x0a, 0x01, 0x78, 0x12, 0x01, 0x79, 0x22, 0x08, 0x49,
    0x64, 0x65, 0x6e, 0x74, 0x69, 0x74, 0x79, 0x12, 0x01, 0x67, 0x5a, 0x0f, 0x0a, 0x01, 0x78,
    0x12, 0x0a, 0x0a, 0x08, 0x08, 0x01, 0x12, 0x04, 0x0a, 0x02, 0x08, 0x01, 0x62, 0x0f, 0x0a,
    0x01, 0x79, 0x12, 0x0a, 0x0a, 0x08, 0x08, 0x01, 0x12, 0x04, 0x0a, 0x02, 0x08, 0x01, 0x42,
    0x04, 0x0a, 0x00, 0x10, 0x0d,
};

static void first_session_quietly(void)
{
    OrtSessionOptions *so = NULL;
    OrtSession *s = NULL;
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC), saved = null >= 0 ? dup(STDERR_FILENO) : -1;
    if (saved >= 0) {
        fflush(stderr);
        dup2(null, STDERR_FILENO);
    }
    OrtStatus *st = ort->CreateSessionOptions(&so);
    if (!st)
        st = ort->DisablePerSessionThreads(so);
    if (!st)
        st = ort->CreateSessionFromArray(ort_env, warm_model, sizeof warm_model, so, &s);
    if (saved >= 0) {
        dup2(saved, STDERR_FILENO);
        close(saved);
    }
    if (null >= 0)
        close(null);
    if (st)
        ort->ReleaseStatus(st);   /* not worth failing over: the voices' own sessions will say */
    if (s)
        ort->ReleaseSession(s);
    if (so)
        ort->ReleaseSessionOptions(so);
}

/* Workers + pool threads never exceed the cores: with N workers each Run computes on its
 * own thread, and the shared pool adds what the cores have left (1 worker on 2 cores: a
 * pool of 2, the caller being one of them; 2 or more workers: no pool). */
int piper_ort_pool_threads(void)
{
    const struct config *cfg = engines_config();
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    /* `recite say` renders on one thread whatever --workers would default to */
    int workers = cfg && cfg->workers > 0 && cfg->cmd != CMD_SAY ? cfg->workers : 1;
    long t = (cores < 1 ? 1 : cores) - workers + 1;
    return t < 1 ? 1 : t > 64 ? 64 : (int)t;
}

int piper_ort_init(int threads, char *err, size_t errlen)
{
    if (ort_env) {   /* a second engine on the same runtime: one environment, one pool */
        ort_users++;
        return 0;
    }
    const OrtApiBase *base = OrtGetApiBase();
    ort = base ? base->GetApi(ORT_API_VERSION) : NULL;
    if (!ort) {
        snprintf(err, errlen, "ONNX Runtime %s does not offer C API version %d",
                 base ? base->GetVersionString() : "?", ORT_API_VERSION);
        return -1;
    }
    OrtThreadingOptions *tp = NULL;
    int rc = -1;
    if (piper_ort_check(ort->CreateThreadingOptions(&tp), "ONNX Runtime", err, errlen) < 0)
        return -1;
    if (piper_ort_check(ort->SetGlobalIntraOpNumThreads(tp, threads > 0 ? threads : 1), "ONNX Runtime",
              err, errlen) < 0 ||
        piper_ort_check(ort->SetGlobalInterOpNumThreads(tp, 1), "ONNX Runtime", err, errlen) < 0 ||
        piper_ort_check(ort->SetGlobalSpinControl(tp, 0), "ONNX Runtime", err, errlen) < 0 ||
        piper_ort_check(ort->CreateEnvWithGlobalThreadPools(ORT_LOGGING_LEVEL_ERROR, "recite", tp, &ort_env),
              "ONNX Runtime", err, errlen) < 0 ||
        piper_ort_check(ort->CreateCpuMemoryInfo(OrtDeviceAllocator, OrtMemTypeDefault, &ort_mem),
              "ONNX Runtime", err, errlen) < 0)
        goto out;
    first_session_quietly();
    ort_users = 1;
    rc = 0;
out:
    ort->ReleaseThreadingOptions(tp);
    if (rc < 0)
        piper_ort_cleanup();
    return rc;
}

const struct OrtApi *piper_ort_api(void)
{
    return ort;
}

void piper_ort_cleanup(void)
{
    if (!ort || --ort_users > 0)
        return;
    ort_users = 0;
    piper_noise_cleanup();   /* after every session that used it */
    if (ort_mem)
        ort->ReleaseMemoryInfo(ort_mem);
    if (ort_env)
        ort->ReleaseEnv(ort_env);
    ort_mem = NULL;
    ort_env = NULL;
}

const char *piper_ort_type_name(int t)
{
    switch (t) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return "float";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return "int64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return "int32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE: return "double";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: return "float16";
    default: return "other";
    }
}

int piper_ort_io_info(OrtSession *s, int output, size_t i, char *name, size_t namelen,
                      int *type, char *err, size_t errlen)
{
    OrtAllocator *alloc;
    char *n = NULL;
    OrtTypeInfo *ti = NULL;
    const OrtTensorTypeAndShapeInfo *tsi = NULL;
    *type = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
    if (piper_ort_check(ort->GetAllocatorWithDefaultOptions(&alloc), "ONNX Runtime", err, errlen) < 0 ||
        piper_ort_check(output ? ort->SessionGetOutputName(s, i, alloc, &n)
                     : ort->SessionGetInputName(s, i, alloc, &n), "model", err, errlen) < 0)
        return -1;
    snprintf(name, namelen, "%s", n);
    if (ort->AllocatorFree(alloc, n)) {}   /* returns NULL for the default allocator */
    if (piper_ort_check(output ? ort->SessionGetOutputTypeInfo(s, i, &ti)
                     : ort->SessionGetInputTypeInfo(s, i, &ti), "model", err, errlen) < 0)
        return -1;
    ONNXTensorElementDataType et = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
    OrtStatus *st = ort->CastTypeInfoToTensorInfo(ti, &tsi);
    if (!st && tsi)
        st = ort->GetTensorElementType(tsi, &et);
    *type = (int)et;
    if (st)   /* not a tensor: the type stays UNDEFINED, and the caller says so */
        ort->ReleaseStatus(st);
    ort->ReleaseTypeInfo(ti);
    return 0;
}

/* Piper's inputs, by name and type; anything else means this is not a Piper voice. */
int piper_ort_ios(OrtSession *s, int output, struct piper_ort_io *io, int max, int *n,
                  char *desc, size_t desclen, char *err, size_t errlen)
{
    size_t count = 0, used = 0;
    *n = 0;
    if (desclen)
        desc[0] = '\0';
    if (piper_ort_check(output ? ort->SessionGetOutputCount(s, &count)
                               : ort->SessionGetInputCount(s, &count), "model", err, errlen) < 0)
        return -1;
    if (count > (size_t)max) {
        snprintf(err, errlen, "it has %zu %s (at most %d expected)", count,
                 output ? "outputs" : "inputs", max);
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        if (piper_ort_io_info(s, output, i, io[i].name, sizeof io[i].name, &io[i].type, err,
                              errlen) < 0)
            return -1;
        if (used < desclen)
            used += (size_t)snprintf(desc + used, desclen - used, "%s%s (%s)", i ? ", " : "",
                                     io[i].name, piper_ort_type_name(io[i].type));
    }
    *n = (int)count;
    return 0;
}

/* Piper's inputs, by name and type; anything else means this is not a Piper voice. */
static int check_io(struct piper_model *m, int need_sid, char *err, size_t errlen)
{
    static const struct { const char *name; int type; } want[] = {
        { "input", ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 },
        { "input_lengths", ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 },
        { "scales", ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT },
        { "sid", ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 },
    };
    struct piper_ort_io io[16];
    int found[4] = { 0 }, n, unknown = 0;
    char seen[256];
    if (piper_ort_ios(m->session, 0, io, 16, &n, seen, sizeof seen, err, errlen) < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        int known = 0;
        for (int k = 0; k < 4; k++)
            if (strcmp(io[i].name, want[k].name) == 0 && io[i].type == want[k].type)
                found[k] = known = 1;
        unknown |= !known;
    }
    if (unknown || !found[0] || !found[1] || !found[2] || (need_sid && !found[3])) {
        snprintf(err, errlen, "its inputs are not Piper's (input int64, input_lengths int64, "
                 "scales float%s): it has %s", need_sid ? ", sid int64 for its speakers" : "[, sid int64]",
                 seen[0] ? seen : "none");
        return -1;
    }
    m->has_sid = found[3];
    if (piper_ort_ios(m->session, 1, io, 16, &n, NULL, 0, err, errlen) < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        if (io[i].type != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT)
            continue;
        if (strcmp(io[i].name, "durations") == 0)
            m->has_durations = 1;
        else if (!m->out_name[0] || strcmp(io[i].name, "output") == 0)
            snprintf(m->out_name, sizeof m->out_name, "%.63s", io[i].name);
    }
    if (!m->out_name[0]) {
        snprintf(err, errlen, "it has no float audio output (Piper's is `output`)");
        return -1;
    }
    return 0;
}

OrtSession *piper_ort_session(const char *path, char *err, size_t errlen)
{
    if (!ort_env) {
        snprintf(err, errlen, "ONNX Runtime is not initialised");
        return NULL;
    }
    OrtSession *session = NULL;
    OrtSessionOptions *so = NULL;
    if (piper_ort_check(ort->CreateSessionOptions(&so), "ONNX Runtime", err, errlen) < 0)
        goto fail;
    if (piper_ort_check(ort->DisablePerSessionThreads(so), "ONNX Runtime", err, errlen) < 0 ||
        piper_ort_check(ort->SetSessionExecutionMode(so, ORT_SEQUENTIAL), "ONNX Runtime", err, errlen) < 0 ||
        piper_ort_check(ort->DisableCpuMemArena(so), "ONNX Runtime", err, errlen) < 0 ||
        piper_ort_check(ort->DisableMemPattern(so), "ONNX Runtime", err, errlen) < 0 ||
        piper_ort_check(ort->SetSessionGraphOptimizationLevel(so, ORT_ENABLE_ALL), "ONNX Runtime", err,
              errlen) < 0)
        goto fail;
    struct buf file = { 0 };
    if (buf_read_file(&file, path) < 0) {
        snprintf(err, errlen, "cannot read it");
        buf_free(&file);
        goto fail;
    }
    uint8_t *patched = NULL;
    size_t plen = 0;
    int moved = piper_noise_patch(file.data, file.len, &patched, &plen);
    OrtCustomOpDomain *dom = moved > 0 ? piper_noise_domain(err, errlen) : NULL;
    OrtStatus *st = moved > 0 && !dom ? NULL : moved > 0 ? ort->AddCustomOpDomain(so, dom) : NULL;
    if (moved > 0 && (!dom || st)) {
        if (st)
            piper_ort_check(st, "ONNX Runtime", err, errlen);
        free(patched);
        buf_free(&file);
        goto fail;
    }
    char e[384];
    if (moved > 0)   /* the original is not needed any more: a Kokoro model is ~310 MB */
        buf_free(&file);
    st = ort->CreateSessionFromArray(ort_env, moved > 0 ? patched : file.data,
                                     moved > 0 ? plen : file.len, so, &session);
    free(patched);
    buf_free(&file);
    if (piper_ort_check(st, "not a model ONNX Runtime can load", e, sizeof e) < 0) {
        snprintf(err, errlen, "%s", e);
        session = NULL;
    }
fail:
    if (so)
        ort->ReleaseSessionOptions(so);
    return session;
}

void piper_ort_session_free(OrtSession *s)
{
    if (s)
        ort->ReleaseSession(s);
}

const OrtMemoryInfo *piper_ort_mem(void)
{
    return ort_mem;
}

struct piper_model *piper_model_load(const char *path, int need_sid, char *err, size_t errlen)
{
    struct piper_model *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->session = piper_ort_session(path, err, errlen);
    if (!m->session || check_io(m, need_sid, err, errlen) < 0) {
        piper_model_free(m);
        return NULL;
    }
    return m;
}

void piper_model_free(struct piper_model *m)
{
    if (!m)
        return;
    if (m->session)
        ort->ReleaseSession(m->session);
    free(m);
}

int piper_model_has_durations(const struct piper_model *m)
{
    return m && m->has_durations;
}

int piper_ort_floats(OrtValue *v, float **out, size_t *count, char *err, size_t errlen)
{
    OrtTensorTypeAndShapeInfo *info = NULL;
    void *data = NULL;
    size_t n = 0;
    ONNXTensorElementDataType type = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
    if (piper_ort_check(ort->GetTensorTypeAndShape(v, &info), "model output", err, errlen) < 0)
        return -1;
    OrtStatus *st = ort->GetTensorShapeElementCount(info, &n);
    if (!st)
        st = ort->GetTensorElementType(info, &type);
    ort->ReleaseTensorTypeAndShapeInfo(info);
    if (piper_ort_check(st, "model output", err, errlen) < 0 ||
        piper_ort_check(ort->GetTensorMutableData(v, &data), "model output", err, errlen) < 0)
        return -1;
    if (type != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT && type != ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64) {
        snprintf(err, errlen, "model output: %s, not float or int64", piper_ort_type_name(type));
        return -1;
    }
    *out = malloc((n ? n : 1) * sizeof **out);
    if (!*out) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (type == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64)   /* durations as frame counts */
        for (size_t i = 0; i < n; i++)
            (*out)[i] = (float)((const int64_t *)data)[i];
    else if (n)
        memcpy(*out, data, n * sizeof **out);
    *count = n;
    return 0;
}

int piper_model_run(struct piper_model *m, const int64_t *ids, int n, const float scales[3],
                    int sid, struct piper_run *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int64_t len = n, sid64 = sid < 0 ? 0 : sid, shape_in[2] = { 1, n }, shape_1[1] = { 1 }, shape_3[1] = { 3 };
    float sc[3] = { scales[0], scales[1], scales[2] };
    OrtValue *in[4] = { 0 }, *outs[2] = { 0 };
    const char *in_names[4] = { "input", "input_lengths", "scales", "sid" };
    const char *out_names[2] = { m->out_name, "durations" };
    size_t nin = m->has_sid ? 4 : 3, nout = m->has_durations ? 2 : 1;
    int rc = -1;
    if (piper_ort_check(ort->CreateTensorWithDataAsOrtValue(ort_mem, (void *)ids, (size_t)n * sizeof *ids,
                                                  shape_in, 2, ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64,
                                                  &in[0]), "input", err, errlen) < 0 ||
        piper_ort_check(ort->CreateTensorWithDataAsOrtValue(ort_mem, &len, sizeof len, shape_1, 1,
                                                  ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64, &in[1]),
              "input", err, errlen) < 0 ||
        piper_ort_check(ort->CreateTensorWithDataAsOrtValue(ort_mem, sc, sizeof sc, shape_3, 1,
                                                  ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, &in[2]),
              "input", err, errlen) < 0 ||
        (m->has_sid &&
         piper_ort_check(ort->CreateTensorWithDataAsOrtValue(ort_mem, &sid64, sizeof sid64, shape_1, 1,
                                                   ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64, &in[3]),
               "input", err, errlen) < 0))
        goto out;
    if (piper_ort_check(ort->Run(m->session, NULL, in_names, (const OrtValue *const *)in, nin, out_names,
                       nout, outs), "model run", err, errlen) < 0)
        goto out;
    if (piper_ort_floats(outs[0], &out->audio, &out->count, err, errlen) < 0)
        goto out;
    if (m->has_durations) {
        size_t nd = 0;
        if (piper_ort_floats(outs[1], &out->durations, &nd, err, errlen) < 0)
            goto out;
        if (nd != (size_t)n) {   /* not one per id: unusable for timings, ignore */
            free(out->durations);
            out->durations = NULL;
        }
    }
    rc = 0;
out:
    for (int i = 0; i < 4; i++)
        if (in[i])
            ort->ReleaseValue(in[i]);
    for (int i = 0; i < 2; i++)
        if (outs[i])
            ort->ReleaseValue(outs[i]);
    if (rc < 0)
        piper_run_free(out);
    return rc;
}

void piper_run_free(struct piper_run *r)
{
    if (!r)
        return;
    free(r->audio);
    free(r->durations);
    memset(r, 0, sizeof *r);
}
