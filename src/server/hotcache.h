/* hotcache — a bounded in-memory LRU of recent audio, keyed by variant hash. Service
 * thread only (no lock): workers hand their bytes over through job events. */
#ifndef RECITE_HOTCACHE_H
#define RECITE_HOTCACHE_H
#include <stddef.h>
#include <stdint.h>

struct hot_entry {
    char hash[65];
    unsigned char *data;
    size_t len;
    size_t headroom;      /* writable bytes before data: a response's headers go there */
    int64_t duration_ms;
    char *word_timings;   /* JSON text or NULL */
};

struct hotcache;
struct hotcache *hotcache_create(size_t max_bytes);
void hotcache_destroy(struct hotcache *hc);
/* Takes ownership of data and word_timings (freed on eviction). data is moved once into a
 * block with HOTCACHE_HEADROOM bytes in front, so a response can put its headers right
 * before the audio and go out in one write without copying the audio (http_reply_copy). */
#define HOTCACHE_HEADROOM 2048
void hotcache_put(struct hotcache *hc, const char *hash, unsigned char *data, size_t len,
                  int64_t duration_ms, char *word_timings);
/* Borrowed pointer valid until the next put; marks the entry recently used. */
const struct hot_entry *hotcache_get(struct hotcache *hc, const char *hash);
#endif
