/* idlemap — see idlemap.h. The hash table (GLib GHashTable, keyed by GBytes) owns the
 * entries; a GQueue threads them from most to least recently used, so dropping idle ones
 * looks only at the tail: O(1) per lookup amortized, whatever the number of keys.
 * One owner thread (the service thread for its callers). */
#include "util/idlemap.h"
#include <glib.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    GList link;           /* in m->recent; data points back at the entry */
    GBytes *key;
    int64_t used_at;
    unsigned char value[];
};

struct idlemap {
    GHashTable *table;    /* GBytes key -> struct entry (owned: freed on removal) */
    GQueue recent;        /* head: most recently used */
    size_t value_size, cap;
    int64_t idle_s;
};

static void entry_free(gpointer p)
{
    struct entry *e = p;
    g_bytes_unref(e->key);
    free(e);
}

struct idlemap *idlemap_create(size_t value_size, size_t cap, int64_t idle_s)
{
    struct idlemap *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    /* keys are the entries' own GBytes: the table frees the entry, which drops the key */
    m->table = g_hash_table_new_full(g_bytes_hash, g_bytes_equal, NULL, entry_free);
    g_queue_init(&m->recent);
    m->value_size = value_size;
    m->cap = cap ? cap : 1;
    m->idle_s = idle_s;
    return m;
}

void idlemap_destroy(struct idlemap *m)
{
    if (!m)
        return;
    /* The links live in the entries the table frees: forget them without g_queue_clear,
     * which frees every link as a GList allocation — a double free on GLib >= 2.76 (g_slice
     * is malloc there), seen on Debian 13 as "double free or corruption" at shutdown. */
    g_queue_init(&m->recent);
    g_hash_table_destroy(m->table);
    free(m);
}

static void drop_tail(struct idlemap *m)
{
    GList *l = g_queue_peek_tail_link(&m->recent);
    struct entry *e = l->data;
    g_queue_unlink(&m->recent, l);
    g_hash_table_remove(m->table, e->key);
}

void *idlemap_get(struct idlemap *m, const void *key, size_t keylen, int64_t now, int *created)
{
    *created = 0;
    while (m->recent.tail && ((struct entry *)m->recent.tail->data)->used_at + m->idle_s <= now)
        drop_tail(m);
    GBytes *k = g_bytes_new_static(key, keylen);
    struct entry *e = g_hash_table_lookup(m->table, k);
    g_bytes_unref(k);
    if (e) {
        g_queue_unlink(&m->recent, &e->link);
    } else {
        if ((size_t)g_hash_table_size(m->table) >= m->cap)
            drop_tail(m);   /* only when `cap` keys were all used within idle_s */
        e = calloc(1, sizeof *e + m->value_size);
        if (!e)
            return NULL;
        e->key = g_bytes_new(key, keylen);
        e->link.data = e;
        g_hash_table_insert(m->table, e->key, e);
        *created = 1;
    }
    e->used_at = now;
    g_queue_push_head_link(&m->recent, &e->link);
    return e->value;
}

size_t idlemap_count(const struct idlemap *m)
{
    return g_hash_table_size(m->table);
}
