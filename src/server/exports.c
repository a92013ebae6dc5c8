/* exports — the server's export jobs (see exports.h).
 *
 * A job: PREPARING (an offload task reads the document, hashes every block for the chosen
 * voice and checks which the store has) -> RENDERING (the missing blocks go to the TTS
 * queue as REQ_EXPORT requesters, EXPORT_WINDOW at a time, so a book never floods the
 * queue ahead of the readers; pipeline_drain reports each block here) -> ASSEMBLING (an
 * offload task runs export_book on the cached audio into DATA/exports/) -> DONE or ERROR.
 *
 * Durable: every change of state is saved as the job's row (store_exports.c) by the writer
 * pool, in order; at start-up (exports_resume) finished jobs are served again and unfinished
 * ones start over from PREPARING — the blocks they had rendered are in the audio cache, so
 * starting over is resuming. Files in DATA/exports/ that no finished job names (a kill during
 * assembling) are removed then.
 *
 * Threads: everything here on the service thread except prepare_work, assemble_work and
 * save_work (pool threads), which touch only their task; exports_resume runs on the main
 * thread before the loop serves anyone. Ownership: the registry owns its jobs for the life
 * of the server; a task is the pool's until its done() runs, which finds its job again by
 * id. Files stay in DATA/exports/ until their document is deleted (a new export of the same
 * document, format and voice replaces its file). */
#include "server/exports.h"
#include "server/app.h"
#include "server/http.h"
#include "server/limits.h"
#include "server/offload.h"
#include "server/waiters.h"
#include "audio/book.h"
#include "doc/chapters.h"
#include "engines/engine.h"
#include "export_book.h"
#include "jobs/queue.h"
#include "store/store.h"
#include "util/fault.h"
#include "util/ids.h"
#include "util/log.h"
#include <dirent.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EXPORT_WINDOW 8   /* blocks of one export queued at a time */

enum ex_state { EX_PREPARING, EX_RENDERING, EX_ASSEMBLING, EX_DONE, EX_ERROR };
static const char *const state_names[] = { "preparing", "rendering", "assembling", "done", "error" };
static const char *const fmt_names[] = { [BOOK_M4B] = "m4b", [BOOK_MP3] = "mp3", [BOOK_OGG] = "ogg" };
static const char *const fmt_mime[] = { [BOOK_M4B] = "audio/mp4", [BOOK_MP3] = "audio/mpeg",
                                        [BOOK_OGG] = "audio/ogg" };

struct ex_block { char hash[65]; char *text; unsigned char done, queued; };

struct export_job {
    uint64_t id;
    int64_t user_id;
    char doc_id[40], model[32], voice[64];
    enum book_format fmt;
    enum ex_state state;
    char error[640];
    struct ex_block *blocks;
    int total, done, next, inflight;
    char *title, *author, *html;
    char path[4096], file[256];   /* file: path relative to the data directory (the row's) */
    int64_t created_at;           /* unix seconds */
    int64_t started_ms, render_ms, done_at_render;
    int64_t duration_ms;
    struct export_job *next_job;
};

struct exports {
    struct export_job *head;
    uint64_t next_id;
};

static void blocks_free(struct ex_block *b, int n)
{
    for (int i = 0; b && i < n; i++)
        free(b[i].text);
    free(b);
}

static void job_free(struct export_job *j)
{
    blocks_free(j->blocks, j->total);
    free(j->title);
    free(j->author);
    free(j->html);
    free(j);
}

struct exports *exports_create(void) { return calloc(1, sizeof(struct exports)); }

void exports_destroy(struct exports *x)
{
    if (!x)
        return;
    for (struct export_job *j = x->head, *n; j; j = n) {
        n = j->next_job;
        job_free(j);
    }
    free(x);
}

static struct export_job *job_by_id(struct exports *x, uint64_t id)
{
    for (struct export_job *j = x ? x->head : NULL; j; j = j->next_job)
        if (j->id == id)
            return j;
    return NULL;
}

/* ---- the job's row: saved by the writer pool at every change of state ------------------ */

struct save {
    struct offload_task task;
    struct export_row row;
    int rc;
    /* The request that started the job, answered once its first row is on disk: a 202 that
     * a kill -9 right after can still lose would be a promise the restart cannot keep. */
    struct app *app;
    uint64_t waiter_id;   /* 0: no one waits */
    cJSON *reply;
};

static void save_work(struct offload_task *t, void *ctx)
{
    struct save *sv = offload_container(t, struct save, task);
    fault_slow_disk();   /* tests: a disk slower than the answer (RECITE_FAULT_SLOW_DISK_MS) */
    sv->rc = store_export_save(ctx, &sv->row);
}

static void job_fail(struct app *app, struct export_job *j, const char *fmt, const char *detail);

static void save_done(struct offload_task *t, int status)
{
    struct save *sv = offload_container(t, struct save, task);
    if (sv->rc && sv->rc != STORE_NOT_FOUND)   /* logged by the store; the job itself goes on */
        log_warn("export %s (%s): its state was not saved; a restart may lose it",
                 sv->row.doc_id, sv->row.format);
    if (sv->waiter_id) {
        struct http_req r;
        struct waiter *w = waiters_resume(sv->app, sv->waiter_id, status, &r);
        struct export_job *j = status == 0 ? job_by_id(sv->app->exports, (uint64_t)sv->row.id) : NULL;
        if (w && sv->rc && sv->rc != STORE_NOT_FOUND) {
            /* not on disk: a 202 would promise what a restart cannot keep */
            int full = sv->rc == STORE_FULL;
            if (j)
                job_fail(sv->app, j, "%s", full ? "the server is out of disk space"
                                                 : "the export could not be saved");
            waiter_finish(sv->app, w, http_reply_error(&r, full ? 507 : 500, "%s",
                          full ? "the server is out of disk space: the export was not started"
                               : "the export could not be saved: it was not started"));
        } else if (w) {
            waiter_finish(sv->app, w, http_reply_json(&r, 202, sv->reply));
            sv->reply = NULL;
        }
    }
    cJSON_Delete(sv->reply);
    free(sv);
}

/* Hands the job's current state to the writer: one thread, so saves land in order (and
 * after a delete of the document queued before them, which makes them no-ops). With r, the
 * request is answered 202 once the row is saved; the return value is then what its HTTP
 * callback returns. */
static int job_save_answer(struct app *app, const struct export_job *j, struct http_req *r);
static cJSON *job_json(const struct export_job *j);

static void job_save(struct app *app, const struct export_job *j)
{
    job_save_answer(app, j, NULL);
}

static int job_save_answer(struct app *app, const struct export_job *j, struct http_req *req)
{
    struct save *sv = calloc(1, sizeof *sv);
    if (!sv) {
        log_warn("export %s: out of memory saving its state", j->doc_id);
        return req ? http_reply_json(req, 202, job_json(j)) : 0;
    }
    struct export_row *r = &sv->row;
    r->id = (int64_t)j->id;
    r->owner = j->user_id;
    snprintf(r->doc_id, sizeof r->doc_id, "%s", j->doc_id);
    snprintf(r->format, sizeof r->format, "%s", fmt_names[j->fmt]);
    snprintf(r->model, sizeof r->model, "%s", j->model);
    snprintf(r->voice, sizeof r->voice, "%s", j->voice);
    snprintf(r->status, sizeof r->status, "%s", state_names[j->state]);
    r->blocks_done = j->done;
    r->blocks_total = j->total;
    if (j->state == EX_ERROR)
        snprintf(r->error, sizeof r->error, "%s", j->error);
    snprintf(r->file, sizeof r->file, "%s", j->file);
    snprintf(r->title, sizeof r->title, "%s", j->title ? j->title : "");
    r->duration_ms = j->duration_ms;
    r->created_at = j->created_at;
    r->updated_at = (int64_t)time(NULL);
    struct waiter *w = NULL;
    if (req) {
        sv->app = app;
        sv->reply = job_json(j);
        w = sv->reply ? waiters_add(req, NULL, NULL, NULL) : NULL;
        if (!w) {
            cJSON_Delete(sv->reply);
            sv->reply = NULL;
        } else {
            w->busy = 1;
            sv->waiter_id = w->id;
        }
    }
    if (!app->writer || offload_submit(app->writer, &sv->task, save_work, save_done) < 0) {
        /* stopping: the state it had is what a restart will find (a job not yet saved
         * will not be found: its request hears so) */
        if (w)
            waiters_remove(app->waiters, w);
        cJSON_Delete(sv->reply);
        free(sv);
        return req ? http_reply_error(req, 503, "the server is shutting down") : 0;
    }
    if (req && !w)   /* no memory to wait: answer now, the save still goes */
        return http_reply_json(req, 202, job_json(j));
    return 0;
}

static void job_fail(struct app *app, struct export_job *j, const char *fmt, const char *detail)
{
    j->state = EX_ERROR;
    snprintf(j->error, sizeof j->error, fmt, detail);
    app->queue->ops->gone(app->queue, REQ_EXPORT, j->id);   /* its queued blocks go */
    for (int i = 0; i < j->total; i++)
        if (j->blocks && j->blocks[i].queued) {   /* and no longer count against the quota */
            limits_release(app, j->user_id, (int)strlen(j->blocks[i].text));
            j->blocks[i].queued = 0;
        }
    j->inflight = 0;
    job_save(app, j);
}

/* ---- assembling (offload) ----------------------------------------------------------- */

struct assemble {
    struct offload_task task;
    struct app *app;
    uint64_t job_id;
    const struct model *model;
    char voice[64], path[4096], data_dir[4096];
    enum book_format fmt;
    struct export_block *eb;
    char **texts;
    int n;
    char *html, *title, *author;
    int rc;
    char err[256];
    int64_t duration_ms;
};

static void assemble_free(struct assemble *a)
{
    for (int i = 0; a->texts && i < a->n; i++)
        free(a->texts[i]);
    free(a->texts);
    free(a->eb);
    free(a->html);
    free(a->title);
    free(a->author);
    free(a);
}

static void assemble_work(struct offload_task *t, void *ctx)
{
    struct assemble *a = offload_container(t, struct assemble, task);
    struct chapter *ch = NULL;
    int nch = chapters_find(a->html, a->n, a->title, &ch);
    char dir[4096 + 16];
    snprintf(dir, sizeof dir, "%s/exports", a->data_dir);
    mkdir(dir, 0755);
    struct export_opts o = { .model = a->model, .voice = a->voice, .data_dir = a->data_dir, .threads = 1 };
    struct book_meta meta = { a->title, a->author };
    struct export_stats st;
    a->rc = nch < 0 ? -1 : export_book(&o, a->eb, a->n, ch, nch, &meta, a->path, a->fmt, &st,
                                       a->err, sizeof a->err);
    if (nch < 0)
        snprintf(a->err, sizeof a->err, "out of memory");
    a->duration_ms = a->rc ? 0 : st.duration_ms;
    chapters_free(ch, nch);
}

static void assemble_done(struct offload_task *t, int status)
{
    struct assemble *a = offload_container(t, struct assemble, task);
    struct export_job *j = status == 0 ? job_by_id(a->app->exports, a->job_id) : NULL;
    if (!j && status == 0 && a->rc == 0)
        unlink(a->path);   /* its document was deleted meanwhile */
    if (j && j->state == EX_ASSEMBLING) {
        if (a->rc) {
            log_warn("export %s (%s): %s", j->doc_id, fmt_names[j->fmt], a->err);
            job_fail(a->app, j, "could not write the file: %s", a->err);
        } else {
            j->state = EX_DONE;
            j->duration_ms = a->duration_ms;
            job_save(a->app, j);
        }
    }
    assemble_free(a);
}

static void assemble_start(struct app *app, struct export_job *j)
{
    struct assemble *a = calloc(1, sizeof *a);
    const struct model *m = engines_find(j->model);
    if (!a || !m) {
        free(a);
        job_fail(app, j, "%s", "out of memory");
        return;
    }
    a->app = app;
    a->job_id = j->id;
    a->model = m;
    a->fmt = j->fmt;
    a->n = j->total;
    snprintf(a->voice, sizeof a->voice, "%s", j->voice);
    snprintf(a->path, sizeof a->path, "%s", j->path);
    snprintf(a->data_dir, sizeof a->data_dir, "%s", app->cfg->data_dir);
    a->eb = calloc((size_t)j->total + 1, sizeof *a->eb);
    a->texts = calloc((size_t)j->total + 1, sizeof *a->texts);
    a->html = j->html ? strdup(j->html) : NULL;
    a->title = j->title ? strdup(j->title) : NULL;
    a->author = j->author ? strdup(j->author) : NULL;
    int ok = a->eb && a->texts;
    for (int i = 0; ok && i < j->total; i++) {
        ok = (a->texts[i] = strdup(j->blocks[i].text)) != NULL;
        if (ok)
            a->eb[i] = (struct export_block){ a->texts[i], 0 };
    }
    if (!ok || offload_submit(app->offload, &a->task, assemble_work, assemble_done) < 0) {
        assemble_free(a);
        job_fail(app, j, "%s", "could not start assembling the file");
        return;
    }
    j->state = EX_ASSEMBLING;
    job_save(app, j);
}

/* ---- rendering: the missing blocks through the TTS queue ------------------------------ */

/* Queues blocks until EXPORT_WINDOW are in flight; assembles once every block is done. */
static void pump(struct app *app, struct export_job *j)
{
    while (j->state == EX_RENDERING && j->inflight < EXPORT_WINDOW && j->next < j->total) {
        struct ex_block *b = &j->blocks[j->next];
        int idx = j->next++;
        if (b->done || b->queued)
            continue;
        struct requester r = { .kind = REQ_EXPORT, .id = j->id, .idx = idx, .cursor = idx,
                               .user_id = j->user_id, .chars = (int)strlen(b->text) };
        char why[256];
        if (limits_quota_check(app, j->user_id, why, sizeof why)) {   /* --quota-chars spent */
            job_fail(app, j, "%s", why);
            return;
        }
        snprintf(r.doc_id, sizeof r.doc_id, "%s", j->doc_id);
        enum submit_state st;
        if (app->queue->ops->submit(app->queue, b->hash, j->model, j->voice, b->text, &r, &st)) {
            job_fail(app, j, "%s", "could not queue the synthesis");
            return;
        }
        b->queued = 1;
        j->inflight++;
        limits_reserve(app, j->user_id, r.chars);   /* as a reader's queued block does */
    }
    if (j->state == EX_RENDERING && j->done == j->total)
        assemble_start(app, j);
}

void exports_on_event(struct app *app, const struct job_event *ev, uint64_t id, int idx)
{
    struct export_job *j = job_by_id(app->exports, id);
    if (!j || j->state != EX_RENDERING || idx < 0 || idx >= j->total || ev->type == JOB_EV_PROCESSING)
        return;
    struct ex_block *b = &j->blocks[idx];
    if (b->done)
        return;
    if (ev->type == JOB_EV_ERROR) {   /* (job_fail releases this block's reservation too) */
        char what[320];
        snprintf(what, sizeof what, "block %d: %s", idx, ev->result.error[0] ? ev->result.error : "synthesis failed");
        job_fail(app, j, "%s", what);
        return;
    }
    if (b->queued)
        limits_release(app, j->user_id, (int)strlen(b->text));
    b->done = 1;
    b->queued = 0;
    j->done++;
    j->inflight--;
    pump(app, j);
}

/* ---- preparing (offload): which blocks the store lacks -------------------------------- */

struct prepare {
    struct offload_task task;
    struct app *app;
    uint64_t job_id;
    int64_t user_id;
    char doc_id[40], model[32], voice[64];
    struct ex_block *blocks;
    int n, cached, status;
    char *title, *author, *html;
};

static void prepare_work(struct offload_task *t, void *ctx)
{
    struct prepare *p = offload_container(t, struct prepare, task);
    struct store *st = ctx;
    struct doc_record rec = { 0 };
    p->status = store_doc_get(st, p->user_id, p->doc_id, &rec);
    if (p->status)
        return;
    p->blocks = calloc((size_t)rec.block_count + 1, sizeof *p->blocks);
    if (!p->blocks) {
        p->status = -1;
        doc_record_free(&rec);
        return;
    }
    p->n = rec.block_count;
    for (int i = 0; i < p->n; i++) {
        struct ex_block *b = &p->blocks[i];
        b->text = rec.blocks[i].text;   /* taken over */
        rec.blocks[i].text = NULL;
        ids_variant_hash(b->text, p->model, p->voice, "", b->hash);
        struct audio_record a = { 0 };
        if (store_audio_meta(st, b->hash, &a) == 0) {
            b->done = 1;
            p->cached++;
        }
        audio_record_free(&a);
    }
    p->title = rec.s.title;
    rec.s.title = NULL;
    p->author = rec.author;
    rec.author = NULL;
    p->html = rec.html;
    rec.html = NULL;
    doc_record_free(&rec);
}

static void prepare_done(struct offload_task *t, int status)
{
    struct prepare *p = offload_container(t, struct prepare, task);
    struct export_job *j = status == 0 ? job_by_id(p->app->exports, p->job_id) : NULL;
    if (j && j->state == EX_PREPARING) {
        if (p->status) {
            job_fail(p->app, j, "%s", p->status == STORE_NOT_FOUND ? "the document is gone"
                                                                    : "could not read the document");
        } else {
            j->blocks = p->blocks;
            j->total = p->n;
            j->done = p->cached;
            free(j->title);   /* a resumed job had the row's */
            j->title = p->title;
            j->author = p->author;
            j->html = p->html;
            p->blocks = NULL;
            p->title = p->author = p->html = NULL;
            j->state = EX_RENDERING;
            j->render_ms = queue_now_ms();
            j->done_at_render = j->done;
            job_save(p->app, j);
            pump(p->app, j);
        }
    }
    blocks_free(p->blocks, p->n);
    free(p->title);
    free(p->author);
    free(p->html);
    free(p);
}

/* Submits the PREPARING step for j (new, or resumed after a restart). 0 or -1 (stopping). */
static int prepare_start(struct app *app, struct export_job *j)
{
    struct prepare *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    *t = (struct prepare){ .app = app, .job_id = j->id, .user_id = j->user_id };
    snprintf(t->doc_id, sizeof t->doc_id, "%s", j->doc_id);
    snprintf(t->model, sizeof t->model, "%s", j->model);
    snprintf(t->voice, sizeof t->voice, "%s", j->voice);
    if (offload_submit(app->offload, &t->task, prepare_work, prepare_done) < 0) {
        free(t);
        return -1;
    }
    j->state = EX_PREPARING;
    j->started_ms = queue_now_ms();
    return 0;
}

/* The file a job writes: DATA/exports/<doc>-<model>-<voice>.<ext> (one per kind). */
static void job_paths(struct app *app, struct export_job *j)
{
    snprintf(j->file, sizeof j->file, "exports/%s-%s-%s.%s", j->doc_id, j->model, j->voice,
             fmt_names[j->fmt]);
    snprintf(j->path, sizeof j->path, "%s/%s", app->cfg->data_dir, j->file);
}

/* ---- start-up: the saved jobs --------------------------------------------------------- */

static int name_index(const char *const *names, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (names[i] && !strcmp(names[i], s))
            return i;
    return -1;
}

/* Removes what no finished job names from DATA/exports/: files of exports that were being
 * assembled when the server died (rewritten when they resume) and their temporary .ogg. */
static void sweep_files(struct app *app)
{
    char dir[4096 + 16];
    snprintf(dir, sizeof dir, "%s/exports", app->cfg->data_dir);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        int kept = 0;
        for (struct export_job *j = app->exports->head; j && !kept; j = j->next_job)
            kept = j->state == EX_DONE && !strcmp(strrchr(j->file, '/') + 1, e->d_name);
        if (!kept && unlinkat(dirfd(d), e->d_name, 0) == 0)
            log_info("exports: removed %s/%s (no finished export names it)", dir, e->d_name);
    }
    closedir(d);
}

int exports_resume(struct app *app)
{
    struct export_row *rows = NULL;
    int n = 0, resumed = 0;
    if (store_export_list(app->store, &rows, &n))
        return -1;
    for (int i = 0; i < n; i++) {   /* oldest first: each goes to the head, newest ends first */
        struct export_row *w = &rows[i];
        int fmt = name_index(fmt_names, 3, w->format);
        int state = name_index(state_names, 5, w->status);
        const struct model *m = engines_find(w->model);
        struct export_job *j = calloc(1, sizeof *j);
        if (!j)
            break;
        j->id = (uint64_t)w->id;
        j->user_id = w->owner;
        j->fmt = fmt < 0 ? BOOK_M4B : (enum book_format)fmt;
        j->state = state < 0 ? EX_ERROR : (enum ex_state)state;
        j->done = w->blocks_done;
        j->total = w->blocks_total;
        j->duration_ms = w->duration_ms;
        j->created_at = w->created_at;
        j->title = w->title[0] ? strdup(w->title) : NULL;
        snprintf(j->doc_id, sizeof j->doc_id, "%s", w->doc_id);
        snprintf(j->model, sizeof j->model, "%s", w->model);
        snprintf(j->voice, sizeof j->voice, "%s", w->voice);
        snprintf(j->error, sizeof j->error, "%s", w->error);
        job_paths(app, j);
        if (app->exports->next_id < j->id)
            app->exports->next_id = j->id;
        j->next_job = app->exports->head;
        app->exports->head = j;
        struct stat sb;
        if (j->state == EX_DONE && stat(j->path, &sb) == 0)
            continue;   /* served again as it was */
        if (j->state == EX_ERROR)
            continue;   /* its reason stays; starting it again retries */
        /* unfinished (or finished with its file gone): start over on the cached audio */
        if (fmt < 0 || !m || !model_find_voice(m, j->voice)) {
            j->state = EX_ERROR;
            snprintf(j->error, sizeof j->error, "the server restarted and can no longer make "
                     "this export (model \"%s\", voice \"%s\" or format \"%s\" is not available)",
                     w->model, w->voice, w->format);
        } else if (prepare_start(app, j) < 0) {
            j->state = EX_ERROR;
            snprintf(j->error, sizeof j->error, "the server restarted and could not resume this export");
        } else {
            resumed++;   /* (blocks_done shows the row's count until prepare recounts) */
        }
        job_save(app, j);
    }
    free(rows);
    sweep_files(app);
    if (n)
        log_info("exports: %d saved, %d resumed", n, resumed);
    return 0;
}

/* ---- HTTP ------------------------------------------------------------------------------ */

static cJSON *job_json(const struct export_job *j)
{
    cJSON *o = cJSON_CreateObject();
    char url[256], q[160];
    snprintf(q, sizeof q, "format=%s&model=%s&voice=%s", fmt_names[j->fmt], j->model, j->voice);
    cJSON_AddStringToObject(o, "document_id", j->doc_id);
    cJSON_AddStringToObject(o, "format", fmt_names[j->fmt]);
    cJSON_AddStringToObject(o, "model", j->model);
    cJSON_AddStringToObject(o, "voice", j->voice);
    cJSON_AddStringToObject(o, "status", state_names[j->state]);
    cJSON_AddNumberToObject(o, "blocks_done", j->done);
    cJSON_AddNumberToObject(o, "blocks_total", j->total);
    /* time left: the pace of blocks since rendering began (cached ones came free) */
    int64_t el = queue_now_ms() - j->render_ms;
    int made = (int)(j->done - j->done_at_render);
    if (j->state == EX_RENDERING && made > 0 && el > 0)
        cJSON_AddNumberToObject(o, "eta_s", (double)((j->total - j->done) * el / made) / 1000.0);
    else
        cJSON_AddNullToObject(o, "eta_s");
    snprintf(url, sizeof url, "/v1/documents/%s/export/status?%s", j->doc_id, q);
    cJSON_AddStringToObject(o, "status_url", url);
    if (j->state == EX_DONE) {
        snprintf(url, sizeof url, "/v1/documents/%s/export/file?%s", j->doc_id, q);
        cJSON_AddStringToObject(o, "download_url", url);
        cJSON_AddNumberToObject(o, "duration_ms", (double)j->duration_ms);
    }
    if (j->state == EX_ERROR)
        cJSON_AddStringToObject(o, "error", j->error);
    return o;
}

struct params { int given; enum book_format fmt; const char *model, *voice; char fb[16], mb[64], vb[96]; };

/* format, model and voice from the query; 0, or an answered error (rc in *rc). */
static int read_params(struct http_req *r, struct params *p, int *rc)
{
    const char *f = lws_get_urlarg_by_name(r->wsi, "format=", p->fb, sizeof p->fb);
    const char *m = lws_get_urlarg_by_name(r->wsi, "model=", p->mb, sizeof p->mb);
    const char *v = lws_get_urlarg_by_name(r->wsi, "voice=", p->vb, sizeof p->vb);
    p->given = f || m || v;
    char probe[24];
    snprintf(probe, sizeof probe, "x.%s", f ? f : "m4b");
    if (book_format_for(probe, &p->fmt) || !strcmp(f ? f : "", "opus")) {
        *rc = http_reply_error(r, 400, "unknown export format \"%.20s\": use m4b, mp3 or ogg", f);
        return -1;
    }
    const struct model *mo = engines_find(m ? m : ENGINE_DEFAULT_MODEL);
    const struct voice_info *vi = mo ? model_find_voice(mo, v ? v : ENGINE_DEFAULT_VOICE) : NULL;
    if (!mo || !vi) {
        *rc = http_reply_error(r, 400, "unknown model or voice \"%.40s\" / \"%.60s\"",
                               m ? m : ENGINE_DEFAULT_MODEL, v ? v : ENGINE_DEFAULT_VOICE);
        return -1;
    }
    if (mo->ops->flags & ENGINE_IN_PAGE) {
        *rc = http_reply_error(r, 400, "the %s model is synthesized in the page and cannot be exported",
                               mo->ops->slug);
        return -1;
    }
    p->model = mo->ops->slug;
    p->voice = vi->slug;
    return 0;
}

/* The job for these parameters (or, with none given, the newest for the document). */
static struct export_job *find_job(struct exports *x, const struct http_req *r, const char *doc_id,
                                   const struct params *p)
{
    for (struct export_job *j = x->head; j; j = j->next_job)   /* newest first */
        if (j->user_id == r->user_id && !strcmp(j->doc_id, doc_id) &&
            (!p->given || (j->fmt == p->fmt && !strcmp(j->model, p->model) && !strcmp(j->voice, p->voice))))
            return j;
    return NULL;
}

static int start(struct http_req *r, const char *doc_id, const struct params *p)
{
    struct app *app = r->app;
    struct export_job *old = find_job(app->exports, r, doc_id, p);
    if (old && old->state != EX_ERROR)
        return http_reply_json(r, old->state == EX_DONE ? 200 : 202, job_json(old));
    int count;
    int rc = store_doc_block_count(app->store, r->user_id, doc_id, &count);
    if (rc == STORE_NOT_FOUND)
        return http_reply_error(r, 404, "document not found");
    if (rc)
        return http_reply_error(r, 500, "could not read the document");
    struct export_job *j = calloc(1, sizeof *j);
    if (!j)
        return http_reply_error(r, 500, "out of memory");
    j->id = ++app->exports->next_id;
    j->user_id = r->user_id;
    j->fmt = p->fmt;
    j->total = count;
    j->created_at = (int64_t)time(NULL);
    snprintf(j->doc_id, sizeof j->doc_id, "%s", doc_id);
    snprintf(j->model, sizeof j->model, "%s", p->model);
    snprintf(j->voice, sizeof j->voice, "%s", p->voice);
    job_paths(app, j);
    if (prepare_start(app, j) < 0) {
        free(j);
        return http_reply_error(r, 503, "the server is shutting down");
    }
    if (old) {   /* a failed export of the same kind is replaced */
        for (struct export_job **pp = &app->exports->head; *pp; pp = &(*pp)->next_job)
            if (*pp == old) {
                *pp = old->next_job;
                break;
            }
        job_free(old);
    }
    j->next_job = app->exports->head;
    app->exports->head = j;
    return job_save_answer(app, j, r);
}

/* The file's name for the browser: the title, with anything unusual replaced. */
static void download_name(const struct export_job *j, char *out, size_t n)
{
    const char *t = j->title && *j->title ? j->title : "recite";
    size_t k = 0;
    for (; *t && k + 6 < n && k < 80; t++)
        out[k++] = (strchr(" ._-", *t) || (*t >= '0' && *t <= '9') || ((*t | 32) >= 'a' && (*t | 32) <= 'z')) ? *t : '_';
    snprintf(out + k, n - k, ".%s", fmt_names[j->fmt]);
}

static int download(struct http_req *r, struct export_job *j)
{
    if (j->state != EX_DONE)
        return http_reply_error(r, 409, "the export is not finished (%s)", state_names[j->state]);
    char name[96], hdrs[256];
    download_name(j, name, sizeof name);
    snprintf(hdrs, sizeof hdrs, "content-disposition: attachment; filename=\"%s\"\r\n"
             "cache-control: no-cache\r\nconnection: close\r\n", name);
    int n = lws_serve_http_file(r->wsi, j->path, fmt_mime[j->fmt], hdrs, (int)strlen(hdrs));
    return n ? -1 : 0;   /* lws sends it from the file in pieces, as for the page's files */
}

void exports_forget(struct app *app, int64_t user_id, const char *doc_id)
{
    struct exports *x = app->exports;
    for (struct export_job **pp = x ? &x->head : NULL; pp && *pp;) {
        struct export_job *j = *pp;
        if (j->user_id != user_id || strcmp(j->doc_id, doc_id)) {
            pp = &j->next_job;
            continue;
        }
        if (j->state == EX_RENDERING)
            job_fail(app, j, "%s", "the document was deleted");   /* its blocks leave the queue */
        if (j->state == EX_DONE)
            unlink(j->path);
        *pp = j->next_job;
        job_free(j);
    }
}

void exports_prune(struct app *app)
{
    for (int again = 1; again && app->exports;) {
        again = 0;
        for (struct export_job *j = app->exports->head; j; j = j->next_job) {
            int n;
            if (store_doc_block_count(app->store, j->user_id, j->doc_id, &n) != STORE_NOT_FOUND)
                continue;
            char doc[40];
            snprintf(doc, sizeof doc, "%s", j->doc_id);
            exports_forget(app, j->user_id, doc);   /* unlinks j: walk the list again */
            again = 1;
            break;
        }
    }
}

int exports_route(struct http_req *r, const char *doc_id, const char *rest)
{
    if (!r->app->exports)
        return http_reply_error(r, 503, "exports are not available");
    if (r->method != LWSHUMETH_GET && !(r->method == LWSHUMETH_HEAD && !strcmp(rest, "/file")))
        return http_reply_error(r, 405, "use GET on an export");
    struct params p = { 0 };
    int rc;
    if (read_params(r, &p, &rc))
        return rc;
    if (!*rest)
        return start(r, doc_id, &p);
    struct export_job *j = find_job(r->app->exports, r, doc_id, &p);
    if (!j && !p.given && !strcmp(rest, "/status")) {   /* "is there one?" is not an error */
        int count;
        int rc2 = store_doc_block_count(r->app->store, r->user_id, doc_id, &count);
        if (rc2 == STORE_NOT_FOUND)
            return http_reply_error(r, 404, "document not found");
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "document_id", doc_id);
        cJSON_AddStringToObject(o, "status", "none");
        return http_reply_json(r, 200, o);
    }
    if (!j)
        return http_reply_error(r, 404, "no export of this document%s", p.given ? " in that format and voice" : "");
    if (!strcmp(rest, "/status"))
        return http_reply_json(r, 200, job_json(j));
    if (!strcmp(rest, "/file"))
        return download(r, j);
    return http_reply_error(r, 404, "no such endpoint: %s", r->path);
}
