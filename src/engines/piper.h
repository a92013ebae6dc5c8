/* piper — what the piper engine (piper.c) offers besides its ops table. */
#ifndef RECITE_PIPER_H
#define RECITE_PIPER_H
#include <stddef.h>

/* The voices folder: --voices, else DATA/voices (engines_config()). 0, or -1 if too long. */
int piper_voices_dir(char *out, size_t len);
/* A cheap look before a file is taken for a voice: it opens, and starts as an ONNX
 * ModelProto does. 0, or -1 with "cannot open it" / "it is not an ONNX model". */
int piper_sniff_model(const char *path, char *err, size_t errlen);
#endif
