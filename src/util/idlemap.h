/* idlemap — an exact map from a key (bytes: a user id, a client address) to a small
 * fixed-size record, with bounded memory for state that an attacker can make new keys for:
 * an entry not looked up for `idle_s` seconds is dropped (the caller chooses idle_s so that
 * a dropped entry equals a fresh one, e.g. a rate bucket that has refilled), and beyond
 * `cap` entries the one looked up least recently is dropped. A GLib hash table plus a
 * recency list. Not thread-safe: one owner thread. */
#ifndef RECITE_IDLEMAP_H
#define RECITE_IDLEMAP_H
#include <stddef.h>
#include <stdint.h>

struct idlemap;

struct idlemap *idlemap_create(size_t value_size, size_t cap, int64_t idle_s);
void idlemap_destroy(struct idlemap *m);   /* accepts NULL */

/* The record of `key` (value_size bytes), zeroed and *created = 1 when it was not there;
 * marks it used at `now` (seconds, any monotonic clock) after dropping the entries idle at
 * `now`. NULL only when out of memory. The pointer stays valid until the next call. */
void *idlemap_get(struct idlemap *m, const void *key, size_t keylen, int64_t now, int *created);
size_t idlemap_count(const struct idlemap *m);
#endif
