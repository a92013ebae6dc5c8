/* redis_wire — the messages workers send the server through the `recite:events` list
 * (pure, no I/O). Two kinds, each one list element:
 *
 *   P1 <hash> <attempt> <worker>\n                       a worker claimed the attempt
 *   R1 <hash> <attempt> <cached|skipped|error> <duration_ms> <synthesis_us> <model> <voice>
 *      <worker> <error_len> <timings_len> <audio_len>\n<error><timings><audio>
 *                                                        the attempt's result
 *
 * The header is ASCII with single spaces; the three payloads follow raw (binary-safe) and
 * their lengths must add up to the rest of the element exactly. The P notice is written by
 * the claim script (redis_scripts.c) in the same format. */
#ifndef RECITE_REDIS_WIRE_H
#define RECITE_REDIS_WIRE_H
#include "jobs/job.h"
#include <stddef.h>
#include <stdint.h>

struct redis_msg {
    char kind;                    /* 'P' or 'R' */
    char hash[65];
    uint64_t attempt;
    char worker[96];
    /* 'R' only */
    enum job_event_type type;     /* CACHED, SKIPPED or ERROR */
    int64_t duration_ms;
    int64_t synthesis_us;
    char model[32];
    char voice[64];
    char error[256];
    const char *word_timings;     /* JSON text, not NUL-terminated; points into the input */
    size_t timings_len;
    const unsigned char *audio;   /* Ogg Opus; points into the input */
    size_t audio_len;
};

/* Encodes an 'R' message into *out (malloc'd). 0 or -1 (bad field or out of memory). */
int redis_wire_encode_result(const struct redis_msg *m, char **out, size_t *outlen);
/* Decodes either kind; pointers in *m refer into buf. 0 or -1 (malformed). */
int redis_wire_decode(const char *buf, size_t len, struct redis_msg *m);
/* 1 if s is 64 lowercase hex digits. */
int redis_wire_is_hash(const char *s);
#endif
