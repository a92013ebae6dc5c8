/* fuzz_http — libFuzzer target for everything a client can send over TCP: the real
 * server (libwebsockets, http.c routing and path parsing, api_*.c, Range on
 * /v1/audio/{hash}, multipart/form-data uploads through lws_spa, static files, the
 * WebSocket upgrade and frames into ws.c and the pipeline) runs on its own service thread
 * exactly as `recite serve` does, with no workers, on a free loopback port.
 *
 * lws_spa (the multipart parser) needs a live wsi with parsed headers, so it cannot be
 * called on a buffer; it is fuzzed here, through real requests.
 *
 * One input = the bytes of one TCP connection: they are written, the write side is shut,
 * and the reply is read until the server closes. Checked: the server never crashes or
 * trips a sanitizer (on any thread), answers with an HTTP/1.x status line if it answers
 * at all, and closes the connection within HANG_MS of the client's end of input (a
 * connection left hanging after EOF would be a resource leak). */
#include "fuzz_common.h"
#include "config.h"
#include "doc/doc.h"
#include "engines/engine.h"
#include "jobs/queue.h"
#include "server/app.h"
#include "server/conns.h"
#include "server/hotcache.h"
#include "server/offload.h"
#include "server/exports.h"
#include "server/waiters.h"
#include "server/server.h"
#include "store/store.h"
#include "util/ids.h"
#include <arpa/inet.h>
#include <errno.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#define FAIL(...) do { fprintf(stderr, "fuzz_http: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)
#define HANG_MS 5000

#define DOC_A "00000000-0000-4000-8000-00000000000a"

static struct app app;
static struct config cfg;
static pthread_t service;
static volatile int listening;

static void wake_loop(void *arg)
{
    struct app *a = arg;
    if (a->ctx)
        lws_cancel_service(a->ctx);
}

static void *service_main(void *arg)
{
    (void)arg;
    listening = 1;   /* server_run prints when it listens; connect() retries until then */
    server_run(&app);
    return NULL;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (struct sockaddr *)&a, &len))
        FAIL("setup: no free port");
    close(fd);
    return ntohs(a.sin_port);
}

static int connect_server(void)
{
    for (int tries = 0; tries < 200; tries++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)cfg.port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        if (fd >= 0 && !connect(fd, (struct sockaddr *)&a, sizeof a)) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            return fd;
        }
        if (fd >= 0)
            close(fd);
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    FAIL("cannot connect to the server on port %d", cfg.port);
}

static void *pool_store_open(void *arg, char *err, size_t errlen) { return store_open(arg, err, errlen); }
static void pool_store_close(void *ctx) { store_close(ctx); }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    char err[256] = "";
    log_set_level(-1);
    cfg.cmd = CMD_SERVE;
    cfg.host = "127.0.0.1";
    cfg.port = free_port();
    cfg.data_dir = (char *)fuzz_make_dir();
    cfg.workers = 0;
    cfg.buffer_behind = 8;
    cfg.buffer_ahead = 16;
    cfg.visibility_timeout_s = 30;
    cfg.max_body_mb = 1;
    cfg.hot_cache_mb = 4;
    cfg.max_connections = 64;
    /* {"url": ...} imports never leave the machine while fuzzing: with no time budget a
     * fetch gives up before it resolves a name or opens a socket */
    cfg.url_timeout_s = 0;
    cfg.allow_private_urls = 0;
    app.cfg = &cfg;
    const char *web = getenv("RECITE_WEB");
    snprintf(app.web_dir, sizeof app.web_dir, "%s", web ? web : "web");
    if (engines_init(err, sizeof err) <= 0)
        FAIL("setup: no engine: %s", err);
    if (!(app.store = store_open(cfg.data_dir, err, sizeof err)))
        FAIL("setup: store: %s", err);
    app.hot = hotcache_create((size_t)cfg.hot_cache_mb << 20);
    app.conns = conns_create();
    app.queue = memqueue_create(30000, 3, wake_loop, &app);
    app.waiters = waiters_create();
    app.exports = exports_create();
    if (!app.hot || !app.conns || !app.queue || !app.waiters || !app.exports)
        FAIL("setup: out of memory");
    /* document creation and conversions run on the pool, as in `recite serve` */
    struct offload_config ocfg = { .threads = 1, .notify = wake_loop, .notify_arg = &app,
                                   .thread_init = pool_store_open, .thread_arg = cfg.data_dir,
                                   .thread_fini = pool_store_close };
    if (!(app.offload = offload_create(&ocfg, err, sizeof err)))
        FAIL("setup: offload pool: %s", err);
    app.writer = app.offload;   /* one thread: ordered, as the server's writer */
    app.spooler = app.offload;  /* upload writes never block, so sharing the thread is safe */
    /* one known document and one stored audio, so seeds can name them */
    const char *md = "# Title\n\nFirst paragraph.\n\nSecond paragraph, with more words.\n";
    struct doc *d = doc_build(md, strlen(md), DOC_MARKDOWN, NULL, err, sizeof err);
    if (!d || store_doc_insert(app.store, STORE_FIRST_USER, DOC_A, "markdown", d, (int64_t)time(NULL)))
        FAIL("setup: document");
    struct audio_record a = { .duration_ms = 1000, .len = 64, .word_timings = NULL };
    unsigned char bytes[64];
    for (int i = 0; i < 64; i++)
        bytes[i] = (unsigned char)i;
    a.data = bytes;
    /* sha256("fuzz") is not needed: any 64-hex id; this one is in the seeds */
    snprintf(a.hash, sizeof a.hash, "%s", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    snprintf(a.model, sizeof a.model, "espeak");
    snprintf(a.voice, sizeof a.voice, "en-us");
    if (store_audio_put(app.store, &a))
        FAIL("setup: audio");
    doc_destroy(d);
    if (pthread_create(&service, NULL, service_main, NULL))
        FAIL("setup: thread");
    while (!listening)
        sched_yield();
    close(connect_server());   /* wait until the port accepts */
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = connect_server();
    size_t off = 0;
    char head[16];
    size_t got = 0, total = 0;
    int64_t deadline = 0;
    int eof = 0;
    /* write everything (the server may answer and close early: that is fine), read as we go */
    while (!eof) {
        if (off == size && !deadline) {
            shutdown(fd, SHUT_WR);
            deadline = now_ms() + HANG_MS;
        }
        struct pollfd p = { .fd = fd, .events = POLLIN | (off < size ? POLLOUT : 0) };
        int wait = deadline ? (int)(deadline - now_ms()) : HANG_MS;
        if (wait < 0 || poll(&p, 1, wait) == 0) {
            if (deadline)
                FAIL("the server kept the connection open %d ms after the client's EOF "
                     "(%zu bytes sent, %zu received)", HANG_MS, size, total);
            FAIL("the server stopped reading for %d ms (%zu of %zu bytes sent)", HANG_MS, off, size);
        }
        if (p.revents & POLLOUT) {
            ssize_t n = send(fd, data + off, size - off, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0)
                off += (size_t)n;
            else if (n < 0 && errno != EAGAIN && errno != EINTR)
                off = size;   /* the server closed on us: stop writing, read the rest */
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            char buf[65536];
            ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n > 0) {
                if (got < sizeof head) {
                    size_t k = (size_t)n < sizeof head - got ? (size_t)n : sizeof head - got;
                    memcpy(head + got, buf, k);
                    got += k;
                }
                total += (size_t)n;
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                eof = 1;
            }
        }
    }
    close(fd);
    if (got >= 7 && memcmp(head, "HTTP/1.", 7))
        FAIL("the reply does not start with an HTTP/1.x status line: %.*s", (int)got, head);
    return 0;
}
