/* hotcache — LRU over a hash table with chaining and a doubly linked recency list.
 * Service thread only. */
#include "server/hotcache.h"
#include <stdlib.h>
#include <string.h>

struct node {
    struct hot_entry e;
    struct node *hnext;          /* bucket chain */
    struct node *prev, *next;    /* recency: head = most recent */
};

struct hotcache {
    struct node **buckets;
    size_t nbuckets;
    struct node *head, *tail;
    size_t bytes, max_bytes;
};

static size_t bucket_of(const struct hotcache *hc, const char *hash)
{
    /* The key is already a uniform sha256 hex string: its first 15 hex digits suffice. */
    size_t h = 0;
    for (int i = 0; i < 15 && hash[i]; i++)
        h = h * 16 + (size_t)(hash[i] <= '9' ? hash[i] - '0' : hash[i] - 'a' + 10);
    return h % hc->nbuckets;
}

struct hotcache *hotcache_create(size_t max_bytes)
{
    struct hotcache *hc = calloc(1, sizeof *hc);
    if (!hc)
        return NULL;
    hc->nbuckets = 4096;
    hc->buckets = calloc(hc->nbuckets, sizeof *hc->buckets);
    hc->max_bytes = max_bytes;
    if (!hc->buckets) {
        free(hc);
        return NULL;
    }
    return hc;
}

static void unlink_lru(struct hotcache *hc, struct node *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        hc->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        hc->tail = n->prev;
    n->prev = n->next = NULL;
}

static void push_front(struct hotcache *hc, struct node *n)
{
    n->next = hc->head;
    n->prev = NULL;
    if (hc->head)
        hc->head->prev = n;
    hc->head = n;
    if (!hc->tail)
        hc->tail = n;
}

static void remove_node(struct hotcache *hc, struct node *n)
{
    struct node **pp = &hc->buckets[bucket_of(hc, n->e.hash)];
    while (*pp && *pp != n)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = n->hnext;
    unlink_lru(hc, n);
    hc->bytes -= n->e.len;
    free(n->e.data - n->e.headroom);
    free(n->e.word_timings);
    free(n);
}

void hotcache_destroy(struct hotcache *hc)
{
    if (!hc)
        return;
    while (hc->head)
        remove_node(hc, hc->head);
    free(hc->buckets);
    free(hc);
}

static struct node *find(struct hotcache *hc, const char *hash)
{
    for (struct node *n = hc->buckets[bucket_of(hc, hash)]; n; n = n->hnext)
        if (!strcmp(n->e.hash, hash))
            return n;
    return NULL;
}

void hotcache_put(struct hotcache *hc, const char *hash, unsigned char *data, size_t len,
                  int64_t duration_ms, char *word_timings)
{
    if (!hc || len > hc->max_bytes || find(hc, hash)) {
        free(data);
        free(word_timings);
        return;
    }
    struct node *n = calloc(1, sizeof *n);
    if (!n) {
        free(data);
        free(word_timings);
        return;
    }
    unsigned char *block = realloc(data, HOTCACHE_HEADROOM + (len ? len : 1));
    if (block) {
        memmove(block + HOTCACHE_HEADROOM, block, len);
        data = block + HOTCACHE_HEADROOM;
        n->e.headroom = HOTCACHE_HEADROOM;
    }
    memcpy(n->e.hash, hash, 64);
    n->e.data = data;
    n->e.len = len;
    n->e.duration_ms = duration_ms;
    n->e.word_timings = word_timings;
    size_t b = bucket_of(hc, hash);
    n->hnext = hc->buckets[b];
    hc->buckets[b] = n;
    push_front(hc, n);
    hc->bytes += len;
    while (hc->bytes > hc->max_bytes && hc->tail && hc->tail != n)
        remove_node(hc, hc->tail);
}

const struct hot_entry *hotcache_get(struct hotcache *hc, const char *hash)
{
    struct node *n = hc ? find(hc, hash) : NULL;
    if (!n)
        return NULL;
    unlink_lru(hc, n);
    push_front(hc, n);
    return &n->e;
}
