/* conns — open addressing with linear probing and tombstones, grown at 50% load.
 * Service thread only. */
#include "server/conns.h"
#include <stdlib.h>

#define TOMB ((struct session *)1)

struct slot { uint64_t id; struct session *s; };
struct conns { struct slot *slots; size_t cap, used; };

struct conns *conns_create(void)
{
    struct conns *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->cap = 1024;
    c->slots = calloc(c->cap, sizeof *c->slots);
    if (!c->slots) {
        free(c);
        return NULL;
    }
    return c;
}

void conns_destroy(struct conns *c)
{
    if (!c)
        return;
    free(c->slots);
    free(c);
}

static size_t home(const struct conns *c, uint64_t id)
{
    return (size_t)(id * 0x9E3779B97F4A7C15ull) & (c->cap - 1);
}

static int grow(struct conns *c)
{
    struct slot *old = c->slots;
    size_t ocap = c->cap, live = 0;
    for (size_t i = 0; i < ocap; i++)
        live += old[i].s && old[i].s != TOMB;
    if (live * 4 > ocap)     /* else mostly tombstones: rehash at the same size */
        c->cap *= 2;
    c->slots = calloc(c->cap, sizeof *c->slots);
    if (!c->slots) {
        c->slots = old;
        c->cap = ocap;
        return -1;
    }
    c->used = 0;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].s && old[i].s != TOMB)
            conns_add(c, old[i].id, old[i].s);
    free(old);
    return 0;
}

int conns_add(struct conns *c, uint64_t id, struct session *s)
{
    if ((c->used + 1) * 2 > c->cap && grow(c))
        return -1;
    for (size_t i = home(c, id);; i = (i + 1) & (c->cap - 1))
        if (!c->slots[i].s || c->slots[i].s == TOMB) {
            if (!c->slots[i].s)
                c->used++;
            c->slots[i].id = id;
            c->slots[i].s = s;
            return 0;
        }
}

static struct slot *find(struct conns *c, uint64_t id)
{
    for (size_t i = home(c, id);; i = (i + 1) & (c->cap - 1)) {
        if (!c->slots[i].s)
            return NULL;
        if (c->slots[i].s != TOMB && c->slots[i].id == id)
            return &c->slots[i];
    }
}

void conns_remove(struct conns *c, uint64_t id)
{
    struct slot *sl = find(c, id);
    if (sl)
        sl->s = TOMB;
}

size_t conns_scan(struct conns *c, size_t from, int max, void (*fn)(struct session *, void *),
                  void *arg)
{
    size_t i = from < c->cap ? from : 0;
    for (; i < c->cap && max > 0; i++)
        if (c->slots[i].s && c->slots[i].s != TOMB) {
            fn(c->slots[i].s, arg);
            max--;
        }
    return i < c->cap ? i : 0;
}

struct session *conns_get(struct conns *c, uint64_t id)
{
    struct slot *sl = find(c, id);
    return sl ? sl->s : NULL;
}
