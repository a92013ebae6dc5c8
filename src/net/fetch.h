/* fetch — one URL import: GET a web page or document with libcurl under limits, with the
 * SSRF guard on every hop. Blocking: runs on an offload thread, never the service thread.
 *
 * Redirects are followed here, not by curl, so each hop is checked: http/https only; the
 * host resolved first and refused if any address is loopback, private, link-local or
 * otherwise not public (ssrf.h) unless allow_private; the checked addresses pinned with
 * CURLOPT_RESOLVE so curl connects to exactly those, and the socket callback refuses any
 * other as a second lock. No proxy from the environment, no cookies, no other protocols. */
#ifndef RECITE_NET_FETCH_H
#define RECITE_NET_FETCH_H
#include <stdbool.h>
#include <stddef.h>

struct fetch_opts {
    size_t max_bytes;      /* body limit (decoded) */
    long timeout_ms;       /* whole fetch, all hops */
    int max_redirects;     /* 5 */
    bool allow_private;    /* --allow-private-urls: tests and trusted intranets */
    const char *allow;     /* --url-allow: numeric addresses exempt, comma-separated; NULL */
};

struct fetch_result {
    char *body;            /* malloc'd, NUL-terminated; len bytes */
    size_t len;
    char *content_type;    /* the response's, lowercased, parameters kept; may be NULL */
    char *final_url;       /* after redirects */
};

/* 0 on success. Otherwise the HTTP status to answer with (400 for a bad URL, 422 for
 * everything about the remote resource) and a message for the user in err. */
int fetch_url(const char *url, const struct fetch_opts *o, struct fetch_result *out,
              char *err, size_t errlen);
void fetch_result_free(struct fetch_result *r);
#endif
