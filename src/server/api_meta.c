/* api_meta — /healthz, /metrics (Prometheus text) and /v1/models. Service thread. */
#include "server/http.h"
#include "server/app.h"
#include "engines/engine.h"
#include "jobs/queue.h"
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int api_healthz(struct http_req *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "ok");
    return http_reply_json(r, 200, o);
}

/* Whether this server can synthesize a model's blocks itself: not with `--workers 0` and
 * no Redis (then nothing would ever take a job), except openai, which has its own pool. */
static int server_synthesizes(const struct app *app, const struct model *m)
{
    return app->cfg->workers > 0 || app->cfg->redis || (m->ops->flags & ENGINE_NETWORK);
}

int api_models(struct http_req *r)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < engines_count(); i++) {
        const struct model *m = engines_get(i);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "slug", m->ops->slug);
        cJSON_AddStringToObject(o, "name", m->ops->name);
        /* Beyond SPEC's fields, for the page: which synthesis_mode the model takes, and
         * whether it can be used now (an unavailable server model makes the page fall
         * back to the browser voices). */
        cJSON_AddStringToObject(o, "synthesis_mode", (m->ops->flags & ENGINE_IN_PAGE) ? "browser" : "server");
        cJSON_AddBoolToObject(o, "available", (m->ops->flags & ENGINE_IN_PAGE) || server_synthesizes(r->app, m));
        cJSON *voices = cJSON_AddArrayToObject(o, "voices");
        for (int v = 0; v < m->voice_count; v++) {
            cJSON *vo = cJSON_CreateObject();
            cJSON_AddStringToObject(vo, "slug", m->voices[v].slug);
            cJSON_AddStringToObject(vo, "name", m->voices[v].name);
            cJSON_AddStringToObject(vo, "lang", m->voices[v].lang);
            cJSON_AddItemToArray(voices, vo);
        }
        cJSON_AddItemToArray(arr, o);
    }
    return http_reply_json(r, 200, arr);
}

int api_metrics(struct http_req *r)
{
    struct metrics *m = &r->app->metrics;
    int queued = 0, running = 0;
    r->app->queue->ops->stats(r->app->queue, &queued, &running);
    char *text = malloc(4096);
    if (!text)
        return -1;
    int n = snprintf(text, 4096,
        "# HELP recite_jobs_queued Synthesis jobs waiting for a worker.\n"
        "# TYPE recite_jobs_queued gauge\nrecite_jobs_queued %d\n"
        "# HELP recite_jobs_running Synthesis jobs a worker is running.\n"
        "# TYPE recite_jobs_running gauge\nrecite_jobs_running %d\n"
        "# HELP recite_jobs_done_total Jobs finished (cached or skipped).\n"
        "# TYPE recite_jobs_done_total counter\nrecite_jobs_done_total %llu\n"
        "# HELP recite_jobs_failed_total Jobs reported as error.\n"
        "# TYPE recite_jobs_failed_total counter\nrecite_jobs_failed_total %llu\n"
        "# HELP recite_syntheses_total Engine runs actually performed (deduplicated requests do not add).\n"
        "# TYPE recite_syntheses_total counter\nrecite_syntheses_total %llu\n"
        "# HELP recite_cache_hits_total Requested blocks answered from stored audio.\n"
        "# TYPE recite_cache_hits_total counter\nrecite_cache_hits_total %llu\n"
        "# HELP recite_cache_misses_total Requested blocks that needed synthesis.\n"
        "# TYPE recite_cache_misses_total counter\nrecite_cache_misses_total %llu\n"
        "# HELP recite_synthesis_seconds_total Time spent synthesizing and encoding.\n"
        "# TYPE recite_synthesis_seconds_total counter\nrecite_synthesis_seconds_total %.6f\n"
        "# HELP recite_audio_seconds_total Audio produced.\n"
        "# TYPE recite_audio_seconds_total counter\nrecite_audio_seconds_total %.3f\n"
        "# HELP recite_evictions_total Queued requests evicted by cursor moves or voice switches.\n"
        "# TYPE recite_evictions_total counter\nrecite_evictions_total %llu\n"
        "# HELP recite_ws_connections Open WebSocket connections.\n"
        "# TYPE recite_ws_connections gauge\nrecite_ws_connections %llu\n"
        "# HELP recite_ws_messages_total WebSocket messages received.\n"
        "# TYPE recite_ws_messages_total counter\nrecite_ws_messages_total %llu\n"
        "# HELP recite_http_requests_total HTTP requests routed.\n"
        "# TYPE recite_http_requests_total counter\nrecite_http_requests_total %llu\n"
        "# HELP recite_upload_pauses_total Times an upload stopped being read until the disk caught up.\n"
        "# TYPE recite_upload_pauses_total counter\nrecite_upload_pauses_total %llu\n",
        queued, running,
        (unsigned long long)METRIC_GET(m, jobs_done), (unsigned long long)METRIC_GET(m, jobs_failed),
        (unsigned long long)METRIC_GET(m, syntheses), (unsigned long long)METRIC_GET(m, cache_hits),
        (unsigned long long)METRIC_GET(m, cache_misses),
        (double)METRIC_GET(m, synthesis_us) / 1e6, (double)METRIC_GET(m, audio_ms) / 1e3,
        (unsigned long long)METRIC_GET(m, evictions),
        (unsigned long long)METRIC_GET(m, ws_connections),
        (unsigned long long)METRIC_GET(m, ws_messages),
        (unsigned long long)METRIC_GET(m, http_requests),
        (unsigned long long)METRIC_GET(m, upload_pauses));
    return http_reply(r, 200, "text/plain; version=0.0.4", (unsigned char *)text, (size_t)n, NULL, 0);
}
