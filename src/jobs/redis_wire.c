/* redis_wire — see redis_wire.h. Strict: a malformed element is rejected whole (the server
 * logs and drops it), so a bad or foreign producer can never make the reader misparse audio
 * or read past the element. Any thread. */
#include "jobs/redis_wire.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HEADER 1024
#define MAX_FIELDS 12

int redis_wire_is_hash(const char *s)
{
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return s[64] == '\0';
}

static const char *type_name(enum job_event_type t)
{
    return t == JOB_EV_CACHED ? "cached" : t == JOB_EV_SKIPPED ? "skipped"
         : t == JOB_EV_ERROR ? "error" : NULL;
}

/* A header token: non-empty, printable, no spaces. */
static int token_ok(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 127)
            return 0;
    return 1;
}

int redis_wire_encode_result(const struct redis_msg *m, char **out, size_t *outlen)
{
    const char *type = type_name(m->type);
    size_t elen = strnlen(m->error, sizeof m->error);
    if (!type || !redis_wire_is_hash(m->hash) || !token_ok(m->model) || !token_ok(m->voice) ||
        !token_ok(m->worker) || (m->timings_len && !m->word_timings) || (m->audio_len && !m->audio))
        return -1;
    char head[MAX_HEADER];
    int hn = snprintf(head, sizeof head, "R1 %s %llu %s %lld %lld %s %s %s %zu %zu %zu\n", m->hash,
                      (unsigned long long)m->attempt, type, (long long)m->duration_ms,
                      (long long)m->synthesis_us, m->model, m->voice, m->worker, elen,
                      m->timings_len, m->audio_len);
    if (hn < 0 || (size_t)hn >= sizeof head)
        return -1;
    size_t n = (size_t)hn + elen + m->timings_len + m->audio_len;
    char *b = malloc(n);
    if (!b)
        return -1;
    memcpy(b, head, (size_t)hn);
    memcpy(b + hn, m->error, elen);
    if (m->timings_len)
        memcpy(b + hn + elen, m->word_timings, m->timings_len);
    if (m->audio_len)
        memcpy(b + hn + elen + m->timings_len, m->audio, m->audio_len);
    *out = b;
    *outlen = n;
    return 0;
}

static int parse_u64(const char *s, unsigned long long max, unsigned long long *out)
{
    if (!*s || strlen(s) > 20)
        return -1;
    unsigned long long v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int copy_token(const char *s, char *out, size_t outlen)
{
    if (!token_ok(s) || strlen(s) >= outlen)
        return -1;
    memcpy(out, s, strlen(s) + 1);
    return 0;
}

int redis_wire_decode(const char *buf, size_t len, struct redis_msg *m)
{
    memset(m, 0, sizeof *m);
    const char *nl = memchr(buf, '\n', len < MAX_HEADER ? len : MAX_HEADER);
    if (!nl)
        return -1;
    char head[MAX_HEADER];
    size_t hn = (size_t)(nl - buf);
    memcpy(head, buf, hn);
    head[hn] = '\0';
    if (memchr(head, '\0', hn))
        return -1;
    char *f[MAX_FIELDS + 1];
    int nf = 0;
    for (char *p = head; nf <= MAX_FIELDS;) {
        f[nf++] = p;
        char *sp = strchr(p, ' ');
        if (!sp)
            break;
        *sp = '\0';
        p = sp + 1;
    }
    unsigned long long v;
    if (nf < 4 || strlen(f[0]) != 2 || f[0][1] != '1' || !redis_wire_is_hash(f[1]) ||
        parse_u64(f[2], UINT64_MAX, &v))
        return -1;
    m->kind = f[0][0];
    memcpy(m->hash, f[1], 65);
    m->attempt = v;
    if (m->kind == 'P')
        return nf == 4 && hn + 1 == len && !copy_token(f[3], m->worker, sizeof m->worker) ? 0 : -1;
    if (m->kind != 'R' || nf != 12)
        return -1;
    if (!strcmp(f[3], "cached"))
        m->type = JOB_EV_CACHED;
    else if (!strcmp(f[3], "skipped"))
        m->type = JOB_EV_SKIPPED;
    else if (!strcmp(f[3], "error"))
        m->type = JOB_EV_ERROR;
    else
        return -1;
    unsigned long long dur, sus, elen, tlen, alen;
    if (parse_u64(f[4], INT64_MAX, &dur) || parse_u64(f[5], INT64_MAX, &sus) ||
        copy_token(f[6], m->model, sizeof m->model) || copy_token(f[7], m->voice, sizeof m->voice) ||
        copy_token(f[8], m->worker, sizeof m->worker) ||
        parse_u64(f[9], sizeof m->error - 1, &elen) || parse_u64(f[10], len, &tlen) ||
        parse_u64(f[11], len, &alen))
        return -1;
    size_t rest = len - hn - 1;
    if (elen > rest || tlen > rest - elen || alen != rest - elen - tlen)
        return -1;
    const char *p = nl + 1;
    memcpy(m->error, p, elen);
    m->error[elen] = '\0';
    if (strlen(m->error) != elen)
        return -1;
    m->duration_ms = (int64_t)dur;
    m->synthesis_us = (int64_t)sus;
    m->word_timings = tlen ? p + elen : NULL;
    m->timings_len = tlen;
    m->audio = alen ? (const unsigned char *)p + elen + tlen : NULL;
    m->audio_len = alen;
    return 0;
}
