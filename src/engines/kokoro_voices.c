/* kokoro_voices — reads Kokoro's voices file, a NumPy .npz (kokoro-onnx loads it with
 * np.load and takes voices[name][len(tokens)]; thewh1teagle/kokoro-onnx
 * src/kokoro_onnx/__init__.py, _create_audio). The zip is opened with libarchive (already
 * recite's EPUB reader); each member's .npy header is parsed strictly to the NumPy format
 * specification (numpy/lib/format.py: magic "\x93NUMPY", version, little-endian header
 * length, a Python dict literal with descr / fortran_order / shape, data right after).
 *
 * The file comes from a user's folder or a download: untrusted. Sizes are bounded (members,
 * total floats, dimensions), the data must be exactly what the header announces, and
 * fuzz/fuzz_kokoro_voices.c runs it under the sanitizers.
 *
 * Pure functions, any thread. A kokoro_voices is owned by whoever parsed it (kokoro.c keeps
 * one, read-only after start-up). */
#include "engines/kokoro_voices.h"
#include "util/zipmem.h"
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Kokoro v1.0 ships 54 voices of 510 x 256 floats (~28 MB in all); the bounds leave room
 * for bigger packs and refuse a zip bomb. */
#define VOICES_MAX 1024
#define VOICE_BYTES_MAX (16u << 20)
#define VOICES_TOTAL_MAX (512u << 20)
#define NPY_HEADER_MAX 65536

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "kokoro_voices.c copies '<f4' data as native floats: little-endian hosts only"
#endif

static void skip_ws(const char **s, const char *end)
{
    while (*s < end && (**s == ' ' || **s == '\t' || **s == '\n' || **s == '\r'))
        (*s)++;
}

/* A Python string literal in '...' or "..." without escapes: the dict's keys and descr. */
static int py_string(const char **s, const char *end, char *out, size_t outlen)
{
    if (*s >= end || (**s != '\'' && **s != '"'))
        return -1;
    char q = *(*s)++;
    size_t n = 0;
    while (*s < end && **s != q) {
        if (**s == '\\' || n + 1 >= outlen)
            return -1;
        out[n++] = *(*s)++;
    }
    if (*s >= end)
        return -1;
    (*s)++;
    out[n] = '\0';
    return 0;
}

/* "(510, 1, 256)", "(256,)" or "()". */
static int py_shape(const char **s, const char *end, struct kokoro_npy *o)
{
    if (*s >= end || **s != '(')
        return -1;
    (*s)++;
    o->ndim = 0;
    int comma = 0;
    for (;;) {
        skip_ws(s, end);
        if (*s < end && **s == ')') {
            (*s)++;
            break;
        }
        comma = 0;
        if (o->ndim == KOKORO_NPY_MAX_DIMS || *s >= end || **s < '0' || **s > '9')
            return -1;
        int64_t v = 0;
        while (*s < end && **s >= '0' && **s <= '9') {
            v = v * 10 + (**s - '0');
            if (v > (1 << 30))
                return -1;
            (*s)++;
        }
        o->shape[o->ndim++] = v;
        skip_ws(s, end);
        if (*s < end && **s == ',') {
            (*s)++;
            comma = 1;
        } else if (*s >= end || **s != ')') {
            return -1;
        }
    }
    /* a one-element tuple is written "(n,)"; "(n)" is not a tuple */
    return o->ndim == 1 && !comma ? -1 : 0;
}

int kokoro_npy_parse(const uint8_t *p, size_t len, struct kokoro_npy *out, char *err,
                     size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (len < 10 || memcmp(p, "\x93NUMPY", 6) != 0) {
        snprintf(err, errlen, "not a NumPy .npy array");
        return -1;
    }
    int major = p[6];
    size_t hlen, start;
    if (major == 1) {
        hlen = (size_t)p[8] | (size_t)p[9] << 8;
        start = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12) {
            snprintf(err, errlen, "truncated .npy header");
            return -1;
        }
        hlen = (size_t)p[8] | (size_t)p[9] << 8 | (size_t)p[10] << 16 | (size_t)p[11] << 24;
        start = 12;
    } else {
        snprintf(err, errlen, ".npy format version %d is not known", major);
        return -1;
    }
    if (hlen > NPY_HEADER_MAX || hlen > len - start) {
        snprintf(err, errlen, "truncated .npy header");
        return -1;
    }
    const char *s = (const char *)p + start, *end = s + hlen;
    int have_descr = 0, have_order = 0, have_shape = 0;
    skip_ws(&s, end);
    if (s >= end || *s++ != '{')
        goto bad;
    for (;;) {
        char key[32], val[32];
        skip_ws(&s, end);
        if (s < end && *s == '}') {
            s++;
            break;
        }
        if (py_string(&s, end, key, sizeof key) < 0)
            goto bad;
        skip_ws(&s, end);
        if (s >= end || *s++ != ':')
            goto bad;
        skip_ws(&s, end);
        if (strcmp(key, "descr") == 0 && !have_descr) {
            if (py_string(&s, end, val, sizeof val) < 0)
                goto bad;
            if (strcmp(val, "<f4") != 0) {
                snprintf(err, errlen, "the array's type is '%s', not float32 ('<f4')", val);
                return -1;
            }
            have_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0 && !have_order) {
            if ((size_t)(end - s) >= 5 && memcmp(s, "False", 5) == 0) {
                s += 5;
            } else if ((size_t)(end - s) >= 4 && memcmp(s, "True", 4) == 0) {
                snprintf(err, errlen, "the array is in Fortran order (not supported)");
                return -1;
            } else {
                goto bad;
            }
            have_order = 1;
        } else if (strcmp(key, "shape") == 0 && !have_shape) {
            if (py_shape(&s, end, out) < 0)
                goto bad;
            have_shape = 1;
        } else {
            goto bad;   /* an unknown or repeated key */
        }
        skip_ws(&s, end);
        if (s < end && *s == ',')
            s++;
        else if (s >= end || *s != '}')
            goto bad;
    }
    skip_ws(&s, end);   /* the padding: spaces and the final newline */
    if (s != end || !have_descr || !have_order || !have_shape)
        goto bad;
    size_t count = 1;
    for (int i = 0; i < out->ndim; i++) {
        if (out->shape[i] && count > (SIZE_MAX / 4) / (size_t)out->shape[i]) {
            snprintf(err, errlen, "the array is too big");
            return -1;
        }
        count *= (size_t)out->shape[i];
    }
    out->data_off = start + hlen;
    out->count = count;
    if (len - out->data_off != count * 4) {
        snprintf(err, errlen, "the array has %zu bytes of data where its shape needs %zu",
                 len - out->data_off, count * 4);
        return -1;
    }
    return 0;
bad:
    snprintf(err, errlen, "the .npy header is not a plain {'descr', 'fortran_order', 'shape'} "
             "dict");
    memset(out, 0, sizeof *out);
    return -1;
}

void kokoro_voices_free(struct kokoro_voices *vs)
{
    if (!vs)
        return;
    for (int i = 0; i < vs->count; i++)
        free(vs->v[i].style);
    free(vs->v);
    memset(vs, 0, sizeof *vs);
}

static int cmp_voice(const void *a, const void *b)
{
    return strcmp(((const struct kokoro_voice *)a)->name, ((const struct kokoro_voice *)b)->name);
}

/* "af_heart.npy" -> "af_heart"; -1 if the name is not a voice name. Members in folders
 * ("dir/x.npy") are refused too: np.savez never writes them. */
static int voice_name(const char *member, char *out, size_t outlen)
{
    size_t n = strlen(member);
    if (n <= 4 || strcmp(member + n - 4, ".npy") != 0 || n - 4 >= outlen)
        return -1;
    for (size_t i = 0; i < n - 4; i++) {
        char c = member[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return -1;
    }
    memcpy(out, member, n - 4);
    out[n - 4] = '\0';
    return 0;
}

/* The member's bytes (at most VOICE_BYTES_MAX), malloc'd. */
static uint8_t *read_member(struct archive *a, size_t *len, char *err, size_t errlen)
{
    size_t cap = 65536, n = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (;;) {
        if (n == cap) {
            if (cap >= VOICE_BYTES_MAX) {
                snprintf(err, errlen, "over %u MiB: too big for a voice", VOICE_BYTES_MAX >> 20);
                free(buf);
                return NULL;
            }
            uint8_t *nb = realloc(buf, cap *= 2);
            if (!nb) {
                snprintf(err, errlen, "out of memory");
                free(buf);
                return NULL;
            }
            buf = nb;
        }
        la_ssize_t got = archive_read_data(a, buf + n, cap - n);
        if (got == 0)
            break;
        if (got < 0) {
            snprintf(err, errlen, "damaged (%s)",
                     archive_error_string(a) ? archive_error_string(a) : "unreadable");
            free(buf);
            return NULL;
        }
        n += (size_t)got;
    }
    *len = n;
    return buf;
}

/* One member: its .npy checked against the pack's shape, copied into v->style. */
static int add_voice(struct kokoro_voices *vs, struct kokoro_voice *v, const uint8_t *data,
                     size_t len, size_t *total, char *err, size_t errlen)
{
    struct kokoro_npy h;
    if (kokoro_npy_parse(data, len, &h, err, errlen) < 0)
        return -1;
    int rows, dim;
    if (h.ndim == 3 && h.shape[1] == 1) {
        rows = (int)h.shape[0];
        dim = (int)h.shape[2];
    } else if (h.ndim == 2) {
        rows = (int)h.shape[0];
        dim = (int)h.shape[1];
    } else {
        snprintf(err, errlen, "its shape is not [rows, 1, dim] (style vectors)");
        return -1;
    }
    if (rows < 1 || dim < 1) {
        snprintf(err, errlen, "it has no style vectors");
        return -1;
    }
    if (vs->count && (rows != vs->rows || dim != vs->dim)) {
        snprintf(err, errlen, "its shape [%d, 1, %d] differs from the other voices' [%d, 1, %d]",
                 rows, dim, vs->rows, vs->dim);
        return -1;
    }
    if (*total + h.count * 4 > VOICES_TOTAL_MAX) {
        snprintf(err, errlen, "the voices add up to over %u MiB", VOICES_TOTAL_MAX >> 20);
        return -1;
    }
    v->style = malloc(h.count * sizeof *v->style);
    if (!v->style) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(v->style, data + h.data_off, h.count * sizeof *v->style);
    *total += h.count * 4;
    vs->rows = rows;
    vs->dim = dim;
    return 0;
}

int kokoro_voices_parse(const void *data, size_t len, struct kokoro_voices *out, char *err,
                        size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct archive *a = zipmem_open(data, len, "not a NumPy .npz (zip) file", err, errlen);
    struct archive_entry *e;
    size_t total = 0;
    int cap = 0, rc = -1;
    if (!a)
        return -1;
    for (;;) {
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN) {
            snprintf(err, errlen, "%s (%s)", out->count ? "damaged" : "not a NumPy .npz (zip) file",
                     archive_error_string(a) ? archive_error_string(a) : "unreadable");
            goto out;
        }
        const char *member = archive_entry_pathname(e);
        size_t mlen = member ? strlen(member) : 0;
        if (!member || archive_entry_filetype(e) != AE_IFREG || mlen < 4 ||
            strcmp(member + mlen - 4, ".npy") != 0)
            continue;
        char name[64];
        if (voice_name(member, name, sizeof name) < 0) {
            snprintf(err, errlen, "%.100s: not a voice name (letters, digits, _ and -)", member);
            goto out;
        }
        if (out->count == VOICES_MAX) {
            snprintf(err, errlen, "over %d voices", VOICES_MAX);
            goto out;
        }
        if (out->count == cap) {
            cap = cap ? cap * 2 : 64;
            struct kokoro_voice *nv = realloc(out->v, (size_t)cap * sizeof *nv);
            if (!nv) {
                snprintf(err, errlen, "out of memory");
                goto out;
            }
            out->v = nv;
        }
        struct kokoro_voice *v = &out->v[out->count];
        memset(v, 0, sizeof *v);
        snprintf(v->name, sizeof v->name, "%s", name);
        char e2[200];
        size_t blen = 0;
        uint8_t *body = read_member(a, &blen, e2, sizeof e2);
        int ok = body && add_voice(out, v, body, blen, &total, e2, sizeof e2) == 0;
        free(body);
        if (!ok) {
            snprintf(err, errlen, "%s: %s", member, e2);
            goto out;
        }
        out->count++;
    }
    if (out->count == 0) {
        snprintf(err, errlen, "no voices in it (no .npy arrays)");
        goto out;
    }
    qsort(out->v, (size_t)out->count, sizeof *out->v, cmp_voice);
    for (int i = 1; i < out->count; i++)
        if (strcmp(out->v[i].name, out->v[i - 1].name) == 0) {
            snprintf(err, errlen, "voice %s is in it twice", out->v[i].name);
            goto out;
        }
    rc = 0;
out:
    archive_read_free(a);
    if (rc < 0)
        kokoro_voices_free(out);
    return rc;
}

const struct kokoro_voice *kokoro_voices_find(const struct kokoro_voices *vs, const char *name)
{
    struct kokoro_voice key;
    if (!vs || !vs->count || !name || snprintf(key.name, sizeof key.name, "%s", name) >=
                                             (int)sizeof key.name)
        return NULL;
    return bsearch(&key, vs->v, (size_t)vs->count, sizeof *vs->v, cmp_voice);
}

const float *kokoro_voice_style(const struct kokoro_voices *vs, const struct kokoro_voice *v,
                                int ntokens)
{
    int row = ntokens < 0 ? 0 : ntokens >= vs->rows ? vs->rows - 1 : ntokens;
    return v->style + (size_t)row * (size_t)vs->dim;
}
