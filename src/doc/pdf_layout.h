/* pdf_layout — text lines with their page geometry -> paragraphs and headings. Pure.
 *
 * The PDF front-end (pdf.c) asks poppler for each page's text cut into segments (a line,
 * or the piece of a line on one side of a gutter) with a box and a font size each; this
 * module puts a page's segments in reading order (sections top to bottom, split by what
 * spans a column gutter; inside a section column by column; pieces on one row merged)
 * and decides what is read:
 * running headers and footers (a line near the top or bottom edge whose text, digits
 * aside, recurs on other pages) and page numbers are dropped; lines are joined into
 * paragraphs across lines, columns and pages (a paragraph ends at a larger vertical gap,
 * a short last line or an indented next line after a sentence end); a hyphen at a line
 * end before a lowercase letter is joined away or kept as hyphen.h decides; lines set larger than the body text become
 * headings (h1..h3 by size); a short bold line at body size standing alone before body
 * text is a heading one level below those (reports set "2.1 Method" so). Kept apart from poppler so it can be tested and fuzzed alone. */
#ifndef RECITE_DOC_PDF_LAYOUT_H
#define RECITE_DOC_PDF_LAYOUT_H
#include <stddef.h>

struct builder;

struct pdf_line {
    const char *text;     /* UTF-8, not NUL-terminated, no newline */
    size_t len;
    int page;             /* 0-based, non-decreasing; any order within a page */
    double x0, y0, x1, y1;   /* points, origin top left, y grows downwards */
    double size;          /* font size in points (0: unknown) */
    int bold;             /* 1: every character bold (or underlined) */
};

struct pdf_page_size { double width, height; };

/* Emits the paragraphs and headings of lines[0..n) into b. pages[] holds the size of
 * every page named by a line. Returns the number of paragraphs and headings emitted, or
 * -1 if out of memory. */
int pdf_layout_emit(struct builder *b, const struct pdf_line *lines, size_t n,
                    const struct pdf_page_size *pages, int npages);
#endif
