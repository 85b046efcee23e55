/*
 * fuzz_input.h
 *		What the libFuzzer targets share (test/fuzz_*.c, test/fuzz.mk): one
 *		input cut into parts, each part an exact-size heap copy, so that
 *		AddressSanitizer catches a read one byte past a part as surely as
 *		past the input.
 *
 * Framing: a part is a 2-byte big-endian length and that many bytes; a
 * length running past the end takes what is left.  Seeds are written in
 * the same framing (scripts/fuzz-seeds.py).  Header-only: each target
 * includes it once.
 */
#ifndef WALCAST_FUZZ_INPUT_H
#define WALCAST_FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct fuzz_input
{
	const uint8_t *data;
	size_t		size;
};

/*
 * The first n bytes of what is left, malloc'd with their exact length in
 * *len, plus a NUL past them when nul is true (for functions that take C
 * strings: then the part is cut at its first NUL, as a C string would
 * be).
 */
static inline char *
fuzz_input_take(struct fuzz_input *in, size_t n, size_t *len, bool nul)
{
	const uint8_t *zero = nul ? memchr(in->data, '\0', n) : NULL;
	size_t		keep = zero ? (size_t) (zero - in->data) : n;
	char	   *part;

	/* exact: no slack byte for an over-read to land in (ASan's malloc(0)
	 * returns a pointer, and reading through it is reported) */
	if ((part = malloc(keep + (nul ? 1 : 0))) == NULL)
		return NULL;
	memcpy(part, in->data, keep);
	if (nul)
		part[keep] = '\0';
	in->data += n;
	in->size -= n;
	*len = keep;
	return part;
}

/* The next framed part (see above); NULL at the end. */
static inline char *
fuzz_input_next(struct fuzz_input *in, size_t *len, bool nul)
{
	size_t		n;

	if (in->size < 2)
		return NULL;
	n = ((size_t) in->data[0] << 8) | in->data[1];
	in->data += 2;
	in->size -= 2;
	return fuzz_input_take(in, n > in->size ? in->size : n, len, nul);
}

/* Everything that is left, unframed. */
static inline char *
fuzz_input_rest(struct fuzz_input *in, size_t *len, bool nul)
{
	return fuzz_input_take(in, in->size, len, nul);
}

/* One byte of settings from the front of the input (0 when empty). */
static inline uint8_t
fuzz_input_byte(struct fuzz_input *in)
{
	uint8_t		b;

	if (in->size == 0)
		return 0;
	b = in->data[0];
	in->data++;
	in->size--;
	return b;
}

#endif							/* WALCAST_FUZZ_INPUT_H */
