/* audio — PCM buffers, silence trimming and encoding to Ogg Opus / WAV / MP3.
 * Pure functions on caller-owned buffers; safe from any thread (each call has its own
 * encoder state). */
#ifndef RECITE_AUDIO_H
#define RECITE_AUDIO_H
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

struct pcm {
    int16_t *samples;   /* mono, malloc'd, owned by the struct */
    size_t count;
    size_t cap;
    int rate;           /* Hz */
};

struct buf {
    unsigned char *data;  /* malloc'd */
    size_t len, cap;
};

#define AUDIO_PAD_START_MS 40   /* silence kept before speech after trimming */
#define AUDIO_PAD_END_MS 120    /* silence kept after speech: a natural breath between blocks */
#define AUDIO_OPUS_BITRATE 32000
#define AUDIO_OPUS_COMPLEXITY 5 /* measured: see docs/notes-audio.md */

int pcm_append(struct pcm *p, const int16_t *s, size_t n);  /* 0 or -1 (ENOMEM) */
void pcm_free(struct pcm *p);
int64_t pcm_duration_ms(const struct pcm *p);              /* exact: count * 1000 / rate */

/* Trims leading/trailing silence down to the fixed pads. Returns the number of samples
 * removed from the start (so callers can shift word timings). All-silent input becomes
 * empty (count 0). */
size_t pcm_trim_silence(struct pcm *p, int pad_start_ms, int pad_end_ms);
/* Like pcm_trim_silence, but the result has exactly the pads: where the input had less
 * silence (espeak-ng leaves only ~12 ms), digital silence is added. *shift is how far the
 * speech moved towards the start, in samples: removed minus added at the start, so
 * negative when silence was added (word times then move later). All-silent input becomes
 * empty. 0, or -1 (ENOMEM; p unchanged). */
int pcm_fit_silence(struct pcm *p, int pad_start_ms, int pad_end_ms, int64_t *shift);

int buf_append(struct buf *b, const void *d, size_t n);    /* 0 or -1 */
/* Appends everything left in f. On success (0) b->data is non-NULL and NUL-terminated just
 * past b->len (the NUL is not counted), so text can be used as a C string. -1: a read error
 * or out of memory. */
int buf_read_stream(struct buf *b, FILE *f);
/* buf_read_stream on the file at path; -1 (errno set) if it cannot be opened or read. */
int buf_read_file(struct buf *b, const char *path);
void buf_free(struct buf *b);

/* Encoders: 0 on success, or -1 with a message in err. `out` is appended to. */
int audio_encode_opus(const struct pcm *p, struct buf *out, char *err, size_t errlen);
int audio_encode_wav(const struct pcm *p, struct buf *out, char *err, size_t errlen);
int audio_encode_mp3(const struct pcm *p, struct buf *out, char *err, size_t errlen);
int audio_encode_flac(const struct pcm *p, struct buf *out, char *err, size_t errlen);  /* libFLAC */
int audio_encode_aac(const struct pcm *p, struct buf *out, char *err, size_t errlen);   /* ADTS, libavcodec */
/* audio_encode_opus with an explicit bitrate (bit/s) and complexity (0-10); for the bench
 * and for callers that need another rate. */
int audio_encode_opus_params(const struct pcm *p, int bitrate, int complexity, struct buf *out,
                             char *err, size_t errlen);

/* ---- streaming to a file (stream.c): export of any length in bounded memory ----------- */
enum audio_format { AUDIO_FMT_OPUS, AUDIO_FMT_WAV, AUDIO_FMT_MP3 };
struct audio_stream;
/* From the file name: .ogg/.opus, .wav, .mp3. 0, or -1 for anything else. */
int audio_format_for(const char *path, enum audio_format *out);
/* Creates the file and its encoder for mono 16-bit PCM at `rate`. NULL with err. */
struct audio_stream *audio_stream_open(const char *path, enum audio_format fmt, int rate,
                                       char *err, size_t errlen);
int audio_stream_write(struct audio_stream *s, const int16_t *samples, size_t n, char *err,
                       size_t errlen);                                  /* 0 or -1 */
int audio_stream_silence(struct audio_stream *s, int ms, char *err, size_t errlen);
int audio_stream_rate(const struct audio_stream *s);
int64_t audio_stream_samples(const struct audio_stream *s);           /* written so far */
/* Finishes the file (drain, sizes, tags) and frees s. With err NULL: abandons it (error
 * paths), just freeing. 0, or -1 with err. Accepts NULL. */
int audio_stream_close(struct audio_stream *s, char *err, size_t errlen);

/* An Ogg page's CRC-32 (RFC 3533), its CRC field (bytes 22..25) counted as zero. Any thread. */
uint32_t audio_ogg_crc(const unsigned char *page, size_t len);
/* Duration in ms of an Ogg Opus stream from its last granule position minus pre-skip;
 * -1 if the bytes are not a valid Ogg Opus stream. Used to validate stored/uploaded audio. */
int64_t audio_opus_duration_ms(const unsigned char *data, size_t len);

/* ---- loudness (loudness.c) -------------------------------------------------------------
 * Every block of every voice is levelled to the same integrated loudness, so switching
 * voices never jumps in volume. */
#define AUDIO_LOUDNESS_TARGET (-18.0)      /* LUFS */
#define AUDIO_LOUDNESS_CEILING_DB (-1.5)   /* sample peak after levelling, dBFS */
#define AUDIO_LOUDNESS_MAX_GAIN_DB 30.0    /* never amplify more (near-silent input) */
/* ITU-R BS.1770-4 integrated loudness (K-weighted, gated) of mono PCM at its own rate, in
 * LUFS; -INFINITY for silence or empty input. Input shorter than one 400 ms gating block
 * gets the ungated loudness of the whole signal. */
double audio_loudness_lufs(const struct pcm *p);
/* Scales p to target_lufs (gain capped at AUDIO_LOUDNESS_MAX_GAIN_DB), with a look-ahead
 * limiter holding sample peaks under AUDIO_LOUDNESS_CEILING_DB. measured/gain_db (may be
 * NULL) receive the input loudness and the gain applied. Silence is left alone. 0 or -1
 * (ENOMEM; p unchanged). */
int audio_normalize_loudness(struct pcm *p, double target_lufs, double *measured,
                             double *gain_db);

/* ---- decoding (decode.c): what an upstream TTS server sends back ------------------------ */
enum audio_container { AUDIO_UNKNOWN, AUDIO_OGG_OPUS, AUDIO_WAV, AUDIO_MP3 };
/* Recognises the container from the first bytes (not from a Content-Type). */
enum audio_container audio_sniff(const unsigned char *data, size_t len);
/* Decode to mono 16-bit PCM (channels are averaged): Ogg Opus at 48 kHz (libopusfile,
 * with the header's output gain applied), WAV (PCM 8/16/24/32-bit or IEEE float), MP3
 * (libmpg123). `out` is overwritten. 0, or -1 with a message in err. */
int audio_decode(const unsigned char *data, size_t len, struct pcm *out, char *err,
                 size_t errlen);
/* Channel count of an Ogg Opus stream from its OpusHead, or -1. */
int audio_opus_channels(const unsigned char *data, size_t len);
/* Adds gain_db to the OpusHead output gain of an Ogg Opus stream in place (the first page's
 * CRC is recomputed), so a decoder plays it louder or quieter without re-encoding. 0, or
 * -1 if the bytes are not Ogg Opus or the gain would leave the header's range. */
int audio_opus_add_gain(unsigned char *data, size_t len, double gain_db);
/* Levels encoded Ogg Opus exactly: decodes it, measures it, and moves the OpusHead output
 * gain by the difference to target_lufs (at most +-AUDIO_OPUS_TRIM_DB, never past a
 * decoded peak of -0.1 dBFS). Opus at 32 kbit/s drops the highest frequencies, which
 * K-weighting counts, so levelled PCM comes back ~0.4 LU quieter; this puts it back.
 * 0, or -1 (not Ogg Opus, or no memory; the bytes are then unchanged). */
#define AUDIO_OPUS_TRIM_DB 1.5
int audio_opus_level(struct buf *ogg, double target_lufs, double *applied_db);
/* audio_opus_level's measurement on a stream read as it is written (read: opusfile's
 * op_read_func — blocks until bytes come, 0 at the end): *db is the gain
 * audio_opus_level would add (0: none). 0, or -1 (not Ogg Opus, no memory). */
typedef int (*audio_read_fn)(void *stream, unsigned char *ptr, int nbytes);
int audio_opus_level_stream(audio_read_fn read, void *stream, double target_lufs, double *db);
/* audio_encode_opus then audio_opus_level, with the level's decoding run on a thread of its
 * own while the encoder writes (opus.c): the same bytes, sooner when a core is free. */
int audio_encode_opus_level(const struct pcm *p, double target_lufs, struct buf *out,
                            char *err, size_t errlen);
/* ---- browser uploads (upload.c) ---------------------------------------------------------
 * Checks the audio a page uploaded for one block of `text` (UTF-8) and decodes it to mono
 * PCM: Ogg Opus (valid pages and CRCs, OpusHead, mono or stereo) or WAV (PCM or float,
 * 8-48 kHz, mono or stereo, the announced data all there), agreeing with the Content-Type
 * if that names a format (ctype may be NULL), lasting what the text could take to say.
 * 0 (out filled, *is_opus set), or one of the codes below with a message in err and out
 * empty. */
#define AUDIO_UPLOAD_INVALID (-1)       /* malformed, truncated, empty: HTTP 400 */
#define AUDIO_UPLOAD_UNSUPPORTED (-2)   /* not Ogg Opus or WAV, or a mismatched type: 415 */
#define AUDIO_UPLOAD_IMPLAUSIBLE (-3)   /* far too long or short for the text: 422 */
int audio_upload_decode(const unsigned char *data, size_t len, const char *ctype,
                        const char *text, struct pcm *out, int *is_opus, char *err,
                        size_t errlen);
/* The page's word timings carried in an accepted body (any length, unlike a header): the
 * value of the OpusTags comment AUDIO_WORDS_TAG, or the RIFF chunk "word" of a WAV, as
 * text in X-Word-Timings' format. 0 with *words malloc'd or NULL (none), or -1 with a
 * message in err (two of them, bad headers). */
#define AUDIO_WORDS_TAG "RECITE_WORD_TIMINGS"
int audio_upload_words(const unsigned char *data, size_t len, char **words, char *err,
                       size_t errlen);
/* Resamples mono PCM to `rate` (windowed-sinc, for the OpenAI `pcm` and `wav` formats at
 * 24 kHz). 0 or -1 (ENOMEM; p unchanged). */
int pcm_resample(struct pcm *p, int rate);
/* Changes the tempo by `speed` (0.25..4) without changing the pitch (WSOLA). 0 or -1. */
int pcm_time_stretch(struct pcm *p, double speed);
#endif
