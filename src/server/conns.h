/* conns — table of open WebSocket sessions by conn_id. Service thread only. Results for
 * a conn_id that is no longer here are dropped (the audio is stored regardless). */
#ifndef RECITE_CONNS_H
#define RECITE_CONNS_H
#include <stddef.h>
#include <stdint.h>
struct session;
struct conns;
struct conns *conns_create(void);
void conns_destroy(struct conns *c);
int conns_add(struct conns *c, uint64_t id, struct session *s);
void conns_remove(struct conns *c, uint64_t id);
struct session *conns_get(struct conns *c, uint64_t id);
/* Calls fn on up to `max` sessions, starting at table position `from`; returns the position
 * to continue from (0 after a full pass). fn must not add or remove sessions. */
size_t conns_scan(struct conns *c, size_t from, int max, void (*fn)(struct session *, void *),
                  void *arg);
#endif
