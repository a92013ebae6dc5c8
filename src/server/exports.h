/* exports — "Export audio" as a server job: GET /v1/documents/{id}/export?format=&model=&voice=
 * starts (or finds) the export of a document to .m4b/.mp3/.ogg; /export/status follows it;
 * /export/file downloads it. Blocks the cache lacks go through the TTS queue as requesters
 * of kind REQ_EXPORT (deduplicated with readers, served fairly among them, a window of a
 * few at a time), then an offload task assembles the book from the cached audio
 * (export_book.c). The job lives in the server, not the page: a reload finds it again, and
 * in the store: a restart serves a finished export again and resumes an unfinished one.
 * Service thread only (the tasks' work runs on offload threads). */
#ifndef RECITE_EXPORTS_H
#define RECITE_EXPORTS_H
#include <stdint.h>

struct app;
struct http_req;
struct job_event;
struct exports;

struct exports *exports_create(void);
void exports_destroy(struct exports *x);   /* accepts NULL; files already written stay */
/* Start-up (server_run), once the lws context exists and before the loop serves: the
 * saved jobs come back — finished ones are served again, unfinished ones start over on the
 * cached audio (a model or voice no longer offered fails them with that reason) — and files
 * in DATA/exports/ that no finished job names are removed. 0, or -1 if the store failed. */
int exports_resume(struct app *app);

/* /v1/documents/{id}/export[/status|/file]: rest is "" , "/status" or "/file". */
int exports_route(struct http_req *r, const char *doc_id, const char *rest);
/* A document was deleted: its exports are dropped (running ones stop, files are removed). */
void exports_forget(struct app *app, int64_t user_id, const char *doc_id);
/* Documents went without a request (guests expired with theirs): their exports are dropped
 * as by exports_forget. One indexed read per job (the service thread's, hourly). */
void exports_prune(struct app *app);
/* pipeline_drain: a job event for the REQ_EXPORT requester `id` (block idx). */
void exports_on_event(struct app *app, const struct job_event *ev, uint64_t id, int idx);
#endif
