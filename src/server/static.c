/* static — the web player's files from --web (default: <binary dir>/../web). Only plain
 * names of known types are served; no "..", no hidden files. Service thread. */
#include "server/http.h"
#include "server/app.h"
#include "server/session.h"
#include <libwebsockets.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const struct { const char *ext, *mime; } mimes[] = {
    { ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
    { ".mjs", "text/javascript; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
    { ".svg", "image/svg+xml" }, { ".png", "image/png" }, { ".ico", "image/x-icon" },
    { ".json", "application/json" }, { ".webmanifest", "application/manifest+json" },
    { ".woff2", "font/woff2" }, { ".txt", "text/plain; charset=utf-8" },
    /* web/vendor/espeak-ng (the browser voices, scripts/vendor-web.mjs): the WebAssembly
     * module and its preloaded voice data */
    { ".wasm", "application/wasm" }, { ".data", "application/octet-stream" },
};

static const char *mime_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot)
        return NULL;
    for (size_t i = 0; i < sizeof mimes / sizeof mimes[0]; i++)
        if (!strcmp(dot, mimes[i].ext))
            return mimes[i].mime;
    return NULL;
}

int static_serve(struct http_req *r)
{
    if (r->method != LWSHUMETH_GET && r->method != LWSHUMETH_HEAD)
        return http_reply_error(r, 405, "method not allowed");
    const char *p = !strcmp(r->path, "/") ? "/index.html" : r->path;
    if (strstr(p, "..") || strstr(p, "/.") || strchr(p, '\\'))
        return http_reply_error(r, 404, "not found");
    const char *mime = mime_of(p);
    char file[2048];
    snprintf(file, sizeof file, "%s%s", r->app->web_dir, p);
    struct stat st;
    if (!mime || stat(file, &st) || !S_ISREG(st.st_mode))
        return http_reply_error(r, 404, "not found: %s", r->path);
    /* The page revalidates its own files on every load; vendored files change only with
     * the lockfile, and the voice data is 24 MB: a day in the cache. */
    int keep = http_keep(r);
    r->s->http.close_after = !keep;
    char hdrs[160];
    snprintf(hdrs, sizeof hdrs, "cache-control: %s\r\n%s",
             strncmp(p, "/vendor/", 8) ? "no-cache" : "public, max-age=86400",
             keep ? "" : "connection: close\r\n");
    int n = lws_serve_http_file(r->wsi, file, mime, hdrs, (int)strlen(hdrs));
    if (n < 0)
        return -1;
    return n ? http_end(r) : 0;   /* >0: sent whole already; 0: FILE_COMPLETION ends it */
}
