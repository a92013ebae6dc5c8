/* limits and idlemap: rate-limit state is exact per user (the old 4,096-slot table let two
 * users in one slot reset each other's bucket) and bounded (idle entries go; a cap holds
 * whatever a client cycling keys does). */
#include "check.h"
#include "server/app.h"
#include "server/limits.h"
#include "util/idlemap.h"
#include <stdint.h>

/* The slot the old direct-mapped table put a user in. */
static unsigned old_slot(int64_t user)
{
    return (unsigned)((uint64_t)user * 0x9E3779B97F4A7C15ull >> 52);
}

static void test_colliding_users_independent(void)
{
    struct config cfg = { .rate_blocks = 3 };
    struct app app = { .cfg = &cfg, .limits = limits_create() };
    CHECK(app.limits != NULL);
    int64_t a = 7, b = a + 1;
    while (old_slot(b) != old_slot(a))
        b++;
    int retry = 0;
    /* a spends its budget of 3 a minute (a token comes back every 20 s: far beyond this test) */
    for (int i = 0; i < 3; i++)
        CHECK_INT(limits_take_block(&app, a, &retry), 0);
    CHECK_INT(limits_take_block(&app, a, &retry), -1);
    CHECK(retry >= 1 && retry <= 21);
    /* b, in a's old slot, has its own full budget: exactly 3 */
    for (int i = 0; i < 3; i++)
        CHECK_INT(limits_take_block(&app, b, &retry), 0);
    CHECK_INT(limits_take_block(&app, b, &retry), -1);
    /* and b's requests gave a nothing back (the old table reset a's bucket here) */
    CHECK_INT(limits_take_block(&app, a, &retry), -1);
    CHECK_INT(limits_tracked(app.limits), 2);
    limits_destroy(app.limits);
}

static void test_idlemap_exact_and_bounded(void)
{
    struct idlemap *m = idlemap_create(sizeof(int), 1000, 60);
    int created;
    int *v = idlemap_get(m, "10.0.0.1", 8, 0, &created);
    CHECK(created);
    *v = 5;
    v = idlemap_get(m, "10.0.0.2", 8, 1, &created);
    CHECK(created);
    CHECK_INT(*v, 0);
    v = idlemap_get(m, "10.0.0.1", 8, 2, &created);
    CHECK(!created);
    CHECK_INT(*v, 5);
    /* idle for 60 s: forgotten (the caller's state is back to fresh by then) */
    v = idlemap_get(m, "10.0.0.9", 8, 62, &created);
    CHECK_INT(idlemap_count(m), 1);
    v = idlemap_get(m, "10.0.0.1", 8, 62, &created);
    CHECK(created);
    CHECK_INT(*v, 0);
    /* a client cycling a million addresses within one second: the map stays at its cap,
     * and the most recent keys are still exact */
    char key[32];
    for (int i = 0; i < 1000000; i++) {
        int n = snprintf(key, sizeof key, "2001:db8::%x", i);
        v = idlemap_get(m, key, (size_t)n, 100, &created);
        CHECK(v && created);
        *v = i;
    }
    CHECK_INT(idlemap_count(m), 1000);
    int n = snprintf(key, sizeof key, "2001:db8::%x", 999999 - 5);
    v = idlemap_get(m, key, (size_t)n, 100, &created);
    CHECK(!created);
    CHECK_INT(*v, 999999 - 5);
    /* and 100 s later they are all gone but the one just used */
    idlemap_get(m, "x", 1, 200, &created);
    CHECK_INT(idlemap_count(m), 1);
    idlemap_destroy(m);
    idlemap_destroy(NULL);
}

int main(void)
{
    test_colliding_users_independent();
    test_idlemap_exact_and_bounded();
    CHECK_DONE();
}
