/* ids — content hashes and random identifiers. Any thread. */
#ifndef RECITE_IDS_H
#define RECITE_IDS_H
#include <stddef.h>
#include <stdbool.h>

/* Lowercase hex sha256 of data into out[65]. */
void ids_sha256_hex(const void *data, size_t len, char out[65]);
/* variant_hash = sha256(text | model | voice | sorted k=v parameters); params may be "". */
void ids_variant_hash(const char *text, const char *model, const char *voice,
                      const char *params, char out[65]);
/* The variant hash of a browser upload (POST /v1/audio): the parameters `src=browser,user=N`
 * scope it to the user who made it, so it never names anyone else's audio or the server's. */
void ids_upload_hash(const char *text, const char *model, const char *voice, long long user,
                     char out[65]);
/* Random UUIDv4 string into out[37]. */
void ids_uuid(char out[37]);
bool ids_is_uuid(const char *s);
bool ids_is_hash(const char *s);   /* exactly 64 lowercase hex digits */
#endif
