/* main — command dispatch (one-shot commands live in cli*.c); for `serve`, start-up in dependency order (engines, store,
 * queue, workers, server) and teardown in reverse: stop accepting, let running jobs
 * finish, store their results, close the database, exit 0. */
#include "config.h"
#include <stdbool.h>
#include "cli.h"
#include "audio/audio.h"
#include "engines/engine.h"
#include "jobs/queue.h"
#include "jobs/redis_worker.h"
#include "jobs/redisqueue.h"
#include "jobs/workers.h"
#include "server/app.h"
#include "server/api_openai.h"
#include "server/auth.h"
#include "server/limits.h"
#include "server/conns.h"
#include "server/hotcache.h"
#include "server/offload.h"
#include "server/exports.h"
#include "server/pipeline.h"
#include "server/server.h"
#include "server/voicemap.h"
#include "server/waiters.h"
#include "store/store.h"
#include "util/log.h"
#include "worker_main.h"
#include <libgen.h>
#include <libwebsockets.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void wake_loop(void *arg)
{
    server_wake(arg);
}

/* Offload pool threads (server/offload.h) each get their own SQLite connection: request
 * work that writes (position saves, document inserts) runs there, off the loop. */
#define OFFLOAD_THREADS 2

static void *offload_store_open(void *arg, char *err, size_t errlen)
{
    return store_open(arg, err, errlen);
}

static void offload_store_close(void *ctx)
{
    store_close(ctx);
}

static void find_web_dir(struct app *app)
{
    if (app->cfg->web_dir) {
        snprintf(app->web_dir, sizeof app->web_dir, "%s", app->cfg->web_dir);
        return;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    struct stat st;
    if (n > 0) {
        exe[n] = '\0';
        const char *dir = dirname(exe);
        /* build/recite -> build/../web; installed: PREFIX/bin/recite -> PREFIX/share/recite/web */
        static const char *const rel[] = { "../web", "../share/recite/web" };
        for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
            snprintf(app->web_dir, sizeof app->web_dir, "%s/%s", dir, rel[i]);
            if (!stat(app->web_dir, &st) && S_ISDIR(st.st_mode))
                return;
        }
    }
    snprintf(app->web_dir, sizeof app->web_dir, "web");
}

static int cmd_serve(const struct config *cfg)
{
    struct app app;
    char err[256] = "";
    int rc = 1;
    struct redis_url redis_url;          /* --- distributed mode (--redis) --- */
    struct redis_workers *redis_workers = NULL;
    struct worker_pool *net_workers = NULL;   /* openai jobs (--openai-concurrency) */
    memset(&app, 0, sizeof app);
    app.cfg = cfg;
    find_web_dir(&app);
    if (cfg->redis && redis_url_parse(cfg->redis, &redis_url, err, sizeof err)) {
        fprintf(stderr, "recite serve: %s\n", err);
        config_usage(stderr, CMD_SERVE);
        return 2;
    }
    if (engines_init(err, sizeof err) <= 0) {
        log_error("no speech engine available: %s", err);
        return 1;
    }
    if (!(app.voicemap = voicemap_create(cfg->openai_voice_map, err, sizeof err))) {
        fprintf(stderr, "recite serve: --openai-voice-map: %s\n", err);
        engines_cleanup();
        return 2;
    }
    if (!(app.store = store_open(cfg->data_dir, err, sizeof err))) {
        log_error("cannot open the data directory %s: %s", cfg->data_dir, err);
        goto out;
    }
    if (cfg->auth && !(app.auth = auth_create(&app, err, sizeof err))) {
        log_error("--auth: %s", err);
        goto out;
    }
    auth_expire_guests(&app);            /* then hourly (server.c) */
    app.limits = limits_create();
    app.hot = hotcache_create((size_t)cfg->hot_cache_mb << 20);
    app.conns = conns_create();
    struct offload_config ocfg = { .threads = OFFLOAD_THREADS, .notify = wake_loop,
                                   .notify_arg = &app, .thread_init = offload_store_open,
                                   .thread_fini = offload_store_close,
                                   .thread_arg = (void *)cfg->data_dir };
    if (!(app.offload = offload_create(&ocfg, err, sizeof err))) {
        log_error("cannot start the request threads: %s", err);
        goto out;
    }
    ocfg.threads = 1;   /* the writer: one thread, so saves land in the order they came */
    if (!(app.writer = offload_create(&ocfg, err, sizeof err))) {
        log_error("cannot start the store writer thread: %s", err);
        goto out;
    }
    struct offload_config scfg = { .threads = 1, .notify = wake_loop, .notify_arg = &app };
    if (!(app.spooler = offload_create(&scfg, err, sizeof err))) {   /* upload writes */
        log_error("cannot start the upload spooler thread: %s", err);
        goto out;
    }
    if (cfg->redis) {                    /* --- distributed mode: see jobs/redisqueue.c --- */
        signal(SIGPIPE, SIG_IGN);        /* before the Redis threads write to a socket */
        app.queue = redisqueue_create(&redis_url, cfg->data_dir, cfg->visibility_timeout_s * 1000,
                                      3, &app.metrics, wake_loop, &app, err, sizeof err);
        if (!app.queue)
            log_error("distributed mode: %s", err);
        else if (cfg->workers > 0 &&
                 !(redis_workers = redis_workers_start(&redis_url, cfg->workers, err, sizeof err))) {
            log_error("distributed mode: %s", err);
            goto out;
        }
    } else {
        app.queue = memqueue_create(cfg->visibility_timeout_s * 1000, 3, wake_loop, &app);
    }
    if (!app.hot || !app.conns || !app.queue || !app.limits)
        goto out;
    if (!(app.waiters = waiters_create()))   /* POST /v1/audio/speech, previews */
        goto out;
    if (!(app.exports = exports_create()))   /* GET /v1/documents/{id}/export */
        goto out;
    if (!cfg->redis) {
        /* Engines that wait on the network (openai) get a pool of their own
         * (--openai-concurrency), and the CPU workers never hold one of their jobs
         * (docs/DESIGN.md, "Engines"). A pool that cannot start stops the start-up. */
        struct job_source *src = memqueue_source(app.queue);
        int split = engines_any(ENGINE_NETWORK);
        int nnet = cfg->openai_concurrency > 0 ? cfg->openai_concurrency : 1;
        app.workers = workers_start(cfg->workers, src, split ? WORKERS_CPU : WORKERS_ALL,
                                    cfg->data_dir, &app.metrics, err, sizeof err);
        int ok = app.workers && workers_count(app.workers) == cfg->workers;
        if (ok && split) {
            net_workers = workers_start(nnet, src, WORKERS_NETWORK, cfg->data_dir, &app.metrics,
                                        err, sizeof err);
            ok = net_workers && workers_count(net_workers) == nnet;
        }
        if (!ok) {
            log_error("cannot start the synthesis workers: %s", err);
            app.queue->ops->shutdown(app.queue);
            workers_stop(app.workers);
            workers_stop(net_workers);
            app.workers = NULL;
            goto out;
        }
    }
    log_info("%d synthesis worker thread%s in this process%s", cfg->workers,
             cfg->workers == 1 ? "" : "s", cfg->redis ? " (pulling from Redis)" : "");
    if (server_run(&app) == 0)
        rc = 0;
    redis_workers_stop(redis_workers, NULL, NULL);   /* their last results reach Redis... */
    redis_workers = NULL;
    app.queue->ops->shutdown(app.queue);             /* ...and are stored before this returns */
    workers_stop(app.workers);       /* running jobs finish and are stored */
    workers_stop(net_workers);
    pipeline_drain(&app);
    limits_flush(&app);              /* the last second's synthesis charges */
    server_destroy_context(&app);
out:
    redis_workers_stop(redis_workers, NULL, NULL);
    offload_destroy(app.offload);    /* queued request work runs; nobody is answered */
    offload_destroy(app.writer);     /* queued position saves are written */
    offload_destroy(app.spooler);    /* upload writes end; their files close */
    if (app.queue)
        app.queue->ops->destroy(app.queue);
    waiters_destroy(app.waiters);
    exports_destroy(app.exports);    /* after the pool: its completions looked jobs up */
    conns_destroy(app.conns);
    hotcache_destroy(app.hot);
    limits_destroy(app.limits);
    auth_destroy(app.auth);
    store_close(app.store);
    voicemap_destroy(app.voicemap);
    engines_cleanup();
    if (rc == 0)
        log_info("stopped cleanly");
    return rc;
}

int main(int argc, char **argv)
{
    struct config cfg;
    int rc = config_parse(&cfg, argc, argv);
    if (rc) {
        config_free(&cfg);
        return rc == 1 ? 0 : rc;
    }
    /* The one-shot commands print their result, not the server's running commentary
     * ("engine espeak: 131 voices"): only warnings and errors reach their stderr. */
    bool one_shot = cfg.cmd == CMD_VOICES || cfg.cmd == CMD_SAY || cfg.cmd == CMD_EXPORT;
    log_set_level(cfg.verbose ? 3 : one_shot ? 1 : 2);
    engines_set_config(&cfg);            /* --openai-* for engines_init, in every command */
    switch (cfg.cmd) {
    case CMD_SERVE:
        rc = cmd_serve(&cfg);
        break;
    case CMD_VOICES:
        rc = cli_voices(&cfg);
        break;
    case CMD_SAY:
        rc = cli_say(&cfg);
        break;
    case CMD_WORKER:                     /* distributed mode: see worker_main.c */
        rc = worker_main(&cfg);
        break;
    case CMD_EXPORT:
        rc = cli_export(&cfg);
        break;
    case CMD_USER:
        rc = cli_user(&cfg);
        break;
    default:
        rc = 2;
        break;
    }
    config_free(&cfg);
    return rc;
}
