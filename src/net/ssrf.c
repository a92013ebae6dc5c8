/* ssrf — the public-address test for URL imports (see ssrf.h). Pure, any thread. */
#include "net/ssrf.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

static bool v4_is_public(uint32_t a)   /* host byte order */
{
    static const struct { uint32_t net; int bits; } blocked[] = {
        { 0x00000000, 8 },  /* "this network" */
        { 0x0a000000, 8 },  /* 10/8 private */
        { 0x64400000, 10 }, /* 100.64/10 carrier-grade NAT */
        { 0x7f000000, 8 },  /* loopback */
        { 0xa9fe0000, 16 }, /* 169.254/16 link-local: cloud metadata */
        { 0xac100000, 12 }, /* 172.16/12 private */
        { 0xc0000000, 24 }, /* 192.0.0/24 IETF protocol assignments */
        { 0xc0000200, 24 }, /* 192.0.2/24 TEST-NET-1 */
        { 0xc0586300, 24 }, /* 192.88.99/24 6to4 relay */
        { 0xc0a80000, 16 }, /* 192.168/16 private */
        { 0xc6120000, 15 }, /* 198.18/15 benchmarking */
        { 0xc6336400, 24 }, /* 198.51.100/24 TEST-NET-2 */
        { 0xcb007100, 24 }, /* 203.0.113/24 TEST-NET-3 */
        { 0xe0000000, 4 },  /* multicast */
        { 0xf0000000, 4 },  /* reserved, broadcast */
    };
    for (size_t i = 0; i < sizeof blocked / sizeof blocked[0]; i++) {
        uint32_t mask = 0xffffffffu << (32 - blocked[i].bits);
        if ((a & mask) == blocked[i].net)
            return false;
    }
    return true;
}

static uint32_t v4_at(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool v6_is_public(const uint8_t *a)
{
    static const uint8_t zero[12] = { 0 };
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    static const uint8_t nat64[12] = { 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };
    if (!memcmp(a, mapped, 12) || !memcmp(a, nat64, 12) || !memcmp(a, zero, 12))
        return v4_is_public(v4_at(a + 12)) && memcmp(a, zero, 12) != 0;   /* ::/96 (::1, ::) never */
    if ((a[0] & 0xfe) == 0xfc)                 /* fc00::/7 unique local */
        return false;
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) /* fe80::/10 link-local */
        return false;
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) /* fec0::/10 site-local (deprecated) */
        return false;
    if (a[0] == 0xff)                          /* multicast */
        return false;
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)   /* 2001:db8::/32 docs */
        return false;
    if (a[0] == 0x20 && a[1] == 0x02)          /* 2002::/16 6to4: the v4 inside decides */
        return v4_is_public(v4_at(a + 2));
    if (a[0] == 0x01 && a[1] == 0 && !memcmp(a + 2, zero, 6))   /* 100::/64 discard */
        return false;
    return true;
}

bool ssrf_addr_is_public(const struct sockaddr *sa)
{
    if (!sa)
        return false;
    if (sa->sa_family == AF_INET)
        return v4_is_public(ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr));
    if (sa->sa_family == AF_INET6)
        return v6_is_public(((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr);
    return false;
}

bool ssrf_text_is_public(const char *addr)
{
    struct sockaddr_in v4 = { .sin_family = AF_INET };
    struct sockaddr_in6 v6 = { .sin6_family = AF_INET6 };
    if (inet_pton(AF_INET, addr, &v4.sin_addr) == 1)
        return ssrf_addr_is_public((struct sockaddr *)&v4);
    if (inet_pton(AF_INET6, addr, &v6.sin6_addr) == 1)
        return ssrf_addr_is_public((struct sockaddr *)&v6);
    return false;
}
