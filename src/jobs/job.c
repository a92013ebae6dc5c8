/* job — freeing helpers for tickets, results and events (see job.h for ownership). */
#include "jobs/job.h"
#include <stdlib.h>

void job_ticket_free(struct job_ticket *t)
{
    if (!t)
        return;
    free(t->text);
    t->text = NULL;
}

void job_result_free(struct job_result *r)
{
    if (!r)
        return;
    free(r->audio);
    free(r->word_timings);
    r->audio = NULL;
    r->word_timings = NULL;
}

void job_event_free(struct job_event *ev)
{
    while (ev) {
        struct job_event *next = ev->next;
        free(ev->reqs);
        job_result_free(&ev->result);
        free(ev);
        ev = next;
    }
}
