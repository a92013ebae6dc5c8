/* config — one option table: flags, defaults and --help text all come from it. */
#ifndef RECITE_CONFIG_H
#define RECITE_CONFIG_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum command { CMD_SERVE, CMD_WORKER, CMD_SAY, CMD_VOICES, CMD_EXPORT, CMD_USER, CMD_COUNT };

struct config {
    enum command cmd;
    char *host;
    int port;
    char *data_dir;
    int workers;
    char *redis;
    int buffer_behind;
    int buffer_ahead;
    int visibility_timeout_s;
    int max_body_mb;
    int hot_cache_mb;
    int max_connections;
    int keepalive_timeout_s;    /* HTTP keep-alive (server/http.c; libwebsockets >= 4.3) */
    int keepalive_requests;
    char *web_dir;
    /* the openai model (engines/openai.c) and POST /v1/audio/speech (server/api_openai.c) */
    char *openai_url;
    char *openai_key;
    char *openai_model;
    char *openai_voices;
    char *openai_voice_map;
    char *trusted_proxy;        /* --trusted-proxy: whose X-Forwarded-For is believed (http.c) */     /* POST /v1/audio/speech: OpenAI voice names (server/voicemap.c) */
    int openai_concurrency;
    int openai_retries;
    char *voices_dir;   /* the piper model's voices (engines/piper.c); NULL: DATA/voices */
    char *voices_url;   /* `recite voices add NAME`: the Piper voices repository (cli_voices.c) */
    int speech_max_pending;
    /* accounts (SPEC section 7; server/auth.c, server/limits.c) */
    int auth;
    char *guests;             /* "on" | "off" */
    int guest_rate;           /* guests created per client address per hour */
    int metrics_public;
    int quota_chars;          /* per user per rolling 30 days; 0: none */
    int rate_blocks;          /* per user per minute; -1: 300 with --auth, none without */
    /* URL imports (net/fetch.c) */
    int allow_private_urls;
    char *url_allow;          /* comma-separated numeric addresses exempt from the guard */
    int url_timeout_s;
    int url_max_mb;
    int verbose;
    /* say / export */
    char *model;
    char *voice;
    char *output;
    int help;
    /* positional arguments (text for `say`, ids/files for `export`) */
    char **args;
    int nargs;
    uint64_t given;   /* bit i: option i of the table was on the command line */
};

/* Parses argv (argv[1] is the command). Returns 0, or 2 after printing usage to stderr
 * for bad flags, or 1 when --help was printed to stdout (caller exits 0). */
int config_parse(struct config *cfg, int argc, char **argv);
void config_usage(FILE *f, enum command cmd);
void config_free(struct config *cfg);
/* Was --name given on the command line (not just its default)? For messages that only make
 * sense when the user asked for something ("--max-connections N does not fit..."). */
bool config_given(const struct config *cfg, const char *name);
#endif
