/* piper_noise — deterministic noise for Piper voices: the model's RandomNormalLike nodes are
 * moved to a domain of recite's own, whose kernel draws from the calling thread's rand()
 * (engine_rand.c, restarted before every synthesis) instead of ONNX Runtime's clock-seeded
 * generator. */
#ifndef RECITE_PIPER_NOISE_H
#define RECITE_PIPER_NOISE_H
#include <stddef.h>
#include <stdint.h>

#define PIPER_NOISE_DOMAIN "recite.noise"

/* A copy of the ONNX model (ModelProto bytes) in which every top-level RandomNormalLike and
 * RandomUniformLike node of the default domain is in PIPER_NOISE_DOMAIN, with that domain's
 * opset import added.
 * Returns the number of nodes moved (0: *out is NULL, use the model as it is), or -1 if the
 * bytes are not a well-formed protobuf message (or out of memory). */
int piper_noise_patch(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen);

/* The custom-op domain to add to a session's options (created once, on first call; NULL
 * with a message on failure). Uses the OrtApi of piper_ort.c. */
struct OrtCustomOpDomain;
struct OrtCustomOpDomain *piper_noise_domain(char *err, size_t errlen);
void piper_noise_cleanup(void);
/* Restarts the calling thread's noise sequence: piper.c, before each synthesis. */
void piper_noise_reset(void);
#endif
