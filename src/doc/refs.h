/* refs — what is shown but not spoken: citation markers, footnote references, bare URLs. */
#ifndef RECITE_REFS_H
#define RECITE_REFS_H

/* Overwrites, in place, each citation marker ([12], [3, 4–6]), footnote reference ([^note],
 * a superscript digit right after punctuation: "end.¹") and bare URL (http://, https://,
 * www. at a word start, up to the next space, trailing punctuation kept) with spaces: one
 * per code point, two for one outside the BMP — so every UTF-16 offset into the result is
 * the same offset into the original text (word timings keep pointing at the shown text).
 * `text` is valid UTF-8. Returns how many code points were blanked (0: unchanged). */
int refs_blank(char *text);
#endif
