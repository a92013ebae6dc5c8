/* render_threads — the check test_piper and test_kokoro make of a shared-session engine:
 * `threads` threads, each with its own engine instance, render the same text `rounds` times
 * at once, and every render must be bit-identical to `want` (the session is shared, the
 * noise seeded per synthesis). Header-only, for the unit tests. */
#ifndef RECITE_TEST_RENDER_THREADS_H
#define RECITE_TEST_RENDER_THREADS_H
#include "engines/engine.h"
#include <pthread.h>
#include <string.h>

struct render_job {
    const struct model *m;
    const char *voice, *text;
    const struct pcm *want;
    int rounds, same;
};

static void *render_job_run(void *arg)
{
    struct render_job *j = arg;
    struct engine *e = j->m->ops->create(NULL, 0);
    for (int i = 0; i < j->rounds; i++) {
        struct synth_result r;
        char err[256];
        if (engine_render(j->m, e, j->voice, j->text, &r, err, sizeof err) == 0 &&
            r.pcm.count == j->want->count &&
            memcmp(r.pcm.samples, j->want->samples, j->want->count * sizeof *j->want->samples) == 0)
            j->same++;
        synth_result_free(&r);
    }
    j->m->ops->destroy(e);
    return NULL;
}

/* How many of the threads * rounds renders equal want (all of them when it works). */
static inline int render_threads_same(const struct model *m, const char *voice, const char *text,
                                      const struct pcm *want, int threads, int rounds)
{
    pthread_t t[16];
    struct render_job j[16];
    int same = 0;
    threads = threads > 16 ? 16 : threads;
    for (int i = 0; i < threads; i++) {
        j[i] = (struct render_job){ m, voice, text, want, rounds, 0 };
        pthread_create(&t[i], NULL, render_job_run, &j[i]);
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        same += j[i].same;
    }
    return same;
}
#endif
