/* url_import — a URL to a document: fetch (fetch.h), pick the reader from the content type
 * (web page, plain text, markdown, PDF, EPUB; anything else refused), convert the text to
 * UTF-8 (charset.h), build. Blocking: runs on an offload thread. */
#ifndef RECITE_NET_URL_IMPORT_H
#define RECITE_NET_URL_IMPORT_H
#include "doc/doc.h"
#include "net/fetch.h"

/* The document (caller owns; *fmt says which reader built it), or NULL with the HTTP
 * status to answer in *status (400 bad URL, 422 anything about the resource) and a
 * message in err. title may be NULL. */
struct doc *url_import(const char *url, const struct fetch_opts *o, const char *title,
                       enum doc_format *fmt, int *status, char *err, size_t errlen);
#endif
