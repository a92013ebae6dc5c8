/* upload — checks and decodes the audio a browser uploads for one block (POST /v1/audio):
 * Ogg Opus or WAV, nothing else, and a duration a person could plausibly take to say the
 * block's text. Every refusal names what is wrong, so the page (or whoever is poking the
 * endpoint) can tell a truncated file from a wrong format from a 10-hour recording.
 *
 * Pure: any thread (the server runs it on an offload thread), untrusted bytes; the Ogg
 * pages (CRC, sequence, end of stream) are checked by ogg_probe.c before libopusfile sees
 * them, the WAV header here before decode.c does. Ownership: `out` is the caller's. */
#include "audio/audio.h"
#include <opusfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The longest a block may last: 5 s plus 250 ms a character is about 4 characters a
 * second, under a third of espeak-ng's default rate (~15 a second) and slower than its
 * slowest (80 words a minute). The shortest: 2 ms a character beyond the first 20 (over
 * 30 times normal speech), so a one-word block or a fast voice is never refused — only
 * a blip standing in for a paragraph. */
static int64_t max_ms(size_t chars)
{
    return 5000 + 250 * (int64_t)chars;
}

static int64_t min_ms(size_t chars)
{
    return chars > 20 ? 2 * (int64_t)(chars - 20) : 0;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static const char *container_name(enum audio_container c)
{
    switch (c) {
    case AUDIO_OGG_OPUS: return "Ogg Opus";
    case AUDIO_WAV: return "WAV";
    case AUDIO_MP3: return "MP3";
    default: return "not audio we know";
    }
}

/* What a Content-Type announces (parameters ignored); AUDIO_UNKNOWN when it says nothing
 * specific (absent, application/octet-stream). */
static enum audio_container declared(const char *ctype)
{
    static const struct { const char *type; enum audio_container c; } map[] = {
        { "audio/ogg", AUDIO_OGG_OPUS },  { "audio/opus", AUDIO_OGG_OPUS },
        { "application/ogg", AUDIO_OGG_OPUS }, { "audio/wav", AUDIO_WAV },
        { "audio/x-wav", AUDIO_WAV },     { "audio/wave", AUDIO_WAV },
        { "audio/vnd.wave", AUDIO_WAV },  { "audio/mpeg", AUDIO_MP3 },
        { "audio/mp3", AUDIO_MP3 },
    };
    if (!ctype)
        return AUDIO_UNKNOWN;
    size_t n = strcspn(ctype, "; \t");
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strlen(map[i].type) == n && !strncasecmp(ctype, map[i].type, n))
            return map[i].c;
    return AUDIO_UNKNOWN;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static unsigned le16(const unsigned char *p)
{
    return (unsigned)(p[0] | p[1] << 8);
}

static void hms(int64_t ms, char *out, size_t len)
{
    if (ms >= 3600000)
        snprintf(out, len, "%lld:%02lld:%02lld", (long long)(ms / 3600000),
                 (long long)(ms / 60000 % 60), (long long)(ms / 1000 % 60));
    else
        snprintf(out, len, "%.1f s", (double)ms / 1000.0);
}

static int implausible(int64_t ms, size_t chars, char *err, size_t errlen)
{
    char a[32], b[32];
    hms(ms, a, sizeof a);
    if (ms > max_ms(chars)) {
        hms(max_ms(chars), b, sizeof b);
        snprintf(err, errlen, "the audio lasts %s, but this block (%zu characters) takes at most "
                 "%s to say", a, chars, b);
        return AUDIO_UPLOAD_IMPLAUSIBLE;
    }
    if (ms < min_ms(chars)) {
        hms(min_ms(chars), b, sizeof b);
        snprintf(err, errlen, "the audio lasts %s, but this block (%zu characters) takes at least "
                 "%s to say", a, chars, b);
        return AUDIO_UPLOAD_IMPLAUSIBLE;
    }
    return 0;
}

/* The RIFF header: 16-bit-or-wider PCM (or float) at a speech sample rate, mono or stereo,
 * with a data chunk whose announced size is all there. *ms is what the header promises. */
static int check_wav(const unsigned char *d, size_t len, int64_t *ms, char *err, size_t errlen)
{
    const unsigned char *fmt = NULL;
    uint32_t data_size = 0;
    *ms = 0;
    size_t data_avail = 0;
    int have_data = 0;
    for (size_t off = 12; off + 8 <= len;) {
        uint32_t sz = le32(d + off + 4);
        size_t avail = len - off - 8;
        if (!memcmp(d + off, "fmt ", 4)) {
            if (sz < 16 || sz > avail) {
                snprintf(err, errlen, "WAV: the fmt chunk is %s", sz < 16 ? "too short" : "cut off");
                return AUDIO_UPLOAD_INVALID;
            }
            fmt = d + off + 8;
        } else if (!memcmp(d + off, "data", 4)) {
            data_size = sz;
            data_avail = avail;
            have_data = 1;
            break;
        }
        if (sz > avail)
            break;
        off += 8 + (size_t)sz + (sz & 1);
    }
    if (!fmt || !have_data) {
        snprintf(err, errlen, "WAV: no %s chunk before the end of the body", fmt ? "data" : "fmt");
        return AUDIO_UPLOAD_INVALID;
    }
    unsigned tag = le16(fmt), ch = le16(fmt + 2), bits = le16(fmt + 14);
    uint32_t rate = le32(fmt + 4);
    if (tag == 0xfffe && le32(fmt - 4) >= 40)   /* WAVE_FORMAT_EXTENSIBLE: sub-format GUID */
        tag = le16(fmt + 24);
    if (!(tag == 1 && (bits == 8 || bits == 16 || bits == 24 || bits == 32)) &&
        !(tag == 3 && (bits == 32 || bits == 64))) {
        snprintf(err, errlen, "WAV: format %u with %u bits per sample; send PCM (8-32 bits) "
                 "or 32/64-bit float", tag, bits);
        return AUDIO_UPLOAD_UNSUPPORTED;
    }
    if (ch < 1 || ch > 2) {
        snprintf(err, errlen, "WAV: %u channels; send mono or stereo", ch);
        return AUDIO_UPLOAD_UNSUPPORTED;
    }
    if (rate < 8000 || rate > 48000) {
        snprintf(err, errlen, "WAV: a sample rate of %u Hz; send 8,000 to 48,000 Hz", (unsigned)rate);
        return AUDIO_UPLOAD_UNSUPPORTED;
    }
    uint64_t frame = (uint64_t)ch * (bits / 8);
    *ms = (int64_t)((uint64_t)data_size / frame * 1000 / rate);
    if (data_size == 0 || data_size == 0xffffffffu) {
        snprintf(err, errlen, "WAV: the data chunk announces %s; send its exact size",
                 data_size ? "an unknown size (streaming)" : "no samples");
        return AUDIO_UPLOAD_INVALID;
    }
    if (data_size > data_avail) {
        snprintf(err, errlen, "truncated WAV: the header announces %u bytes of samples, the body "
                 "has %zu", (unsigned)data_size, data_avail);
        return AUDIO_UPLOAD_INVALID;
    }
    return 0;
}

int audio_upload_decode(const unsigned char *data, size_t len, const char *ctype,
                        const char *text, struct pcm *out, int *is_opus, char *err,
                        size_t errlen)
{
    memset(out, 0, sizeof *out);
    *is_opus = 0;
    size_t chars = utf8_chars(text ? text : "");
    if (!data || len == 0) {
        snprintf(err, errlen, "the body is empty: send the block's audio as Ogg Opus or WAV");
        return AUDIO_UPLOAD_INVALID;
    }
    enum audio_container got = audio_sniff(data, len), said = declared(ctype);
    if (got == AUDIO_UNKNOWN && len >= 4 && !memcmp(data, "OggS", 4)) {
        snprintf(err, errlen, "an Ogg stream whose first packet is not OpusHead: only Opus is "
                 "accepted in Ogg");
        return AUDIO_UPLOAD_UNSUPPORTED;
    }
    if (said != AUDIO_UNKNOWN && got != said) {
        snprintf(err, errlen, "Content-Type says %s, but the body is %s", container_name(said),
                 container_name(got));
        return AUDIO_UPLOAD_UNSUPPORTED;
    }
    if (got != AUDIO_OGG_OPUS && got != AUDIO_WAV) {
        snprintf(err, errlen, got == AUDIO_MP3 ? "the body is MP3: send Ogg Opus or WAV"
                                               : "the body is not audio: send Ogg Opus or WAV");
        return AUDIO_UPLOAD_UNSUPPORTED;
    }
    int64_t ms = 0;
    int rc;
    if (got == AUDIO_OGG_OPUS) {
        int ch = audio_opus_channels(data, len);
        if (ch < 1 || ch > 2) {
            snprintf(err, errlen, "OpusHead says %d channels: send mono or stereo", ch);
            return AUDIO_UPLOAD_UNSUPPORTED;
        }
        ms = audio_opus_duration_ms(data, len);
        if (ms < 0) {
            snprintf(err, errlen, "invalid or truncated Ogg Opus: a page is cut off, fails its "
                     "CRC or is out of sequence, or the end-of-stream page is missing");
            return AUDIO_UPLOAD_INVALID;
        }
    } else if ((rc = check_wav(data, len, &ms, err, errlen)) != 0) {
        /* a 10-hour header is implausible before it is truncated */
        if (rc == AUDIO_UPLOAD_INVALID && ms > max_ms(chars))
            return implausible(ms, chars, err, errlen);
        return rc;
    }
    if ((rc = implausible(ms, chars, err, errlen)) != 0)
        return rc;
    char derr[160];
    if (audio_decode(data, len, out, derr, sizeof derr) < 0) {
        snprintf(err, errlen, "the audio does not decode: %s", derr);
        return AUDIO_UPLOAD_INVALID;
    }
    /* What was decoded, not only what the headers say. */
    if (out->count == 0 || out->rate <= 0) {
        pcm_free(out);
        snprintf(err, errlen, "the audio holds no samples");
        return AUDIO_UPLOAD_INVALID;
    }
    if ((rc = implausible(pcm_duration_ms(out), chars, err, errlen)) != 0) {
        pcm_free(out);
        return rc;
    }
    *is_opus = got == AUDIO_OGG_OPUS;
    return 0;
}

/* The word timings inside the body: a RECITE_WORD_TIMINGS comment in OpusTags, or a "word"
 * chunk in the RIFF file (readers skip chunks they do not know; RIFF allows it before or
 * after "data"). Only called on a body audio_upload_decode accepted. */
int audio_upload_words(const unsigned char *data, size_t len, char **words, char *err,
                       size_t errlen)
{
    *words = NULL;
    enum audio_container got = audio_sniff(data, len);
    if (got == AUDIO_OGG_OPUS) {
        int e = 0;
        OggOpusFile *of = op_test_memory(data, len, &e);
        if (!of) {
            snprintf(err, errlen, "invalid Ogg Opus headers (opusfile error %d)", e);
            return -1;
        }
        const OpusTags *tags = op_tags(of, 0);
        int n = tags ? opus_tags_query_count(tags, AUDIO_WORDS_TAG) : 0;
        const char *v = n == 1 ? opus_tags_query(tags, AUDIO_WORDS_TAG, 0) : NULL;
        if (v && !(*words = strdup(v)))
            snprintf(err, errlen, "out of memory");
        op_free(of);
        if (n > 1)
            snprintf(err, errlen, "OpusTags holds %d %s comments: send one", n, AUDIO_WORDS_TAG);
        return n > 1 || (v && !*words) ? -1 : 0;
    }
    if (got != AUDIO_WAV)
        return 0;
    for (size_t off = 12; off + 8 <= len;) {
        uint32_t sz = le32(data + off + 4);
        if (sz > len - off - 8)
            break;   /* audio_upload_decode checked that the data chunk is all there */
        if (!memcmp(data + off, "word", 4)) {
            if (*words) {
                free(*words);
                *words = NULL;
                snprintf(err, errlen, "the WAV holds more than one \"word\" chunk: send one");
                return -1;
            }
            if (!(*words = strndup((const char *)data + off + 8, sz))) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
        }
        off += 8 + (size_t)sz + (sz & 1);
    }
    return 0;
}
