/* utf8 — strict UTF-8 validation, decoding and counting (see utf8.h). Pure, any thread.
 * Validation follows RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF,
 * so everything that passes can be handed to JSON, SQLite and the TTS engines as is. */
#include "util/utf8.h"

/* Length of the sequence a lead byte announces, or 0 for a byte that cannot lead. */
static int utf8_seq_len(unsigned char c)
{
    if (c < 0x80) return 1;
    if (c < 0xC2) return 0;   /* continuation byte, or C0/C1 (always overlong) */
    if (c < 0xE0) return 2;
    if (c < 0xF0) return 3;
    if (c < 0xF5) return 4;
    return 0;
}

/* Decodes one strictly valid sequence; returns its length or 0 if s does not start one. */
static int utf8_decode_strict(const unsigned char *s, size_t len, uint32_t *cp)
{
    int n = utf8_seq_len(s[0]);
    if (n == 0 || (size_t)n > len)
        return 0;
    if (n == 1) {
        *cp = s[0];
        return 1;
    }
    uint32_t c = s[0] & (0xFF >> (n + 1));
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    static const uint32_t min_for_len[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (c < min_for_len[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return n;
}

bool utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        if (p[i] < 0x80) {   /* ASCII fast path: most documents are mostly ASCII */
            i++;
            continue;
        }
        uint32_t cp;
        int n = utf8_decode_strict(p + i, len - i, &cp);
        if (n == 0)
            return false;
        i += (size_t)n;
    }
    return true;
}

size_t utf8_codepoints(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

size_t utf8_utf16_units(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) != 0x80)
            n += c >= 0xF0 ? 2 : 1;   /* 4-byte sequences are outside the BMP: a surrogate pair */
    }
    return n;
}

int utf8_decode(const char *s, size_t len, uint32_t *cp)
{
    if (len == 0) {   /* nothing to consume; callers loop while bytes remain */
        *cp = 0;
        return 0;
    }
    int n = utf8_decode_strict((const unsigned char *)s, len, cp);
    if (n > 0)
        return n;
    *cp = 0xFFFD;   /* invalid: consume one byte so a caller always makes progress */
    return 1;
}
