/* worker_main — `recite worker --redis URL [--workers N]`: a process that needs nothing but
 * Redis (no database, no HTTP). It starts N worker threads (redis_worker.c), prints one line
 * `recite worker ready: ...` once Redis answers, and runs until SIGINT/SIGTERM, when running
 * jobs finish and deliver their results before it exits 0. If Redis goes away the threads
 * reconnect with backoff; nothing needs restarting. Main thread: signals and the summary. */
#include "worker_main.h"
#include "engines/engine.h"
#include "jobs/redis_conn.h"
#include "jobs/redis_url.h"
#include "jobs/redis_worker.h"
#include "util/log.h"
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void nap(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

int worker_main(const struct config *cfg)
{
    char err[256] = "", where[300];
    struct redis_url url;
    if (redis_url_parse(cfg->redis, &url, err, sizeof err)) {
        fprintf(stderr, "recite worker: %s\n", err);
        config_usage(stderr, CMD_WORKER);
        return 2;
    }
    if (cfg->workers < 1) {
        fprintf(stderr, "recite worker: --workers must be at least 1\n");
        return 2;
    }
    redis_url_describe(&url, where, sizeof where);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);   /* a write to a Redis that went away must not kill us */
    if (engines_init(err, sizeof err) <= 0) {
        log_error("no speech engine available: %s", err);
        return 1;
    }
    struct redis_workers *w = redis_workers_start(&url, cfg->workers, err, sizeof err);
    if (!w) {
        log_error("cannot start the workers: %s", err);
        engines_cleanup();
        return 1;
    }
    /* The ready line: once Redis has answered (the threads connect on their own). */
    struct rconn *probe = rconn_create(&url, "worker", 2000);
    while (probe && !stop_requested) {
        redisReply *r = rconn_cmd(probe, "PING", NULL);
        if (r) {
            freeReplyObject(r);
            printf("recite worker ready: %d worker%s pulling from redis://%s\n", cfg->workers,
                   cfg->workers == 1 ? "" : "s", where);
            fflush(stdout);
            break;
        }
        nap(100);
    }
    rconn_destroy(probe);
    while (!stop_requested)
        nap(100);
    log_info("stopping: running jobs finish and deliver their results");
    uint64_t jobs = 0, audio_ms = 0;
    redis_workers_stop(w, &jobs, &audio_ms);
    fprintf(stderr, "recite worker: stopped after %llu job%s (%.1f s of audio)\n",
            (unsigned long long)jobs, jobs == 1 ? "" : "s", (double)audio_ms / 1000.0);
    engines_cleanup();
    return 0;
}
