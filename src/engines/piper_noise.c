/* piper_noise — deterministic renders for Piper voices.
 *
 * Why: a Piper (VITS) voice draws Gaussian noise inside the graph (RandomNormalLike: the
 * latent sample scaled by noise_scale, the duration predictor's by noise_w). ONNX Runtime's
 * kernel for it seeds one generator per session from the clock and advances it on every
 * Run, so the same text came out different from run to run and depended on what the other
 * workers had synthesized before — the very thing engine_rand.c removed for flite and
 * espeak-ng. The C API offers no seed. So at load time the model's RandomNormalLike nodes
 * are moved into a domain of our own (a protobuf edit of the ModelProto: node.domain, plus an
 * opset import), and our kernel fills the same shape with mean + scale * N(0,1) drawn by
 * Box-Muller from the calling thread's own sequence, which piper.c restarts at the start of
 * every synthesis. A render then depends only on (text, voice), with no lock.
 * RandomUniformLike nodes get the same treatment (low + (high - low) * U(0,1)): Kokoro's
 * iSTFTNet source draws uniform phases and Gaussian noise (kokoro.c uses this too).
 *
 * The kernel runs on the thread that called Run (the sequential executor; the intra-op
 * pool only splits work inside kernels), i.e. the worker's own thread and sequence
 * (checked: tests/unit/test_piper.c renders bit-identically from one thread and four).
 *
 * Threads: piper_noise_patch is pure. The domain is created once under a mutex and shared
 * by every session (read-only after). Only top-level graph nodes are moved: Piper's exports
 * have no subgraphs; a model with noise elsewhere still loads, with ORT's own noise. */
#include "engines/piper_noise.h"
#include "engines/piper_ort.h"
#include "audio/audio.h"
#include <limits.h>
#include <math.h>
#include <onnxruntime_c_api.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- protobuf: just enough to walk ModelProto -> GraphProto -> NodeProto ----------- */

struct field {
    uint32_t num, wire;
    const uint8_t *start;              /* the whole field, key included */
    const uint8_t *data;               /* wire 2: the payload */
    size_t len, total;                 /* payload length; key + payload bytes */
};

static int varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return 0;
    }
    return -1;
}

/* The next field at *p; 1, 0 at the end, -1 if malformed. */
static int next(const uint8_t **p, const uint8_t *end, struct field *f)
{
    if (*p >= end)
        return 0;
    const uint8_t *s = *p;
    uint64_t key, v;
    if (varint(p, end, &key) < 0 || key >> 3 == 0 || key >> 3 > UINT32_MAX)
        return -1;
    f->num = (uint32_t)(key >> 3);
    f->wire = (uint32_t)(key & 7);
    f->start = s;
    f->data = NULL;
    f->len = 0;
    switch (f->wire) {
    case 0:
        if (varint(p, end, &v) < 0)
            return -1;
        break;
    case 1:
    case 5: {
        size_t n = f->wire == 1 ? 8 : 4;
        if ((size_t)(end - *p) < n)
            return -1;
        *p += n;
        break;
    }
    case 2:
        if (varint(p, end, &v) < 0 || v > (uint64_t)(end - *p))
            return -1;
        f->data = *p;
        f->len = (size_t)v;
        *p += v;
        break;
    default:   /* groups: not in ONNX */
        return -1;
    }
    f->total = (size_t)(*p - s);
    return 1;
}

static int put_varint(struct buf *b, uint64_t v)
{
    uint8_t t[10];
    int n = 0;
    do {
        t[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return buf_append(b, t, (size_t)n);
}

static int put_bytes(struct buf *b, uint32_t num, const void *d, size_t n)
{
    return put_varint(b, (uint64_t)num << 3 | 2) || put_varint(b, n) || buf_append(b, d, n) ? -1 : 0;
}

static int str_is(const struct field *f, const char *s)
{
    return f->len == strlen(s) && memcmp(f->data, s, f->len) == 0;
}

/* NodeProto: op_type 4, domain 7. */
static int is_noise_node(const uint8_t *d, size_t len)
{
    const uint8_t *p = d, *end = d + len;
    struct field f;
    int op = 0, std = 1, r;
    while ((r = next(&p, end, &f)) > 0) {
        if (f.num == 4 && f.wire == 2)
            op = str_is(&f, "RandomNormalLike") || str_is(&f, "RandomUniformLike");
        else if (f.num == 7 && f.wire == 2)
            std = f.len == 0 || str_is(&f, "ai.onnx");
    }
    return r == 0 && op && std;
}

static int patch_node(struct buf *o, const uint8_t *d, size_t len)
{
    struct buf n = { 0 };
    const uint8_t *p = d, *end = d + len;
    struct field f;
    int r;
    while ((r = next(&p, end, &f)) > 0)
        if (!(f.num == 7 && f.wire == 2) && buf_append(&n, f.start, f.total) < 0)
            r = -1;
    if (r == 0)
        r = put_bytes(&n, 7, PIPER_NOISE_DOMAIN, strlen(PIPER_NOISE_DOMAIN));
    if (r == 0)
        r = put_bytes(o, 1, n.data, n.len);
    buf_free(&n);
    return r;
}

/* GraphProto: node 1. */
static int patch_graph(struct buf *o, const uint8_t *d, size_t len, int *count)
{
    const uint8_t *p = d, *end = d + len;
    struct field f;
    int r;
    while ((r = next(&p, end, &f)) > 0) {
        if (f.num == 1 && f.wire == 2 && is_noise_node(f.data, f.len)) {
            if (patch_node(o, f.data, f.len) < 0)
                return -1;
            (*count)++;
        } else if (buf_append(o, f.start, f.total) < 0) {
            return -1;
        }
    }
    return r;
}

int piper_noise_patch(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen)
{
    struct buf o = { 0 }, g = { 0 };
    const uint8_t *p = in, *end = in + len;
    struct field f;
    int r, count = 0, graphs = 0;
    *out = NULL;
    *outlen = 0;
    while ((r = next(&p, end, &f)) > 0) {
        if (f.num == 7 && f.wire == 2 && !graphs++) {   /* ModelProto.graph */
            g.len = 0;
            if (patch_graph(&g, f.data, f.len, &count) < 0 || put_bytes(&o, 7, g.data, g.len) < 0)
                r = -1;
        } else if (buf_append(&o, f.start, f.total) < 0) {
            r = -1;
        }
        if (r < 0)
            break;
    }
    if (r == 0 && count > 0) {   /* opset_import 8: {domain 1, version 2} */
        struct buf op = { 0 };
        r = put_bytes(&op, 1, PIPER_NOISE_DOMAIN, strlen(PIPER_NOISE_DOMAIN)) || put_varint(&op, 2 << 3) ||
            put_varint(&op, 1) || put_bytes(&o, 8, op.data, op.len) ? -1 : 0;
        buf_free(&op);
    }
    buf_free(&g);
    if (r < 0 || count == 0) {
        buf_free(&o);
        return r < 0 ? -1 : 0;
    }
    *out = o.data;
    *outlen = o.len;
    return count;
}

/* ---- the kernel ---------------------------------------------------------------------- */

struct noise_kernel {
    int uniform;      /* RandomUniformLike: low + (high - low) * U(0,1) */
    float a, b;       /* mean, scale (normal) or low, high (uniform) */
};

static const OrtApi *api;

static float attr(const OrtKernelInfo *info, const char *name, float def)
{
    float v = def;
    OrtStatus *st = api->KernelInfoGetAttribute_float(info, name, &v);
    if (st) {
        api->ReleaseStatus(st);
        v = def;
    }
    return v;
}

static OrtCustomOp noise_op, uniform_op;

static void *noise_create(const OrtCustomOp *op, const OrtApi *a, const OrtKernelInfo *info)
{
    struct noise_kernel *k = malloc(sizeof *k);
    if (k) {
        k->uniform = op == &uniform_op;
        k->a = k->uniform ? attr(info, "low", 0.0f) : attr(info, "mean", 0.0f);
        k->b = k->uniform ? attr(info, "high", 1.0f) : attr(info, "scale", 1.0f);
    }
    return k;
}

/* The calling thread's noise sequence: splitmix64, restarted by piper_noise_reset at the
 * start of every synthesis. Not libc rand() (engine_rand.c): espeak-ng draws from that too,
 * more on a voice's first use than later, which made a process's first render differ from
 * its second. */
static _Thread_local uint64_t noise_state;

void piper_noise_reset(void)
{
    noise_state = 0x9e3779b97f4a7c15ull;
}

static double uniform(void)   /* (0, 1) */
{
    uint64_t z = (noise_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

/* N(0,1), Box-Muller. */
static double gaussian(void)
{
    double u1 = uniform(), u2 = uniform();
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static void noise_compute(void *kernel, OrtKernelContext *ctx)
{
    const struct noise_kernel *k = kernel;
    const OrtValue *in = NULL;
    OrtValue *out = NULL;
    OrtTensorTypeAndShapeInfo *info = NULL;
    int64_t dims[16];
    size_t nd = 0;
    float *o = NULL;
    OrtStatus *st = api->KernelContext_GetInput(ctx, 0, &in);
    if (!st)
        st = api->GetTensorTypeAndShape(in, &info);
    if (!st)
        st = api->GetDimensionsCount(info, &nd);
    if (!st && nd <= 16)
        st = api->GetDimensions(info, dims, nd);
    if (info)
        api->ReleaseTensorTypeAndShapeInfo(info);
    if (!st && nd <= 16)
        st = api->KernelContext_GetOutput(ctx, 0, dims, nd, &out);
    if (!st && out)
        st = api->GetTensorMutableData(out, (void **)&o);
    if (st) {   /* no way to fail a V1 kernel: the output stays as ORT allocated it */
        api->ReleaseStatus(st);
        return;
    }
    if (!o)
        return;
    size_t n = 1;
    for (size_t i = 0; i < nd; i++)
        n *= dims[i] > 0 ? (size_t)dims[i] : 0;
    for (size_t i = 0; i < n; i++)
        o[i] = k->uniform ? k->a + (k->b - k->a) * (float)uniform() : k->a + k->b * (float)gaussian();
}

static void noise_destroy(void *kernel)
{
    free(kernel);
}

static const char *noise_name(const OrtCustomOp *op)
{
    return op == &uniform_op ? "RandomUniformLike" : "RandomNormalLike";
}
static const char *noise_ep(const OrtCustomOp *op) { return NULL; }   /* CPU */
static ONNXTensorElementDataType noise_in_type(const OrtCustomOp *op, size_t i)
{
    return ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;   /* any: only its shape is used */
}
static size_t noise_one(const OrtCustomOp *op) { return 1; }
static ONNXTensorElementDataType noise_out_type(const OrtCustomOp *op, size_t i)
{
    return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
}
static OrtCustomOpInputOutputCharacteristic noise_required(const OrtCustomOp *op, size_t i)
{
    return INPUT_OUTPUT_REQUIRED;
}
static OrtMemType noise_mem(const OrtCustomOp *op, size_t i) { return OrtMemTypeDefault; }
static int noise_arity(const OrtCustomOp *op) { return 1; }
static int noise_homogeneous(const OrtCustomOp *op) { return 1; }
static int noise_start(const OrtCustomOp *op) { return 1; }
static int noise_end(const OrtCustomOp *op) { return INT_MAX; }
static size_t noise_no_pairs(int **a, int **b)
{
    *a = *b = NULL;
    return 0;
}
static void noise_free_pairs(int *a, int *b) {}

static OrtCustomOpDomain *noise_domain;
static pthread_mutex_t noise_lock = PTHREAD_MUTEX_INITIALIZER;

struct OrtCustomOpDomain *piper_noise_domain(char *err, size_t errlen)
{
    pthread_mutex_lock(&noise_lock);
    if (!noise_domain) {
        api = piper_ort_api();
        noise_op = (OrtCustomOp){
            .version = ORT_API_VERSION,
            .CreateKernel = noise_create,
            .GetName = noise_name,
            .GetExecutionProviderType = noise_ep,
            .GetInputType = noise_in_type,
            .GetInputTypeCount = noise_one,
            .GetOutputType = noise_out_type,
            .GetOutputTypeCount = noise_one,
            .KernelCompute = noise_compute,
            .KernelDestroy = noise_destroy,
            .GetInputCharacteristic = noise_required,
            .GetOutputCharacteristic = noise_required,
            .GetInputMemoryType = noise_mem,
            .GetVariadicInputMinArity = noise_arity,
            .GetVariadicInputHomogeneity = noise_homogeneous,
            .GetVariadicOutputMinArity = noise_arity,
            .GetVariadicOutputHomogeneity = noise_homogeneous,
            .GetStartVersion = noise_start,
            .GetEndVersion = noise_end,
            .GetMayInplace = noise_no_pairs,
            .ReleaseMayInplace = noise_free_pairs,
            .GetAliasMap = noise_no_pairs,
            .ReleaseAliasMap = noise_free_pairs,
        };
        uniform_op = noise_op;   /* the same kernel; noise_create/noise_name tell them apart */
        OrtCustomOpDomain *d = NULL;
        OrtStatus *st = api ? api->CreateCustomOpDomain(PIPER_NOISE_DOMAIN, &d) : NULL;
        if (!st && d)
            st = api->CustomOpDomain_Add(d, &noise_op);
        if (!st && d)
            st = api->CustomOpDomain_Add(d, &uniform_op);
        if (st || !d) {
            snprintf(err, errlen, "noise op: %s", st ? api->GetErrorMessage(st) : "no ONNX Runtime");
            if (st)
                api->ReleaseStatus(st);
            if (d)
                api->ReleaseCustomOpDomain(d);
        } else {
            noise_domain = d;
        }
    }
    OrtCustomOpDomain *d = noise_domain;
    pthread_mutex_unlock(&noise_lock);
    return d;
}

void piper_noise_cleanup(void)
{
    pthread_mutex_lock(&noise_lock);
    if (noise_domain)
        api->ReleaseCustomOpDomain(noise_domain);
    noise_domain = NULL;
    pthread_mutex_unlock(&noise_lock);
}
