/* credentials — see credentials.h. OpenSSL (libcrypto, already linked) for sha256, HMAC,
 * RAND_bytes and CRYPTO_memcmp. Any thread; no state. */
#include "auth/credentials.h"
#include "util/ids.h"
#include "util/urldecode.h"
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static void hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

int cred_token_new(char out[CRED_TOKEN_LEN + 1])
{
    unsigned char r[32];
    if (RAND_bytes(r, sizeof r) != 1)
        return -1;
    memcpy(out, "rct_", 4);
    hex(r, sizeof r, out + 4);
    return 0;
}

void cred_token_hash(const char *token, char out[65])
{
    ids_sha256_hex(token, strlen(token), out);
}

void cred_guest_token(const unsigned char secret[CRED_SECRET_LEN], const char *guest_id,
                      char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(EVP_sha256(), secret, CRED_SECRET_LEN, (const unsigned char *)guest_id,
         strlen(guest_id), md, &n);
    hex(md, 32, out);
}

int cred_guest_valid(const unsigned char secret[CRED_SECRET_LEN], const char *guest_id,
                     const char *token)
{
    char want[65];
    if (strlen(token) != CRED_GUEST_TOKEN_LEN)
        return 0;
    cred_guest_token(secret, guest_id, want);
    return CRYPTO_memcmp(want, token, CRED_GUEST_TOKEN_LEN) == 0;
}

int cred_secret_load(const char *dir, unsigned char secret[CRED_SECRET_LEN], char *err,
                     size_t errlen)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/secret", dir) >= sizeof path) {
        snprintf(err, errlen, "data directory path too long");
        return -1;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            ssize_t n = read(fd, secret, CRED_SECRET_LEN);
            close(fd);
            if (n == CRED_SECRET_LEN)
                return 0;
            /* a secret still being written by a server starting at the same moment */
            usleep(100 * 1000);
            continue;
        }
        if (errno != ENOENT)
            break;
        unsigned char r[CRED_SECRET_LEN];
        char tmp[4160];
        snprintf(tmp, sizeof tmp, "%s.%d", path, (int)getpid());
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || RAND_bytes(r, sizeof r) != 1 || write(fd, r, sizeof r) != (ssize_t)sizeof r ||
            fsync(fd) != 0) {
            if (fd >= 0)
                close(fd);
            unlink(tmp);
            break;
        }
        close(fd);
        /* link() fails if another process created the secret first: then read theirs */
        int linked = link(tmp, path) == 0;
        unlink(tmp);
        if (linked) {
            memcpy(secret, r, CRED_SECRET_LEN);
            return 0;
        }
    }
    snprintf(err, errlen, "cannot read or create %s: %s", path, strerror(errno ? errno : EIO));
    return -1;
}

void cred_parse_bearer(const char *value, size_t len, struct cred *out)
{
    memset(out, 0, sizeof *out);
    out->kind = CRED_BAD;
    while (len && (*value == ' ' || *value == '\t')) {
        value++;
        len--;
    }
    while (len && (value[len - 1] == ' ' || value[len - 1] == '\t'))
        len--;
    if (len < 7 || strncasecmp(value, "bearer ", 7))
        return;
    value += 7;
    len -= 7;
    while (len && *value == ' ') {
        value++;
        len--;
    }
    if (len == CRED_GUEST_ID_LEN + 1 + CRED_GUEST_TOKEN_LEN && value[CRED_GUEST_ID_LEN] == ':') {
        memcpy(out->guest_id, value, CRED_GUEST_ID_LEN);
        memcpy(out->guest_token, value + CRED_GUEST_ID_LEN + 1, CRED_GUEST_TOKEN_LEN);
        if (ids_is_uuid(out->guest_id) && all_hex(out->guest_token, CRED_GUEST_TOKEN_LEN))
            out->kind = CRED_GUEST;
        else
            memset(out, 0, sizeof *out), out->kind = CRED_BAD;
        return;
    }
    if (len != CRED_TOKEN_LEN || memcmp(value, "rct_", 4) || !all_hex(value + 4, 64))
        return;
    memcpy(out->token, value, len);
    out->token[len] = '\0';
    out->kind = CRED_TOKEN;
}

void cred_parse_query(const char *query, size_t len, struct cred *out)
{
    memset(out, 0, sizeof *out);
    int have_token = 0, have_id = 0, have_gtok = 0;
    const char *p = query, *end = query + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        if (eq) {
            size_t klen = (size_t)(eq - p), vlen = (size_t)(stop - eq - 1);
            char *dst = NULL;
            size_t cap = 0;
            int *seen = NULL;
            if (klen == 5 && !memcmp(p, "token", 5)) {
                dst = out->token, cap = sizeof out->token, seen = &have_token;
            } else if (klen == 12 && !memcmp(p, "anonymous_id", 12)) {
                dst = out->guest_id, cap = sizeof out->guest_id, seen = &have_id;
            } else if (klen == 15 && !memcmp(p, "anonymous_token", 15)) {
                dst = out->guest_token, cap = sizeof out->guest_token, seen = &have_gtok;
            }
            if (dst && (*seen || url_decode(eq + 1, vlen, dst, cap) < 0))
                goto bad;
            if (seen)
                *seen = 1;
        }
        p = stop + (amp ? 1 : 0);
    }
    if (have_token && (have_id || have_gtok))
        goto bad;
    if (have_token) {
        if (strlen(out->token) != CRED_TOKEN_LEN || memcmp(out->token, "rct_", 4) ||
            !all_hex(out->token + 4, 64))
            goto bad;
        out->kind = CRED_TOKEN;
        return;
    }
    if (have_id || have_gtok) {
        if (!have_id || !have_gtok || !ids_is_uuid(out->guest_id) ||
            strlen(out->guest_token) != CRED_GUEST_TOKEN_LEN ||
            !all_hex(out->guest_token, CRED_GUEST_TOKEN_LEN))
            goto bad;
        out->kind = CRED_GUEST;
        return;
    }
    out->kind = CRED_NONE;
    return;
bad:
    memset(out, 0, sizeof *out);
    out->kind = CRED_BAD;
}
