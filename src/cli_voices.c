/* cli_voices — `recite voices add NAME|FILE.onnx`: puts a Piper voice (NAME.onnx +
 * NAME.onnx.json) into the voices folder (--voices, default DATA/voices), where the piper
 * model finds it at the next start.
 *
 * NAME (e.g. en_US-lessac-medium) is downloaded from the Piper voices' public repository
 * (--voices-url, default Hugging Face rhasspy/piper-voices at v1.0.0): its voices.json
 * gives every file's size and MD5, the files are fetched into hidden `.part` files in the
 * folder, checked, and only then renamed into place, so a failed or corrupt download never
 * leaves a voice behind. A progress bar goes to stderr when it is a terminal.
 * FILE.onnx is copied with its FILE.onnx.json after both are checked like the server would.
 *
 * Main thread only (a command). Every error names the file or URL it is about. */
#include "cli.h"
#include "engines/piper.h"
#include "engines/piper_config.h"
#include "engines/engine.h"
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VOICES_URL "https://huggingface.co/rhasspy/piper-voices/resolve/v1.0.0"

/* "en_US-lessac-medium" -> "en/en_US/lessac/medium/en_US-lessac-medium" (the repository's
 * layout: language family, language code, dataset, quality). -1 if NAME is not
 * LANG_REGION-DATASET-QUALITY. */
int cli_voice_path(const char *name, char *out, size_t len)
{
    const char *d1 = strchr(name, '-'), *d2 = d1 ? strchr(d1 + 1, '-') : NULL;
    if (!d1 || !d2 || strchr(d2 + 1, '-') || d1 == name || d2 == d1 + 1 || !d2[1] ||
        strlen(name) > 100)
        return -1;
    for (const char *p = name; *p; p++)
        if (!(*p == '_' || *p == '-' || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
              (*p >= 'A' && *p <= 'Z')))
            return -1;
    int lang = (int)(d1 - name), family = (int)strcspn(name, "_-");
    int n = snprintf(out, len, "%.*s/%.*s/%.*s/%s/%s", family, name, lang, name,
                     (int)(d2 - d1 - 1), d1 + 1, d2 + 1, name);
    return n > 0 && (size_t)n < len ? 0 : -1;
}

struct fetch {
    FILE *f;                 /* NULL: collect into mem */
    struct buf mem;
    EVP_MD_CTX *md5;
    const char *label;       /* progress bar label, NULL: none */
    int failed;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    struct fetch *fe = ud;
    size_t len = size * n;
    if (fe->md5)
        EVP_DigestUpdate(fe->md5, p, len);
    if (fe->f ? fwrite(p, 1, len, fe->f) != len : buf_append(&fe->mem, p, len) < 0) {
        fe->failed = 1;
        return 0;
    }
    return len;
}

static int on_progress(void *ud, curl_off_t total, curl_off_t now, curl_off_t ut, curl_off_t un)
{
    const struct fetch *fe = ud;
    if (fe->label && total > 0) {
        int pct = (int)(now * 100 / total), bar = pct * 30 / 100;
        fprintf(stderr, "\r%-34.34s [%.*s%*s] %3d%% %6.1f/%.1f MB", fe->label, bar,
                "##############################", 30 - bar, "", pct, (double)now / 1e6,
                (double)total / 1e6);
    }
    return 0;
}

/* GET url into fe; 0, or -1 with a message. */
static int fetch(const char *url, struct fetch *fe, char *err, size_t errlen)
{
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(err, errlen, "curl_easy_init failed");
        return -1;
    }
    char cerr[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "recite");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, fe);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);    /* give up on a stalled transfer */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    if (fe->label) {
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, fe);
    }
    CURLcode rc = curl_easy_perform(c);
    if (fe->label)
        fputc('\n', stderr);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK || fe->failed) {
        snprintf(err, errlen, "%s: %s", url, fe->failed ? "cannot write it" : cerr[0] ? cerr : curl_easy_strerror(rc));
        return -1;
    }
    return 0;
}

static int copy_file(const char *from, const char *to, char *err, size_t errlen)
{
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    char b[1 << 16];
    size_t n;
    int bad = !in || !out;
    if (!in)
        snprintf(err, errlen, "%s: %s", from, strerror(errno));
    else if (!out)
        snprintf(err, errlen, "%s: %s", to, strerror(errno));
    while (!bad && (n = fread(b, 1, sizeof b, in)) > 0)
        if (fwrite(b, 1, n, out) != n) {
            snprintf(err, errlen, "%s: %s", to, strerror(errno));
            bad = 1;
        }
    if (in)
        fclose(in);
    if (out && fclose(out) && !bad) {
        snprintf(err, errlen, "%s: %s", to, strerror(errno));
        bad = 1;
    }
    return bad ? -1 : 0;
}

/* The .onnx.json must be a voice the server would take. */
static int check_json(const char *path, char *err, size_t errlen)
{
    struct buf b = { 0 };
    if (buf_read_file(&b, path) < 0) {
        snprintf(err, errlen, "%s: %s (a voice needs its .onnx.json)", path, strerror(errno));
        buf_free(&b);
        return -1;
    }
    struct piper_config c;
    char e[256];
    if (piper_config_parse((const char *)b.data, b.len, &c, e, sizeof e) < 0) {
        snprintf(err, errlen, "%s: %s", path, e);
        buf_free(&b);
        return -1;
    }
    piper_config_free(&c);
    buf_free(&b);
    return 0;
}

static int add_local(const char *src, const char *dir, char *err, size_t errlen)
{
    const char *base = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
    char json[PATH_MAX], to[PATH_MAX], to_json[PATH_MAX];
    char e[64];
    if (piper_sniff_model(src, e, sizeof e) < 0) {
        snprintf(err, errlen, "%s: %s", src, e);
        return -1;
    }
    if (snprintf(json, sizeof json, "%s.json", src) >= (int)sizeof json ||
        snprintf(to, sizeof to, "%s/%s", dir, base) >= (int)sizeof to ||
        snprintf(to_json, sizeof to_json, "%s/%s.json", dir, base) >= (int)sizeof to_json) {
        snprintf(err, errlen, "%s: path too long", src);
        return -1;
    }
    if (check_json(json, err, errlen) < 0 || copy_file(src, to, err, errlen) < 0 ||
        copy_file(json, to_json, err, errlen) < 0)
        return -1;
    return 0;
}

/* voices.json's entry for name: the expected size and MD5 of the file ending in ext. */
static int expect(const cJSON *entry, const char *ext, long long *size, char md5[33])
{
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(entry, "files"), *f;
    size_t el = strlen(ext);
    cJSON_ArrayForEach(f, files) {
        size_t kl = strlen(f->string);
        if (kl < el || strcmp(f->string + kl - el, ext) != 0)
            continue;
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(f, "size_bytes");
        const char *d = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "md5_digest"));
        if (!cJSON_IsNumber(s) || !d || strlen(d) != 32)
            return -1;
        *size = (long long)s->valuedouble;
        memcpy(md5, d, 33);
        return 0;
    }
    return -1;
}

static int download(const char *base_url, const char *name, const char *dir, char *err,
                    size_t errlen)
{
    char path[256], url[1024], part[2][PATH_MAX] = { "", "" }, final[2][PATH_MAX];
    static const char *const ext[2] = { ".onnx.json", ".onnx" };
    if (cli_voice_path(name, path, sizeof path) < 0) {
        snprintf(err, errlen, "\"%s\" is not a Piper voice name (LANG_REGION-NAME-QUALITY, e.g. "
                 "en_US-lessac-medium) nor a .onnx file", name);
        return -1;
    }
    struct fetch idx = { 0 };
    snprintf(url, sizeof url, "%s/voices.json", base_url);
    if (fetch(url, &idx, err, errlen) < 0) {
        buf_free(&idx.mem);
        return -1;
    }
    cJSON *voices = cJSON_ParseWithLength((const char *)idx.mem.data, idx.mem.len);
    buf_free(&idx.mem);
    const cJSON *entry = cJSON_GetObjectItemCaseSensitive(voices, name);
    int rc = -1;
    long long size[2];
    char md5[2][33];
    if (!entry) {
        snprintf(err, errlen, "%.400s: no voice \"%s\" in the Piper voices' list", url, name);
        goto out;
    }
    for (int i = 0; i < 2; i++)
        if (expect(entry, ext[i], &size[i], md5[i]) < 0) {
            snprintf(err, errlen, "%.400s: no size and checksum for %s%s", url, name, ext[i]);
            goto out;
        }
    int tty = isatty(STDERR_FILENO);
    for (int i = 0; i < 2; i++) {
        if (snprintf(part[i], sizeof part[i], "%s/.%s%s.part", dir, name, ext[i]) >= PATH_MAX ||
            snprintf(final[i], sizeof final[i], "%s/%s%s", dir, name, ext[i]) >= PATH_MAX) {
            snprintf(err, errlen, "%.400s: path too long", dir);
            goto out;
        }
        snprintf(url, sizeof url, "%s/%s%s", base_url, path, ext[i]);
        char label[128];
        snprintf(label, sizeof label, "%s%s", name, ext[i]);
        struct fetch fe = { .f = fopen(part[i], "wb"), .md5 = EVP_MD_CTX_new(),
                            .label = tty ? label : NULL };
        if (!fe.f || !fe.md5) {
            snprintf(err, errlen, "%s: %s", part[i], fe.f ? "out of memory" : strerror(errno));
            if (fe.f)
                fclose(fe.f);
            EVP_MD_CTX_free(fe.md5);
            goto out;
        }
        EVP_DigestInit_ex(fe.md5, EVP_md5(), NULL);
        int ok = fetch(url, &fe, err, errlen) == 0;
        long long got = ftell(fe.f);
        if (fclose(fe.f) && ok) {
            snprintf(err, errlen, "%s: %s", part[i], strerror(errno));
            ok = 0;
        }
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned dl = 0;
        EVP_DigestFinal_ex(fe.md5, d, &dl);
        EVP_MD_CTX_free(fe.md5);
        char hex[33] = "";
        for (unsigned k = 0; k < dl && k < 16; k++)
            snprintf(hex + 2 * k, 3, "%02x", d[k]);
        if (ok && (got != size[i] || strcmp(hex, md5[i]) != 0)) {
            snprintf(err, errlen, "%.400s: checksum mismatch (got %lld bytes, MD5 %s; the list says "
                     "%lld bytes, MD5 %s): not installed", url, got, hex, size[i], md5[i]);
            ok = 0;
        }
        if (!ok)
            goto out;
    }
    if (check_json(part[0], err, errlen) < 0)
        goto out;
    for (int i = 0; i < 2; i++)
        if (rename(part[i], final[i]) < 0) {
            snprintf(err, errlen, "%.400s: %s", final[i], strerror(errno));
            goto out;
        }
    rc = 0;
out:
    for (int i = 0; i < 2; i++)
        if (rc < 0 && part[i][0])
            unlink(part[i]);
    cJSON_Delete(voices);
    return rc;
}

int cli_voices_add(const struct config *cfg)
{
    char dir[PATH_MAX], err[1024] = "";
    if (cfg->nargs != 2) {
        fprintf(stderr, "usage: recite voices add NAME|FILE.onnx [--voices DIR]\n");
        return 2;
    }
    const char *what = cfg->args[1];
    if (piper_voices_dir(dir, sizeof dir) < 0) {
        fprintf(stderr, "recite voices add: the voices folder path is too long\n");
        return 1;
    }
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        /* DATA itself may not exist yet: make it, then the folder */
        char parent[PATH_MAX];
        snprintf(parent, sizeof parent, "%s", dir);
        char *slash = strrchr(parent, '/');
        if (slash) {
            *slash = '\0';
            mkdir(parent, 0755);
        }
        if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
            fprintf(stderr, "recite voices add: %s: %s\n", dir, strerror(errno));
            return 1;
        }
    }
    size_t l = strlen(what);
    int local = l > 5 && strcmp(what + l - 5, ".onnx") == 0;
    int rc;
    if (local) {
        rc = add_local(what, dir, err, sizeof err);
    } else {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        rc = download(cfg->voices_url ? cfg->voices_url : VOICES_URL, what, dir, err, sizeof err);
        curl_global_cleanup();
    }
    if (rc < 0) {
        fprintf(stderr, "recite voices add: %s\n", err);
        return 1;
    }
    char name[128];
    const char *base = strrchr(what, '/') ? strrchr(what, '/') + 1 : what;
    snprintf(name, sizeof name, "%.*s", (int)(local ? strlen(base) - 5 : strlen(base)), base);
    printf("added voice %s to %s (model piper; servers pick it up when they restart)\n", name, dir);
    return 0;
}
