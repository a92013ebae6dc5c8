/* builder — turns front-end events into sanitized HTML plus spoken blocks (see builder.h).
 * Pure, one thread per builder.
 *
 * Output outside a speakable "run" goes straight to the HTML buffer. Inside a run (the
 * content of a p/h1-h6, or loose text in a container, opened lazily by the first
 * content event) events are buffered: the run's spoken text is one buffer, and text
 * events are byte ranges into it. When the run ends (any block event, or the end of
 * the document) the text is trimmed, split, and the events are replayed with span
 * boundaries at the piece offsets. Buffers are reused across runs, so the whole build
 * is linear in the input. */
#include "doc/builder.h"
#include "doc/doc.h"
#include "doc/sbuf.h"
#include "doc/split.h"
#include "doc/uchar.h"
#include "util/utf8.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum ev_type { EV_TEXT, EV_BREAK, EV_OPEN, EV_CLOSE, EV_ATOM };

struct ev {
    enum ev_type type;
    const char *tag;   /* EV_OPEN, EV_CLOSE */
    size_t a, b;       /* EV_TEXT, EV_BREAK: run text [a, b); EV_OPEN, EV_ATOM: pool [a, b) */
    size_t pos;        /* run text length when the event happened */
};

struct frame {
    const char *tag;
    enum builder_kind kind;
    bool mute;          /* this frame, or one around it, is BUILDER_MUTE */
    size_t mute_base;   /* depth of the muted inline stack when the frame opened */
};

struct builder {
    bool collapse;
    bool oom;
    char *author;
    struct sbuf html;

    struct frame *frames;
    size_t nframes, cap_frames;
    int muted;                    /* frames with mute set */
    const char **mute_inl;        /* inline tags open in muted output */
    size_t nmute_inl, cap_mute_inl;

    bool in_run;
    struct sbuf text;             /* the run's spoken text */
    struct sbuf pool;             /* rendered open tags and atoms of the run */
    struct ev *evs;
    size_t nevs, cap_evs;
    size_t *stack;                /* open EV_OPEN indices (while buffering, then replaying) */
    size_t nstack, cap_stack;
    size_t atoms;

    struct doc_block *blocks;
    size_t nblocks, cap_blocks;
    char *heading;
};

/* Grows *arr to hold at least need elements; false (and b->oom) on failure. */
static bool grow(struct builder *b, void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    if (b->oom)
        return false;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *p = realloc(*arr, n * size);
    if (!p) {
        b->oom = true;
        return false;
    }
    *arr = p;
    *cap = n;
    return true;
}

struct builder *builder_create(bool collapse_space)
{
    struct builder *b = calloc(1, sizeof *b);
    if (b)
        b->collapse = collapse_space;
    return b;
}

void builder_destroy(struct builder *b)
{
    if (!b)
        return;
    sbuf_free(&b->html);
    sbuf_free(&b->text);
    sbuf_free(&b->pool);
    free(b->author);
    free(b->frames);
    free(b->mute_inl);
    free(b->evs);
    free(b->stack);
    for (size_t i = 0; i < b->nblocks; i++)
        free(b->blocks[i].text);
    free(b->blocks);
    free(b->heading);
    free(b);
}

static void emit_open_tag(struct sbuf *s, const char *tag, const char *attrs)
{
    sbuf_addc(s, '<');
    sbuf_adds(s, tag);
    if (attrs && *attrs) {
        sbuf_addc(s, ' ');
        sbuf_adds(s, attrs);
    }
    sbuf_addc(s, '>');
}

static void emit_close_tag(struct sbuf *s, const char *tag)
{
    sbuf_adds(s, "</");
    sbuf_adds(s, tag);
    sbuf_addc(s, '>');
}

/* Control characters other than tab/newline/CR are neither speakable nor valid in HTML. */
static bool is_dropped_control(unsigned char c) { return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F; }
static bool is_ascii_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

/* Escaped text straight into the HTML, for muted content (pre keeps its white space). */
static void emit_text_direct(struct builder *b, const char *s, size_t len)
{
    sbuf_add_escaped(&b->html, s, len);
}

/* ---- runs ------------------------------------------------------------------------- */

static struct frame *top_frame(struct builder *b) { return b->nframes ? &b->frames[b->nframes - 1] : NULL; }

static void run_begin(struct builder *b)
{
    b->in_run = true;
    b->text.len = 0;
    b->pool.len = 0;
    b->nevs = 0;
    b->nstack = 0;
    b->atoms = 0;
}

static struct ev *push_ev(struct builder *b, enum ev_type type, const char *tag, size_t a, size_t e)
{
    if (!grow(b, (void **)&b->evs, &b->cap_evs, b->nevs + 1, sizeof *b->evs))
        return NULL;
    struct ev *v = &b->evs[b->nevs++];
    *v = (struct ev){ type, tag, a, e, b->text.len };
    return v;
}

static bool push_stack(struct builder *b, size_t v)
{
    if (!grow(b, (void **)&b->stack, &b->cap_stack, b->nstack + 1, sizeof *b->stack))
        return false;
    b->stack[b->nstack++] = v;
    return true;
}

/* Byte lengths of leading and trailing white space of s[0..n). */
static void measure_trim(const char *s, size_t n, size_t *lead, size_t *trail)
{
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        int k = utf8_decode(s + i, n - i, &cp);
        if (!uchar_is_space(cp))
            break;
        i += (size_t)k;
    }
    *lead = i;
    size_t e = n;
    while (e > i) {
        size_t p = e - 1;
        while (p > i && ((unsigned char)s[p] & 0xC0) == 0x80)
            p--;
        uint32_t cp;
        utf8_decode(s + p, e - p, &cp);
        if (!uchar_is_space(cp))
            break;
        e = p;
    }
    *trail = n - e;
}

/* Does a sentence end at the end of s[0..n) (trailing white space and closers skipped)? */
static bool ends_sentence(const char *s, size_t n)
{
    while (n > 0) {
        size_t p = n - 1;
        while (p > 0 && ((unsigned char)s[p] & 0xC0) == 0x80)
            p--;
        uint32_t cp;
        utf8_decode(s + p, n - p, &cp);
        if (uchar_is_space(cp) || cp == '"' || cp == '\'' || cp == ')' || cp == 0x201D
            || cp == 0x2019 || cp == 0xBB || cp == ']') {
            n = p;
            continue;
        }
        return cp == '.' || cp == '!' || cp == '?' || cp == 0x2026 || cp == 0x3002
            || cp == 0xFF01 || cp == 0xFF1F;
    }
    return false;
}

static bool is_heading_tag(const char *t)
{
    return t && t[0] == 'h' && t[1] >= '1' && t[1] <= '6' && t[2] == '\0';
}

static bool in_list_item(const struct builder *b)
{
    for (size_t i = b->nframes; i > 0; i--)
        if (b->frames[i - 1].tag && strcmp(b->frames[i - 1].tag, "li") == 0)
            return true;
    return false;
}

/* The pause after piece i of np in the current run (see DOC_SEAM_* in doc.h). */
static int piece_pause(const struct builder *b, const char *s, size_t n, int i, int np)
{
    const struct frame *f = b->nframes ? &b->frames[b->nframes - 1] : NULL;
    if (f && is_heading_tag(f->tag))
        return DOC_PAUSE(i + 1 < np ? DOC_SEAM_CLAUSE_MS : DOC_SEAM_HEADING_MS);
    if (i + 1 < np)
        return DOC_PAUSE(ends_sentence(s, n) ? DOC_SEAM_SENTENCE_MS : DOC_SEAM_CLAUSE_MS);
    return DOC_PAUSE(in_list_item(b) ? DOC_SEAM_ITEM_MS : DOC_SEAM_PARAGRAPH_MS);
}

static void add_block(struct builder *b, const char *s, size_t n)
{
    if (!grow(b, (void **)&b->blocks, &b->cap_blocks, b->nblocks + 1, sizeof *b->blocks))
        return;
    char *t = malloc(n + 1);
    if (!t) {
        b->oom = true;
        return;
    }
    memcpy(t, s, n);
    t[n] = '\0';
    b->blocks[b->nblocks] = (struct doc_block){ (int)b->nblocks, t, doc_estimate_ms(t), 0 };
    b->nblocks++;
}

/* Keeps the first heading's text, white space collapsed, for the document title. */
static void capture_heading(struct builder *b, const char *s, size_t n)
{
    struct sbuf h = { 0 };
    bool space = false;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int k = utf8_decode(s + i, n - i, &cp);
        if (uchar_is_space(cp)) {
            space = true;
        } else {
            if (space && h.len)
                sbuf_addc(&h, ' ');
            space = false;
            sbuf_add(&h, s + i, (size_t)k);
        }
        i += (size_t)k;
    }
    if (h.oom)
        b->oom = true;
    b->heading = sbuf_take(&h);
}

struct replay {
    struct builder *b;
    const size_t *bound;   /* piece boundaries in run text: bound[0] .. bound[npieces] */
    size_t npieces;
    size_t next;           /* next boundary to cross */
    size_t first_idx;      /* document index of the first piece */
};

/* Crosses bound[next]: closes the open inline tags and the current span, opens the next
 * span (if any) and reopens the inline tags inside it. */
static void replay_cross(struct replay *r)
{
    struct builder *b = r->b;
    for (size_t i = b->nstack; i-- > 0;)
        emit_close_tag(&b->html, b->evs[b->stack[i]].tag);
    if (r->next > 0)
        sbuf_adds(&b->html, "</span>");
    if (r->next < r->npieces) {
        sbuf_adds(&b->html, "<span data-block-idx=\"");
        sbuf_add_uint(&b->html, (unsigned long)(r->first_idx + r->next));
        sbuf_adds(&b->html, "\">");
    }
    for (size_t i = 0; i < b->nstack; i++) {
        const struct ev *v = &b->evs[b->stack[i]];
        sbuf_add(&b->html, b->pool.p + v->a, v->b - v->a);
    }
    r->next++;
}

/* Crosses every boundary at or before pos: content at pos belongs to the next piece. */
static void replay_reach(struct replay *r, size_t pos)
{
    while (r->next <= r->npieces && r->bound[r->next] <= pos)
        replay_cross(r);
}

static void replay_events(struct replay *r)
{
    struct builder *b = r->b;
    b->nstack = 0;
    for (size_t i = 0; i < b->nevs; i++) {
        const struct ev *v = &b->evs[i];
        switch (v->type) {
        case EV_OPEN:
        case EV_ATOM:
            if (r->npieces)
                replay_reach(r, v->pos);   /* markup at a boundary opens in the next piece */
            sbuf_add(&b->html, b->pool.p + v->a, v->b - v->a);
            if (v->type == EV_OPEN)
                push_stack(b, i);
            break;
        case EV_CLOSE:
            emit_close_tag(&b->html, v->tag);
            if (b->nstack)
                b->nstack--;
            break;
        case EV_TEXT:
        case EV_BREAK:
            for (size_t a = v->a; a < v->b;) {
                if (r->npieces)
                    replay_reach(r, a);
                size_t e = v->b;
                if (r->npieces && r->next <= r->npieces && r->bound[r->next] < e)
                    e = r->bound[r->next];
                if (v->type == EV_BREAK)
                    sbuf_adds(&b->html, "<br>");
                else
                    sbuf_add_escaped(&b->html, b->text.p + a, e - a);
                a = e;
            }
            break;
        }
    }
    if (r->npieces)
        while (r->next <= r->npieces)
            replay_cross(r);
    for (size_t i = b->nstack; i-- > 0;)   /* tags still open when the block ended */
        emit_close_tag(&b->html, b->evs[b->stack[i]].tag);
    b->nstack = 0;
}

/* Ends the current run: trims, splits, writes the HTML and records the blocks. */
static void run_end(struct builder *b)
{
    if (!b->in_run)
        return;
    b->in_run = false;
    if (b->oom)
        return;
    const char *t = b->text.p ? b->text.p : "";
    size_t n = b->text.len, lead, trail;
    measure_trim(t, n, &lead, &trail);
    if (lead == n && b->atoms == 0)
        return;   /* nothing to say and nothing to show */

    struct frame *f = top_frame(b);
    bool speak = f && f->kind == BUILDER_SPEAK;
    /* Loose text gets a paragraph of its own, except directly in a list item. */
    bool wrap = !speak && !(f && f->tag && strcmp(f->tag, "li") == 0);
    if (wrap)
        sbuf_adds(&b->html, "<p>");

    struct split_piece *pieces = NULL;
    int np = 0;
    size_t *bound = NULL;
    if (lead < n) {
        np = split_block(t + lead, n - lead - trail, &pieces);
        bound = np > 0 ? malloc(((size_t)np + 1) * sizeof *bound) : NULL;
        if (np < 0 || !bound) {
            free(pieces);
            b->oom = true;
            return;
        }
        bound[0] = lead;
        for (int i = 0; i < np; i++)
            bound[i + 1] = lead + pieces[i].off + pieces[i].len;
    }
    struct replay r = { b, bound, (size_t)np, 0, b->nblocks };
    replay_events(&r);
    if (wrap)
        sbuf_adds(&b->html, "</p>\n");

    /* a heading after anything but a heading ends a section: the longest pause before it */
    if (np > 0 && f && is_heading_tag(f->tag) && b->nblocks > 0
        && b->blocks[b->nblocks - 1].pause_ms != DOC_PAUSE(DOC_SEAM_HEADING_MS))
        b->blocks[b->nblocks - 1].pause_ms = DOC_PAUSE(DOC_SEAM_SECTION_MS);
    for (int i = 0; i < np; i++) {
        add_block(b, t + lead + pieces[i].off, pieces[i].len);
        if (!b->oom)
            b->blocks[b->nblocks - 1].pause_ms
                = piece_pause(b, t + lead + pieces[i].off, pieces[i].len, i, np);
    }
    if (speak && !b->heading && np > 0 && f->tag && f->tag[0] == 'h' && f->tag[1] >= '1'
        && f->tag[1] <= '6' && f->tag[2] == '\0')
        capture_heading(b, t + lead, n - lead - trail);
    free(pieces);
    free(bound);
}

/* Content outside muted output starts a run if none is open. */
static void run_ensure(struct builder *b)
{
    if (!b->in_run)
        run_begin(b);
}

/* ---- blocks ----------------------------------------------------------------------- */

void builder_block_open(struct builder *b, const char *tag, const char *attrs,
                        enum builder_kind kind)
{
    run_end(b);
    if (!grow(b, (void **)&b->frames, &b->cap_frames, b->nframes + 1, sizeof *b->frames))
        return;
    bool mute = kind == BUILDER_MUTE || b->muted > 0;
    b->frames[b->nframes++] = (struct frame){ tag, kind, mute, b->nmute_inl };
    if (mute)
        b->muted++;
    if (tag)
        emit_open_tag(&b->html, tag, attrs);
}

void builder_block_close(struct builder *b)
{
    run_end(b);
    if (!b->nframes)
        return;
    struct frame *f = &b->frames[b->nframes - 1];
    while (b->nmute_inl > f->mute_base)
        emit_close_tag(&b->html, b->mute_inl[--b->nmute_inl]);
    if (f->tag)
        emit_close_tag(&b->html, f->tag);
    if (f->mute)
        b->muted--;
    b->nframes--;
    if (f->tag && !b->muted)
        sbuf_addc(&b->html, '\n');   /* readable source; never inside <pre> */
}

void builder_hr(struct builder *b)
{
    run_end(b);
    sbuf_adds(&b->html, b->muted ? "<hr>" : "<hr>\n");
}

/* ---- inline content --------------------------------------------------------------- */

void builder_inline_open(struct builder *b, const char *tag, const char *attrs)
{
    if (b->muted) {
        if (!grow(b, (void **)&b->mute_inl, &b->cap_mute_inl, b->nmute_inl + 1, sizeof *b->mute_inl))
            return;
        b->mute_inl[b->nmute_inl++] = tag;
        emit_open_tag(&b->html, tag, attrs);
        return;
    }
    run_ensure(b);
    size_t a = b->pool.len;
    emit_open_tag(&b->pool, tag, attrs);
    if (push_ev(b, EV_OPEN, tag, a, b->pool.len))
        push_stack(b, b->nevs - 1);
}

void builder_inline_close(struct builder *b, const char *tag)
{
    if (b->muted) {
        size_t base = b->nframes ? b->frames[b->nframes - 1].mute_base : 0;
        size_t k = b->nmute_inl;
        while (k > base && strcmp(b->mute_inl[k - 1], tag) != 0)
            k--;
        if (k == base)
            return;   /* opened outside this frame, or never: ignore */
        while (b->nmute_inl >= k)
            emit_close_tag(&b->html, b->mute_inl[--b->nmute_inl]);
        return;
    }
    if (!b->in_run)
        return;
    size_t k = b->nstack;
    while (k > 0 && strcmp(b->evs[b->stack[k - 1]].tag, tag) != 0)
        k--;
    if (k == 0)
        return;   /* opened before this run started (a block interrupted it) */
    while (b->nstack >= k) {
        const char *t = b->evs[b->stack[--b->nstack]].tag;
        push_ev(b, EV_CLOSE, t, 0, 0);
    }
}

void builder_text(struct builder *b, const char *s, size_t len)
{
    if (!len)
        return;
    if (b->muted) {
        emit_text_direct(b, s, len);
        return;
    }
    run_ensure(b);
    size_t a = b->text.len;
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        bool ws = b->collapse && is_ascii_space(c);
        if (!ws && !is_dropped_control(c))
            continue;
        sbuf_add(&b->text, s + run, i - run);
        run = i + 1;
        if (ws) {   /* one space, and none at the start or after another space/break */
            char last = b->text.len ? b->text.p[b->text.len - 1] : '\n';
            if (last != ' ' && last != '\n')
                sbuf_addc(&b->text, ' ');
        }
    }
    sbuf_add(&b->text, s + run, len - run);
    if (b->text.len == a)
        return;
    struct ev *last = b->nevs ? &b->evs[b->nevs - 1] : NULL;
    if (last && last->type == EV_TEXT && last->b == a)
        last->b = b->text.len;   /* merge adjacent text: fewer events to replay */
    else
        push_ev(b, EV_TEXT, NULL, a, b->text.len);
}

void builder_break(struct builder *b)
{
    if (b->muted) {
        sbuf_adds(&b->html, "<br>");
        return;
    }
    run_ensure(b);
    size_t a = b->text.len;
    sbuf_addc(&b->text, '\n');
    push_ev(b, EV_BREAK, NULL, a, a + 1);
}

void builder_atom(struct builder *b, const char *html, size_t len)
{
    if (b->muted) {
        sbuf_add(&b->html, html, len);
        return;
    }
    run_ensure(b);
    size_t a = b->pool.len;
    sbuf_add(&b->pool, html, len);
    push_ev(b, EV_ATOM, NULL, a, b->pool.len);
    b->atoms++;
}

/* ---- result ----------------------------------------------------------------------- */

int builder_finish(struct builder *b, struct doc *d, char **heading)
{
    *heading = NULL;
    run_end(b);
    while (b->nframes)
        builder_block_close(b);
    if (b->oom || b->html.oom || b->text.oom || b->pool.oom)
        return -1;
    d->html = sbuf_take(&b->html);
    if (!d->html)
        return -1;
    d->blocks = b->blocks;
    d->block_count = (int)b->nblocks;
    b->blocks = NULL;
    b->nblocks = 0;
    *heading = b->heading;
    b->heading = NULL;
    d->author = b->author;
    b->author = NULL;
    return 0;
}

void builder_set_author(struct builder *b, const char *author)
{
    if (!author || !*author)
        return;
    char *a = strdup(author);
    if (!a) {
        b->oom = true;
        return;
    }
    free(b->author);
    b->author = a;
}
