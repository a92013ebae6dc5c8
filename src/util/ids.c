/* ids — sha256 via OpenSSL's EVP (already linked by libwebsockets), UUIDs from getrandom(). */
#include "util/ids.h"
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

void ids_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
    out[64] = '\0';
}

void ids_upload_hash(const char *text, const char *model, const char *voice, long long user,
                     char out[65])
{
    char params[48];
    snprintf(params, sizeof params, "src=browser,user=%lld", user);
    ids_variant_hash(text, model, voice, params, out);
}

void ids_variant_hash(const char *text, const char *model, const char *voice,
                      const char *params, char out[65])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[32];
    unsigned int n = 0;
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    EVP_DigestUpdate(ctx, text, strlen(text));
    EVP_DigestUpdate(ctx, "|", 1);
    EVP_DigestUpdate(ctx, model, strlen(model));
    EVP_DigestUpdate(ctx, "|", 1);
    EVP_DigestUpdate(ctx, voice, strlen(voice));
    EVP_DigestUpdate(ctx, "|", 1);
    EVP_DigestUpdate(ctx, params ? params : "", params ? strlen(params) : 0);
    EVP_DigestFinal_ex(ctx, md, &n);
    EVP_MD_CTX_free(ctx);
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
    out[64] = '\0';
}

void ids_uuid(char out[37])
{
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t r = getrandom(b + got, sizeof b - got, 0);
        if (r > 0)
            got += (size_t)r;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
}

static bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

bool ids_is_uuid(const char *s)
{
    if (!s || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!is_lower_hex(s[i])) {
            return false;
        }
    }
    return true;
}

bool ids_is_hash(const char *s)
{
    if (!s || strlen(s) != 64)
        return false;
    for (int i = 0; i < 64; i++)
        if (!is_lower_hex(s[i]))
            return false;
    return true;
}
