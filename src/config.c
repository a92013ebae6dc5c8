/* config — the option table. Every flag, its default and its help line live in one row, so
 * --help, parsing and defaults can never disagree. Each option (but --help and -o) can also
 * come from the environment: --max-body-mb from RECITE_MAX_BODY_MB; the command line wins
 * (for systemd's EnvironmentFile=, containers). Main thread only. */
#include "config.h"
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum opt_type { OPT_INT, OPT_STR, OPT_FLAG };

#define ON(c) (1u << (c))
#define SERVE_ONLY ON(CMD_SERVE)
#define WORKERS (ON(CMD_SERVE) | ON(CMD_WORKER) | ON(CMD_EXPORT))
#define SYNTH (ON(CMD_SAY) | ON(CMD_EXPORT))
#define ENGINES (ON(CMD_SERVE) | ON(CMD_WORKER) | ON(CMD_SAY) | ON(CMD_VOICES) | ON(CMD_EXPORT))

struct opt {
    const char *name;
    enum opt_type type;
    size_t offset;
    const char *def;
    unsigned commands;
    const char *help;
};

#define F(field) offsetof(struct config, field)
static const struct opt opts[] = {
    { "host", OPT_STR, F(host), "127.0.0.1", SERVE_ONLY, "address to listen on" },
    { "port", OPT_INT, F(port), "8080", SERVE_ONLY, "TCP port" },
    { "data", OPT_STR, F(data_dir), "./recite-data", SERVE_ONLY | ON(CMD_EXPORT) | ON(CMD_USER) | ON(CMD_SAY) | ON(CMD_VOICES), "data directory (SQLite database, voices/)" },
    /* no fixed default: one per CPU core (default_workers), since synthesis is CPU-bound */
    { "workers", OPT_INT, F(workers), NULL, WORKERS, "TTS worker threads, 0: none in this process (default: one per CPU core)" },
    { "redis", OPT_STR, F(redis), NULL, WORKERS, "redis://host:port/db for distributed mode" },
    { "buffer-behind", OPT_INT, F(buffer_behind), "8", SERVE_ONLY, "eviction window: blocks kept behind the cursor" },
    { "buffer-ahead", OPT_INT, F(buffer_ahead), "16", SERVE_ONLY, "eviction window: blocks kept ahead of the cursor" },
    /* the server (or the Redis queue it drives) takes jobs back, never a worker: serve only */
    { "visibility-timeout", OPT_INT, F(visibility_timeout_s), "30", SERVE_ONLY, "seconds before a running job is taken back and retried" },
    { "max-body-mb", OPT_INT, F(max_body_mb), "10", SERVE_ONLY, "largest accepted request body (MiB), 413 beyond" },
    { "hot-cache-mb", OPT_INT, F(hot_cache_mb), "64", SERVE_ONLY, "in-memory cache of recent audio (MiB)" },
    { "keepalive-timeout", OPT_INT, F(keepalive_timeout_s), "5", SERVE_ONLY, "seconds an idle HTTP/1.1 connection is kept open (libwebsockets >= 4.3; older: every response closes)" },
    { "keepalive-requests", OPT_INT, F(keepalive_requests), "1000", SERVE_ONLY, "requests served on one HTTP connection before it is closed; 0: no keep-alive" },
    { "max-connections", OPT_INT, F(max_connections), "20000", SERVE_ONLY, "simultaneous connections before new ones are refused" },
    { "web", OPT_STR, F(web_dir), NULL, SERVE_ONLY, "directory of the web player (default: ../web or ../share/recite/web from the binary)" },
    { "openai-url", OPT_STR, F(openai_url), NULL, ENGINES, "OpenAI-compatible TTS server for the `openai` model, e.g. https://api.openai.com/v1" },
    { "openai-key", OPT_STR, F(openai_key), NULL, ENGINES, "API key for --openai-url (default: $OPENAI_API_KEY)" },
    { "openai-model", OPT_STR, F(openai_model), "tts-1", ENGINES, "model name sent to --openai-url" },
    { "openai-voices", OPT_STR, F(openai_voices), NULL, ENGINES, "voices as `name[:lang],...` (default: GET {url}/audio/voices)" },
    { "openai-voice-map", OPT_STR, F(openai_voice_map), NULL, SERVE_ONLY, "OpenAI voice names on /v1/audio/speech as `alloy=espeak:en-us,...` (default: the best local English voices: kokoro, else piper, else flite, else espeak)" },
    { "openai-concurrency", OPT_INT, F(openai_concurrency), "4", SERVE_ONLY, "openai jobs run at once, on threads of their own (they wait on the network)" },
    { "openai-retries", OPT_INT, F(openai_retries), "4", ENGINES, "retries of a request the upstream answers 429 or 5xx (backoff with jitter)" },
    { "speech-max-pending", OPT_INT, F(speech_max_pending), "64", SERVE_ONLY, "POST /v1/audio/speech and preview requests waiting at once; 503 beyond" },
    { "auth", OPT_FLAG, F(auth), "0", SERVE_ONLY, "multi-user: API tokens (`recite user add`) and guests; without it one user, no login" },
    { "guests", OPT_STR, F(guests), "on", SERVE_ONLY, "with --auth: on|off, whether POST /v1/users/anonymous makes guest accounts" },
    { "guest-rate", OPT_INT, F(guest_rate), "10", SERVE_ONLY, "guests one client address may create per hour (the TCP peer, or X-Forwarded-For from a --trusted-proxy)" },
    { "trusted-proxy", OPT_STR, F(trusted_proxy), NULL, SERVE_ONLY, "reverse proxies (addresses, comma-separated) whose X-Forwarded-For names the client, e.g. 127.0.0.1" },
    { "metrics-public", OPT_FLAG, F(metrics_public), "0", SERVE_ONLY, "with --auth: /metrics answers without a token" },
    { "quota-chars", OPT_INT, F(quota_chars), "0", SERVE_ONLY, "characters synthesized per user per rolling 30 days, 0: no quota" },
    /* -1 = not given: 300 with --auth, no limit in single-user mode */
    { "rate-blocks", OPT_INT, F(rate_blocks), "-1", SERVE_ONLY, "blocks a user may request per minute, 0: no limit (default 300 with --auth)" },
    { "voices", OPT_STR, F(voices_dir), NULL, ENGINES, "folder of natural voices: Piper NAME.onnx + NAME.onnx.json, Kokoro kokoro*.onnx + voices*.bin (default DATA/voices)" },
    { "voices-url", OPT_STR, F(voices_url), NULL, ON(CMD_VOICES), "`voices add NAME`: the Piper voices repository (default Hugging Face rhasspy/piper-voices v1.0.0)" },
    { "allow-private-urls", OPT_FLAG, F(allow_private_urls), "0", SERVE_ONLY, "URL imports may fetch loopback, private and link-local addresses (tests, trusted intranets)" },
    { "url-allow", OPT_STR, F(url_allow), NULL, SERVE_ONLY, "addresses URL imports may fetch even though they are not public, e.g. 127.0.0.1,10.0.0.5" },
    { "url-timeout", OPT_INT, F(url_timeout_s), "20", SERVE_ONLY, "seconds a URL import may take, redirects included" },
    { "url-max-mb", OPT_INT, F(url_max_mb), "32", SERVE_ONLY, "largest page or file a URL import fetches (MiB)" },
    { "model", OPT_STR, F(model), "espeak", SYNTH, "TTS model" },
    { "voice", OPT_STR, F(voice), "en-us", SYNTH, "voice of the model" },
    { "o", OPT_STR, F(output), NULL, SYNTH, "output file (.ogg, .wav or .mp3)" },
    { "verbose", OPT_FLAG, F(verbose), "0", ~0u, "log debug messages" },
    { "help", OPT_FLAG, F(help), "0", ~0u, "show this help" },
};
#define NOPTS (sizeof opts / sizeof opts[0])
_Static_assert(NOPTS <= 64, "config.given has one bit per option");

static const struct {
    const char *name, *synopsis, *summary;
} commands[CMD_COUNT] = {
    [CMD_SERVE] = { "serve", "recite serve [options]", "run the server: web page, HTTP API, WebSocket and TTS workers" },
    [CMD_WORKER] = { "worker", "recite worker --redis URL [--workers N]", "pull TTS jobs from Redis (distributed mode)" },
    [CMD_SAY] = { "say", "recite say [--model M] [--voice V] -o FILE \"text\"   (or text on stdin)", "synthesize text to .ogg, .wav or .mp3" },
    [CMD_VOICES] = { "voices", "recite voices  |  recite voices add NAME|FILE.onnx", "list models and voices, one per line, with language; add a Piper voice (downloaded by name, e.g. en_US-lessac-medium, or copied from a file)" },
    [CMD_EXPORT] = { "export", "recite export [--data DIR] DOC_ID -o FILE  |  recite export FILE.md -o FILE", "a whole document to one audio file" },
    [CMD_USER] = { "user", "recite user add NAME | list | remove NAME | token NAME  [--data DIR]", "manage the accounts of `serve --auth` (works while the server runs)" },
};

static void set_value(struct config *cfg, const struct opt *o, const char *v)
{
    void *field = (char *)cfg + o->offset;
    if (o->type == OPT_STR) {
        free(*(char **)field);
        *(char **)field = v ? strdup(v) : NULL;
    } else {
        *(int *)field = v ? atoi(v) : 0;
    }
}

/* One worker per online CPU core: a block is CPU work from start to end (espeak-ng, then
 * Opus, which is ~90% of it; docs/notes-audio.md), so more threads than cores only queue up,
 * and fewer leave cores idle. Capped so a 128-core box does not open 128 SQLite connections. */
static int default_workers(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 32 ? 32 : (int)n;
}

static int parse_int(const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 0 || v > 1000000000)
        return -1;
    *out = (int)v;
    return 0;
}

void config_usage(FILE *f, enum command cmd)
{
    if (cmd >= CMD_COUNT) {
        fprintf(f, "usage: recite <command> [options]\n\ncommands:\n");
        for (int i = 0; i < CMD_COUNT; i++)
            fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
        fprintf(f, "\n`recite <command> --help` shows the options of a command.\n");
        return;
    }
    fprintf(f, "usage: %s\n%s\n\noptions:\n", commands[cmd].synopsis, commands[cmd].summary);
    for (size_t i = 0; i < NOPTS; i++) {
        if (!(opts[i].commands & ON(cmd)))
            continue;
        char flag[40];
        snprintf(flag, sizeof flag, "%s%s%s", strlen(opts[i].name) == 1 ? "-" : "--", opts[i].name,
                 opts[i].type == OPT_FLAG ? "" : opts[i].type == OPT_INT ? " N" : " VALUE");
        fprintf(f, "  %-26s %s", flag, opts[i].help);
        if (opts[i].def && opts[i].type != OPT_FLAG && strcmp(opts[i].def, "-1"))
            fprintf(f, " (default %s)", opts[i].def);
        fputc('\n', f);
    }
    fprintf(f, "\nEvery option but --help and -o can also be set in the environment: --port as\n"
               "RECITE_PORT, --max-body-mb as RECITE_MAX_BODY_MB, a flag as 1; the command line wins.\n");
}

/* RECITE_ + the name upper-cased, '-' as '_'; NULL for the options that have none. */
static const char *env_name(const struct opt *o, char *buf, size_t len)
{
    if (!strcmp(o->name, "help") || !strcmp(o->name, "o"))
        return NULL;
    size_t n = (size_t)snprintf(buf, len, "RECITE_%s", o->name);
    for (size_t i = 7; i < n && i < len; i++)
        buf[i] = buf[i] == '-' ? '_' : (char)toupper((unsigned char)buf[i]);
    return buf;
}

/* Values from the environment, checked like the command line's. 0, or -1 after a message. */
static int apply_env(struct config *cfg)
{
    for (size_t i = 0; i < NOPTS; i++) {
        const struct opt *o = &opts[i];
        char name[64];
        const char *v;
        if (!(o->commands & ON(cfg->cmd)) || !env_name(o, name, sizeof name) || !(v = getenv(name)))
            continue;
        if (o->type == OPT_STR) {
            set_value(cfg, o, v);
            continue;
        }
        int n;
        if (o->type == OPT_FLAG && !*v)
            n = 0;
        else if (parse_int(v, &n) || (o->type == OPT_FLAG && n > 1)) {
            fprintf(stderr, "recite %s: %s needs %s, got '%s'\n", commands[cfg->cmd].name, name,
                    o->type == OPT_FLAG ? "0 or 1" : "a non-negative integer", v);
            return -1;
        }
        *(int *)((char *)cfg + o->offset) = n;
    }
    return 0;
}

static const struct opt *find_opt(const char *name, size_t len, enum command cmd)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (strlen(opts[i].name) == len && !strncmp(opts[i].name, name, len) &&
            (opts[i].commands & ON(cmd)))
            return &opts[i];
    return NULL;
}

bool config_given(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < NOPTS && i < 64; i++)
        if (!strcmp(opts[i].name, name))
            return (cfg->given >> i) & 1;
    return false;
}

int config_parse(struct config *cfg, int argc, char **argv)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->cmd = CMD_COUNT;
    if (argc < 2) {
        config_usage(stderr, CMD_COUNT);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        config_usage(stdout, CMD_COUNT);
        return 1;
    }
    for (int i = 0; i < CMD_COUNT; i++)
        if (!strcmp(argv[1], commands[i].name))
            cfg->cmd = (enum command)i;
    if (cfg->cmd == CMD_COUNT) {
        fprintf(stderr, "recite: unknown command '%s'\n", argv[1]);
        config_usage(stderr, CMD_COUNT);
        return 2;
    }
    for (size_t i = 0; i < NOPTS; i++)
        set_value(cfg, &opts[i], opts[i].def);
    cfg->workers = default_workers();
    cfg->args = calloc((size_t)argc, sizeof *cfg->args);
    if (apply_env(cfg))
        goto usage;

    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !a[1] || !strcmp(a, "--")) {
            if (!strcmp(a, "--") ) {
                while (++i < argc)
                    cfg->args[cfg->nargs++] = argv[i];
                break;
            }
            cfg->args[cfg->nargs++] = argv[i];
            continue;
        }
        const char *name = a + (a[1] == '-' ? 2 : 1);
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const struct opt *o = find_opt(name, nlen, cfg->cmd);
        if (!o && nlen == 1 && *name == 'h')
            o = find_opt("help", 4, cfg->cmd);
        if (!o) {
            fprintf(stderr, "recite %s: unknown option '%s'\n", commands[cfg->cmd].name, a);
            goto usage;
        }
        if ((size_t)(o - opts) < 64)
            cfg->given |= (uint64_t)1 << (o - opts);
        if (o->type == OPT_FLAG) {
            if (eq) {
                fprintf(stderr, "recite %s: option '--%s' takes no value\n", commands[cfg->cmd].name, o->name);
                goto usage;
            }
            *(int *)((char *)cfg + o->offset) = 1;
            continue;
        }
        const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!v) {
            fprintf(stderr, "recite %s: option '%s' needs a value\n", commands[cfg->cmd].name, a);
            goto usage;
        }
        if (o->type == OPT_INT) {
            int n;
            if (parse_int(v, &n)) {
                fprintf(stderr, "recite %s: option '--%s' needs a non-negative integer, got '%s'\n",
                        commands[cfg->cmd].name, o->name, v);
                goto usage;
            }
            *(int *)((char *)cfg + o->offset) = n;
        } else {
            set_value(cfg, o, v);
        }
    }
    if (cfg->help) {
        config_usage(stdout, cfg->cmd);
        return 1;
    }
    if (cfg->cmd == CMD_SERVE && (cfg->port < 1 || cfg->port > 65535)) {
        fprintf(stderr, "recite serve: --port must be 1..65535\n");
        goto usage;
    }
    if (cfg->cmd == CMD_SERVE && strcmp(cfg->guests, "on") && strcmp(cfg->guests, "off")) {
        fprintf(stderr, "recite serve: --guests must be on or off\n");
        goto usage;
    }
    if (cfg->cmd == CMD_SERVE && cfg->rate_blocks < 0)
        cfg->rate_blocks = cfg->auth ? 300 : 0;
    if (cfg->cmd == CMD_WORKER && !cfg->redis) {
        fprintf(stderr, "recite worker: --redis URL is required\n");
        goto usage;
    }
    return 0;
usage:
    config_usage(stderr, cfg->cmd);
    return 2;
}

void config_free(struct config *cfg)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (opts[i].type == OPT_STR) {
            free(*(char **)((char *)cfg + opts[i].offset));
            *(char **)((char *)cfg + opts[i].offset) = NULL;
        }
    free(cfg->args);
    cfg->args = NULL;
}
