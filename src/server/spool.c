/* spool — multipart upload bytes to disk off the service thread (see spool.h).
 *
 * Threads: spool_* and write_done run on the service thread; write_work on the spooler
 * thread, touching only its chunk and the descriptor (which stays open while any chunk
 * holds a reference). Every other field is the service thread's, so there is no lock: the
 * outcome of a write reaches the spool in write_done.
 * Ownership: the spool is freed when the session has closed it and no chunk refers to it;
 * a chunk (an offload task) is freed by write_done. */
#include "server/spool.h"
#include "server/app.h"
#include "server/offload.h"
#include "util/fault.h"
#include "util/log.h"
#include <errno.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct spool {
    struct app *app;
    struct lws *wsi;     /* NULL once closed */
    int fd;              /* -1 once taken */
    int refs;            /* the session's + one per chunk in flight */
    size_t accepted;     /* bytes handed to spool_write */
    size_t inflight;     /* bytes submitted, not yet written */
    int chunks;          /* chunks submitted, not yet done */
    int err;             /* errno of the first failed write */
    int paused;          /* reading the connection is paused (lws_rx_flow_control) */
    int want_drained;    /* spool_flush said "busy": wake the connection when all is written */
    struct chunk *gather;   /* being filled, not yet submitted */
    struct chunk *spare;    /* written chunks kept for reuse */
};

struct chunk {
    struct offload_task task;
    struct spool *sp;
    struct chunk *next_spare;
    int fd;
    int err;             /* out: errno, 0 if written whole */
    size_t len;
    unsigned char data[SPOOL_CHUNK];
};

static void spool_unref(struct spool *sp)
{
    if (--sp->refs > 0)
        return;
    if (sp->fd >= 0)
        close(sp->fd);
    free(sp->gather);
    for (struct chunk *c = sp->spare, *n; c; c = n) {
        n = c->next_spare;
        free(c);
    }
    free(sp);
}

struct spool *spool_open(struct app *app, struct lws *wsi, const char *dir)
{
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
        char path[4096];
        snprintf(path, sizeof path, "%s/.upload-XXXXXX", dir);
        fd = mkostemp(path, O_CLOEXEC);
        if (fd >= 0)
            unlink(path);
    }
    if (fd < 0)
        return NULL;
    struct spool *sp = calloc(1, sizeof *sp);
    if (!sp) {
        close(fd);
        errno = ENOMEM;
        return NULL;
    }
    *sp = (struct spool){ .app = app, .wsi = wsi, .fd = fd, .refs = 1 };
    return sp;
}

static void write_work(struct offload_task *t, void *ctx)
{
    struct chunk *c = offload_container(t, struct chunk, task);
    fault_slow_disk();   /* tests: a disk slower than the network */
    for (size_t off = 0; off < c->len;) {
        ssize_t n = write(c->fd, c->data + off, c->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            c->err = n < 0 ? errno : EIO;
            return;
        }
        off += (size_t)n;
    }
}

static void write_done(struct offload_task *t, int status)
{
    struct chunk *c = offload_container(t, struct chunk, task);
    struct spool *sp = c->sp;
    sp->inflight -= c->len;
    sp->chunks--;
    if (c->err && !sp->err)
        sp->err = c->err;
    /* kept for the next pieces: an upload reuses the same ~20 buffers instead of allocating
     * one per 64 KiB (which also keeps a sanitizer's quarantine from holding them all) */
    c->next_spare = sp->spare;
    sp->spare = c;
    if (status == 0 && sp->wsi) {   /* still the session's, and the loop runs */
        if (sp->paused && (sp->inflight < SPOOL_LOW || sp->err)) {
            /* outside this connection's own callback: apply the change now */
            lws_rx_flow_control(sp->wsi, 1 | LWS_RXFLOW_REASON_FLAG_PROCESS_NOW);
            sp->paused = 0;
        }
        if (sp->want_drained && !sp->chunks) {
            sp->want_drained = 0;
            lws_callback_on_writable(sp->wsi);   /* http.c answers from WRITEABLE */
        }
    }
    spool_unref(sp);
}

static int submit(struct spool *sp)
{
    struct chunk *c = sp->gather;
    sp->gather = NULL;
    if (!c || !c->len) {
        free(c);
        return 0;
    }
    c->sp = sp;
    c->fd = sp->fd;
    c->err = 0;
    size_t len = c->len;
    if (offload_submit(sp->app->spooler, &c->task, write_work, write_done) < 0) {
        free(c);
        sp->err = ESHUTDOWN;
        return -1;
    }
    sp->refs++;
    sp->chunks++;
    sp->inflight += len;
    if (!sp->paused && sp->inflight > SPOOL_HIGH && sp->wsi) {
        lws_rx_flow_control(sp->wsi, 0);   /* the disk is behind the network: stop reading */
        sp->paused = 1;
        METRIC_ADD(&sp->app->metrics, upload_pauses, 1);
    }
    return 0;
}

int spool_write(struct spool *sp, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    while (len > 0) {
        if (sp->err || sp->fd < 0)
            return -1;
        if (!sp->gather) {
            if (sp->spare) {
                sp->gather = sp->spare;
                sp->spare = sp->spare->next_spare;
            } else if (!(sp->gather = malloc(sizeof *sp->gather))) {
                sp->err = ENOMEM;
                return -1;
            }
            sp->gather->len = 0;
        }
        struct chunk *c = sp->gather;
        size_t n = SPOOL_CHUNK - c->len < len ? SPOOL_CHUNK - c->len : len;
        memcpy(c->data + c->len, p, n);
        c->len += n;
        sp->accepted += n;
        p += n;
        len -= n;
        if (c->len == SPOOL_CHUNK && submit(sp) < 0)
            return -1;
    }
    return 0;
}

int spool_flush(struct spool *sp)
{
    submit(sp);
    sp->want_drained = sp->chunks > 0;
    return sp->want_drained;
}

int spool_busy(const struct spool *sp) { return sp && (sp->chunks > 0 || (sp->gather && sp->gather->len)); }
int spool_fd(const struct spool *sp) { return sp ? sp->fd : -1; }
int spool_error(const struct spool *sp) { return sp->err; }
size_t spool_size(const struct spool *sp) { return sp->accepted; }

int spool_take_fd(struct spool *sp)
{
    if (!sp || spool_busy(sp))
        return -1;
    int fd = sp->fd;
    sp->fd = -1;
    return fd;
}

void spool_close(struct spool *sp)
{
    if (!sp)
        return;
    sp->wsi = NULL;   /* the connection is going: never touch it again */
    spool_unref(sp);
}
