/* engine_rand — one rand() sequence per thread, restarted for every synthesis.
 *
 * flite's clustergen voices (slt, rms, awb) draw their excitation noise from libc rand(),
 * and espeak-ng and libopusenc call it too. glibc's rand() is one process-wide sequence, so
 * the same sentence came out different on every call (a second render of "Second block, a
 * little longer." with rms differed from the first even on one thread), and with several
 * workers it also depended on what the other threads happened to synthesize. That made a
 * variant's audio depend on history: the upstream-Opus keep/re-encode decision of
 * engine_render flipped from run to run (the flaky openai test), and a re-render after a
 * cache loss did not reproduce the stored bytes.
 *
 * recite defines rand()/srand() itself. The executable's definition wins over libc's for
 * every shared library that calls them (ELF symbol interposition), and it keeps glibc's
 * exact algorithm (random_r) in thread-local state. engine_rand_reset() restarts the
 * calling thread's sequence at seed 1 before each synthesis, so a render depends only on
 * (text, model, voice) — and needs no lock, so workers still synthesize in parallel. */
#include "engines/engine.h"
#include <stdlib.h>

static _Thread_local struct random_data rd;
static _Thread_local char rd_state[128];
static _Thread_local int rd_ready;

static void seed(unsigned s)
{
    if (!rd_ready) {
        initstate_r(s, rd_state, sizeof rd_state, &rd);
        rd_ready = 1;
    } else {
        srandom_r(s, &rd);
    }
}

void engine_rand_reset(void)
{
    seed(1);
}

void srand(unsigned s)
{
    seed(s);
}

int rand(void)
{
    if (!rd_ready)
        seed(1);   /* glibc's rand() without srand() also starts at seed 1 */
    int32_t r;
    random_r(&rd, &r);
    return r;
}
