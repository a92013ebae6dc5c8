/* redis_url — see redis_url.h. A small strict parser: anything it does not understand is an
 * error with a message naming the part, never a silent default. Any thread. */
#include "jobs/redis_url.h"
#include "util/urldecode.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_num(const char *s, size_t n, int max, int *out)
{
    if (n == 0 || n > 9)
        return -1;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

int redis_url_parse(const char *s, struct redis_url *u, char *err, size_t errlen)
{
    static const char scheme[] = "redis://";
    memset(u, 0, sizeof *u);
    u->port = 6379;
    if (!s || strncmp(s, scheme, sizeof scheme - 1)) {
        snprintf(err, errlen, "the Redis URL must start with redis:// (got \"%.60s\")", s ? s : "");
        return -1;
    }
    const char *p = s + sizeof scheme - 1;
    const char *end = p + strcspn(p, "/?#");
    if (*end == '?' || *end == '#') {
        snprintf(err, errlen, "the Redis URL takes no query or fragment");
        return -1;
    }
    /* credentials: everything up to the last '@' before the path */
    const char *at = NULL;
    for (const char *q = p; q < end; q++)
        if (*q == '@')
            at = q;
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (!colon) {
            snprintf(err, errlen, "Redis URL credentials must be user:password@ or :password@");
            return -1;
        }
        if (url_decode(p, (size_t)(colon - p), u->user, sizeof u->user) < 0 ||
            url_decode(colon + 1, (size_t)(at - colon - 1), u->password, sizeof u->password) < 0) {
            snprintf(err, errlen, "bad user or password in the Redis URL");
            return -1;
        }
        p = at + 1;
    }
    /* host[:port] */
    const char *host = p, *host_end, *port = NULL;
    if (*p == '[') {
        host = p + 1;
        host_end = memchr(host, ']', (size_t)(end - host));
        if (!host_end) {
            snprintf(err, errlen, "unclosed [ in the Redis URL host");
            return -1;
        }
        if (host_end + 1 < end) {
            if (host_end[1] != ':') {
                snprintf(err, errlen, "unexpected text after ] in the Redis URL");
                return -1;
            }
            port = host_end + 2;
        }
    } else {
        host_end = memchr(p, ':', (size_t)(end - p));
        if (host_end)
            port = host_end + 1;
        else
            host_end = end;
    }
    size_t hn = (size_t)(host_end - host);
    if (hn == 0 || hn >= sizeof u->host) {
        snprintf(err, errlen, "the Redis URL has no host");
        return -1;
    }
    for (size_t i = 0; i < hn; i++)
        if (host[i] == '@' || host[i] == '%' || host[i] == ' ' || (host[i] == ':' && *p != '[')) {
            snprintf(err, errlen, "bad host in the Redis URL");
            return -1;
        }
    memcpy(u->host, host, hn);
    u->host[hn] = '\0';
    if (port && (parse_num(port, (size_t)(end - port), 65535, &u->port) || u->port == 0)) {
        snprintf(err, errlen, "bad port in the Redis URL (1-65535)");
        return -1;
    }
    /* /db */
    if (*end == '/') {
        const char *db = end + 1;
        size_t n = strlen(db);
        if (n && parse_num(db, n, 1000000, &u->db)) {
            snprintf(err, errlen, "bad database number in the Redis URL (got \"%.20s\")", db);
            return -1;
        }
    }
    return 0;
}

void redis_url_describe(const struct redis_url *u, char *out, size_t outlen)
{
    int v6 = strchr(u->host, ':') != NULL;
    snprintf(out, outlen, "%s%s%s:%d/%d", v6 ? "[" : "", u->host, v6 ? "]" : "", u->port, u->db);
}
