/* spool — a multipart upload's `file` part written to an unnamed file in the data directory
 * by the spooler thread (app->spooler, an offload pool of one), never by the service thread:
 * a disk that stalls stalls only that upload. The service thread copies each piece lws hands
 * it into a chunk and submits the chunk; with more than SPOOL_HIGH bytes not yet written the
 * connection stops being read (lws_rx_flow_control) until the spooler is below SPOOL_LOW, so
 * an upload never holds more than about a megabyte in memory. When the last write of a
 * finished body lands, the connection is asked for a WRITEABLE callback: the request is
 * answered from there (http.c), with every byte on disk.
 * Service thread only (the writes themselves run on the spooler thread). Ownership: the
 * session owns its spool (spool_close); writes in flight keep it alive until they end. */
#ifndef RECITE_SPOOL_H
#define RECITE_SPOOL_H
#include <stddef.h>

struct app;
struct lws;
struct spool;

#define SPOOL_CHUNK (64 * 1024)      /* pieces are gathered into writes of this size */
#define SPOOL_HIGH (1024 * 1024)     /* bytes not yet written: pause reading above this */
#define SPOOL_LOW (256 * 1024)       /* ...and read again below this */

/* An unnamed file in dir (O_TMPFILE: gone when closed, even after a crash; else a named one
 * unlinked at once). Uploads go to the data directory's disk, not /tmp, which may be memory.
 * NULL with errno on failure. */
struct spool *spool_open(struct app *app, struct lws *wsi, const char *dir);
/* Queues len bytes (copied). 0, or -1 if the spool has failed (spool_error) or cannot queue. */
int spool_write(struct spool *sp, const void *buf, size_t len);
/* Submits what is gathered (the body is complete). Returns 1 while writes are in flight (the
 * connection gets a WRITEABLE callback when the last lands), 0 when everything is written. */
int spool_flush(struct spool *sp);
int spool_busy(const struct spool *sp);        /* writes pending (NULL: none) */
/* errno of the first failed write (ENOSPC...), else 0. */
int spool_error(const struct spool *sp);
size_t spool_size(const struct spool *sp);     /* bytes accepted */
int spool_fd(const struct spool *sp);          /* its descriptor (still the spool's), or -1 */
/* The file's descriptor, taken (the caller closes it); only once nothing is in flight. -1 if
 * there is none. */
int spool_take_fd(struct spool *sp);
/* The session is done with it (accepts NULL): the file is closed when the writes in flight
 * end; the connection is never touched again. */
void spool_close(struct spool *sp);
#endif
