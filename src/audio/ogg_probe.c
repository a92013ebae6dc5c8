/* ogg_probe — validates an Ogg Opus stream and computes its duration, without libogg.
 * Runs on whatever thread handles an upload or reads stored audio; pure, no allocation.
 * The bytes are untrusted (browser uploads): every read is bounds-checked and every
 * page's CRC is verified, so garbage and truncated input answer -1.
 *
 * Accepted: one logical stream (one serial) of complete, contiguous, CRC-correct pages
 * with consecutive sequence numbers; the first page is the beginning-of-stream page and
 * holds exactly the OpusHead packet; the last page, and only it, has the end-of-stream
 * flag (RFC 3533 requires it, and it is how a cut at a page boundary is caught). Duration is
 * (last granule position - pre-skip) / 48 ms — Opus granules always count 48 kHz samples
 * whatever the input rate was. */
#include "audio/audio.h"
#include <pthread.h>
#include <string.h>

#define OGG_HEADER 27   /* fixed part of a page header, before the segment table */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

/* Ogg's CRC-32: polynomial 0x04c11db7, not reflected, initial value 0. The table is built
 * once under pthread_once: worker threads level audio (decode.c) while upload threads
 * probe it, and an unsynchronized first fill — even of identical values — is a data race
 * (ThreadSanitizer found one in decode.c's own copy, now this one). */
static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t r = i << 24;
        for (int j = 0; j < 8; j++)
            r = (r & 0x80000000u) ? (r << 1) ^ 0x04c11db7u : r << 1;
        crc_table[i] = r;
    }
}

uint32_t audio_ogg_crc(const unsigned char *page, size_t len)
{
    pthread_once(&crc_once, crc_init);
    uint32_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        /* The CRC field itself (bytes 22..25) counts as zero. */
        unsigned char b = (i >= 22 && i < 26) ? 0 : page[i];
        crc = (crc << 8) ^ crc_table[((crc >> 24) ^ b) & 0xff];
    }
    return crc;
}

static uint32_t le32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t le64(const unsigned char *b)
{
    return (uint64_t)le32(b) | (uint64_t)le32(b + 4) << 32;
}

int64_t audio_opus_duration_ms(const unsigned char *data, size_t len)
{
    if (!data)
        return -1;
    size_t pos = 0;
    uint32_t serial = 0, seq = 0;
    int64_t preskip = -1, last_granule = -1;
    int pages = 0, eos = 0;

    while (pos < len) {
        if (eos)
            return -1;   /* bytes after the end-of-stream page */
        size_t left = len - pos;
        const unsigned char *pg = data + pos;
        if (left < OGG_HEADER || memcmp(pg, "OggS", 4) != 0 || pg[4] != 0)
            return -1;
        unsigned flags = pg[5];
        if (flags & ~7u)
            return -1;
        int64_t granule = (int64_t)le64(pg + 6);
        uint32_t pserial = le32(pg + 14), pseq = le32(pg + 18), crc = le32(pg + 22);
        size_t nseg = pg[26];
        if (left < OGG_HEADER + nseg)
            return -1;
        size_t body = 0;
        for (size_t i = 0; i < nseg; i++)
            body += pg[OGG_HEADER + i];
        size_t plen = OGG_HEADER + nseg + body;   /* at most 27 + 255 + 255*255 */
        if (left < plen || audio_ogg_crc(pg, plen) != crc)
            return -1;

        int bos = (flags & 2) != 0;
        if (pages == 0) {
            /* The OpusHead page: BOS, one complete packet of at least 19 bytes. */
            const unsigned char *head = pg + OGG_HEADER + nseg;
            if (!bos || (flags & 1) || nseg == 0 || pg[OGG_HEADER + nseg - 1] == 255 ||
                body < 19 || memcmp(head, "OpusHead", 8) != 0)
                return -1;
            /* Version: the major nibble must be 0 (RFC 7845 §5.1); at least one channel. */
            if ((head[8] & 0xf0) != 0 || head[9] == 0)
                return -1;
            preskip = (int64_t)(head[10] | head[11] << 8);
            serial = pserial;
            seq = pseq;
        } else {
            if (bos || pserial != serial || pseq != seq + 1)
                return -1;
            seq = pseq;
        }
        /* -1 means "no packet ends on this page"; otherwise granules never go back. */
        if (granule != -1) {
            if (granule < 0 || granule < last_granule)
                return -1;
            last_granule = granule;
        }
        eos = (flags & 4) != 0;
        pages++;
        pos += plen;
    }
    /* Header pages carry granule 0, so a stream with no audio fails here unless its
     * pre-skip is 0 (then it is a valid, empty stream: 0 ms). */
    if (pages < 2 || !eos || last_granule < preskip)
        return -1;
    return (last_granule - preskip) / 48;
}
