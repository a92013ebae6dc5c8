/* credentials — API tokens, guest tokens and the server secret (SPEC section 7), and the
 * parsing of what a client presents (an `Authorization: Bearer` header, a WebSocket query
 * string). Pure functions plus one file read/create; any thread.
 *
 * A user token is "rct_" + 64 hex digits (256 random bits); only its sha256 is stored.
 * A guest token is the hex HMAC-SHA256 of the guest's id under the server secret, a
 * 32-byte file DATA/secret (0600) created on first start: nothing about it is stored. */
#ifndef RECITE_CREDENTIALS_H
#define RECITE_CREDENTIALS_H
#include <stddef.h>

#define CRED_TOKEN_LEN 68        /* "rct_" + 64 hex */
#define CRED_GUEST_ID_LEN 36     /* a UUID */
#define CRED_GUEST_TOKEN_LEN 64  /* hex HMAC-SHA256 */
#define CRED_SECRET_LEN 32

/* What a request presents. kind NONE: nothing; BAD: something malformed (401 as well). */
enum cred_kind { CRED_NONE, CRED_TOKEN, CRED_GUEST, CRED_BAD };
struct cred {
    enum cred_kind kind;
    char token[CRED_TOKEN_LEN + 1];             /* CRED_TOKEN */
    char guest_id[CRED_GUEST_ID_LEN + 1];       /* CRED_GUEST */
    char guest_token[CRED_GUEST_TOKEN_LEN + 1];
};

/* A new user token into out[CRED_TOKEN_LEN + 1]. 0, or -1 if the system has no randomness. */
int cred_token_new(char out[CRED_TOKEN_LEN + 1]);
/* The stored form of a token: lowercase hex sha256 into out[65]. */
void cred_token_hash(const char *token, char out[65]);
/* HMAC-SHA256(secret, guest_id) as lowercase hex into out[65]. */
void cred_guest_token(const unsigned char secret[CRED_SECRET_LEN], const char *guest_id,
                      char out[65]);
/* Whether `token` is the guest token of guest_id: computed and compared in constant time. */
int cred_guest_valid(const unsigned char secret[CRED_SECRET_LEN], const char *guest_id,
                     const char *token);
/* Reads DIR/secret, or creates it (0600, O_EXCL, so two starting servers agree). 0 or -1. */
int cred_secret_load(const char *dir, unsigned char secret[CRED_SECRET_LEN], char *err,
                     size_t errlen);

/* An Authorization header value, the scheme case-insensitive: "Bearer TOKEN" for a user,
 * "Bearer ANONYMOUS_ID:ANONYMOUS_TOKEN" for a guest. A header that is there but is not
 * one of these, well formed, gives CRED_BAD. */
void cred_parse_bearer(const char *value, size_t len, struct cred *out);
/* A URL query string (without '?'): token=..., or anonymous_id=...&anonymous_token=...
 * (percent-decoded; other parameters ignored; a repeated or malformed one is CRED_BAD). */
void cred_parse_query(const char *query, size_t len, struct cred *out);
#endif
