/* book — an exported document with chapters and metadata (libavformat/libavcodec):
 * .m4b (AAC in MP4 with chapter atoms), .mp3 (MP3 with ID3v2 CHAP/CTOC frames, written by
 * libavformat's mp3 muxer: libid3tag has no chapter frames), .ogg/.opus (Opus with
 * CHAPTERnnn / CHAPTERnnnNAME comments). The audio comes from an Ogg Opus file already
 * rendered in order (export.c): copied packet for packet into .ogg, decoded and encoded
 * for .m4b and .mp3. Blocking; any thread; no shared state. */
#ifndef RECITE_AUDIO_BOOK_H
#define RECITE_AUDIO_BOOK_H
#include <stddef.h>
#include <stdint.h>

enum book_format { BOOK_M4B, BOOK_MP3, BOOK_OGG };

struct book_chapter {
    int64_t start_ms, end_ms;
    const char *title;
};

struct book_meta {
    const char *title, *author;   /* either may be NULL */
};

/* .m4b, .mp3, .ogg or .opus -> 0 and *fmt; else -1. */
int book_format_for(const char *path, enum book_format *fmt);

/* Writes `out` from the Ogg Opus file `in` with the chapters and metadata. 0, or -1 with a
 * message in err (a partial `out` is removed). */
int book_write(const char *in, const char *out, enum book_format fmt,
               const struct book_chapter *ch, int n, const struct book_meta *meta,
               char *err, size_t errlen);
#endif
