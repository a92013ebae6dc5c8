/* front — the three input front-ends; each feeds a builder (builder.h) with the events of
 * one document. Pure. Each returns 0, or -1 with a message in err. */
#ifndef RECITE_DOC_FRONT_H
#define RECITE_DOC_FRONT_H
#include <stddef.h>

struct builder;

int markdown_render(struct builder *b, const char *s, size_t len, char *err, size_t errlen);
int html_render(struct builder *b, const char *s, size_t len, char *err, size_t errlen);
int text_render(struct builder *b, const char *s, size_t len, char *err, size_t errlen);
#endif
