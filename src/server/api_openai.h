/* api_openai — recite as an OpenAI-compatible speech server: POST /v1/audio/speech and
 * GET /v1/audio/voices; and the HTTP waiters that POST /v1/audio/speech and
 * GET /v1/models/{model}/voices/{voice}/preview (api_preview.c) use to answer once a job
 * has finished, without blocking the service thread.
 *
 * A waiter is a queue requester whose conn_id lies in SPEECH_CONN_BASE.. (WebSocket
 * connection ids count up from 1, so the ranges never meet). pipeline_drain hands every
 * job event to speech_on_event first and sends WebSocket statuses only to the others.
 * Format and speed conversions run on the offload pool (server/offload.h); their
 * completions come back on the service thread and find their waiter by id. */
#ifndef RECITE_API_OPENAI_H
#define RECITE_API_OPENAI_H
#include <stdint.h>

struct app;
struct http_req;
struct job_event;
struct session;
struct speech;

#define SPEECH_CONN_BASE (UINT64_C(1) << 62)
#define SPEECH_MAX_INPUT 4096   /* characters, as OpenAI's endpoint */

static inline int speech_is_waiter(uint64_t conn_id)
{
    return conn_id >= SPEECH_CONN_BASE;
}

/* The waiter registry; NULL when out of memory. speech_destroy (accepts NULL) after the
 * lws context and the offload pool are gone. */
struct speech *speech_create(struct app *app);
void speech_destroy(struct speech *sp);

/* Service thread. */
void speech_on_event(struct app *app, const struct job_event *ev);   /* each queue event */
void speech_closed(struct app *app, struct session *s);             /* CLOSED_HTTP */

/* Routes (api_openai.c). */
int api_speech(struct http_req *r);          /* POST /v1/audio/speech */
int api_speech_voices(struct http_req *r);   /* GET /v1/audio/voices */
/* api_preview.c: GET /v1/models/{model}/voices/{voice}/preview; rest starts after
 * "/v1/models". */
int api_preview(struct http_req *r, const char *rest);
/* The preview sentence for a BCP-47 language tag (English when the language has none). */
const char *preview_sentence(const char *lang);

/* For api_preview.c: answers r with {"audio_url","text","duration_ms","word_timings"?}
 * for the variant (text, model, voice) now if it is cached, else once its job finishes
 * (a waiter; 503 when --speech-max-pending are waiting). model/voice are canonical. */
int speech_answer_preview(struct http_req *r, const char *model, const char *voice,
                          const char *text);
#endif
