/* pool_stress — the worker pool and the in-process queue under concurrent load, for
 * ThreadSanitizer (`make tsan`; also runs, without TSan, anywhere).
 *
 * The main thread plays the service thread: for SECONDS it submits blocks from 8 fake
 * connections (400 distinct texts in two voices, so many submissions are deduplicated
 * onto running or queued jobs), moves cursors (evict_window), switches voices (evict_other_voices), drops
 * connections (gone), takes back jobs with a 300 ms visibility timeout (reap: so
 * retries race with late results) and drains events, while 4 real worker threads render
 * with espeak-ng, encode Opus and store in SQLite, each with its own connection. Then it
 * shuts down as `recite serve` does and checks that nothing is left queued or running and
 * that the database is sound. Exit 0 on success; TSan reports make it exit non-zero. */
#include "engines/engine.h"
#include "jobs/queue.h"
#include "jobs/workers.h"
#include "store/store.h"
#include "util/ids.h"
#include "util/log.h"
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CONNS 8
#define TEXTS 400

static atomic_int notified;
static void on_notify(void *arg) { (void)arg; atomic_fetch_add(&notified, 1); }

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 8;
    char err[256] = "", dir[] = "/tmp/recite-tsan-XXXXXX";
    log_set_level(0);
    if (!mkdtemp(dir) || engines_init(err, sizeof err) <= 0) {
        fprintf(stderr, "pool_stress: setup: %s\n", err);
        return 1;
    }
    struct store *st = store_open(dir, err, sizeof err);
    struct metrics m;
    memset(&m, 0, sizeof m);
    struct queue *q = memqueue_create(300, 3, on_notify, NULL);
    struct worker_pool *pool = workers_start(4, memqueue_source(q), WORKERS_ALL, dir, &m, err, sizeof err);
    if (!st || !q || !pool) {
        fprintf(stderr, "pool_stress: setup failed: %s\n", err);
        return 1;
    }
    static const char *const voices[] = { "en-us", "en-gb" };
    unsigned seed = 12345;
    long submitted = 0, events = 0, evicted = 0;
    double end = now_s() + seconds;
    while (now_s() < end) {
        for (int k = 0; k < 16; k++) {
            uint64_t conn = 1 + (uint64_t)(rand_r(&seed) % CONNS);
            int t = rand_r(&seed) % TEXTS;
            const char *voice = voices[rand_r(&seed) % 2];
            char text[96], hash[65];
            snprintf(text, sizeof text, "Stress sentence number %d, said once.", t);
            ids_variant_hash(text, "espeak", voice, "", hash);
            struct requester r = { .kind = REQ_CONN, .id = conn, .idx = t, .cursor = rand_r(&seed) % TEXTS };
            snprintf(r.doc_id, sizeof r.doc_id, "doc-%llu", (unsigned long long)conn % 3);
            enum submit_state s;
            if (q->ops->submit(q, hash, "espeak", voice, text, &r, &s) == 0)
                submitted++;
        }
        struct evicted *ev = NULL;
        int nev = 0;
        uint64_t conn = 1 + (uint64_t)(rand_r(&seed) % CONNS);
        int cursor = rand_r(&seed) % TEXTS;
        switch (rand_r(&seed) % 4) {
        case 0:
            q->ops->evict_window(q, conn, "doc-1", cursor, cursor - 4, cursor + 8, &ev, &nev);
            break;
        case 1:
            q->ops->evict_other_voices(q, conn, "doc-2", "espeak", voices[rand_r(&seed) % 2], -1, &ev, &nev);
            break;
        case 2:
            q->ops->gone(q, REQ_CONN, conn);
            break;
        default:
            break;
        }
        evicted += nev;
        free(ev);
        q->ops->reap(q, queue_now_ms());
        struct job_event *list = q->ops->drain(q);
        for (struct job_event *e = list; e; e = e->next)
            events++;
        job_event_free(list);
        usleep(2000);
    }
    for (uint64_t c = 1; c <= CONNS; c++)
        q->ops->gone(q, REQ_CONN, c);
    q->ops->shutdown(q);
    workers_stop(pool);
    job_event_free(q->ops->drain(q));
    int queued = -1, running = -1;
    q->ops->stats(q, &queued, &running);
    q->ops->destroy(q);
    char msg[128] = "";
    int ok = store_integrity_check(st, msg, sizeof msg) == 0;
    store_close(st);
    engines_cleanup();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {}
    printf("pool_stress: %.0f s, %ld submissions, %ld events, %ld evictions, %llu syntheses, "
           "%d notifications; left queued %d running %d; integrity %s\n", seconds, submitted,
           events, evicted, (unsigned long long)METRIC_GET(&m, syntheses), atomic_load(&notified),
           queued, running, ok ? "ok" : msg);
    return queued == 0 && running == 0 && ok ? 0 : 1;
}
