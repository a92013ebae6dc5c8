/* test_store — the store module against a real SQLite file in a temp directory:
 * documents round-trip, not-found answers, the audio cache, concurrent connections from
 * threads and processes, a 10,000-block insert, reopen, and a child that dies right after
 * an insert returned. struct doc values are built here by hand (not with doc_build). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "store/store.h"
#include "util/log.h"

static char tmp_root[256];

static void path_in(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", tmp_root, name);
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        abort();
    return p;
}

/* A struct doc with malloc'd strings: block i has text "<prefix> i." */
static struct doc make_doc(const char *title, const char *prefix, int n)
{
    struct doc d = { .title = title ? xstrdup(title) : NULL, .block_count = n };
    char buf[128];
    snprintf(buf, sizeof buf, "<p data-block-idx=\"0\">%s</p>", prefix);
    d.html = xstrdup(buf);
    d.blocks = n ? calloc((size_t)n, sizeof *d.blocks) : NULL;
    for (int i = 0; i < n; i++) {
        snprintf(buf, sizeof buf, "%s %d.", prefix, i);
        d.blocks[i].idx = i;
        d.blocks[i].text = xstrdup(buf);
        d.blocks[i].est_duration_ms = 100 * (i + 1);
        d.blocks[i].pause_ms = 10 * i;
    }
    return d;
}

static void free_doc(struct doc *d)
{
    for (int i = 0; i < d->block_count; i++)
        free(d->blocks[i].text);
    free(d->blocks);
    free(d->title);
    free(d->html);
    memset(d, 0, sizeof *d);
}

static struct store *open_or_die(const char *dir)
{
    char err[256] = "";
    struct store *st = store_open(dir, err, sizeof err);
    if (!st) {
        fprintf(stderr, "store_open(%s): %s\n", dir, err);
        exit(1);
    }
    return st;
}

static void fill_hash(char hash[65], int n)
{
    snprintf(hash, 65, "%064x", n);
}

static void test_documents(void)
{
    char dir[512], got[64];
    path_in(dir, sizeof dir, "docs/nested/deeper");
    struct store *st = open_or_die(dir);
    struct stat sb;
    CHECK(stat(dir, &sb) == 0 && (sb.st_mode & 0777) == 0700);

    CHECK_INT(store_pragma_text(st, "journal_mode", got, sizeof got), 0);
    CHECK_STR(got, "wal");
    CHECK_INT(store_pragma_text(st, "synchronous", got, sizeof got), 0);
    CHECK_STR(got, "2");   /* FULL */
    CHECK_INT(store_pragma_text(st, "foreign_keys", got, sizeof got), 0);
    CHECK_STR(got, "1");
    CHECK_INT(store_pragma_text(st, "user_version", got, sizeof got), 0);
    CHECK_STR(got, "6");   /* 2: accounts (users, owner, usage); 3: audio_owners; 4: source_url, author; 5: blocks.pause_ms; 6: exports */
    CHECK_INT(store_pragma_text(st, "busy_timeout", got, sizeof got), 0);
    CHECK_STR(got, "5000");
    log_set_level(-1);   /* the next calls fail on purpose; keep the output quiet */
    CHECK_INT(store_pragma_text(st, "user_version=7", got, sizeof got), -1);
    log_set_level(2);

    struct doc a = make_doc("First", "Alpha", 3);
    struct doc b = make_doc("Second", "Beta", 2);
    struct doc c = make_doc(NULL, "Gamma", 1);   /* NULL title is stored as "" */
    struct doc e = make_doc("Empty", "Nothing", 0);
    b.source_url = "https://example.com/article";   /* imported: the URL and author stay */
    b.author = "A. Writer";
    CHECK_INT(store_doc_insert(st, 1, "doc-a", "markdown", &a, 1000), 0);
    CHECK_INT(store_doc_insert(st, 1, "doc-b", "text", &b, 2000), 0);
    CHECK_INT(store_doc_insert(st, 1, "doc-c", "html", &c, 2000), 0);   /* same second as b */
    CHECK_INT(store_doc_insert(st, 1, "doc-e", "text", &e, 500), 0);

    log_set_level(-1);
    CHECK_INT(store_doc_insert(st, 1, "doc-a", "text", &b, 3000), -1);   /* duplicate id */
    CHECK_INT(store_doc_insert(st, 1, "0123456789012345678901234567890123456789", "text", &b,
                               3000), -1);   /* id does not fit doc_summary.id */
    b.blocks[1].idx = 5;   /* not consecutive: rejected, nothing stored */
    CHECK_INT(store_doc_insert(st, 1, "doc-bad", "text", &b, 3000), -1);
    b.blocks[1].idx = 1;
    log_set_level(2);

    struct doc_summary *list = NULL;
    int n = -1;
    CHECK_INT(store_doc_list(st, 1, &list, &n), 0);
    CHECK_INT(n, 4);
    if (n == 4) {
        CHECK_STR(list[0].id, "doc-c");   /* tie on created_at: later insert first */
        CHECK_STR(list[1].id, "doc-b");
        CHECK_STR(list[2].id, "doc-a");
        CHECK_STR(list[3].id, "doc-e");
        CHECK_STR(list[0].title, "");
        CHECK_STR(list[2].title, "First");
        CHECK_INT(list[2].block_count, 3);
        CHECK_INT(list[2].created_at, 1000);
        CHECK_INT(list[2].last_block_idx, -1);
    }
    doc_summary_free(list, n);

    struct doc_record r;
    CHECK_INT(store_doc_get(st, 1, "doc-a", &r), 0);
    CHECK_STR(r.s.id, "doc-a");
    CHECK_STR(r.s.title, "First");
    CHECK_STR(r.html, a.html);
    CHECK_INT(r.s.block_count, 3);
    CHECK_INT(r.block_count, 3);
    CHECK_INT(r.s.created_at, 1000);
    CHECK_INT(r.s.last_block_idx, -1);
    for (int i = 0; i < r.block_count && i < 3; i++) {
        CHECK_INT(r.blocks[i].idx, i);
        CHECK_STR(r.blocks[i].text, a.blocks[i].text);
        CHECK_INT(r.blocks[i].est_duration_ms, a.blocks[i].est_duration_ms);
        CHECK_INT(r.blocks[i].pause_ms, a.blocks[i].pause_ms);
    }
    doc_record_free(&r);
    doc_record_free(&r);   /* freed records are zeroed: a second free is harmless */

    CHECK_INT(store_doc_get(st, 1, "doc-e", &r), 0);
    CHECK_INT(r.block_count, 0);
    CHECK(r.blocks == NULL);
    doc_record_free(&r);

    int count = -1;
    CHECK_INT(store_doc_block_count(st, 1, "doc-b", &count), 0);
    CHECK_INT(count, 2);
    char *text = NULL;
    CHECK_INT(store_block_text(st, 1, "doc-b", 1, &text), 0);
    CHECK_STR(text, "Beta 1.");
    free(text);
    CHECK_INT(store_block_text(st, 1, "doc-b", 2, &text), STORE_NOT_FOUND);
    CHECK(text == NULL);
    CHECK_INT(store_block_text(st, 1, "doc-b", -1, &text), STORE_NOT_FOUND);

    CHECK_INT(store_doc_set_position(st, 1, "doc-a", 2), 0);
    CHECK_INT(store_doc_set_position(st, 1, "doc-a", 2), 0);   /* unchanged value still found */
    CHECK_INT(store_doc_set_position(st, 1, "doc-a", 99), 0);  /* range is not checked here */
    CHECK_INT(store_doc_set_position(st, 1, "doc-a", 1), 0);
    CHECK_INT(store_doc_get(st, 1, "doc-a", &r), 0);
    CHECK_INT(r.s.last_block_idx, 1);
    doc_record_free(&r);

    /* unknown ids, including ones too long to ever have been stored */
    const char *unknown[] = { "nope", "", "0123456789012345678901234567890123456789xyz" };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        CHECK_INT(store_doc_get(st, 1, unknown[i], &r), STORE_NOT_FOUND);
        CHECK_INT(store_doc_block_count(st, 1, unknown[i], &count), STORE_NOT_FOUND);
        CHECK_INT(store_block_text(st, 1, unknown[i], 0, &text), STORE_NOT_FOUND);
        CHECK_INT(store_doc_set_position(st, 1, unknown[i], 0), STORE_NOT_FOUND);
        CHECK_INT(store_doc_delete(st, 1, unknown[i]), STORE_NOT_FOUND);
    }
    doc_record_free(&r);   /* zeroed by the failed get */
    CHECK_INT(store_doc_get(st, 1, "doc-bad", &r), STORE_NOT_FOUND);

    /* delete cascades to blocks; audio is untouched (content-addressed, shared) */
    struct audio_record au = { .duration_ms = 10, .data = (unsigned char *)"x", .len = 1 };
    fill_hash(au.hash, 1);
    snprintf(au.model, sizeof au.model, "espeak");
    snprintf(au.voice, sizeof au.voice, "en-us");
    CHECK_INT(store_audio_put(st, &au), 0);
    CHECK_INT(store_doc_delete(st, 1, "doc-a"), 0);
    CHECK_INT(store_doc_delete(st, 1, "doc-a"), STORE_NOT_FOUND);
    CHECK_INT(store_doc_get(st, 1, "doc-a", &r), STORE_NOT_FOUND);
    CHECK_INT(store_block_text(st, 1, "doc-a", 0, &text), STORE_NOT_FOUND);
    struct audio_record meta;
    CHECK_INT(store_audio_meta(st, au.hash, &meta), 0);
    audio_record_free(&meta);
    CHECK_INT(store_doc_list(st, 1, &list, &n), 0);
    CHECK_INT(n, 3);
    doc_summary_free(list, n);

    /* re-inserting the deleted id works: no orphan blocks were left behind */
    CHECK_INT(store_doc_insert(st, 1, "doc-a", "markdown", &a, 4000), 0);
    CHECK_INT(store_block_text(st, 1, "doc-a", 2, &text), 0);
    CHECK_STR(text, "Alpha 2.");
    free(text);

    char msg[256];
    CHECK_INT(store_integrity_check(st, msg, sizeof msg), 0);
    CHECK_STR(msg, "ok");
    store_close(st);

    /* reopen: everything is still there */
    st = open_or_die(dir);
    CHECK_INT(store_doc_list(st, 1, &list, &n), 0);
    CHECK_INT(n, 4);
    if (n == 4)
        CHECK_STR(list[0].id, "doc-a");
    doc_summary_free(list, n);
    CHECK_INT(store_doc_get(st, 1, "doc-b", &r), 0);
    CHECK_INT(r.block_count, 2);
    if (r.block_count == 2)
        CHECK_STR(r.blocks[1].text, "Beta 1.");
    CHECK_STR(r.source_url, "https://example.com/article");
    CHECK_STR(r.author, "A. Writer");
    doc_record_free(&r);
    CHECK_INT(store_doc_get(st, 1, "doc-c", &r), 0);
    CHECK(r.source_url == NULL && r.author == NULL);
    doc_record_free(&r);
    store_close(st);
    b.source_url = b.author = NULL;   /* not ours to free */

    free_doc(&a);
    free_doc(&b);
    free_doc(&c);
    free_doc(&e);
}

static void test_audio(void)
{
    char dir[512];
    path_in(dir, sizeof dir, "audio");
    struct store *st = open_or_die(dir);

    /* every byte value, NULs included, and a blob large enough to overflow many pages */
    size_t big = 3 * 1024 * 1024 + 7;
    unsigned char *data = malloc(big);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < big; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        data[i] = i < 256 ? (unsigned char)i : (unsigned char)x;
    }
    struct audio_record a = { .duration_ms = 1234, .data = data, .len = big,
                              .word_timings = "[{\"start_ms\":0,\"end_ms\":5,\"offset\":0,"
                                              "\"length\":2}]" };
    fill_hash(a.hash, 42);
    snprintf(a.model, sizeof a.model, "espeak");
    snprintf(a.voice, sizeof a.voice, "en-us");
    CHECK_INT(store_audio_put(st, &a), 0);

    /* a second put of the same hash keeps the first copy */
    unsigned char other[3] = { 9, 9, 9 };
    struct audio_record b = a;
    b.data = other;
    b.len = sizeof other;
    b.duration_ms = 1;
    b.word_timings = NULL;
    snprintf(b.voice, sizeof b.voice, "de");
    CHECK_INT(store_audio_put(st, &b), 0);

    struct audio_record g;
    CHECK_INT(store_audio_get(st, a.hash, &g), 0);
    CHECK_STR(g.hash, a.hash);
    CHECK_STR(g.model, "espeak");
    CHECK_STR(g.voice, "en-us");
    CHECK_INT(g.duration_ms, 1234);
    CHECK_INT(g.len, big);
    CHECK(g.data && memcmp(g.data, data, big) == 0);
    CHECK_STR(g.word_timings, a.word_timings);
    /* the hash argument may live inside the record being filled (free keeps the hash) */
    audio_record_free(&g);
    CHECK_INT(store_audio_get(st, g.hash, &g), 0);
    CHECK_STR(g.hash, a.hash);
    CHECK_INT(g.len, big);
    audio_record_free(&g);

    struct audio_record m;
    CHECK_INT(store_audio_meta(st, a.hash, &m), 0);
    CHECK(m.data == NULL);
    CHECK_INT(m.len, big);
    CHECK_INT(m.duration_ms, 1234);
    CHECK_STR(m.word_timings, a.word_timings);
    audio_record_free(&m);
    CHECK_INT(m.owner, 0);   /* server audio: everyone's */

    /* a browser upload keeps its owner, through get and meta */
    unsigned char mine[4] = { 1, 2, 3, 4 };
    struct audio_record o = { .duration_ms = 700, .data = mine, .len = sizeof mine, .owner = 7 };
    fill_hash(o.hash, 45);
    snprintf(o.model, sizeof o.model, "browser");
    snprintf(o.voice, sizeof o.voice, "en-us");
    CHECK_INT(store_audio_put(st, &o), 0);
    CHECK_INT(store_audio_get(st, o.hash, &g), 0);
    CHECK_INT(g.owner, 7);
    CHECK(g.len == sizeof mine && memcmp(g.data, mine, sizeof mine) == 0);
    audio_record_free(&g);
    CHECK_INT(store_audio_meta(st, o.hash, &m), 0);
    CHECK_INT(m.owner, 7);
    audio_record_free(&m);

    /* NULL word timings and an empty blob round-trip too */
    struct audio_record z = { .duration_ms = 0 };
    fill_hash(z.hash, 43);
    snprintf(z.model, sizeof z.model, "flite");
    snprintf(z.voice, sizeof z.voice, "slt");
    CHECK_INT(store_audio_put(st, &z), 0);
    CHECK_INT(store_audio_get(st, z.hash, &g), 0);
    CHECK_INT(g.len, 0);
    CHECK(g.word_timings == NULL);
    CHECK_STR(g.voice, "slt");
    audio_record_free(&g);

    char unknown[65];
    fill_hash(unknown, 44);
    CHECK_INT(store_audio_get(st, unknown, &g), STORE_NOT_FOUND);
    CHECK(g.data == NULL);
    CHECK_INT(store_audio_meta(st, unknown, &g), STORE_NOT_FOUND);
    audio_record_free(&g);

    log_set_level(-1);
    struct audio_record bad = { .len = 5 };   /* no hash, no data */
    CHECK_INT(store_audio_put(st, &bad), -1);
    log_set_level(2);

    char msg[128];
    CHECK_INT(store_integrity_check(st, msg, sizeof msg), 0);
    store_close(st);
    free(data);
}

/* ---- concurrency: threads, each with its own connection, on a brand-new database ---- */

#define THREADS 8
#define PUTS_PER_THREAD 40

struct worker_arg {
    const char *dir;
    pthread_barrier_t *barrier;
    int id;
    int failures;
};

static void *worker_main(void *p)
{
    struct worker_arg *w = p;
    char err[256];
    pthread_barrier_wait(w->barrier);   /* all open the new database at once */
    struct store *st = store_open(w->dir, err, sizeof err);
    if (!st) {
        fprintf(stderr, "thread %d: store_open: %s\n", w->id, err);
        w->failures++;
        return NULL;
    }
    unsigned char blob[2048];
    for (int i = 0; i < PUTS_PER_THREAD; i++) {
        memset(blob, w->id, sizeof blob);
        /* half the hashes are shared by all threads (dedup races), half are private */
        int key = i % 2 ? 1000 + i : 100000 * (w->id + 1) + i;
        struct audio_record a = { .duration_ms = i, .data = blob, .len = sizeof blob };
        fill_hash(a.hash, key);
        snprintf(a.model, sizeof a.model, "espeak");
        snprintf(a.voice, sizeof a.voice, "en-us");
        if (store_audio_put(st, &a) != 0)
            w->failures++;
        struct audio_record m;
        if (store_audio_meta(st, a.hash, &m) != 0 || m.len != sizeof blob)
            w->failures++;
        audio_record_free(&m);
    }
    store_close(st);
    return NULL;
}

static void test_threads(void)
{
    char dir[512];
    path_in(dir, sizeof dir, "threads");
    pthread_t th[THREADS];
    struct worker_arg args[THREADS];
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, THREADS);
    for (int i = 0; i < THREADS; i++) {
        args[i] = (struct worker_arg){ .dir = dir, .barrier = &barrier, .id = i };
        pthread_create(&th[i], NULL, worker_main, &args[i]);
    }
    int failures = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        failures += args[i].failures;
    }
    pthread_barrier_destroy(&barrier);
    CHECK_INT(failures, 0);

    struct store *st = open_or_die(dir);
    struct audio_record m;
    int found = 0;
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < PUTS_PER_THREAD; i += 2) {
            fill_hash(m.hash, 100000 * (t + 1) + i);
            found += store_audio_meta(st, m.hash, &m) == 0;
            audio_record_free(&m);
        }
    CHECK_INT(found, THREADS * PUTS_PER_THREAD / 2);
    char msg[128];
    CHECK_INT(store_integrity_check(st, msg, sizeof msg), 0);
    store_close(st);
}

/* ---- processes racing to create the same new database ---- */

#define PROCS 6

static void test_processes(void)
{
    char dir[512];
    path_in(dir, sizeof dir, "procs/db");
    int gate[2];
    CHECK_INT(pipe(gate), 0);
    pid_t pids[PROCS];
    for (int i = 0; i < PROCS; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            char c, err[256], id[32];
            close(gate[1]);
            if (read(gate[0], &c, 1) < 0)   /* EOF when the parent closes: go */
                _exit(3);
            struct store *st = store_open(dir, err, sizeof err);
            if (!st) {
                fprintf(stderr, "child %d: %s\n", i, err);
                _exit(1);
            }
            struct doc d = make_doc("proc", "Proc", 20);
            snprintf(id, sizeof id, "proc-%d", i);
            int rc = store_doc_insert(st, 1, id, "text", &d, 100 + i);
            free_doc(&d);
            store_close(st);
            _exit(rc == 0 ? 0 : 2);
        }
    }
    close(gate[0]);
    close(gate[1]);
    for (int i = 0; i < PROCS; i++) {
        int status = -1;
        waitpid(pids[i], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    struct store *st = open_or_die(dir);
    struct doc_summary *list = NULL;
    int n = 0;
    CHECK_INT(store_doc_list(st, 1, &list, &n), 0);
    CHECK_INT(n, PROCS);
    if (n == PROCS)
        CHECK_STR(list[0].id, "proc-5");
    doc_summary_free(list, n);
    store_close(st);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void test_big_insert(void)
{
    char dir[512];
    path_in(dir, sizeof dir, "big");
    struct store *st = open_or_die(dir);
    struct doc d = make_doc("Big", "A sentence of moderate length that gets read aloud, block",
                            10000);
    double t0 = now_ms();
    CHECK_INT(store_doc_insert(st, 1, "big", "text", &d, 1), 0);
    double t1 = now_ms();
    printf("10,000-block insert: %.1f ms\n", t1 - t0);
    struct doc_record r;
    CHECK_INT(store_doc_get(st, 1, "big", &r), 0);
    printf("10,000-block get: %.1f ms\n", now_ms() - t1);
    CHECK_INT(r.block_count, 10000);
    int ok = 1;
    for (int i = 0; i < r.block_count; i++)
        ok &= r.blocks[i].idx == i && strcmp(r.blocks[i].text, d.blocks[i].text) == 0;
    CHECK(ok);
    doc_record_free(&r);
    t1 = now_ms();
    CHECK_INT(store_doc_delete(st, 1, "big"), 0);
    printf("10,000-block delete: %.1f ms\n", now_ms() - t1);
    free_doc(&d);
    store_close(st);
}

/* A child inserts and dies without closing (like kill -9 after the 201 went out). */
static void test_crash_durability(void)
{
    char dir[512], wal[600];
    path_in(dir, sizeof dir, "crash");
    snprintf(wal, sizeof wal, "%s/recite.db-wal", dir);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct store *st = open_or_die(dir);
        struct doc d = make_doc("Survivor", "Still here", 5);
        int rc = store_doc_insert(st, 1, "crash-doc", "text", &d, 7);
        _exit(rc == 0 ? 0 : 2);   /* no store_close, no free: the process just ends */
    }
    int status = -1;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(access(wal, F_OK) == 0);   /* the commit sits in the WAL, never checkpointed */

    struct store *st = open_or_die(dir);
    struct doc_record r;
    CHECK_INT(store_doc_get(st, 1, "crash-doc", &r), 0);
    CHECK_STR(r.s.title, "Survivor");
    CHECK_INT(r.block_count, 5);
    if (r.block_count == 5)
        CHECK_STR(r.blocks[4].text, "Still here 4.");
    doc_record_free(&r);
    char msg[128];
    CHECK_INT(store_integrity_check(st, msg, sizeof msg), 0);
    CHECK_STR(msg, "ok");
    store_close(st);
}

static void test_null_frees(void)
{
    store_close(NULL);
    doc_summary_free(NULL, 0);
    doc_record_free(NULL);
    audio_record_free(NULL);
    struct doc_record r = { 0 };
    struct audio_record a = { 0 };
    doc_record_free(&r);
    audio_record_free(&a);
    char err[256] = "";
    CHECK(store_open("/proc/recite-cannot-exist/x", err, sizeof err) == NULL);
    CHECK(err[0] != '\0');
}

/* Export jobs' rows (schema 6): saved, replaced by a new job of the same kind, listed oldest
 * first, refused for a document that is gone, and deleted with their document. */
static void test_exports(void)
{
    char dir[300];
    path_in(dir, sizeof dir, "exports");
    struct store *st = open_or_die(dir);
    struct doc a = make_doc("Book", "Line", 3);
    CHECK_INT(store_doc_insert(st, 1, "doc-x", "markdown", &a, 1000), 0);
    CHECK_INT(store_doc_insert(st, 1, "doc-y", "markdown", &a, 1001), 0);
    struct export_row r = { .id = 5, .owner = 1, .doc_id = "doc-x", .format = "m4b",
                            .model = "espeak", .voice = "en-us", .status = "rendering",
                            .blocks_done = 1, .blocks_total = 3,
                            .file = "exports/doc-x-espeak-en-us.m4b", .title = "Book",
                            .created_at = 10, .updated_at = 11 };
    CHECK_INT(store_export_save(st, &r), 0);
    snprintf(r.status, sizeof r.status, "error");
    snprintf(r.error, sizeof r.error, "block 2: synthesis failed");
    CHECK_INT(store_export_save(st, &r), 0);                  /* same id: updated */
    struct export_row o = r;
    o.id = 6;
    snprintf(o.doc_id, sizeof o.doc_id, "doc-y");
    snprintf(o.status, sizeof o.status, "done");
    o.error[0] = '\0';
    o.title[0] = '\0';
    o.duration_ms = 1234;
    CHECK_INT(store_export_save(st, &o), 0);
    struct export_row g = o;
    g.id = 9;
    snprintf(g.doc_id, sizeof g.doc_id, "doc-gone");
    CHECK_INT(store_export_save(st, &g), STORE_NOT_FOUND);  /* no such document */
    struct export_row *rows = NULL;
    int n = 0;
    CHECK_INT(store_export_list(st, &rows, &n), 0);
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK_INT((int)rows[0].id, 5);
        CHECK_STR(rows[0].status, "error");
        CHECK_STR(rows[0].error, "block 2: synthesis failed");
        CHECK_STR(rows[0].title, "Book");
        CHECK_INT(rows[0].blocks_done, 1);
        CHECK_INT(rows[0].blocks_total, 3);
        CHECK_STR(rows[1].doc_id, "doc-y");
        CHECK_STR(rows[1].error, "");
        CHECK_STR(rows[1].title, "");
        CHECK_INT((int)rows[1].duration_ms, 1234);
    }
    free(rows);
    /* a new job of the same kind (owner, document, format, model, voice) replaces the row */
    r.id = 7;
    snprintf(r.status, sizeof r.status, "preparing");
    r.error[0] = '\0';
    CHECK_INT(store_export_save(st, &r), 0);
    CHECK_INT(store_export_list(st, &rows, &n), 0);
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK_INT((int)rows[0].id, 6);
        CHECK_INT((int)rows[1].id, 7);
        CHECK_STR(rows[1].status, "preparing");
    }
    free(rows);
    /* deleting the document takes its row */
    CHECK_INT(store_doc_delete(st, 1, "doc-x"), 0);
    CHECK_INT(store_export_list(st, &rows, &n), 0);
    CHECK_INT(n, 1);
    if (n == 1)
        CHECK_STR(rows[0].doc_id, "doc-y");
    free(rows);
    free_doc(&a);
    store_close(st);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

int main(void)
{
    const char *tmpdir = getenv("TMPDIR");
    snprintf(tmp_root, sizeof tmp_root, "%s/recite-store-XXXXXX",
             tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(tmp_root)) {
        perror("mkdtemp");
        return 1;
    }
    test_null_frees();
    test_crash_durability();   /* forks: run before any thread exists */
    test_processes();
    test_documents();
    test_audio();
    test_big_insert();
    test_exports();
    test_threads();
    nftw(tmp_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    CHECK_DONE();
}
