/* voicemap — OpenAI's voice names to local voices (see voicemap.h). The defaults use the
 * best engine installed: a Kokoro voice in English if any (Kokoro v1.0 ships voices named
 * after OpenAI's — af_alloy, af_nova, am_echo, am_onyx, bm_fable — and its names say the
 * sex: af_ female, am_ male), else a Piper voice in English (a female-sounding one for
 * OpenAI's female voices where the file name says so), else flite's CMU voices (slt for the
 * female names, rms/awb/kal16 for the male ones), else espeak-ng's en-us (en-gb for
 * "fable", OpenAI's British voice). --openai-voice-map entries replace defaults or add
 * names. Built on the main thread at start-up; read-only afterwards (service thread). */
#include "server/voicemap.h"
#include "engines/engine.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENTRIES 64

struct entry {
    char name[32];
    const struct model *m;
    const struct voice_info *v;
};

struct voicemap {
    struct entry e[MAX_ENTRIES];
    int n;
};

static const struct {
    const char *name;
    int female;
    const char *flite;    /* flite's closest voice */
    const char *espeak;
} openai[] = {
    { "alloy", 1, "slt", "en-us" },   { "ash", 0, "rms", "en-us" },
    { "ballad", 0, "awb", "en-us" },  { "coral", 1, "slt", "en-us" },
    { "echo", 0, "rms", "en-us" },    { "fable", 0, "awb", "en-gb" },
    { "nova", 1, "slt", "en-us" },    { "onyx", 0, "kal16", "en-us" },
    { "sage", 1, "slt", "en-us" },    { "shimmer", 1, "slt", "en-us" },
    { "verse", 0, "rms", "en-us" },
};
#define NOPENAI (sizeof openai / sizeof openai[0])

/* Piper voice files are named LANG-SPEAKER-QUALITY (en_US-lessac-medium): speakers whose
 * voice is known to be female or male, for a default that matches OpenAI's voice. */
static const char *const piper_female[] = { "amy", "lessac", "kathleen", "jenny", "ljspeech",
                                            "kristin", "hfc_female", "cori", "alba", NULL };
static const char *const piper_male[] = { "ryan", "joe", "alan", "kusal", "danny", "john",
                                          "norman", "bryce", "hfc_male", "arctic", NULL };

static int has_any(const char *slug, const char *const *names)
{
    for (; *names; names++)
        if (strstr(slug, *names))
            return 1;
    return 0;
}

/* The English Piper voice for a female (or male) OpenAI voice: one whose speaker is known to
 * match, else any English one; NULL without Piper English voices. */
static const struct voice_info *piper_pick(const struct model *piper, int female)
{
    const struct voice_info *any = NULL;
    for (int i = 0; piper && i < piper->voice_count; i++) {
        const struct voice_info *v = &piper->voices[i];
        if (strncmp(v->lang, "en", 2) && strncmp(v->slug, "en", 2))
            continue;
        if (has_any(v->slug, female ? piper_female : piper_male))
            return v;
        if (!any)
            any = v;
    }
    return any;
}

/* The English Kokoro voice for an OpenAI voice: the one named after it ("af_alloy",
 * "bm_fable": American or British, either sex), else Kokoro's flagship voice of that sex
 * (af_heart, am_michael), else any English one of that sex (second letter f/m), else any
 * English one; NULL without Kokoro English voices. */
static const struct voice_info *kokoro_pick(const struct model *kokoro, const char *name,
                                            int female)
{
    const struct voice_info *same_sex = NULL, *any = NULL;
    char want[48];
    for (int i = 0; kokoro && i < kokoro->voice_count; i++) {
        const struct voice_info *v = &kokoro->voices[i];
        if ((v->slug[0] != 'a' && v->slug[0] != 'b') || v->slug[2] != '_')
            continue;   /* not English (Kokoro's a = American, b = British) */
        if (!strcmp(v->slug + 3, name))
            return v;
        if (v->slug[1] == (female ? 'f' : 'm') && !same_sex)
            same_sex = v;
        if (!any)
            any = v;
    }
    snprintf(want, sizeof want, "%s", female ? "af_heart" : "am_michael");
    const struct voice_info *flagship = kokoro ? model_find_voice(kokoro, want) : NULL;
    return flagship ? flagship : same_sex ? same_sex : any;
}

static struct entry *slot(struct voicemap *vm, const char *name)
{
    for (int i = 0; i < vm->n; i++)
        if (!strcmp(vm->e[i].name, name))
            return &vm->e[i];
    if (vm->n == MAX_ENTRIES)
        return NULL;
    struct entry *e = &vm->e[vm->n++];
    snprintf(e->name, sizeof e->name, "%.31s", name);
    return e;
}

static void set_defaults(struct voicemap *vm)
{
    const struct model *kokoro = engines_find("kokoro");
    const struct model *piper = engines_find("piper");
    const struct model *flite = engines_find("flite");
    const struct model *espeak = engines_find("espeak");
    for (size_t i = 0; i < NOPENAI; i++) {
        struct entry *e = slot(vm, openai[i].name);
        const struct voice_info *v;
        if ((v = kokoro_pick(kokoro, openai[i].name, openai[i].female))) {
            e->m = kokoro;
        } else if ((v = piper_pick(piper, openai[i].female))) {
            e->m = piper;
        } else if (flite && ((v = model_find_voice(flite, openai[i].flite)) ||
                             (v = model_find_voice(flite, openai[i].female ? "slt" : "rms")))) {
            e->m = flite;
        } else if (espeak && ((v = model_find_voice(espeak, openai[i].espeak)) ||
                              (v = model_find_voice(espeak, "en-us")))) {
            e->m = espeak;
        } else {   /* no English voice at all: the default model's first voice */
            e->m = engines_find(ENGINE_DEFAULT_MODEL);
            v = e->m && e->m->voice_count ? &e->m->voices[0] : NULL;
        }
        e->v = v;
        if (!v)
            vm->n--;   /* nothing to speak with: the name stays unmapped */
    }
}

/* One "name=model:voice" entry. 0, or -1 with a message. */
static int parse_entry(struct voicemap *vm, const char *item, size_t len, char *err, size_t errlen)
{
    char buf[200];
    if (len >= sizeof buf) {
        snprintf(err, errlen, "entry too long: %.40s...", item);
        return -1;
    }
    memcpy(buf, item, len);
    buf[len] = '\0';
    char *eq = strchr(buf, '='), *colon = eq ? strchr(eq + 1, ':') : NULL;
    if (!eq || !colon || eq == buf || colon == eq + 1 || !colon[1] || (size_t)(eq - buf) >= 32) {
        snprintf(err, errlen, "\"%s\" is not name=model:voice", buf);
        return -1;
    }
    *eq = *colon = '\0';
    const struct model *m = engines_find(eq + 1);
    if (!m || (m->ops->flags & ENGINE_IN_PAGE)) {
        snprintf(err, errlen, "%s: unknown model \"%s\" (recite voices lists them)", buf, eq + 1);
        return -1;
    }
    const struct voice_info *v = model_find_voice(m, colon + 1);
    if (!v) {
        snprintf(err, errlen, "%s: model %s has no voice \"%s\" (recite voices lists them)", buf,
                 eq + 1, colon + 1);
        return -1;
    }
    struct entry *e = slot(vm, buf);
    if (!e) {
        snprintf(err, errlen, "more than %d voices", MAX_ENTRIES);
        return -1;
    }
    e->m = m;
    e->v = v;
    return 0;
}

struct voicemap *voicemap_create(const char *spec, char *err, size_t errlen)
{
    struct voicemap *vm = calloc(1, sizeof *vm);
    if (!vm) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    set_defaults(vm);
    for (const char *p = spec; p && *p;) {
        size_t len = strcspn(p, ",");
        while (len && (*p == ' '))
            p++, len--;
        if (len && parse_entry(vm, p, len, err, errlen)) {
            free(vm);
            return NULL;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return vm;
}

void voicemap_destroy(struct voicemap *vm)
{
    free(vm);
}

int voicemap_find(const struct voicemap *vm, const char *name, const struct model **m,
                  const struct voice_info **v)
{
    for (int i = 0; vm && i < vm->n; i++)
        if (!strcmp(vm->e[i].name, name)) {
            *m = vm->e[i].m;
            *v = vm->e[i].v;
            return 0;
        }
    return -1;
}

const char *voicemap_get(const struct voicemap *vm, int i, const struct model **m,
                         const struct voice_info **v)
{
    if (!vm || i < 0 || i >= vm->n)
        return NULL;
    *m = vm->e[i].m;
    *v = vm->e[i].v;
    return vm->e[i].name;
}
