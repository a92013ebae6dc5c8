/* test_flite — the flite model: its voices, audio from every voice (levelled to the
 * loudness target), word timings that cover every word in UTF-16 units, text flite cannot
 * say, junk input, and synthesis from several threads at once (bit-identical to the audio
 * from one thread: engine_rand.c gives every synthesis the same noise sequence). */
#include "engines/engine.h"
#include "check.h"
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

static const struct model *flite;

static void test_voices(void)
{
    char err[256] = "";
    CHECK(engines_init(err, sizeof err) >= 2);
    CHECK_STR(engines_get(0)->ops->slug, "espeak");   /* the default model stays first */
    flite = engines_find("flite");
    CHECK(flite != NULL);
    if (!flite)
        return;
    CHECK_INT(flite->voice_count, 5);
    const char *want[] = { "slt", "rms", "awb", "kal16", "kal" };
    for (int i = 0; i < 5; i++) {
        const struct voice_info *v = model_find_voice(flite, want[i]);
        CHECK(v != NULL);
        if (v) {
            CHECK(v->name[0] != '\0');
            CHECK_STR(v->lang, !strcmp(want[i], "awb") ? "en-GB-scotland" : "en-US");
        }
    }
    CHECK(model_find_voice(flite, "SLT") != NULL);   /* case-insensitive */
    CHECK(model_find_voice(flite, "time_awb") == NULL);
}

/* Whether the character at text[i] belongs to a word; *next is the byte after it. */
static int is_word_char(const char *text, size_t n, size_t i, size_t *next)
{
    unsigned char c = (unsigned char)text[i];
    size_t len = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    *next = i + len <= n ? i + len : n;
    if (c < 0x80)
        return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
               (c == '\'' && i > 0 && i + 1 < n && text[i + 1] != ' ');
    return len == 2;   /* U+0080..U+07FF: Latin, Greek, Cyrillic letters */
}

/* Every word of `text` (letters and digits, apostrophes inside) must lie inside a timing;
 * timings are ordered, in the audio, and never overlap in the text. */
static void check_timings(const char *text, const struct synth_result *r, const char *what)
{
    int64_t dur = pcm_duration_ms(&r->pcm);
    CHECK(r->word_count > 0);
    int bad = 0;
    for (int i = 0; i < r->word_count; i++) {
        const struct word_timing *w = &r->words[i];
        bad += w->start_ms < 0 || w->end_ms < w->start_ms || w->end_ms > dur || w->length <= 0;
        if (i) {
            bad += w->start_ms < r->words[i - 1].start_ms;
            bad += w->offset < r->words[i - 1].offset + r->words[i - 1].length;
        }
    }
    CHECK_INT(bad, 0);
    /* Words: runs of letters and digits (Latin, Greek, Cyrillic, ... below U+2000),
     * with apostrophes inside; punctuation, dashes and emoji are not words. */
    size_t n = strlen(text);
    for (size_t i = 0; i < n;) {
        size_t j = i, next;
        while (j < n && is_word_char(text, n, j, &next))
            j = next;
        if (j == i) {
            is_word_char(text, n, i, &next);
            i = next;
            continue;
        }
        int a = u16_len(text, i), b = u16_len(text, j), covered = 0;
        for (int k = 0; k < r->word_count; k++)
            covered |= r->words[k].offset <= a && r->words[k].offset + r->words[k].length >= b;
        if (!covered) {
            check_failures++;
            fprintf(stderr, "  %s: word \"%.*s\" has no timing\n", what, (int)(j - i), text + i);
        }
        i = j;
    }
}

static void test_every_voice(void)
{
    if (!flite)
        return;
    const char *text = "The quick brown fox jumps over the lazy dog, twice.";
    for (int v = 0; v < flite->voice_count; v++) {
        const char *voice = flite->voices[v].slug;
        char err[256] = "";
        struct engine *e = flite->ops->create(err, sizeof err);
        struct synth_result r;
        CHECK_INT(engine_render(flite, e, voice, text, &r, err, sizeof err), 0);
        CHECK(pcm_duration_ms(&r.pcm) > 1500);
        CHECK_INT(r.pcm.rate, !strcmp(voice, "kal") ? 8000 : 16000);
        double l = audio_loudness_lufs(&r.pcm);
        if (!(fabs(l - AUDIO_LOUDNESS_TARGET) < 0.5)) {
            check_failures++;
            fprintf(stderr, "  %s: %.2f LUFS after render\n", voice, l);
        }
        check_timings(text, &r, voice);
        synth_result_free(&r);
        flite->ops->destroy(e);
    }
}

static void test_timings_map_back(void)
{
    if (!flite)
        return;
    char err[256] = "";
    struct engine *e = flite->ops->create(err, sizeof err);
    /* Accented letters are read without their accents, an emoji not at all; offsets still
     * point into the original text, in UTF-16 units. */
    const char *text = "D\xc3\xa9j\xc3\xa0 vu: na\xc3\xafve caf\xc3\xa9 \xf0\x9f\x98\x80 owners smile \xe2\x80\x94 it's 42.";
    struct synth_result r;
    CHECK_INT(engine_render(flite, e, "slt", text, &r, err, sizeof err), 0);
    check_timings(text, &r, "accents");
    const char *words[] = { "D\xc3\xa9j\xc3\xa0", "vu", "na\xc3\xafve", "caf\xc3\xa9", "owners",
                            "smile", "it's", "42" };
    for (size_t k = 0; k < sizeof words / sizeof *words; k++) {
        const char *at = strstr(text, words[k]);
        int off = u16_len(text, (size_t)(at - text)), len = u16_len(words[k], strlen(words[k]));
        int found = 0;
        for (int i = 0; i < r.word_count; i++)
            found |= r.words[i].offset == off && r.words[i].length == len;
        if (!found) {
            check_failures++;
            fprintf(stderr, "  no timing exactly on \"%s\" (offset %d, length %d)\n", words[k], off, len);
        }
    }
    synth_result_free(&r);
    /* Nothing flite can say: empty audio, not an error (the job is then "skipped"). */
    CHECK_INT(engine_render(flite, e, "rms", "\xf0\x9f\x98\x80 \xe4\xb8\xad\xe6\x96\x87", &r, err, sizeof err), 0);
    CHECK_INT(r.pcm.count, 0);
    synth_result_free(&r);
    CHECK_INT(engine_render(flite, e, "rms", "", &r, err, sizeof err), 0);
    CHECK_INT(r.pcm.count, 0);
    synth_result_free(&r);
    /* Control characters are spaces. */
    CHECK_INT(engine_render(flite, e, "kal", "one\001two\x7f three", &r, err, sizeof err), 0);
    CHECK(r.word_count == 3);
    synth_result_free(&r);
    err[0] = '\0';
    CHECK_INT(engine_render(flite, e, "nobody", "hello", &r, err, sizeof err), -1);
    CHECK(strstr(err, "nobody") != NULL);
    flite->ops->destroy(e);
}

/* Random texts from pieces that exercise flite's normaliser (numbers, money, times,
 * abbreviations, URLs, punctuation runs, non-ASCII): no crash, no exit. */
static void test_junk(void)
{
    if (!flite)
        return;
    static const char *const pieces[] = {
        "a", "Z", "1", "9", ".", ",", "!", "?", "-", "--", "'", "\"", "(", ")", "$", "%", "&",
        "@", "#", "*", "/", "\\", ":", ";", " ", "\n", "\t", "\xc3\xa9", "\xc3\x9f",
        "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "\xe2\x80\x94", "\xe2\x80\xa6", "1,000", "3.14",
        "1/2", "IV", "Mr.", "www.x.com", "e-mail", "$5.00", "100%", "10:30", "1st", "'s",
        "O'Neil", "A.B.C.", "~", "^", "_", "`", "{", "}", "[", "]", "<", ">", "|", "+", "=",
        "0x1F", "1e9", "123456789", "...", "---", "-1", "#1", "@home", "\xc2\xa0",
    };
    size_t np = sizeof pieces / sizeof *pieces;
    unsigned seed = 12345;
    char err[256];
    struct engine *e = flite->ops->create(err, sizeof err);
    int failed = 0;
    for (int it = 0; it < 60; it++) {
        char text[512] = "";
        int n = 1 + (int)(rand_r(&seed) % 12);
        for (int i = 0; i < n; i++)
            strcat(text, pieces[rand_r(&seed) % np]);
        struct synth_result r;
        if (engine_render(flite, e, flite->voices[it % flite->voice_count].slug, text, &r, err,
                          sizeof err) < 0) {
            failed++;
            fprintf(stderr, "  junk input \"%s\": %s\n", text, err);
        }
        synth_result_free(&r);
    }
    CHECK_INT(failed, 0);
    flite->ops->destroy(e);
}

struct run {
    int voice;
    uint64_t digest[8];
    int failures;
};

static const char *const thread_texts[] = {
    "First, a sentence that takes a while to say out loud.",
    "Second: numbers like 1,234 and dates like 12/05/2024.",
    "Third, with a question? And an answer!",
    "Fourth and last, the quick brown fox.",
};

/* FNV-1a over the samples: equal digests mean bit-identical audio. */
static uint64_t pcm_digest(const struct pcm *p)
{
    uint64_t h = 1469598103934665603ULL ^ p->count;
    for (size_t i = 0; i < p->count; i++)
        h = (h ^ (uint16_t)p->samples[i]) * 1099511628211ULL;
    return h;
}

static void *synth_thread(void *arg)
{
    struct run *run = arg;
    char err[256];
    struct engine *e = flite->ops->create(err, sizeof err);
    for (int rep = 0; rep < 2; rep++)
        for (int i = 0; i < 4; i++) {
            struct synth_result r;
            if (engine_render(flite, e, flite->voices[run->voice].slug, thread_texts[i], &r, err,
                              sizeof err) < 0)
                run->failures++;
            else if (rep == 0)
                run->digest[i] = pcm_digest(&r.pcm);
            else if (pcm_digest(&r.pcm) != run->digest[i])
                run->failures++;   /* a second render of the same text differs */
            synth_result_free(&r);
        }
    flite->ops->destroy(e);
    return NULL;
}

static void test_threads(void)
{
    if (!flite)
        return;
    /* The CG voices draw excitation noise from rand(): engine_rand.c makes that sequence
     * per thread and per synthesis, so the same text renders bit-identically the second
     * time on one thread and on four threads at once, whatever the others synthesize. */
    struct run alone = { .voice = 0 };
    synth_thread(&alone);
    CHECK_INT(alone.failures, 0);
    struct run runs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        runs[i] = (struct run){ .voice = i % 2 ? (i % flite->voice_count) : 0 };
        pthread_create(&th[i], NULL, synth_thread, &runs[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++) {
        CHECK_INT(runs[i].failures, 0);
        if (runs[i].voice == 0)
            for (int k = 0; k < 4; k++)
                CHECK(runs[i].digest[k] == alone.digest[k]);
    }
}

int main(void)
{
    test_voices();
    test_every_voice();
    test_timings_map_back();
    test_junk();
    test_threads();
    engines_cleanup();
    CHECK_DONE();
}
