/* err — recite's one error convention (libuv's and Mosquitto's): 0 is success, a failure is
 * a negative enum recite_err, and recite_err_str() names it for a log line or a message.
 * Modules move to it one at a time; so far the store (STORE_NOT_FOUND, STORE_FULL are
 * these values), the offload pool, the memqueue hand-off API and the engines' global_init use it. Older modules
 * still return 0/-1 (-1 is RECITE_EFAIL, so they already fit) with an err buffer.
 *
 * A function that returns an error never calls its callback (offload_submit, libuv's rule). */
#ifndef RECITE_ERR_H
#define RECITE_ERR_H

enum recite_err {
    RECITE_OK = 0,
    RECITE_EFAIL = -1,       /* failed; the details were logged where it happened */
    RECITE_ENOTFOUND = -2,   /* no such document, block, audio, user... */
    RECITE_EFULL = -3,       /* the disk (or the database's quota) is full */
    RECITE_ENOMEM = -4,      /* out of memory */
    RECITE_ESTOPPED = -5,    /* shutting down: nothing new is accepted */
    RECITE_EEMPTY = -6,      /* nothing to do now (nothing to hand off): not a failure */
    RECITE_ENOTCONF = -7,    /* not configured (an engine without its settings): left out quietly */
};

/* A short human text for an error code ("not found"); never NULL. */
const char *recite_err_str(int err);
#endif
