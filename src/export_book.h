/* export_book — a document to an audiobook with chapters: the blocks are rendered in order
 * by export_run into a temporary Ogg Opus file next to the output (memory stays bounded),
 * noting where each block starts; then audio/book.c writes .m4b, .mp3 or .ogg with one
 * chapter per chapter heading (doc/chapters.h) and the title/author metadata. Called from
 * one thread (the CLI's main thread, or an offload pool thread for a server export). */
#ifndef RECITE_EXPORT_BOOK_H
#define RECITE_EXPORT_BOOK_H
#include "audio/book.h"
#include "export.h"

struct chapter;

/* 0, or -1 with a message in err. The temporary file is always removed. */
int export_book(const struct export_opts *o, const struct export_block *blocks, int n,
                const struct chapter *ch, int nch, const struct book_meta *meta,
                const char *path, enum book_format fmt, struct export_stats *st,
                char *err, size_t errlen);
#endif
