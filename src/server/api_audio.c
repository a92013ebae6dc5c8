/* api_audio — GET /v1/audio/{hash}: hot cache first, then the store; ETag/304, Range/206;
 * a browser upload only to the user who uploaded it (uploads themselves: api_upload.c).
 * Service thread. (libwebsockets does
 * not do Range for dynamic bodies, so it is here.) */
#include "server/http.h"
#include "server/api_openai.h"
#include "server/app.h"
#include "server/hotcache.h"
#include "server/range.h"
#include "store/store.h"
#include "util/ids.h"
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One stored audio, whole or a Range of it. An upload (`owned`) is one user's: caches
 * between us and them must not share it. */
static int send_audio(struct http_req *r, const char *hash, const unsigned char *data,
                      size_t len, size_t headroom, int64_t duration_ms, int owned)
{
    char etag[70], dur[24], crange[80];
    snprintf(etag, sizeof etag, "\"%s\"", hash);
    snprintf(dur, sizeof dur, "%lld", (long long)duration_ms);
    struct http_header hdrs[6] = {
        { "etag", etag },
        { "x-duration-ms", dur },
        { "cache-control", owned ? "private, max-age=31536000, immutable"
                                 : "public, max-age=31536000, immutable" },
        { "accept-ranges", "bytes" },
        { "access-control-expose-headers", "X-Duration-Ms, ETag" },
    };
    int nh = 5;
    char inm[128];
    if (http_header(r, WSI_TOKEN_HTTP_IF_NONE_MATCH, inm, sizeof inm) > 0 &&
        (strstr(inm, hash) || !strcmp(inm, "*")))
        return http_reply(r, 304, "audio/ogg", NULL, 0, hdrs, nh);

    size_t first = 0, last = len ? len - 1 : 0;
    int status = 200;
    char range[128];
    if (http_header(r, WSI_TOKEN_HTTP_RANGE, range, sizeof range) > 0) {
        switch (range_parse(range, len, &first, &last)) {
        case RANGE_OK:
            status = 206;
            snprintf(crange, sizeof crange, "bytes %zu-%zu/%zu", first, last, len);
            hdrs[nh++] = (struct http_header){ "content-range", crange };
            break;
        case RANGE_UNSATISFIABLE:
            snprintf(crange, sizeof crange, "bytes */%zu", len);
            hdrs[nh++] = (struct http_header){ "content-range", crange };
            return http_reply(r, 416, "audio/ogg", NULL, 0, hdrs, nh);
        case RANGE_NONE:
            break;
        }
    }
    size_t n = len ? last - first + 1 : 0;
    /* the headroom lies before the whole audio: a range starting later has none (its
     * headers would overwrite the audio before it) */
    return http_reply_copy(r, status, "audio/ogg", data + first, n, first ? 0 : headroom, hdrs, nh);
}

static int serve_audio(struct http_req *r, const char *hash)
{
    if (!ids_is_hash(hash))
        return http_reply_error(r, 400, "audio id must be 64 lowercase hex digits");
    /* Shared audio is served from the hot cache; a browser upload never enters it (it has
     * one listener) and is read from the store each time, with its owner checked. */
    const struct hot_entry *e = hotcache_get(r->app->hot, hash);
    struct audio_record rec = { 0 };
    const unsigned char *data;
    size_t len;
    size_t headroom = 0;
    int64_t duration_ms;
    if (!e) {
        int rc = store_audio_get(r->app->store, hash, &rec);
        if (rc == STORE_NOT_FOUND)
            return http_reply_error(r, 404, "audio not found");
        if (rc)
            return http_reply_error(r, 500, "could not read the audio");
        if (rec.owner && rec.owner != r->user_id) {
            audio_record_free(&rec);   /* someone else's upload: as if it did not exist */
            return http_reply_error(r, 404, "audio not found");
        }
        if (!rec.owner) {
            hotcache_put(r->app->hot, hash, rec.data, rec.len, rec.duration_ms, rec.word_timings);
            rec.data = NULL;
            rec.word_timings = NULL;
            audio_record_free(&rec);
            e = hotcache_get(r->app->hot, hash);
            if (!e)
                return http_reply_error(r, 500, "audio too large for the cache");
        }
    }
    if (e) {
        data = e->data;
        len = e->len;
        headroom = e->headroom;
        duration_ms = e->duration_ms;
    } else {
        data = rec.data;
        len = rec.len;
        duration_ms = rec.duration_ms;
    }
    int ret = send_audio(r, hash, data, len, headroom, duration_ms, rec.owner != 0);
    audio_record_free(&rec);
    return ret;
}

int api_audio(struct http_req *r, const char *rest)
{
    if (!strcmp(rest, "/speech"))
        return api_speech(r);          /* OpenAI-compatible: api_openai.c */
    if (!strcmp(rest, "/voices"))
        return api_speech_voices(r);
    if (rest[0] == '/' && strcmp(rest, "/speech")) {
        if (r->method != LWSHUMETH_GET && r->method != LWSHUMETH_HEAD)
            return http_reply_error(r, 405, "use GET or HEAD on /v1/audio/{hash}");
        return serve_audio(r, rest + 1);
    }
    if (rest[0] == '\0')
        return api_upload(r);          /* POST /v1/audio: api_upload.c */
    return http_reply_error(r, 404, "no such endpoint: %s", r->path);
}
