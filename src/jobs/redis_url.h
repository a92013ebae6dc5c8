/* redis_url — parses `redis://[[user]:password@]host[:port][/db]` (pure, no I/O). */
#ifndef RECITE_REDIS_URL_H
#define RECITE_REDIS_URL_H
#include <stddef.h>

struct redis_url {
    char host[256];       /* name or address; IPv6 given as [::1] is stored without brackets */
    int port;             /* default 6379 */
    int db;               /* default 0 */
    char user[128];       /* empty: none (AUTH password only) */
    char password[256];   /* empty: no AUTH */
};

/* 0 on success; -1 with a message in err. Percent-escapes are decoded in user and password. */
int redis_url_parse(const char *s, struct redis_url *u, char *err, size_t errlen);
/* "host:port/db" (no credentials) for log lines. */
void redis_url_describe(const struct redis_url *u, char *out, size_t outlen);
#endif
