/* api_preview — GET /v1/models/{model}/voices/{voice}/preview: a short sentence in the
 * voice's language, synthesized and cached like any block (same variant hash), answered as
 * {"audio_url","text","duration_ms","word_timings"?} once the audio exists, so the voice
 * picker can play a voice before the reader switches to it. For model `browser` only the
 * sentence ({"text","model","voice","synthesis_mode":"browser"}): the page speaks it itself.
 * A preview is free of --quota-chars (a guest browsing voices spends nothing): the text is
 * always the server's own sentence for the voice's language (the request carries none), so
 * it is one shared synthesis per voice for all users, and nothing else can ride on it. It
 * still takes one block of the user's --rate-blocks, cached or not.
 * Service thread; the waiting is api_openai.c's (no thread blocks). */
#include "server/api_openai.h"
#include "server/app.h"
#include "server/http.h"
#include "server/limits.h"
#include "engines/engine.h"
#include <ctype.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* By primary language subtag; a language not listed hears the English sentence. */
static const struct {
    const char *lang, *text;
} sentences[] = {
    { "en", "Hello! This is how I sound when I read to you." },
    { "de", "Hallo! So klinge ich, wenn ich dir vorlese." },
    { "fr", "Bonjour ! Voici ma voix quand je vous fais la lecture." },
    { "es", "¡Hola! Así sueno cuando te leo en voz alta." },
    { "it", "Ciao! Ecco come suono quando ti leggo ad alta voce." },
    { "pt", "Olá! É assim que eu soo quando leio para você." },
    { "nl", "Hallo! Zo klink ik als ik je voorlees." },
    { "sv", "Hej! Så här låter jag när jag läser högt för dig." },
    { "da", "Hej! Sådan lyder jeg, når jeg læser højt for dig." },
    { "nb", "Hei! Slik høres jeg ut når jeg leser høyt for deg." },
    { "no", "Hei! Slik høres jeg ut når jeg leser høyt for deg." },
    { "fi", "Hei! Tältä kuulostan, kun luen sinulle ääneen." },
    { "is", "Halló! Svona hljóma ég þegar ég les upphátt." },
    { "pl", "Cześć! Tak brzmię, kiedy czytam ci na głos." },
    { "cs", "Ahoj! Takhle zním, když ti čtu nahlas." },
    { "sk", "Ahoj! Takto znie môj hlas, keď ti čítam nahlas." },
    { "sl", "Živjo! Tako zvenim, ko ti berem na glas." },
    { "hr", "Bok! Ovako zvučim kada ti čitam naglas." },
    { "bs", "Zdravo! Ovako zvučim kada ti čitam naglas." },
    { "sr", "Zdravo! Ovako zvučim kada ti čitam naglas." },
    { "hu", "Szia! Így hangzom, amikor felolvasok neked." },
    { "ro", "Bună! Așa sun când îți citesc cu voce tare." },
    { "bg", "Здравей! Така звучи гласът ми, когато чета на глас." },
    { "mk", "Здраво! Вака звучам кога ти читам на глас." },
    { "ru", "Привет! Вот так звучит мой голос, когда я читаю вслух." },
    { "uk", "Привіт! Ось так звучить мій голос, коли я читаю вголос." },
    { "be", "Прывітанне! Вось так гучыць мой голас, калі я чытаю ўслых." },
    { "lt", "Labas! Taip skamba mano balsas, kai skaitau garsiai." },
    { "lv", "Sveiki! Tā skan mana balss, kad lasu skaļi." },
    { "et", "Tere! Nii kõlab mu hääl, kui ma ette loen." },
    { "el", "Γεια σου! Έτσι ακούγεται η φωνή μου όταν διαβάζω." },
    { "tr", "Merhaba! Sesli okurken sesim böyle çıkıyor." },
    { "ca", "Hola! Així sono quan et llegeixo en veu alta." },
    { "gl", "Ola! Así soa a miña voz cando che leo en voz alta." },
    { "cy", "Helo! Dyma sut dw i'n swnio wrth ddarllen yn uchel." },
    { "af", "Hallo! So klink ek wanneer ek vir jou voorlees." },
    { "eo", "Saluton! Jen kiel mi sonas, kiam mi laŭtlegas al vi." },
    { "la", "Salve! Sic sonat vox mea, cum tibi lego." },
    { "sq", "Përshëndetje! Kështu tingëllon zëri im kur lexoj me zë." },
    { "ar", "مرحبا! هكذا يبدو صوتي عندما أقرأ لك." },
    { "he", "שלום! כך נשמע הקול שלי כשאני קורא לך." },
    { "fa", "سلام! صدای من وقتی برایت می‌خوانم این‌طور است." },
    { "hi", "नमस्ते! जब मैं आपको पढ़कर सुनाता हूँ, तो मेरी आवाज़ ऐसी लगती है।" },
    { "ur", "ہیلو! جب میں آپ کو پڑھ کر سناتا ہوں تو میری آواز ایسی لگتی ہے۔" },
    { "bn", "নমস্কার! আমি যখন পড়ে শোনাই, তখন আমার কণ্ঠ এমন শোনায়।" },
    { "ta", "வணக்கம்! நான் உங்களுக்கு வாசிக்கும்போது என் குரல் இப்படித்தான் இருக்கும்." },
    { "cmn", "你好！这是我为你朗读时的声音。" },
    { "zh", "你好！这是我为你朗读时的声音。" },
    { "yue", "你好！呢個係我讀書畀你聽嘅聲音。" },
    { "ja", "こんにちは！これが私の読み上げる声です。" },
    { "ko", "안녕하세요! 제가 읽어 드릴 때 이런 목소리가 납니다." },
    { "vi", "Xin chào! Đây là giọng của tôi khi đọc cho bạn nghe." },
    { "id", "Halo! Beginilah suara saya saat membacakan untuk Anda." },
    { "ms", "Helo! Beginilah bunyi suara saya apabila membaca untuk anda." },
    { "th", "สวัสดี! นี่คือเสียงของฉันเวลาอ่านให้คุณฟัง" },
    { "sw", "Habari! Hivi ndivyo sauti yangu inavyosikika ninapokusomea." },
    { "ka", "გამარჯობა! ასე ჟღერს ჩემი ხმა, როცა ხმამაღლა ვკითხულობ." },
    { "hy", "Բարեւ! Այսպես է հնչում իմ ձայնը, երբ կարդում եմ։" },
    { "az", "Salam! Ucadan oxuyanda səsim belə çıxır." },
    { "kk", "Сәлем! Дауыстап оқығанда менің дауысым осылай естіледі." },
};

/* The sentence for a BCP-47 tag ("pt-BR" -> pt). */
const char *preview_sentence(const char *lang)
{
    size_t n = strcspn(lang ? lang : "", "-_");
    for (size_t i = 0; i < sizeof sentences / sizeof *sentences; i++)
        if (strlen(sentences[i].lang) == n && !strncasecmp(sentences[i].lang, lang, n))
            return sentences[i].text;
    return sentences[0].text;
}

/* Copies one percent-decoded path segment ending at '/' or NUL; -1 if too long or bad. */
static int segment(const char **p, char *out, size_t len)
{
    size_t o = 0;
    const char *s = *p;
    for (; *s && *s != '/'; s++) {
        int c = (unsigned char)*s;
        if (c == '%') {
            if (!isxdigit((unsigned char)s[1]) || !isxdigit((unsigned char)s[2]))
                return -1;
            char hex[3] = { s[1], s[2], 0 };
            c = (int)strtol(hex, NULL, 16);
            s += 2;
        }
        if (o + 1 >= len || c == 0)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    *p = s;
    return o ? 0 : -1;
}

int api_preview(struct http_req *r, const char *rest)
{
    /* rest: "/{model}/voices/{voice}/preview" */
    char model[64], voice[128];
    const char *p = rest;
    if (*p++ != '/' || segment(&p, model, sizeof model) < 0 || strncmp(p, "/voices/", 8))
        return http_reply_error(r, 404, "no such endpoint: %s", r->path);
    p += 8;
    if (segment(&p, voice, sizeof voice) < 0 || strcmp(p, "/preview"))
        return http_reply_error(r, 404, "no such endpoint: %s", r->path);
    if (r->method != LWSHUMETH_GET)
        return http_reply_error(r, 405, "use GET for %s", r->path);
    const struct model *m = engines_find(model);
    if (!m)
        return http_reply_error(r, 404, "unknown model \"%.40s\"", model);
    const struct voice_info *v = model_find_voice(m, voice);
    if (!v)
        return http_reply_error(r, 404, "unknown voice \"%.60s\" for model %s", voice, m->ops->slug);
    if (m->ops->flags & ENGINE_IN_PAGE) {
        /* the page's own voices: it synthesizes the sentence itself */
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "text", preview_sentence(v->lang));
        cJSON_AddStringToObject(o, "model", m->ops->slug);
        cJSON_AddStringToObject(o, "voice", v->slug);
        cJSON_AddStringToObject(o, "synthesis_mode", "browser");
        return http_reply_json(r, 200, o);
    }
    int rc;
    if (limits_http_block(r, &rc))
        return rc;
    return speech_answer_preview(r, m->ops->slug, v->slug, preview_sentence(v->lang));
}
