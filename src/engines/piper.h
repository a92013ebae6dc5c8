/* piper — what the piper engine (piper.c) offers besides its ops table. */
#ifndef RECITE_PIPER_H
#define RECITE_PIPER_H
#include <stddef.h>

/* The voices folder: --voices, else DATA/voices (engines_config()). 0, or -1 if too long. */
int piper_voices_dir(char *out, size_t len);
#endif
