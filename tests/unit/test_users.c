/* test_users — accounts in the store (store_users.c, the 1 -> 2 migration, owners on every
 * document query) and the credential helpers (auth/credentials.c). */
#include "check.h"
#include "auth/credentials.h"
#include "store/store.h"
#include "util/log.h"
#include <signal.h>
#include <sqlite3.h>   /* only to build a large schema-1 database for the crash test */
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    char buf[8192];
    size_t n;
    CHECK(in && out);
    while (in && out && (n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, out);
    if (in) fclose(in);
    if (out) fclose(out);
}

/* A data directory written by the release before accounts: its documents go to user 1,
 * keep their position, and the first user added adopts them. */
static void test_migration(void)
{
    char path[300], err[256];
    snprintf(path, sizeof path, "%s/recite.db", dir);
    copy_file("tests/data/datadir-v1/recite.db", path);
    struct store *st = store_open(dir, err, sizeof err);
    CHECK(st != NULL);
    if (!st)
        return;
    /* The upgraded directory is at the version a fresh one is created with (migrations
     * after accounts run on top of it too). */
    char v[16], fresh_v[16], fresh[300];
    CHECK_INT(store_pragma_text(st, "user_version", v, sizeof v), 0);
    snprintf(fresh, sizeof fresh, "%s/fresh", dir);
    mkdir(fresh, 0700);
    struct store *fst = store_open(fresh, err, sizeof err);
    CHECK(fst != NULL);
    if (fst) {
        CHECK_INT(store_pragma_text(fst, "user_version", fresh_v, sizeof fresh_v), 0);
        CHECK_STR(v, fresh_v);
        store_close(fst);
    }
    CHECK(atoi(v) >= 2);
    struct doc_summary *list = NULL;
    int n = 0;
    CHECK_INT(store_doc_list(st, STORE_FIRST_USER, &list, &n), 0);
    CHECK_INT(n, 2);
    for (int i = 0; i < n; i++)
        if (!strcmp(list[i].title, "Before accounts"))
            CHECK_INT(list[i].last_block_idx, 1);
    doc_summary_free(list, n);
    int adopted = -1;
    char h1[65], h2[65];
    cred_token_hash("rct_one", h1);
    cred_token_hash("rct_two", h2);
    CHECK_INT(store_user_add(st, "alice", h1, 100, &adopted), 0);
    CHECK_INT(adopted, 2);
    CHECK_INT(store_user_add(st, "bob", h2, 100, &adopted), 0);
    CHECK_INT(adopted, 0);
    CHECK_INT(store_user_add(st, "bob", h2, 100, &adopted), STORE_EXISTS);
    int64_t id = 0;
    char name[STORE_NAME_MAX];
    CHECK_INT(store_user_by_token(st, h1, &id, name), 0);
    CHECK_INT(id, STORE_FIRST_USER);
    CHECK_STR(name, "alice");
    CHECK_INT(store_user_by_token(st, h2, &id, name), 0);
    int64_t bob = id;
    CHECK(bob != STORE_FIRST_USER);
    /* bob sees none of alice's documents, by any call */
    CHECK_INT(store_doc_list(st, bob, &list, &n), 0);
    CHECK_INT(n, 0);
    doc_summary_free(list, n);
    CHECK_INT(store_doc_list(st, STORE_FIRST_USER, &list, &n), 0);
    char doc[40];
    snprintf(doc, sizeof doc, "%s", n ? list[0].id : "");
    doc_summary_free(list, n);
    struct doc_record r;
    int count;
    char *text = NULL;
    CHECK_INT(store_doc_get(st, bob, doc, &r), STORE_NOT_FOUND);
    CHECK_INT(store_doc_block_count(st, bob, doc, &count), STORE_NOT_FOUND);
    CHECK_INT(store_block_text(st, bob, doc, 0, &text), STORE_NOT_FOUND);
    CHECK_INT(store_doc_set_position(st, bob, doc, 0), STORE_NOT_FOUND);
    CHECK_INT(store_doc_delete(st, bob, doc), STORE_NOT_FOUND);
    CHECK_INT(store_doc_get(st, STORE_FIRST_USER, doc, &r), 0);
    doc_record_free(&r);
    /* rotation: the old hash no longer finds anyone */
    char h3[65];
    cred_token_hash("rct_three", h3);
    CHECK_INT(store_user_set_token(st, "bob", h3), 0);
    CHECK_INT(store_user_by_token(st, h2, &id, NULL), STORE_NOT_FOUND);
    CHECK_INT(store_user_by_token(st, h3, &id, NULL), 0);
    CHECK_INT(store_user_set_token(st, "nobody", h3), STORE_NOT_FOUND);
    /* removing alice (user 1) takes her documents; user 1 stays, unnamed */
    int docs = 0;
    CHECK_INT(store_user_remove(st, "alice", &docs), 0);
    CHECK_INT(docs, 2);
    CHECK_INT(store_user_by_token(st, h1, &id, NULL), STORE_NOT_FOUND);
    CHECK_INT(store_doc_get(st, STORE_FIRST_USER, doc, &r), STORE_NOT_FOUND);
    CHECK_INT(store_user_remove(st, "alice", &docs), STORE_NOT_FOUND);
    /* the next user added becomes user 1 again */
    CHECK_INT(store_user_add(st, "carol", h1, 100, &adopted), 0);
    CHECK_INT(store_user_by_token(st, h1, &id, NULL), 0);
    CHECK_INT(id, STORE_FIRST_USER);
    store_close(st);
}

/* kill -9 during the 1 -> 2 migration loses nothing: it is one transaction. A schema-1
 * database (the fixture) grown to MANY documents makes the migration long enough to be
 * interrupted; a child opens it (which migrates) and is killed at a random moment, again
 * and again; every time, a plain read sees all documents (at version 1 or 2, never in
 * between), and the last open completes the migration with every document on user 1. */
#define MANY 60000
static int64_t count_docs(const char *path, int *version)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    int64_t n = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT count(*) FROM documents", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    s = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        *version = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

static void test_migration_crash(void)
{
    char sub[300], path[320];
    snprintf(sub, sizeof sub, "%s/crash", dir);
    mkdir(sub, 0700);
    snprintf(path, sizeof path, "%s/recite.db", sub);
    copy_file("tests/data/datadir-v1/recite.db", path);
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    char sql[512];
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)"
             " INSERT INTO documents(id, title, format, html, block_count, created_at)"
             " SELECT printf('crash-%%06d', i), 'T' || i, 'text', '', 0, i FROM n", MANY);
    CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    int version = 0;
    CHECK_INT(count_docs(path, &version), MANY + 2);
    CHECK_INT(version, 1);
    /* how long one migration takes here, on a copy */
    char probe[320], err[256];
    snprintf(probe, sizeof probe, "%s/probe", dir);
    mkdir(probe, 0700);
    char probe_db[340];
    snprintf(probe_db, sizeof probe_db, "%s/recite.db", probe);
    copy_file(path, probe_db);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    struct store *st = store_open(probe, err, sizeof err);
    clock_gettime(CLOCK_MONOTONIC, &b);
    char latest_v[16] = "";
    CHECK(st && store_pragma_text(st, "user_version", latest_v, sizeof latest_v) == 0);
    int latest = atoi(latest_v);
    store_close(st);
    long us = (b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000;
    srand(42);
    int killed_at_1 = 0;
    for (int round = 0; round < 12 && version != latest; round++) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            struct store *cs = store_open(sub, err, sizeof err);
            (void)cs;
            _exit(0);   /* no close: only the kill or the migration's own commit count */
        }
        struct timespec d = { 0, (long)(rand() % (us + 1)) * 1000L };
        nanosleep(&d, NULL);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        CHECK_INT(count_docs(path, &version), MANY + 2);
        CHECK_INT(version == 1 || version == latest ? 0 : version, 0);   /* never between */
        killed_at_1 += version == 1;
    }
    st = store_open(sub, err, sizeof err);
    CHECK(st != NULL);
    if (!st)
        return;
    struct doc_summary *list = NULL;
    int n = 0;
    CHECK_INT(store_doc_list(st, STORE_FIRST_USER, &list, &n), 0);
    CHECK_INT(n, MANY + 2);
    doc_summary_free(list, n);
    char msg[64];
    CHECK_INT(store_integrity_check(st, msg, sizeof msg), 0);
    store_close(st);
    printf("migration of %d documents: %.1f ms; %d kills landed before its commit\n", MANY + 2,
           us / 1000.0, killed_at_1);
}

static void test_guests_and_usage(void)
{
    char err[256];
    struct store *st = store_open(dir, err, sizeof err);
    CHECK(st != NULL);
    if (!st)
        return;
    int64_t g1, g2, id;
    CHECK_INT(store_guest_add(st, "11111111-1111-4111-8111-111111111111", 1000, &g1), 0);
    CHECK_INT(store_guest_add(st, "22222222-2222-4222-8222-222222222222", 1000, &g2), 0);
    CHECK_INT(store_guest_add(st, "22222222-2222-4222-8222-222222222222", 1000, &id), STORE_EXISTS);
    int64_t seen = 0;
    CHECK_INT(store_guest_find(st, "22222222-2222-4222-8222-222222222222", &id, &seen), 0);
    CHECK_INT(id, g2);
    CHECK_INT(seen, 1000);   /* finding is a read: it marks nothing */
    CHECK_INT(store_guest_seen(st, g2, 1000 + 7200), 0);
    CHECK_INT(store_guest_find(st, "22222222-2222-4222-8222-222222222222", &id, &seen), 0);
    CHECK_INT(seen, 8200);
    CHECK_INT(store_guest_find(st, "33333333-3333-4333-8333-333333333333", &id, NULL), STORE_NOT_FOUND);
    struct usage_event ev[] = { { g1, 1500, 40 }, { g1, 2500, 60 }, { g2, 2500, 7 } };
    CHECK_INT(store_usage_add(st, ev, 3), 0);
    int64_t chars = 0, oldest = 0;
    CHECK_INT(store_usage_sum(st, g1, 0, &chars, &oldest), 0);
    CHECK_INT(chars, 100);
    CHECK_INT(oldest, 1500);
    CHECK_INT(store_usage_sum(st, g1, 2000, &chars, &oldest), 0);
    CHECK_INT(chars, 60);
    /* rows that left every window go; the rest still count */
    int pruned = -1;
    CHECK_INT(store_usage_prune(st, 2000, &pruned), 0);
    CHECK_INT(pruned, 1);
    CHECK_INT(store_usage_sum(st, g1, 0, &chars, &oldest), 0);
    CHECK_INT(chars, 60);
    CHECK_INT(oldest, 2500);
    CHECK_INT(store_usage_sum(st, g2, 0, &chars, &oldest), 0);
    CHECK_INT(chars, 7);
    {   /* more than one chunk of expired rows */
        enum { N = 12001 };
        struct usage_event *many = calloc(N, sizeof *many);
        for (int i = 0; i < N; i++)
            many[i] = (struct usage_event){ g2, 100 + i % 50, 1 };
        CHECK_INT(store_usage_add(st, many, N), 0);
        free(many);
        CHECK_INT(store_usage_prune(st, 2000, &pruned), 0);
        CHECK_INT(pruned, N);
        CHECK_INT(store_usage_sum(st, g2, 0, &chars, &oldest), 0);
        CHECK_INT(chars, 7);
    }
    /* g1 idle since 1000, g2 seen at 8200: only g1 expires */
    int removed = 0;
    CHECK_INT(store_guests_expire(st, 5000, &removed), 0);
    CHECK_INT(removed, 1);
    CHECK_INT(store_guest_find(st, "11111111-1111-4111-8111-111111111111", &id, NULL), STORE_NOT_FOUND);
    CHECK_INT(store_usage_sum(st, g1, 0, &chars, &oldest), 0);
    CHECK_INT(chars, 0);
    CHECK_INT(store_guest_find(st, "22222222-2222-4222-8222-222222222222", &id, NULL), 0);
    store_close(st);
}

static void test_credentials(void)
{
    char tok[CRED_TOKEN_LEN + 1], tok2[CRED_TOKEN_LEN + 1];
    CHECK_INT(cred_token_new(tok), 0);
    CHECK_INT(cred_token_new(tok2), 0);
    CHECK_INT(strlen(tok), CRED_TOKEN_LEN);
    CHECK(strcmp(tok, tok2) != 0);
    struct cred c;
    char hdr[128];
    snprintf(hdr, sizeof hdr, "bearer  %s ", tok);
    cred_parse_bearer(hdr, strlen(hdr), &c);
    CHECK_INT(c.kind, CRED_TOKEN);
    CHECK_STR(c.token, tok);
    static const char *const bad[] = { "", "Bearer", "Bearer ", "Basic abc", "Bearer rct_xyz",
                                       "Bearer rct_0123", "Token rct_" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cred_parse_bearer(bad[i], strlen(bad[i]), &c);
        CHECK_INT(c.kind, CRED_BAD);
    }
    unsigned char secret[CRED_SECRET_LEN] = { 1, 2, 3 };
    char gt[65];
    const char *gid = "0f8fad5b-d9cb-469f-a165-70867728950e";
    cred_guest_token(secret, gid, gt);
    CHECK(cred_guest_valid(secret, gid, gt));
    secret[0] ^= 1;
    CHECK(!cred_guest_valid(secret, gid, gt));
    char q[300];
    snprintf(q, sizeof q, "x=1&anonymous_id=%s&anonymous_token=%s", gid, gt);
    cred_parse_query(q, strlen(q), &c);
    CHECK_INT(c.kind, CRED_GUEST);
    CHECK_STR(c.guest_id, gid);
    snprintf(hdr, sizeof hdr, "Bearer %s:%s", gid, gt);
    cred_parse_bearer(hdr, strlen(hdr), &c);
    CHECK_INT(c.kind, CRED_GUEST);
    CHECK_STR(c.guest_token, gt);
    snprintf(q, sizeof q, "token=%s", tok);
    cred_parse_query(q, strlen(q), &c);
    CHECK_INT(c.kind, CRED_TOKEN);
    cred_parse_query("a=b", 3, &c);
    CHECK_INT(c.kind, CRED_NONE);
    static const char *const badq[] = { "token=", "token=%zz", "token=rct_1&token=rct_1",
                                        "anonymous_id=x", "anonymous_token=ab", "token=%00" };
    for (size_t i = 0; i < sizeof badq / sizeof badq[0]; i++) {
        cred_parse_query(badq[i], strlen(badq[i]), &c);
        CHECK_INT(c.kind, CRED_BAD);
    }
    /* the secret file: created 0600 once, the same bytes read back */
    unsigned char s1[CRED_SECRET_LEN], s2[CRED_SECRET_LEN];
    char err[256], path[300];
    CHECK_INT(cred_secret_load(dir, s1, err, sizeof err), 0);
    CHECK_INT(cred_secret_load(dir, s2, err, sizeof err), 0);
    CHECK(memcmp(s1, s2, sizeof s1) == 0);
    struct stat sb;
    snprintf(path, sizeof path, "%s/secret", dir);
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
}

int main(void)
{
    log_set_level(-1);
    snprintf(dir, sizeof dir, "/tmp/recite-test-users-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    test_migration_crash();   /* forks: before anything else */
    test_migration();
    test_guests_and_usage();
    test_credentials();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    CHECK_DONE();
}
