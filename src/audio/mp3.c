/* mp3 — PCM to MP3 with libmp3lame (VBR, mono, with a LAME/Xing tag so players show the
 * exact duration and play gaplessly). For export and the OpenAI-compatible endpoint.
 * Any thread: each call owns its lame context; lame's one-time table set-up inside
 * lame_init/lame_init_params is not guarded by lame itself, so those two calls run under a
 * file-local mutex. The caller owns `p` and `out`. */
#include "audio/audio.h"
#include <lame/lame.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MP3_CHUNK 8192          /* samples per lame_encode_buffer call */
#define MP3_VBR_QUALITY 5.0f    /* lame -V5: transparent enough for speech, ~40 kbps mono */

static pthread_mutex_t mp3_init_lock = PTHREAD_MUTEX_INITIALIZER;

int audio_encode_mp3(const struct pcm *p, struct buf *out, char *err, size_t errlen)
{
    if (!p || p->rate < 8000 || p->rate > 48000) {
        snprintf(err, errlen, "mp3: unsupported sample rate %d", p ? p->rate : 0);
        return -1;
    }
    int rc = -1;
    const char *msg = "out of memory";
    /* lame's documented worst case: 1.25 * samples + 7200 bytes per call. */
    size_t mp3cap = MP3_CHUNK + MP3_CHUNK / 4 + 7200;
    unsigned char *mp3 = malloc(mp3cap);
    size_t start = out->len;   /* where the placeholder tag frame will land */

    pthread_mutex_lock(&mp3_init_lock);
    lame_global_flags *gfp = lame_init();
    int ok = gfp != NULL;
    if (ok) {
        lame_set_in_samplerate(gfp, p->rate);
        lame_set_num_channels(gfp, 1);
        lame_set_mode(gfp, MONO);
        lame_set_VBR(gfp, vbr_default);
        lame_set_VBR_quality(gfp, MP3_VBR_QUALITY);
        lame_set_bWriteVbrTag(gfp, 1);
        lame_set_write_id3tag_automatic(gfp, 0);
        ok = lame_init_params(gfp) >= 0;
    }
    pthread_mutex_unlock(&mp3_init_lock);
    if (!gfp || !mp3)
        goto out;
    if (!ok) {
        msg = "encoder set-up failed";
        goto out;
    }

    for (size_t i = 0; i < p->count; i += MP3_CHUNK) {
        int n = (int)(p->count - i < MP3_CHUNK ? p->count - i : MP3_CHUNK);
        /* Mono: lame reads only the left channel. */
        int got = lame_encode_buffer(gfp, p->samples + i, p->samples + i, n, mp3, (int)mp3cap);
        if (got < 0) {
            msg = "encoding failed";
            goto out;
        }
        if (buf_append(out, mp3, (size_t)got) < 0)
            goto out;
    }
    int got = lame_encode_flush(gfp, mp3, (int)mp3cap);
    if (got < 0) {
        msg = "flush failed";
        goto out;
    }
    if (buf_append(out, mp3, (size_t)got) < 0)
        goto out;
    /* lame wrote an empty frame first; overwrite it with the final tag (exact frame count,
     * encoder delay and padding). */
    size_t tag = lame_get_lametag_frame(gfp, mp3, mp3cap);
    if (tag > 0 && tag <= mp3cap && start + tag <= out->len)
        memcpy(out->data + start, mp3, tag);
    rc = 0;
out:
    if (rc < 0)
        snprintf(err, errlen, "mp3: %s", msg);
    if (gfp)
        lame_close(gfp);
    free(mp3);
    return rc;
}
