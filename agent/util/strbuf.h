/*
 * strbuf.h
 *		A growable NUL-terminated string for building messages, SQL and
 *		masked URIs.  An allocation failure is remembered rather than
 *		reported on every append: callers check once, at the end.
 */
#ifndef WALCAST_STRBUF_H
#define WALCAST_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf
{
	char	   *data;			/* NULL until the first append */
	size_t		len;
	size_t		cap;
	bool		failed;			/* an append ran out of memory */
};

extern void strbuf_add(struct strbuf *b, const char *s, size_t n);
extern void strbuf_puts(struct strbuf *b, const char *s);
extern char *strbuf_finish(struct strbuf *b);

#endif							/* WALCAST_STRBUF_H */
