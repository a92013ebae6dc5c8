/* server — creates the lws context with a single protocol that serves both HTTP and the
 * TTS WebSocket (a client naming no subprotocol is bound to the first protocol, so the TTS
 * protocol must be first, and it is the only one). Every lws call happens on this thread;
 * workers only call lws_cancel_service(), and their results are drained here on
 * LWS_CALLBACK_EVENT_WAIT_CANCELLED. Signal handlers only set a flag and wake the loop.
 *
 * The loop is libev's (epoll on Linux), handed to lws as a foreign loop, not lws's own
 * poll(): poll() walks every socket on every wake-up, which with 10,000 idle WebSockets
 * made each new request wait ~50 ms (measured, docs/BENCHMARKS.md, benchmark 4); with
 * epoll the cost of a wake-up does not grow with idle connections. */
#include "server/server.h"
#include "server/app.h"
#include "server/exports.h"
#include "server/auth.h"
#include "server/limits.h"
#include "server/http.h"
#include "server/pipeline.h"
#include "server/protocol.h"
#include "server/session.h"
#include "server/ws.h"
#include "jobs/queue.h"
#include "util/log.h"
#include <libwebsockets.h>
#include <ev.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static struct app *signal_app;
static struct ev_loop *loop;   /* the service thread's event loop (see the top) */

/* app->ctx is created and destroyed while workers and pool threads run and wake the loop:
 * they read it under wake_lock and the main thread swaps it under wake_lock, so a wake-up
 * never reaches a context being destroyed (ThreadSanitizer: a pool's completion during
 * shutdown read app->ctx while server_destroy_context cleared it). */
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;

void server_wake(struct app *app)
{
    pthread_mutex_lock(&wake_lock);
    if (app->ctx)
        lws_cancel_service(app->ctx);   /* a write() to the loop's pipe */
    pthread_mutex_unlock(&wake_lock);
}

static void set_ctx(struct app *app, struct lws_context *ctx)
{
    pthread_mutex_lock(&wake_lock);
    app->ctx = ctx;
    pthread_mutex_unlock(&wake_lock);
}

static void on_signal(int sig)
{
    (void)sig;
    if (signal_app) {
        signal_app->stopping = 1;
        if (signal_app->ctx)
            lws_cancel_service(signal_app->ctx);   /* a write() to the loop's pipe */
    }
}

struct reaper {
    lws_sorted_usec_list_t sul;
    struct app *app;
    unsigned ticks;
};
static struct reaper reaper;

/* The connection limit (--max-connections). Accepted connections (HTTP and WebSocket) are
 * counted from SERVER_NEW_CLIENT_INSTANTIATED to WSI_DESTROY, marked through the wsi's
 * opaque user data so other wsi (the listen socket, the event pipe) are never counted. A
 * connection over the limit is refused before lws adopts it: it gets a complete
 * `503 Service Unavailable` with a JSON error and Retry-After, and a lingering close (a
 * dup of the socket is kept for a second or two and drained) so that the request the
 * client has already sent does not turn the close into a reset that would destroy the 503
 * before the client reads it. Service thread only. */
#define LINGER_MAX 64
/* Descriptors kept free for everything that is not a client: SQLite (three per connection,
 * one connection per thread), espeak-ng's data files, the listen socket, the event loop,
 * the lingering refusals. */
#define FD_RESERVE (128 + LINGER_MAX)
struct limiter {
    int max;                    /* --max-connections, lowered to fit the descriptor limit */
    int live;                   /* accepted connections now open */
    int warned;                 /* the "limit reached" warning was logged */
    int linger_fd[LINGER_MAX];  /* refused sockets being drained, -1 when free */
    int linger_ticks[LINGER_MAX];
};
static struct limiter limiter;

static void drain_fd(int fd)
{
    char junk[4096];
    while (recv(fd, junk, sizeof junk, MSG_DONTWAIT) > 0)
        ;
}

static void refuse(struct app *app, int fd)
{
    char body[128], msg[512];
    int bl = snprintf(body, sizeof body,
                      "{\"error\":\"the server is at its connection limit (%d); try again shortly\"}",
                      limiter.max);
    int n = snprintf(msg, sizeof msg,
                     "HTTP/1.1 503 Service Unavailable\r\nserver: recite\r\n"
                     "content-type: application/json\r\ncontent-length: %d\r\n"
                     "retry-after: 1\r\nconnection: close\r\n\r\n%s", bl, body);
    drain_fd(fd);
    if (send(fd, msg, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
        return;
    shutdown(fd, SHUT_WR);
    for (int i = 0; i < LINGER_MAX; i++)
        if (limiter.linger_fd[i] < 0) {
            limiter.linger_fd[i] = dup(fd);   /* lws closes fd; this keeps the socket */
            limiter.linger_ticks[i] = 0;
            break;
        }
    if (!limiter.warned) {
        log_warn("connection limit (%d) reached: refusing new connections with 503",
                 limiter.max);
        limiter.warned = 1;
    }
}

/* Closes refused sockets after one to two timer ticks (or at shutdown: all). */
static void linger_tick(int all)
{
    for (int i = 0; i < LINGER_MAX; i++) {
        int fd = limiter.linger_fd[i];
        if (fd < 0)
            continue;
        drain_fd(fd);
        if (all || ++limiter.linger_ticks[i] >= 2) {
            close(fd);
            limiter.linger_fd[i] = -1;
        }
    }
}

/* The connection limit has to fit in the process's open-file limit: past it accept() fails
 * with EMFILE, which lws 4.1 logs and retries in a tight loop while new clients time out
 * (measured: 65% CPU, no answer). So the soft limit is raised towards the hard one, and if
 * it is still too small the connection limit is lowered to fit, with a warning. */
static int fit_fd_limit(int want, bool asked)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)want + FD_RESERVE;
    if (getrlimit(RLIMIT_NOFILE, &rl))
        return want;
    /* The soft limit becomes exactly what is needed, lowered as well as raised: lws sizes
     * its descriptor table by it and scans the whole table for every new connection
     * (sanity_assert_no_sockfd_traces, an assert Debian's build keeps), so a limit of a
     * million would cost a million pointer reads per accept (docs/BENCHMARKS.md, 3). */
    if (rl.rlim_cur != need) {
        struct rlimit set = rl;
        set.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need ? rl.rlim_max : need;
        if (!setrlimit(RLIMIT_NOFILE, &set))
            rl = set;
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return want;
    int fit = rl.rlim_cur > FD_RESERVE + 1 ? (int)(rl.rlim_cur - FD_RESERVE) : 1;
    /* said only to a user who asked for that many: the default is a ceiling, not a wish */
    log_msg(asked ? 1 : 3, "--max-connections %d does not fit in the open-file limit "
            "(%llu): using %d (raise it with `ulimit -n`)", want, (unsigned long long)rl.rlim_cur, fit);
    return fit;
}

static void reap_tick(lws_sorted_usec_list_t *sul)
{
    struct reaper *r = lws_container_of(sul, struct reaper, sul);
    linger_tick(0);
    r->app->queue->ops->reap(r->app->queue, queue_now_ms());
    pipeline_drain(r->app);
    limits_flush(r->app);                 /* synthesis charges: one transaction a second */
    auth_recheck(r->app);                 /* open sockets of revoked credentials close */
    if (++r->ticks % 3600 == 0)
        auth_expire_guests(r->app);       /* guests idle for 30 days */
    lws_sul_schedule(r->app->ctx, 0, &r->sul, reap_tick, LWS_US_PER_SEC);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct app *app = lws_context_user(lws_get_context(wsi));
    struct session *s = user;
    switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
        if (app && limiter.live >= limiter.max) {
            refuse(app, (int)(lws_intptr_t)in);
            return 1;   /* lws closes its descriptor */
        }
        return 0;
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED: {
        /* the mark of a counted connection, and what outlives its HTTP transactions */
        struct conn_meta *cm = calloc(1, sizeof *cm);
        if (!cm)
            return 1;
        lws_set_opaque_user_data(wsi, cm);
        limiter.live++;
        return 0;
    }
    case LWS_CALLBACK_WSI_DESTROY: {
        struct conn_meta *cm = lws_get_opaque_user_data(wsi);
        if (cm) {
            lws_set_opaque_user_data(wsi, NULL);
            free(cm);
            if (--limiter.live < limiter.max)
                limiter.warned = 0;
        }
        return 0;
    }
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        char uri[256];
        if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 || strcmp(uri, WS_PATH))
            return 1;   /* WebSocket only on /v1/ws/tts */
        int64_t user;
        if (app && auth_identify(app, wsi, &user))
            return auth_refuse_upgrade(wsi);   /* 401 with a JSON body, then close */
        return 0;
    }
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (app)
            pipeline_drain(app);
        return 0;
    case LWS_CALLBACK_ESTABLISHED:
    case LWS_CALLBACK_RECEIVE:
    case LWS_CALLBACK_SERVER_WRITEABLE:
    case LWS_CALLBACK_CLOSED:
        return ws_callback(app, wsi, (int)reason, s, in, len);
    case LWS_CALLBACK_HTTP:
    case LWS_CALLBACK_HTTP_BODY:
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
    case LWS_CALLBACK_HTTP_WRITEABLE:
    case LWS_CALLBACK_HTTP_FILE_COMPLETION:
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (!s)
            return lws_callback_http_dummy(wsi, reason, user, in, len);
        return http_callback(app, wsi, (int)reason, s, in, len);
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols protocols[] = {
    /* tx_packet_size: a response goes to the socket in one send (lws otherwise splits every
     * write at rx_buffer_size + 20 bytes: three sends for one 12 KiB block of audio). */
    { "recite-tts", callback, sizeof(struct session), 4096, 0, NULL, 256 * 1024 },
    { NULL, NULL, 0, 0, 0, NULL, 0 },
};

static void lws_log_line(int level, const char *line)
{
    log_msg(level == LLL_ERR ? 0 : level == LLL_WARN ? 1 : 3, "lws: %.*s", (int)strcspn(line, "\n"), line);
}

int server_run(struct app *app)
{
    const struct config *cfg = app->cfg;
    lws_set_log_level(LLL_ERR | (cfg->verbose ? LLL_WARN : 0), lws_log_line);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = cfg->port;
    info.iface = cfg->host;
    info.protocols = protocols;
    info.user = app;
    info.pt_serv_buf_size = 32 * 1024;   /* measured: 2.5x faster HTTP than the default 4 KiB */
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6;
    info.timeout_secs = 20;               /* slow or stalled HTTP requests are dropped */
    info.keepalive_timeout = cfg->keepalive_timeout_s > 0 ? cfg->keepalive_timeout_s : 1;
    limiter.max = fit_fd_limit(cfg->max_connections, config_given(cfg, "max-connections"));
    /* fd_limit_per_thread stays 0: lws then sizes its tables by the open-file limit just
     * set and finds a connection by indexing with its descriptor. A nonzero value makes it
     * search the whole table instead, on every event (measured: 2.5x fewer requests/s). */
    info.vhost_name = "recite";
    info.server_string = "recite";

    limiter.live = 0;
    limiter.warned = 0;
    for (int i = 0; i < LINGER_MAX; i++)
        limiter.linger_fd[i] = -1;
    void *foreign_loops[1] = { loop = ev_loop_new(EVFLAG_AUTO) };
    if (!loop) {
        log_error("cannot create the event loop");
        return -1;
    }
    info.options |= LWS_SERVER_OPTION_LIBEV;
    info.foreign_loops = foreign_loops;
    set_ctx(app, lws_create_context(&info));
    if (!app->ctx) {
        log_error("cannot listen on %s:%d (is the port in use?)", cfg->host, cfg->port);
        ev_loop_destroy(loop);
        loop = NULL;
        return -1;
    }
    signal_app = app;
    /* The saved export jobs come back before anyone is served; only now, because a resumed
     * job's task wakes the loop through app->ctx. */
    if (app->exports && exports_resume(app)) {
        log_error("cannot read the saved export jobs");
        return -1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    reaper.app = app;
    lws_sul_schedule(app->ctx, 0, &reaper.sul, reap_tick, LWS_US_PER_SEC);

    printf("recite listening on http://%s:%d\n", cfg->host, cfg->port);
    fflush(stdout);
    while (!app->stopping)
        ev_run(loop, EVRUN_ONCE);   /* returns after each batch of events (or a wake-up) */
    log_info("shutting down");
    lws_sul_cancel(&reaper.sul);
    linger_tick(1);
    return 0;
}

void server_destroy_context(struct app *app)
{
    struct lws_context *ctx = app->ctx;
    if (ctx) {
        set_ctx(app, NULL);   /* no wake-up reaches it from now on */
        lws_context_destroy(ctx);
    }
    if (loop) {
        ev_loop_destroy(loop);
        loop = NULL;
    }
    signal_app = NULL;
}
