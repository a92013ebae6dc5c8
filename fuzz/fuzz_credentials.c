/* fuzz_credentials — libFuzzer target for the credential parsers of `serve --auth`
 * (auth/credentials.c): cred_parse_bearer (the Authorization header) and cred_parse_query
 * (the WebSocket query string), which see every byte an unauthenticated client sends.
 *
 * Input: the bytes, given to both parsers as is (no terminator). Checked properties:
 *   - a CRED_TOKEN is exactly "rct_" + 64 lowercase hex digits;
 *   - a CRED_GUEST is a UUID and 64 lowercase hex digits;
 *   - anything else leaves every field empty (nothing half-parsed reaches a lookup);
 *   - the guest HMAC check accepts the computed token and rejects it with one bit flipped. */
#include "auth/credentials.h"
#include "util/ids.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(...) do { fprintf(stderr, "fuzz_credentials: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

static int lower_hex(const char *s, size_t n)
{
    if (strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static void check(const struct cred *c, const char *which)
{
    switch (c->kind) {
    case CRED_TOKEN:
        if (strncmp(c->token, "rct_", 4) || !lower_hex(c->token + 4, 64) || c->guest_id[0] ||
            c->guest_token[0])
            FAIL("%s: bad token accepted: \"%s\"", which, c->token);
        break;
    case CRED_GUEST:
        if (!ids_is_uuid(c->guest_id) || !lower_hex(c->guest_token, 64) || c->token[0])
            FAIL("%s: bad guest accepted: \"%s\" \"%s\"", which, c->guest_id, c->guest_token);
        break;
    case CRED_NONE:
    case CRED_BAD:
        if (c->token[0] || c->guest_id[0] || c->guest_token[0])
            FAIL("%s: kind %d with fields filled", which, (int)c->kind);
        break;
    default:
        FAIL("%s: unknown kind %d", which, (int)c->kind);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the parsers take (pointer, length): a copy without a terminator, so a read past the
     * end is caught by ASan */
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    struct cred c;
    cred_parse_bearer(buf, size, &c);
    check(&c, "bearer");
    cred_parse_query(buf, size, &c);
    check(&c, "query");
    if (c.kind == CRED_GUEST) {
        static const unsigned char secret[CRED_SECRET_LEN] = { 7 };
        char tok[65];
        cred_guest_token(secret, c.guest_id, tok);
        if (!cred_guest_valid(secret, c.guest_id, tok))
            FAIL("the computed guest token is not valid");
        tok[0] ^= 1;
        if (cred_guest_valid(secret, c.guest_id, tok))
            FAIL("a changed guest token is valid");
    }
    free(buf);
    return 0;
}
