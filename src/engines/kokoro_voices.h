/* kokoro_voices — Kokoro's voices file (voices-v1.0.bin): a NumPy .npz, i.e. a zip of one
 * .npy per voice, each a float32 table of style vectors [rows, 1, dim] (510 x 1 x 256 for
 * Kokoro v1.0). Row i is the style for a text of i tokens. Pure: no I/O, no global state. */
#ifndef RECITE_KOKORO_VOICES_H
#define RECITE_KOKORO_VOICES_H
#include <stddef.h>
#include <stdint.h>

/* A .npy header, as kokoro_npy_parse reads it. */
#define KOKORO_NPY_MAX_DIMS 4
struct kokoro_npy {
    int ndim;
    int64_t shape[KOKORO_NPY_MAX_DIMS];
    size_t data_off;   /* where the array data starts in the file */
    size_t count;      /* elements: the product of shape (1 for shape ()) */
};

/* Reads a .npy file's header strictly: magic, version 1-3, a dict with exactly `descr`
 * '<f4', `fortran_order` False and a `shape` tuple, and data of exactly count * 4 bytes.
 * 0, or -1 with a message saying what is wrong. */
int kokoro_npy_parse(const uint8_t *p, size_t len, struct kokoro_npy *out, char *err,
                     size_t errlen);

struct kokoro_voice {
    char name[64];   /* the member's name without ".npy": "af_heart" */
    float *style;    /* rows x dim floats */
};

struct kokoro_voices {
    struct kokoro_voice *v;   /* sorted by name */
    int count;
    int rows, dim;            /* every voice has the same shape */
};

/* Parses the .npz bytes. Every .npy member is a voice (other members are ignored); a voice
 * name is letters, digits, '_' and '-' (63 bytes at most); every voice must have the same
 * shape [rows, 1, dim] or [rows, dim]. 0, or -1 with a message naming the member (`out`
 * is then empty). */
int kokoro_voices_parse(const void *data, size_t len, struct kokoro_voices *out, char *err,
                        size_t errlen);
void kokoro_voices_free(struct kokoro_voices *vs);
const struct kokoro_voice *kokoro_voices_find(const struct kokoro_voices *vs, const char *name);
/* The style vector (dim floats) for a text of ntokens tokens: row ntokens, as Kokoro picks
 * it (kokoro-onnx: voice[len(tokens)]), clamped to the table. */
const float *kokoro_voice_style(const struct kokoro_voices *vs, const struct kokoro_voice *v,
                                int ntokens);
#endif
