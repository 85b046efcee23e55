/*
 * lsn.c
 *		Parse and print WAL positions (see lsn.h).
 */
#include "lsn.h"

#include <inttypes.h>
#include <stdio.h>

#include "hex.h"

/*
 * Parse 1..8 hex digits ending at stop (a character that must follow them).
 * Returns the position after the digits, or NULL.
 */
static const char *
lsn_parse_half(const char *s, char stop, uint32_t *out)
{
	uint32_t	v = 0;
	int			n = 0;
	int			d;

	while ((d = hex_digit(*s)) >= 0)
	{
		if (++n > 8)
			return NULL;
		v = (v << 4) | (uint32_t) d;
		s++;
	}
	if (n == 0 || *s != stop)
		return NULL;
	*out = v;
	return s;
}

/*
 * Same acceptance as PostgreSQL's pg_lsn_in: two groups of 1 to 8 hex
 * digits separated by '/', nothing else (no sign, no blanks).
 */
bool
lsn_parse(const char *s, uint64_t *out)
{
	uint32_t	hi;
	uint32_t	lo;

	if (s == NULL)
		return false;
	s = lsn_parse_half(s, '/', &hi);
	if (s == NULL)
		return false;
	if (lsn_parse_half(s + 1, '\0', &lo) == NULL)
		return false;
	*out = ((uint64_t) hi << 32) | lo;
	return true;
}

/* As PostgreSQL prints LSNs (LSN_FORMAT_ARGS): "%X/%X". */
void
lsn_format(uint64_t lsn, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIX32 "/%" PRIX32,
			 (uint32_t) (lsn >> 32), (uint32_t) lsn);
}
