/* front — the input front-ends; each feeds a builder (builder.h) with the events of one
 * document. Pure. Each returns 0, or -1 with a message in err. The text formats take
 * valid UTF-8 (doc_build checks); pdf_render and epub_render take the file's bytes. */
#ifndef RECITE_DOC_FRONT_H
#define RECITE_DOC_FRONT_H
#include <stddef.h>

struct builder;

int markdown_render(struct builder *b, const char *s, size_t len, char *err, size_t errlen);
int html_render(struct builder *b, const char *s, size_t len, char *err, size_t errlen);
int text_render(struct builder *b, const char *s, size_t len, char *err, size_t errlen);
int pdf_render(struct builder *b, const char *s, size_t len, char *err, size_t errlen);
int epub_render(struct builder *b, const char *s, size_t len, char *err, size_t errlen);

/* An already parsed (X)HTML tree through the HTML front-end (html.c), for EPUB chapters:
 * headings moved down by heading_shift levels (h1 becomes h2 under a book title), and a
 * fallback heading (at level 1 + heading_shift) given to a chapter that has none. */
struct html_opts {
    int heading_shift;
    const char *fallback_heading;   /* NULL: none */
};
typedef struct _xmlDoc xmlDoc;
int html_render_tree(struct builder *b, xmlDoc *doc, const struct html_opts *opts, char *err,
                     size_t errlen);
#endif
