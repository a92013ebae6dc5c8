/* Unit tests of refs_blank: what is blanked, what is left alone, and that every UTF-16
 * offset stays where it was (word timings point into the shown text). */
#include "check.h"
#include "doc/refs.h"
#include <stdlib.h>

static void expect(const char *in, const char *want, int blanked)
{
    char *t = strdup(in);
    CHECK_INT(refs_blank(t), blanked);
    CHECK_STR(t, want);
    CHECK_INT(u16_len(t, strlen(t)), u16_len(in, strlen(in)));
    free(t);
}

int main(void)
{
    expect("The bay [12], white.", "The bay     , white.", 4);
    expect("Shown [3, 4\xe2\x80\x93" "6] here", "Shown          here", 8);   /* [3, 4–6] */
    expect("A note[^n1] and [^x].", "A note      and     .", 9);
    expect("See https://example.org/a?b=1. More", "See                          . More", 25);
    expect("(www.example.org/x)", "(                 )", 17);
    expect("http://x.org/\xf0\x9f\x98\x80 y", "                y", 14);   /* an emoji: 2 units */
    expect("The end.\xc2\xb9 Next", "The end.  Next", 1);                   /* end.¹ */
    expect("https://only.example.org", "                        ", 24);
    /* left alone */
    expect("E=mc\xc2\xb2 and 10\xc2\xb2", "E=mc\xc2\xb2 and 10\xc2\xb2", 0);  /* powers */
    expect("[a link] [12a] [] [1,] [ 1]", "[a link] [12a] [] [1,] [ 1]", 0);
    expect("nohttp://x and www. alone", "nohttp://x and www. alone", 0);
    expect("", "", 0);
    CHECK_DONE();
}
