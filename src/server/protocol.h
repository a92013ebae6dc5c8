/* protocol — every WebSocket message type and field name of SPEC section 4, in one place. */
#ifndef RECITE_PROTOCOL_H
#define RECITE_PROTOCOL_H
#define WS_PATH "/v1/ws/tts"
#define WS_MAX_MESSAGE (64 * 1024)     /* larger frames close with 1009 */
#define WS_MAX_INDICES 32              /* per synthesize */
#define WS_MAX_SEND_QUEUE (8u << 20)   /* bytes queued for a client that does not read */

#define MSG_SYNTHESIZE "synthesize"
/* Not in SPEC §4 (an addition; other clients never see it unless they send it):
 * {"type":"query_states","document_id","block_indices":[...],"model","voice",
 *  "skip_references"?} answers a `status` for each index whose audio already exists
 * (`cached`, with audio_url, duration_ms, word_timings) or that has nothing to say
 * (`skipped`), and nothing for the rest: nothing is queued, nothing synthesized. For a
 * page opened again, to show what the server has without asking for any work. */
#define MSG_QUERY_STATES "query_states"
#define WS_MAX_QUERY 64                /* indices per query_states */
#define MSG_CURSOR_MOVED "cursor_moved"
#define MSG_STATUS "status"
#define MSG_EVICTED "evicted"
#define MSG_ERROR "error"

#define F_TYPE "type"
#define F_DOCUMENT_ID "document_id"
#define F_BLOCK_INDICES "block_indices"
#define F_BLOCK_IDX "block_idx"
#define F_CURSOR "cursor"
#define F_MODEL "model"
#define F_VOICE "voice"
#define F_SYNTHESIS_MODE "synthesis_mode"
/* optional bool: citation markers, footnote references and bare URLs are not spoken */
#define F_SKIP_REFERENCES "skip_references"
/* Additions to `status` (not in SPEC §4): every status carries `skip_references` (bool, the
 * setting it answers for; `evicted` too); `synthesize_locally` carries `spoken_text`, the block's text as
 * the page is to speak it (references blanked when skipping; same UTF-16 length as `text`). */
#define F_SPOKEN_TEXT "spoken_text"
#define F_STATUS "status"
#define F_AUDIO_URL "audio_url"
#define F_DURATION_MS "duration_ms"
#define F_WORD_TIMINGS "word_timings"
#define F_ERROR "error"
#define F_RECOVERABLE "recoverable"

#define ST_QUEUED "queued"
#define ST_PROCESSING "processing"
#define ST_CACHED "cached"
#define ST_SKIPPED "skipped"
#define ST_ERROR "error"
/* synthesis_mode "browser" only: the user has not uploaded this block yet, so the page
 * synthesizes it itself (and then uploads it with POST /v1/audio). */
#define ST_SYNTHESIZE_LOCALLY "synthesize_locally"

#define MODE_SERVER "server"
#define MODE_BROWSER "browser"
#endif
