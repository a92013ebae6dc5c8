/* worker_main — the `recite worker` command (distributed mode). */
#ifndef RECITE_WORKER_MAIN_H
#define RECITE_WORKER_MAIN_H
#include "config.h"

/* Runs until SIGINT/SIGTERM; returns the exit status (0 clean, 1 failure, 2 usage). */
int worker_main(const struct config *cfg);
#endif
