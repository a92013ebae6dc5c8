/* front — the input front-ends; each feeds a builder (builder.h) with the events of one
 * document. Pure. Each returns 0, or -1 with a message in err. The text formats take
 * valid UTF-8 (doc_build checks); pdf_render and epub_render take the file's bytes. */
#ifndef RECITE_DOC_FRONT_H
#define RECITE_DOC_FRONT_H
#include <stdbool.h>
#include <stddef.h>

struct builder;

int markdown_render(struct builder *b, const char *s, size_t len, char *err, size_t errlen);
int html_render(struct builder *b, const char *s, size_t len, char *err, size_t errlen);
int text_render(struct builder *b, const char *s, size_t len, char *err, size_t errlen);
int pdf_render(struct builder *b, const char *s, size_t len, char *err, size_t errlen);
int epub_render(struct builder *b, const char *s, size_t len, char *err, size_t errlen);

/* An already parsed (X)HTML tree through the HTML front-end (html.c), for EPUB chapters:
 * headings moved down by heading_shift levels (h1 becomes h2 under a book title), and a
 * fallback heading (at level 1 + heading_shift) given to a chapter that has none.
 * web_page: a page fetched from a URL, where the chrome around the article is dropped —
 * elements whose class, id or role say navigation, ads, cookie banners, comments, share
 * bars and the like, hidden ones — and without <article>/<main> the element holding the
 * most paragraph text is read, under the page's h1 (or <title>) if it has no heading. */
struct html_opts {
    int heading_shift;
    const char *fallback_heading;   /* NULL: none */
    bool web_page;
};
int html_render_opts(struct builder *b, const char *s, size_t len, const struct html_opts *opts,
                     char *err, size_t errlen);
typedef struct _xmlDoc xmlDoc;
int html_render_tree(struct builder *b, xmlDoc *doc, const struct html_opts *opts, char *err,
                     size_t errlen);
#endif
