/* doc_create — POST /v1/documents, built and stored on the offload pool (see doc_create.c). */
#ifndef RECITE_DOC_CREATE_H
#define RECITE_DOC_CREATE_H

struct http_req;

/* Service thread: hands the request's body to a pool thread; the request is answered when
 * the document is stored (201) or refused. Returns what the HTTP callback must return. */
int docs_create_start(struct http_req *r);
#endif
