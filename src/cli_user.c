/* cli_user — `recite user add NAME | list | remove NAME | token NAME`: the accounts of
 * `serve --auth`, on the data directory directly (like `export`), safe while a server runs
 * (each change is one SQLite transaction; the server reads users per request, so a removed
 * or rotated token stops working at once). A token is printed once and stored only as its
 * sha256. Main thread. */
#include "cli.h"
#include "auth/credentials.h"
#include "store/store.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* 1-63 characters of [A-Za-z0-9._-]: safe to print, to type, and in a JSON string. */
static int valid_name(const char *n)
{
    size_t len = strlen(n);
    if (len < 1 || len >= STORE_NAME_MAX)
        return 0;
    for (const char *p = n; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return 0;
    return 1;
}

/* A new token and its stored form; -1 (said on stderr) without randomness. */
static int new_token(char token[CRED_TOKEN_LEN + 1], char hash[65])
{
    if (cred_token_new(token)) {
        fprintf(stderr, "recite user: no randomness available for a token\n");
        return -1;
    }
    cred_token_hash(token, hash);
    return 0;
}

static int user_add(struct store *st, const char *name)
{
    char token[CRED_TOKEN_LEN + 1], hash[65];
    int adopted = 0;
    if (new_token(token, hash))
        return 1;
    int rc = store_user_add(st, name, hash, (int64_t)time(NULL), &adopted);
    if (rc == STORE_EXISTS) {
        fprintf(stderr, "recite user: a user named %s already exists (`recite user token %s` makes a new token)\n",
                name, name);
        return 1;
    }
    if (rc) {
        fprintf(stderr, "recite user: could not add %s\n", name);
        return 1;
    }
    if (adopted)
        fprintf(stderr, "%s is this data directory's first user: the %d document%s it held "
                "before accounts now belong%s to %s.\n", name, adopted, adopted == 1 ? "" : "s",
                adopted == 1 ? "s" : "", name);
    fprintf(stderr, "added %s; the API token (shown only this once):\n", name);
    printf("%s\n", token);
    return 0;
}

static int user_token(struct store *st, const char *name)
{
    char token[CRED_TOKEN_LEN + 1], hash[65];
    if (new_token(token, hash))
        return 1;
    int rc = store_user_set_token(st, name, hash);
    if (rc == STORE_NOT_FOUND) {
        fprintf(stderr, "recite user: no user named %s\n", name);
        return 1;
    }
    if (rc) {
        fprintf(stderr, "recite user: could not change the token of %s\n", name);
        return 1;
    }
    fprintf(stderr, "new token for %s (the old one no longer works; shown only this once):\n", name);
    printf("%s\n", token);
    return 0;
}

static int user_remove(struct store *st, const char *name)
{
    int docs = 0;
    int rc = store_user_remove(st, name, &docs);
    if (rc == STORE_NOT_FOUND) {
        fprintf(stderr, "recite user: no user named %s\n", name);
        return 1;
    }
    if (rc) {
        fprintf(stderr, "recite user: could not remove %s\n", name);
        return 1;
    }
    printf("removed %s and %d document%s\n", name, docs, docs == 1 ? "" : "s");
    return 0;
}

static int user_list(struct store *st)
{
    struct user_info *list = NULL;
    int n = 0, guests = 0;
    if (store_user_list(st, &list, &n, &guests)) {
        fprintf(stderr, "recite user: could not read the users\n");
        return 1;
    }
    for (int i = 0; i < n; i++) {
        if (!list[i].name[0] && !list[i].documents)
            continue;   /* user 1 before anyone was added, with nothing in it */
        char day[32] = "";
        time_t t = (time_t)list[i].created_at;
        struct tm tm;
        if (gmtime_r(&t, &tm))
            strftime(day, sizeof day, "%Y-%m-%d", &tm);
        printf("%-24s %6d document%s  since %s\n",
               list[i].name[0] ? list[i].name : "(no name yet: single-user mode)",
               list[i].documents, list[i].documents == 1 ? " " : "s", day);
    }
    printf("%d guest%s\n", guests, guests == 1 ? "" : "s");
    free(list);
    return 0;
}

int cli_user(const struct config *cfg)
{
    const char *verb = cfg->nargs > 0 ? cfg->args[0] : "";
    int needs_name = !strcmp(verb, "add") || !strcmp(verb, "remove") || !strcmp(verb, "token");
    if (!(needs_name && cfg->nargs == 2) && !(!strcmp(verb, "list") && cfg->nargs == 1)) {
        config_usage(stderr, CMD_USER);
        return 2;
    }
    if (needs_name && !valid_name(cfg->args[1])) {
        fprintf(stderr, "recite user: a name is 1-%d letters, digits, '.', '_' or '-'\n",
                STORE_NAME_MAX - 1);
        return 2;
    }
    char err[256];
    struct store *st = store_open(cfg->data_dir, err, sizeof err);
    if (!st) {
        fprintf(stderr, "recite user: cannot open %s: %s\n", cfg->data_dir, err);
        return 1;
    }
    int rc = !strcmp(verb, "add") ? user_add(st, cfg->args[1])
           : !strcmp(verb, "token") ? user_token(st, cfg->args[1])
           : !strcmp(verb, "remove") ? user_remove(st, cfg->args[1])
           : user_list(st);
    store_close(st);
    return rc;
}
