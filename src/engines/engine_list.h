/* engine_list — the engines compiled into recite, for the registry (engines.c) only.
 * Each engine's .c file defines its ops table and includes this header, so the compiler
 * checks the definition against the declaration. Adding an engine: declare it here and
 * list it in engine_table in engines.c. */
#ifndef RECITE_ENGINE_LIST_H
#define RECITE_ENGINE_LIST_H
#include "engines/engine.h"

extern const struct engine_ops espeak_engine_ops;   /* espeak.c */
extern const struct engine_ops flite_engine_ops;    /* flite.c */
extern const struct engine_ops piper_engine_ops;    /* piper.c */
extern const struct engine_ops kokoro_engine_ops;   /* kokoro.c */
extern const struct engine_ops openai_engine_ops;   /* openai.c */
extern const struct engine_ops browser_engine_ops;  /* browser.c: after espeak, whose list it copies */
#endif
