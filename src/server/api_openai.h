/* api_openai — recite as an OpenAI-compatible speech server: POST /v1/audio/speech and
 * GET /v1/audio/voices; and the voice preview's answer (api_preview.c). A request whose
 * audio is not cached waits as a waiter (server/waiters.h) until its job ends; format and
 * speed conversions run on the offload pool (server/offload.h), and their completions
 * find their waiter by id. Service thread. */
#ifndef RECITE_API_OPENAI_H
#define RECITE_API_OPENAI_H
#include <stdint.h>

struct app;
struct http_req;

#define SPEECH_MAX_INPUT 4096   /* characters, as OpenAI's endpoint */

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
