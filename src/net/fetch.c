/* fetch — URL import over libcurl with limits and the SSRF guard (see fetch.h). Runs on
 * an offload thread; one easy handle per call; the caller owns the result. */
#include "net/fetch.h"
#include "net/ssrf.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct hop {
    const struct fetch_opts *o;
    char *buf;
    size_t len, cap;
    bool too_big, refused;
    char refused_addr[INET6_ADDRSTRLEN];
};

/* Whether the guard lets a fetch connect to this address. */
static bool allowed(const struct fetch_opts *o, const struct sockaddr *sa, const char *text)
{
    if (o->allow_private || ssrf_addr_is_public(sa))
        return true;
    size_t n = strlen(text);
    for (const char *p = o->allow; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t k = comma ? (size_t)(comma - p) : strlen(p);
        if (k == n && !strncmp(p, text, n))
            return true;
        p = comma ? comma + 1 : p + k;
    }
    return false;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct hop *h = ud;
    size_t k = size * n;
    if (h->len + k > h->o->max_bytes) {
        h->too_big = true;
        return 0;   /* aborts the transfer */
    }
    if (h->len + k + 1 > h->cap) {
        size_t cap = (h->len + k + 1) * 2;
        if (cap > h->o->max_bytes + 1)
            cap = h->o->max_bytes + 1;
        char *b = realloc(h->buf, cap);
        if (!b)
            return 0;
        h->buf = b;
        h->cap = cap;
    }
    memcpy(h->buf + h->len, p, k);
    h->len += k;
    h->buf[h->len] = '\0';
    return k;
}

static void addr_text(const struct sockaddr *sa, char *out, size_t n)
{
    const void *a = sa->sa_family == AF_INET ? (const void *)&((const struct sockaddr_in *)sa)->sin_addr
                                             : (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (!inet_ntop(sa->sa_family, a, out, (socklen_t)n))
        snprintf(out, n, "?");
}

/* The second lock: whatever curl is about to connect to must pass the same test. */
static curl_socket_t on_open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct hop *h = ud;
    char text[INET6_ADDRSTRLEN];
    addr_text(&a->addr, text, sizeof text);
    if (!allowed(h->o, &a->addr, text)) {
        h->refused = true;
        snprintf(h->refused_addr, sizeof h->refused_addr, "%s", text);
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

static long remaining_ms(const struct timespec *t0, long budget)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long used = (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
    return budget - used;
}

/* Checks the URL of one hop and builds the CURLOPT_RESOLVE entry that pins its host to
 * the addresses checked. 0, or the status to answer with. */
static int check_hop(const char *url, const struct fetch_opts *o, struct curl_slist **pin,
                     char *err, size_t errlen)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc = 400;
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        snprintf(err, errlen, "not a valid URL: %.200s", url);
        goto out;
    }
    if (strcasecmp(scheme, "http") && strcasecmp(scheme, "https")) {
        snprintf(err, errlen, "only http and https URLs can be imported (not %.20s:)", scheme);
        goto out;
    }
    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    char name[256];
    size_t hl = strlen(host);
    if (hl >= sizeof name) {
        snprintf(err, errlen, "the URL's host name is too long");
        goto out;
    }
    if (host[0] == '[' && hl > 2) {   /* an IPv6 literal */
        memcpy(name, host + 1, hl - 2);
        name[hl - 2] = '\0';
    } else {
        memcpy(name, host, hl + 1);
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
    rc = 422;
    if (getaddrinfo(name, NULL, &hints, &res) != 0 || !res) {
        snprintf(err, errlen, "cannot find the host %.200s", name);
        goto out;
    }
    char entry[1024], addr[INET6_ADDRSTRLEN];
    int n = snprintf(entry, sizeof entry, "%s:%s:", host[0] == '[' ? name : host, port ? port : "80");
    int count = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        addr_text(ai->ai_addr, addr, sizeof addr);
        if (!allowed(o, ai->ai_addr, addr)) {
            snprintf(err, errlen, "refusing to fetch %.200s: %.100s is %s, not a public address "
                     "(start the server with --allow-private-urls to allow it)", url, addr,
                     addr[0] == '1' && !strncmp(addr, "127.", 4) ? "a loopback address" : "private, local or reserved");
            freeaddrinfo(res);
            goto out;
        }
        if (n < (int)sizeof entry - 64 && count < 8)
            n += snprintf(entry + n, sizeof entry - (size_t)n, ai->ai_family == AF_INET6 ? "%s[%s]" : "%s%s",
                          count ? "," : "", addr), count++;
    }
    freeaddrinfo(res);
    if (!count) {
        snprintf(err, errlen, "cannot find the host %.200s", name);
        goto out;
    }
    *pin = curl_slist_append(NULL, entry);
    rc = *pin ? 0 : 422;
    if (rc)
        snprintf(err, errlen, "out of memory");
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

static void lower(char *s)
{
    for (; s && *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

/* One request without following redirects. Sets *status and *location (malloc'd) on a
 * redirect. 0, or the status to answer with. */
static int do_hop(CURL *c, const char *url, struct hop *h, long budget_left, long *status,
                  char **location, char **ctype, char *err, size_t errlen)
{
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, budget_left);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, budget_left < 10000 ? budget_left : 10000L);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, h);
    CURLcode cc = curl_easy_perform(c);
    if (h->refused) {
        snprintf(err, errlen, "refusing to fetch %.200s: %.60s is not a public address", url, h->refused_addr);
        return 422;
    }
    if (h->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
        snprintf(err, errlen, "the page at %.200s is larger than %zu MiB", url, h->o->max_bytes >> 20);
        return 422;
    }
    if (cc == CURLE_OPERATION_TIMEDOUT) {
        snprintf(err, errlen, "%.200s did not answer in time (%ld s)", url, (h->o->timeout_ms + 999) / 1000);
        return 422;
    }
    if (cc != CURLE_OK) {
        snprintf(err, errlen, "cannot fetch %.200s: %s", url, curl_easy_strerror(cc));
        return 422;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    char *loc = NULL, *ct = NULL;
    curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc);
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    *location = loc ? strdup(loc) : NULL;
    *ctype = ct ? strdup(ct) : NULL;
    lower(*ctype);
    return 0;
}

int fetch_url(const char *url, const struct fetch_opts *o, struct fetch_result *out,
              char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return 422;
    }
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_bytes);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");   /* the write limit counts decoded bytes */
    curl_easy_setopt(c, CURLOPT_USERAGENT, "recite (URL import)");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    char *cur = strdup(url);
    int rc = 0;
    for (int hops = 0; cur; hops++) {
        struct curl_slist *pin = NULL;
        struct hop h = { .o = o };
        long status = 0, left = remaining_ms(&t0, o->timeout_ms);
        char *location = NULL, *ctype = NULL;
        if (left <= 0) {
            snprintf(err, errlen, "%.200s did not answer in time (%ld s)", url, (o->timeout_ms + 999) / 1000);
            rc = 422;
        }
        if (!rc)
            rc = check_hop(cur, o, &pin, err, errlen);
        if (!rc) {
            curl_easy_setopt(c, CURLOPT_RESOLVE, pin);
            rc = do_hop(c, cur, &h, left, &status, &location, &ctype, err, errlen);
            curl_easy_setopt(c, CURLOPT_RESOLVE, NULL);
        }
        curl_slist_free_all(pin);
        if (!rc && status >= 300 && status < 400 && location) {
            if (hops + 1 > o->max_redirects) {
                snprintf(err, errlen, "too many redirects (more than %d) from %.200s", o->max_redirects, url);
                rc = 422;
            } else {
                free(cur);
                cur = location;
                location = NULL;
            }
        } else if (!rc && (status < 200 || status > 299)) {
            snprintf(err, errlen, "%.200s answered HTTP %ld", cur, status);
            rc = 422;
        } else if (!rc) {
            out->body = h.buf ? h.buf : strdup("");
            h.buf = NULL;
            out->len = h.len;
            out->content_type = ctype;
            ctype = NULL;
            out->final_url = cur;
            cur = NULL;
        }
        free(h.buf);
        free(location);
        free(ctype);
        if (rc)
            break;
    }
    free(cur);
    curl_easy_cleanup(c);
    if (rc)
        fetch_result_free(out);
    return rc;
}

void fetch_result_free(struct fetch_result *r)
{
    if (!r)
        return;
    free(r->body);
    free(r->content_type);
    free(r->final_url);
    memset(r, 0, sizeof *r);
}
