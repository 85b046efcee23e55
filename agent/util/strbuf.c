/*
 * strbuf.c
 *		A growable string (strbuf.h).
 */
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

void
strbuf_add(struct strbuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->cap - b->len < n + 1)
	{
		size_t		cap = b->cap ? b->cap : 64;
		char	   *p;

		while (cap - b->len < n + 1)
			cap *= 2;
		if ((p = realloc(b->data, cap)) == NULL)
		{
			b->failed = true;
			return;
		}
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
strbuf_puts(struct strbuf *b, const char *s)
{
	strbuf_add(b, s, strlen(s));
}

/* The string (the caller frees it), or NULL after a failed append. */
char *
strbuf_finish(struct strbuf *b)
{
	if (b->failed)
	{
		free(b->data);
		b->data = NULL;
		return NULL;
	}
	return b->data;
}
