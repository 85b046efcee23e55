/*
 * pgoutput_value.c
 *		Text of a value -> the walcast plugin's JSON for it (see
 *		pgoutput_value.h).  The plugin's own rules are in pg_decoder/value.c
 *		and json.c; the text forms parsed here are those of PostgreSQL's
 *		output functions: array_out, record_out, range_out, multirange_out,
 *		int2vectorout, and the date/time functions under DateStyle ISO.
 *
 * Every parser walks a bounded slice and fails on anything it does not
 * expect.  Quoted elements are unescaped into a scratch buffer and then
 * converted like any text, so nesting (an array of composites holding
 * ranges) costs nothing special; the depth is bounded all the same.
 */
#include "pgoutput_value.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"

/* Nesting of arrays, composites and ranges within one value. */
#define VALUE_MAX_DEPTH 64

struct value_ctx
{
	yyjson_mut_doc *doc;
	const struct pgoutput_catalog *cat;
	const struct pgoutput_value_opts *opts;
	char	   *err;
	size_t		errlen;
	int			depth;
};

/* A growable byte buffer for unescaped elements. */
struct value_buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
};

static bool
value_buf_add(struct value_buf *b, char ch)
{
	if (b->len == b->cap)
	{
		size_t		cap = b->cap ? b->cap * 2 : 64;
		char	   *data = realloc(b->data, cap);

		if (data == NULL)
			return false;
		b->data = data;
		b->cap = cap;
	}
	b->data[b->len++] = ch;
	return true;
}

static enum pgoutput_value_rc value_convert(struct value_ctx *c,
											uint32_t typid, const char *s,
											size_t n, yyjson_mut_val **out);

static enum pgoutput_value_rc
value_fail(struct value_ctx *c, const struct pgoutput_type *t,
		   const char *what)
{
	snprintf(c->err, c->errlen, "type \"%s\": %s", t->name, what);
	return PGOUTPUT_VALUE_ERROR;
}

static enum pgoutput_value_rc
value_oom(struct value_ctx *c)
{
	snprintf(c->err, c->errlen, "out of memory");
	return PGOUTPUT_VALUE_ERROR;
}

static bool
value_eq(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

static bool
value_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool
value_json_number(const char *s, size_t n, bool integer_only)
{
	size_t		i = 0;

	if (i < n && s[i] == '-')
		i++;
	if (i >= n || !value_digit(s[i]))
		return false;
	if (s[i] == '0')
		i++;
	else
		while (i < n && value_digit(s[i]))
			i++;
	if (integer_only)
		return i == n;
	if (i < n && s[i] == '.')
	{
		if (++i >= n || !value_digit(s[i]))
			return false;
		while (i < n && value_digit(s[i]))
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E'))
	{
		if (++i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || !value_digit(s[i]))
			return false;
		while (i < n && value_digit(s[i]))
			i++;
	}
	return i == n;
}

static enum pgoutput_value_rc
value_string(struct value_ctx *c, const char *s, size_t n,
			 yyjson_mut_val **out)
{
	*out = yyjson_mut_strncpy(c->doc, s, n);
	return *out ? PGOUTPUT_VALUE_OK : value_oom(c);
}

static enum pgoutput_value_rc
value_raw(struct value_ctx *c, const char *s, size_t n, yyjson_mut_val **out)
{
	*out = yyjson_mut_rawncpy(c->doc, s, n);
	return *out ? PGOUTPUT_VALUE_OK : value_oom(c);
}

/* NaN and the infinities are strings (JSON has no such numbers). */
static bool
value_special_float(const char *s, size_t n)
{
	return value_eq(s, n, "NaN") || value_eq(s, n, "Infinity") ||
		value_eq(s, n, "-Infinity");
}

/*
 * JSON text, checked and compacted in one pass: the white space between
 * tokens is dropped (the plugin's json_compact), everything else is kept
 * byte for byte (strings with their escapes as stored, number text), so the
 * result is the plugin's to the byte.  The grammar is JSON's, as
 * PostgreSQL's json lexer reads it: a \u escape needs four hex digits but
 * may be a lone surrogate, which the json type stores ('"\ud800"'::json).
 * That is why this is not yyjson_read: it refuses lone surrogates, and its
 * writer would re-escape strings ("\u00e9" -> "é").
 */
struct value_json_scan
{
	const char *s;
	size_t		n;
	size_t		i;
	char	   *out;
	size_t		o;
};

static void
value_json_ws(struct value_json_scan *j)
{
	while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' ||
						   j->s[j->i] == '\n' || j->s[j->i] == '\r'))
		j->i++;
}

static bool
value_json_string(struct value_json_scan *j)
{
	j->out[j->o++] = j->s[j->i++];	/* the opening quote */
	while (j->i < j->n)
	{
		unsigned char ch = (unsigned char) j->s[j->i];

		if (ch < 0x20)
			return false;
		j->out[j->o++] = j->s[j->i++];
		if (ch == '"')
			return true;
		if (ch != '\\')
			continue;
		/* not strchr alone: it finds a NUL byte, as its terminator */
		if (j->i >= j->n || j->s[j->i] == '\0' ||
			strchr("\"\\/bfnrtu", j->s[j->i]) == NULL)
			return false;
		if (j->s[j->i] == 'u')
		{
			if (j->n - j->i < 5)
				return false;
			for (int k = 1; k <= 4; k++)
				if (hex_digit(j->s[j->i + k]) < 0)
					return false;
			memcpy(j->out + j->o, j->s + j->i, 5);
			j->o += 5;
			j->i += 5;
		}
		else
			j->out[j->o++] = j->s[j->i++];
	}
	return false;
}

/* A scalar at j->i: a string, a number or a literal. */
static bool
value_json_scalar(struct value_json_scan *j)
{
	size_t		start = j->i;
	static const char *const literals[] = {"true", "false", "null"};

	if (j->s[j->i] == '"')
		return value_json_string(j);
	for (int k = 0; k < 3; k++)
	{
		size_t		len = strlen(literals[k]);

		if (j->n - j->i >= len && memcmp(j->s + j->i, literals[k], len) == 0)
		{
			j->i += len;
			break;
		}
	}
	if (j->i == start)
	{
		while (j->i < j->n && j->s[j->i] != '\0' &&
			   strchr("-+.eE0123456789", j->s[j->i]) != NULL)
			j->i++;
		if (!value_json_number(j->s + start, j->i - start, false))
			return false;
	}
	memcpy(j->out + j->o, j->s + start, j->i - start);
	j->o += j->i - start;
	return true;
}

/*
 * The whole text: containers on an explicit stack (no recursion: nesting
 * is as deep as the server allowed).  Returns false if it is not JSON.
 */
static bool
value_json_scan(struct value_json_scan *j)
{
	char	   *stack = NULL;	/* '{' or '[' per open container */
	size_t		depth = 0;
	size_t		cap = 0;
	bool		ok = false;

	for (;;)
	{
		/* a value */
		value_json_ws(j);
		if (j->i >= j->n)
			goto done;
		if (j->s[j->i] == '{' || j->s[j->i] == '[')
		{
			char		open = j->s[j->i];

			if (depth == cap)
			{
				char	   *grown = realloc(stack, cap = cap ? cap * 2 : 32);

				if (grown == NULL)
					goto done;
				stack = grown;
			}
			stack[depth++] = open;
			j->out[j->o++] = j->s[j->i++];
			value_json_ws(j);
			if (j->i < j->n && j->s[j->i] == (open == '{' ? '}' : ']'))
			{
				depth--;
				j->out[j->o++] = j->s[j->i++];
			}
			else if (open == '{')
			{
				/* a key, its colon, then the member's value */
				if (j->i >= j->n || j->s[j->i] != '"' || !value_json_string(j))
					goto done;
				value_json_ws(j);
				if (j->i >= j->n || j->s[j->i] != ':')
					goto done;
				j->out[j->o++] = j->s[j->i++];
				continue;
			}
			else
				continue;
		}
		else if (!value_json_scalar(j))
			goto done;

		/* after a value: close containers, or go on after a comma */
		for (;;)
		{
			value_json_ws(j);
			if (depth == 0)
			{
				ok = j->i == j->n;
				goto done;
			}
			if (j->i >= j->n)
				goto done;
			if (j->s[j->i] == (stack[depth - 1] == '{' ? '}' : ']'))
			{
				depth--;
				j->out[j->o++] = j->s[j->i++];
				continue;
			}
			if (j->s[j->i] != ',')
				goto done;
			j->out[j->o++] = j->s[j->i++];
			if (stack[depth - 1] == '{')
			{
				value_json_ws(j);
				if (j->i >= j->n || j->s[j->i] != '"' || !value_json_string(j))
					goto done;
				value_json_ws(j);
				if (j->i >= j->n || j->s[j->i] != ':')
					goto done;
				j->out[j->o++] = j->s[j->i++];
			}
			break;
		}
	}
done:
	free(stack);
	return ok;
}

/* json (text as typed) and jsonb (a space after each comma and colon). */
static enum pgoutput_value_rc
value_json(struct value_ctx *c, const struct pgoutput_type *t, const char *s,
		   size_t n, yyjson_mut_val **out)
{
	struct value_json_scan j = {s, n, 0, NULL, 0};
	enum pgoutput_value_rc rc;

	if ((j.out = malloc(n ? n : 1)) == NULL)
		return value_oom(c);
	if (!value_json_scan(&j))
	{
		char		what[64];

		snprintf(what, sizeof(what), "not valid JSON (at byte %zu)", j.i);
		free(j.out);
		return value_fail(c, t, what);
	}
	rc = value_raw(c, j.out, j.o, out);
	free(j.out);
	return rc;
}

size_t
pgoutput_value_base64(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t		o = 0;
	size_t		i;

	for (i = 0; i + 2 < len; i += 3)
	{
		uint32_t	v = ((uint32_t) in[i] << 16) | ((uint32_t) in[i + 1] << 8) |
			in[i + 2];

		out[o++] = digits[v >> 18];
		out[o++] = digits[(v >> 12) & 63];
		out[o++] = digits[(v >> 6) & 63];
		out[o++] = digits[v & 63];
	}
	if (i < len)
	{
		uint32_t	v = (uint32_t) in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t) in[i + 1] << 8;
		out[o++] = digits[v >> 18];
		out[o++] = digits[(v >> 12) & 63];
		out[o++] = i + 1 < len ? digits[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	return o;
}

/*
 * bytea_output=hex: "\x" and two hex digits per byte.  Written as base64
 * (the plugin's default) or as the bare lower-case hex digits.
 */
static enum pgoutput_value_rc
value_bytea(struct value_ctx *c, const struct pgoutput_type *t, const char *s,
			size_t n, yyjson_mut_val **out)
{
	size_t		nbytes;
	unsigned char *bytes;
	char	   *text;
	size_t		tlen;
	enum pgoutput_value_rc rc;

	if (n < 2 || s[0] != '\\' || s[1] != 'x' || (n - 2) % 2 != 0)
		return value_fail(c, t, "not in the hex format (is bytea_output pinned to hex?)");
	nbytes = (n - 2) / 2;
	bytes = malloc(nbytes ? nbytes : 1);
	text = malloc(nbytes * 2 + 4);
	if (bytes == NULL || text == NULL)
	{
		free(bytes);
		free(text);
		return value_oom(c);
	}
	for (size_t i = 0; i < nbytes; i++)
	{
		int			hi = hex_digit(s[2 + 2 * i]);
		int			lo = hex_digit(s[3 + 2 * i]);

		if (hi < 0 || lo < 0)
		{
			free(bytes);
			free(text);
			return value_fail(c, t, "a non-hex digit in the hex format");
		}
		bytes[i] = (unsigned char) (hi << 4 | lo);
	}
	if (c->opts->bytea_hex)
	{
		static const char hexdigits[] = "0123456789abcdef";

		for (size_t i = 0; i < nbytes; i++)
		{
			text[2 * i] = hexdigits[bytes[i] >> 4];
			text[2 * i + 1] = hexdigits[bytes[i] & 15];
		}
		tlen = nbytes * 2;
	}
	else
		tlen = pgoutput_value_base64(bytes, nbytes, text);
	rc = value_string(c, text, tlen, out);
	free(bytes);
	free(text);
	return rc;
}

/*
 * "YYYY-MM-DD" (four digits or more), with " BC" at the very end of the
 * whole text for years before 1: written with ISO 8601's astronomical
 * numbering (1 BC is 0000, 44 BC is -0043), at least four digits, as the
 * plugin's put_date.  Returns the bytes of s used, 0 if malformed.
 */
static size_t
value_put_date(const char *s, size_t n, bool bc, char *out, size_t *olen)
{
	size_t		i = 0;
	long long	year = 0;
	int			digits = 0;
	char		ybuf[32];
	int			ylen;

	while (i < n && value_digit(s[i]) && digits < 12)
	{
		year = year * 10 + (s[i++] - '0');
		digits++;
	}
	if (digits < 4 || i + 6 > n || s[i] != '-' || !value_digit(s[i + 1]) ||
		!value_digit(s[i + 2]) || s[i + 3] != '-' || !value_digit(s[i + 4]) ||
		!value_digit(s[i + 5]))
		return 0;
	if (bc)
	{
		if (year < 1)
			return 0;
		year = 1 - year;
	}
	if (year < 0)
		ylen = snprintf(ybuf, sizeof(ybuf), "-%04lld", -year);
	else
		ylen = snprintf(ybuf, sizeof(ybuf), "%04lld", year);
	memcpy(out + *olen, ybuf, (size_t) ylen);
	*olen += (size_t) ylen;
	memcpy(out + *olen, s + i, 6);
	*olen += 6;
	return i + 6;
}

/* "HH:MM:SS" and an optional ".digits": returns its length, 0 if not. */
static size_t
value_time_len(const char *s, size_t n)
{
	size_t		i;

	if (n < 8 || !value_digit(s[0]) || !value_digit(s[1]) || s[2] != ':' ||
		!value_digit(s[3]) || !value_digit(s[4]) || s[5] != ':' ||
		!value_digit(s[6]) || !value_digit(s[7]))
		return 0;
	i = 8;
	if (i < n && s[i] == '.')
	{
		if (++i >= n || !value_digit(s[i]))
			return 0;
		while (i < n && value_digit(s[i]))
			i++;
	}
	return i;
}

static bool
value_strip_bc(const char *s, size_t *n)
{
	if (*n > 3 && memcmp(s + *n - 3, " BC", 3) == 0)
	{
		*n -= 3;
		return true;
	}
	return false;
}

/*
 * date, timestamp and timestamptz (DateStyle ISO; TimeZone UTC, so a
 * timestamptz ends in "+00"): "T" between date and time, "Z" for UTC,
 * astronomical years.  "infinity" and "-infinity" are kept.
 */
static enum pgoutput_value_rc
value_datetime(struct value_ctx *c, const struct pgoutput_type *t,
			   const char *s, size_t n, yyjson_mut_val **out)
{
	char		buf[96];
	size_t		olen = 0;
	size_t		used;
	bool		bc;
	size_t		tl;

	if (value_eq(s, n, "infinity") || value_eq(s, n, "-infinity"))
		return value_string(c, s, n, out);
	if (n > 64)
		return value_fail(c, t, "too long for a date or time stamp");
	bc = value_strip_bc(s, &n);
	used = value_put_date(s, n, bc, buf, &olen);
	if (used == 0)
		return value_fail(c, t, "not an ISO date (is DateStyle pinned to ISO?)");
	if (t->kind == PGOUTPUT_KIND_DATE)
	{
		if (used != n)
			return value_fail(c, t, "unexpected text after the date");
		return value_string(c, buf, olen, out);
	}
	if (used >= n || s[used] != ' ')
		return value_fail(c, t, "not an ISO time stamp (is DateStyle pinned to ISO?)");
	used++;
	if ((tl = value_time_len(s + used, n - used)) == 0)
		return value_fail(c, t, "not an ISO time of day");
	buf[olen++] = 'T';
	memcpy(buf + olen, s + used, tl);
	olen += tl;
	used += tl;
	if (t->kind == PGOUTPUT_KIND_TIMESTAMPTZ)
	{
		if (n - used != 3 || memcmp(s + used, "+00", 3) != 0)
			return value_fail(c, t, "not in UTC (is TimeZone pinned to UTC?)");
		buf[olen++] = 'Z';
		used += 3;
	}
	if (used != n)
		return value_fail(c, t, "unexpected text after the time");
	return value_string(c, buf, olen, out);
}

static enum pgoutput_value_rc
value_time(struct value_ctx *c, const struct pgoutput_type *t, const char *s,
		   size_t n, yyjson_mut_val **out)
{
	if (value_time_len(s, n) != n)
		return value_fail(c, t, "not an ISO time of day");
	return value_string(c, s, n, out);
}

/*
 * timetz: the ISO form prints the offset as +HH, +HH:MM or +HH:MM:SS
 * (minutes and seconds only when not zero); the plugin always writes
 * +HH:MM and adds :SS when not zero.
 */
static enum pgoutput_value_rc
value_timetz(struct value_ctx *c, const struct pgoutput_type *t,
			 const char *s, size_t n, yyjson_mut_val **out)
{
	size_t		tl = value_time_len(s, n);
	size_t		z = n - tl;
	const char *zone = s + tl;
	char		buf[64];

	if (tl == 0 || n > 48 || z < 3 || (zone[0] != '+' && zone[0] != '-') ||
		!value_digit(zone[1]) || !value_digit(zone[2]))
		return value_fail(c, t, "not an ISO time with time zone");
	if (z != 3 && !(z == 6 && zone[3] == ':' && value_digit(zone[4]) &&
					value_digit(zone[5])) &&
		!(z == 9 && zone[3] == ':' && value_digit(zone[4]) &&
		  value_digit(zone[5]) && zone[6] == ':' && value_digit(zone[7]) &&
		  value_digit(zone[8])))
		return value_fail(c, t, "not an ISO time zone offset");
	memcpy(buf, s, n);
	if (z == 3)
	{
		memcpy(buf + n, ":00", 3);
		n += 3;
	}
	return value_string(c, buf, n, out);
}

/* IntervalStyle iso_8601 (the plugin's EncodeInterval call): P..., or infinite. */
static enum pgoutput_value_rc
value_interval(struct value_ctx *c, const struct pgoutput_type *t,
			   const char *s, size_t n, yyjson_mut_val **out)
{
	if (!(n >= 2 && s[0] == 'P') && !value_eq(s, n, "infinity") &&
		!value_eq(s, n, "-infinity"))
		return value_fail(c, t, "not an ISO 8601 duration (is IntervalStyle pinned to iso_8601?)");
	return value_string(c, s, n, out);
}

static const struct pgoutput_type *
value_type(struct value_ctx *c, uint32_t typid, enum pgoutput_value_rc *rc)
{
	const struct pgoutput_type *t = pgoutput_catalog_type(c->cat, typid);

	if (t == NULL)
	{
		snprintf(c->err, c->errlen, "type OID %u is not in the catalogue",
				 typid);
		*rc = PGOUTPUT_VALUE_STALE;
	}
	return t;
}

/*
 * One element of array_out's text at *p: quoted ("..." with backslash
 * escapes) or bare (up to the delimiter or a brace; never containing
 * quotes, backslashes or white space, which force quoting).  A bare NULL
 * (any case) is SQL NULL.
 */
static enum pgoutput_value_rc
value_array_item(struct value_ctx *c, const struct pgoutput_type *arr,
				 const char **p, const char *end, struct value_buf *buf,
				 yyjson_mut_val **out)
{
	const char *s = *p;
	const char *start;

	if (s < end && *s == '"')
	{
		buf->len = 0;
		for (s++;; s++)
		{
			if (s >= end)
				return value_fail(c, arr, "an unterminated quoted array element");
			if (*s == '"')
				break;
			if (*s == '\\' && ++s >= end)
				return value_fail(c, arr, "a backslash at the end of an array element");
			if (!value_buf_add(buf, *s))
				return value_oom(c);
		}
		*p = s + 1;
		return value_convert(c, arr->elem, buf->data ? buf->data : "", buf->len,
							 out);
	}
	while (s < end && *s != arr->delim && *s != '}' && *s != '{' &&
		   *s != '"' && *s != '\\')
		s++;
	if (s == *p)
		return value_fail(c, arr, "an empty bare array element");
	start = *p;
	*p = s;
	/* array_in's test: NULL in any case (ASCII), when not quoted */
	if (s - start == 4 && (start[0] | 32) == 'n' && (start[1] | 32) == 'u' &&
		(start[2] | 32) == 'l' && (start[3] | 32) == 'l')
	{
		*out = yyjson_mut_null(c->doc);
		return *out ? PGOUTPUT_VALUE_OK : value_oom(c);
	}
	return value_convert(c, arr->elem, start, (size_t) (s - start), out);
}

/* One level of braces: {a,b} or {{...},{...}}, as nested JSON arrays. */
static enum pgoutput_value_rc
value_array_level(struct value_ctx *c, const struct pgoutput_type *arr,
				  const char **p, const char *end, int level,
				  struct value_buf *buf, yyjson_mut_val **out)
{
	yyjson_mut_val *list;
	const char *s = *p;

	if (level > 6)				/* PostgreSQL's MAXDIM */
		return value_fail(c, arr, "more than 6 array dimensions");
	if (s >= end || *s != '{')
		return value_fail(c, arr, "an array without its opening brace");
	if ((list = yyjson_mut_arr(c->doc)) == NULL)
		return value_oom(c);
	s++;
	if (s < end && *s == '}')
	{
		*p = s + 1;
		*out = list;
		return PGOUTPUT_VALUE_OK;
	}
	for (;;)
	{
		yyjson_mut_val *v;
		enum pgoutput_value_rc rc;

		if (s < end && *s == '{')
			rc = value_array_level(c, arr, &s, end, level + 1, buf, &v);
		else
			rc = value_array_item(c, arr, &s, end, buf, &v);
		if (rc != PGOUTPUT_VALUE_OK)
			return rc;
		if (!yyjson_mut_arr_append(list, v))
			return value_oom(c);
		if (s < end && *s == arr->delim)
		{
			s++;
			continue;
		}
		if (s < end && *s == '}')
			break;
		return value_fail(c, arr, "an array element followed by neither a delimiter nor a brace");
	}
	*p = s + 1;
	*out = list;
	return PGOUTPUT_VALUE_OK;
}

/*
 * One bound of an array dimension at p: an optional minus, digits, then
 * the character stop.  Returns the position after stop, or NULL.
 */
static const char *
value_bound(const char *p, const char *end, char stop)
{
	if (p < end && *p == '-')
		p++;
	if (p >= end || !value_digit(*p))
		return NULL;
	while (p < end && value_digit(*p))
		p++;
	return p < end && *p == stop ? p + 1 : NULL;
}

/*
 * array_out: an optional "[lb:ub]...=" when a lower bound is not 1 (the
 * plugin drops lower bounds), then nested braces.
 */
static enum pgoutput_value_rc
value_array(struct value_ctx *c, const struct pgoutput_type *arr,
			const char *s, size_t n, yyjson_mut_val **out)
{
	const char *p = s;
	const char *end = s + n;
	struct value_buf buf = {0};
	enum pgoutput_value_rc rc;

	if (p < end && *p == '[')
	{
		while (p < end && *p == '[')
		{
			p = value_bound(p + 1, end, ':');
			p = p ? value_bound(p, end, ']') : NULL;
			if (p == NULL)
				return value_fail(c, arr, "malformed array dimensions");
		}
		if (p >= end || *p++ != '=')
			return value_fail(c, arr, "malformed array dimensions");
	}
	rc = value_array_level(c, arr, &p, end, 1, &buf, out);
	free(buf.data);
	if (rc == PGOUTPUT_VALUE_OK && p != end)
		return value_fail(c, arr, "unexpected text after the array");
	return rc;
}

/* int2vector, oidvector: elements separated by one space, "" when none. */
static enum pgoutput_value_rc
value_vector(struct value_ctx *c, const struct pgoutput_type *vec,
			 const char *s, size_t n, yyjson_mut_val **out)
{
	yyjson_mut_val *list = yyjson_mut_arr(c->doc);
	size_t		i = 0;

	if (list == NULL)
		return value_oom(c);
	while (i < n)
	{
		size_t		j = i;
		yyjson_mut_val *v;
		enum pgoutput_value_rc rc;

		while (j < n && s[j] != ' ')
			j++;
		if (j == i)
			return value_fail(c, vec, "an empty vector element");
		if ((rc = value_convert(c, vec->elem, s + i, j - i, &v)) != PGOUTPUT_VALUE_OK)
			return rc;
		if (!yyjson_mut_arr_append(list, v))
			return value_oom(c);
		i = j < n ? j + 1 : j;
		if (j < n && i == n)
			return value_fail(c, vec, "a trailing space in a vector");
	}
	*out = list;
	return PGOUTPUT_VALUE_OK;
}

/*
 * One field of record_out's or range_out's text, up to one of stops at
 * the top level: quoted parts ("" is a quote inside them) and backslash
 * escapes anywhere, as record_in and range_parse_bound read them.  No
 * character at all is NULL (an unbounded side of a range); "" is the
 * empty string.
 */
static enum pgoutput_value_rc
value_field(struct value_ctx *c, const struct pgoutput_type *t,
			const char **p, const char *end, const char *stops,
			struct value_buf *buf, bool *present)
{
	const char *s = *p;
	bool		in_quotes = false;

	buf->len = 0;
	*present = false;
	for (; s < end; s++)
	{
		char		ch = *s;

		if (!in_quotes && strchr(stops, ch) != NULL)
			break;
		*present = true;
		if (ch == '\\')
		{
			if (++s >= end)
				return value_fail(c, t, "a backslash at the end of the text");
			ch = *s;
		}
		else if (ch == '"')
		{
			if (!in_quotes)
			{
				in_quotes = true;
				continue;
			}
			if (s + 1 < end && s[1] == '"')
				s++;			/* "" inside quotes: one quote */
			else
			{
				in_quotes = false;
				continue;
			}
		}
		if (!value_buf_add(buf, ch))
			return value_oom(c);
	}
	if (in_quotes)
		return value_fail(c, t, "an unterminated quoted field");
	*p = s;
	return PGOUTPUT_VALUE_OK;
}

/*
 * record_out: "(f1,f2,...)", an empty field being NULL.  The fields must
 * be the type's live attributes, one for one: a different count means the
 * cached type is older or newer than the value (STALE).
 */
static enum pgoutput_value_rc
value_composite(struct value_ctx *c, const struct pgoutput_type *t,
				const char *s, size_t n, yyjson_mut_val **out)
{
	const char *p = s;
	const char *end = s + n;
	yyjson_mut_val *obj = yyjson_mut_obj(c->doc);
	struct value_buf buf = {0};
	enum pgoutput_value_rc rc = PGOUTPUT_VALUE_OK;

	if (obj == NULL)
		return value_oom(c);
	if (n < 2 || s[0] != '(' || s[n - 1] != ')')
		return value_fail(c, t, "a composite value without its parentheses");
	p++;
	end--;						/* fields end at the closing parenthesis */
	for (int i = 0; i < t->natts; i++)
	{
		bool		present;
		yyjson_mut_val *key;
		yyjson_mut_val *v;

		if (i > 0)
		{
			if (p >= end || *p != ',')
			{
				rc = PGOUTPUT_VALUE_STALE;
				break;
			}
			p++;
		}
		if ((rc = value_field(c, t, &p, end, ",", &buf, &present)) != PGOUTPUT_VALUE_OK)
			break;
		if (!present)
			v = yyjson_mut_null(c->doc);
		else if ((rc = value_convert(c, t->atttypes[i],
									 buf.data ? buf.data : "", buf.len, &v))
				 != PGOUTPUT_VALUE_OK)
			break;
		key = yyjson_mut_strcpy(c->doc, t->attnames[i]);
		if (key == NULL || v == NULL || !yyjson_mut_obj_add(obj, key, v))
		{
			rc = value_oom(c);
			break;
		}
	}
	free(buf.data);
	if (rc == PGOUTPUT_VALUE_OK && p != end)
		rc = PGOUTPUT_VALUE_STALE;
	if (rc == PGOUTPUT_VALUE_STALE)
		snprintf(c->err, c->errlen,
				 "type \"%s\": a value with other fields than the type's %d attributes",
				 t->name, t->natts);
	if (rc == PGOUTPUT_VALUE_OK)
		*out = obj;
	return rc;
}

/*
 * range_out at *p: "empty", or [ or (, lower, comma, upper, ] or ); an
 * absent bound is unbounded (null).  The plugin's range form.
 */
static enum pgoutput_value_rc
value_range_at(struct value_ctx *c, const struct pgoutput_type *t,
			   const char **p, const char *end, yyjson_mut_val **out)
{
	const char *s = *p;
	yyjson_mut_val *obj = yyjson_mut_obj(c->doc);
	struct value_buf buf = {0};
	enum pgoutput_value_rc rc = PGOUTPUT_VALUE_OK;
	bool		lower_inc;
	bool		upper_inc;
	yyjson_mut_val *bound[2];

	if (obj == NULL)
		return value_oom(c);
	if ((size_t) (end - s) >= 5 && memcmp(s, "empty", 5) == 0)
	{
		*p = s + 5;
		*out = obj;
		return yyjson_mut_obj_add_true(c->doc, obj, "empty") ?
			PGOUTPUT_VALUE_OK : value_oom(c);
	}
	if (s >= end || (*s != '[' && *s != '('))
		return value_fail(c, t, "a range without its opening bracket");
	lower_inc = *s++ == '[';
	for (int side = 0; side < 2; side++)
	{
		bool		present;

		rc = value_field(c, t, &s, end, side == 0 ? "," : "])", &buf, &present);
		if (rc != PGOUTPUT_VALUE_OK)
			break;
		if (!present)
			bound[side] = yyjson_mut_null(c->doc);
		else if ((rc = value_convert(c, t->elem, buf.data ? buf.data : "",
									 buf.len, &bound[side])) != PGOUTPUT_VALUE_OK)
			break;
		if (s >= end)
		{
			rc = value_fail(c, t, "a range without its closing bracket");
			break;
		}
		s++;					/* the comma, or the closing bracket */
	}
	free(buf.data);
	if (rc != PGOUTPUT_VALUE_OK)
		return rc;
	upper_inc = s[-1] == ']';
	if (!yyjson_mut_obj_add_val(c->doc, obj, "lower", bound[0]) ||
		!yyjson_mut_obj_add_val(c->doc, obj, "upper", bound[1]) ||
		!yyjson_mut_obj_add_bool(c->doc, obj, "lower_inc", lower_inc) ||
		!yyjson_mut_obj_add_bool(c->doc, obj, "upper_inc", upper_inc))
		return value_oom(c);
	*p = s;
	*out = obj;
	return PGOUTPUT_VALUE_OK;
}

static enum pgoutput_value_rc
value_range(struct value_ctx *c, const struct pgoutput_type *t,
			const char *s, size_t n, yyjson_mut_val **out)
{
	const char *p = s;
	enum pgoutput_value_rc rc = value_range_at(c, t, &p, s + n, out);

	if (rc == PGOUTPUT_VALUE_OK && p != s + n)
		return value_fail(c, t, "unexpected text after the range");
	return rc;
}

/* multirange_out: {range,range,...} or {}: an array of range objects. */
static enum pgoutput_value_rc
value_multirange(struct value_ctx *c, const struct pgoutput_type *t,
				 const char *s, size_t n, yyjson_mut_val **out)
{
	const char *p = s;
	const char *end = s + n;
	yyjson_mut_val *list = yyjson_mut_arr(c->doc);
	const struct pgoutput_type *range;
	enum pgoutput_value_rc rc = PGOUTPUT_VALUE_OK;

	if (list == NULL)
		return value_oom(c);
	if ((range = value_type(c, t->elem, &rc)) == NULL)
		return rc;
	if (range->kind != PGOUTPUT_KIND_RANGE)
		return value_fail(c, t, "its range type is not a range");
	if (n < 2 || s[0] != '{' || s[n - 1] != '}')
		return value_fail(c, t, "a multirange without its braces");
	p++;
	while (p < end - 1)
	{
		yyjson_mut_val *v;

		if ((rc = value_range_at(c, range, &p, end - 1, &v)) != PGOUTPUT_VALUE_OK)
			return rc;
		if (!yyjson_mut_arr_append(list, v))
			return value_oom(c);
		if (p < end - 1)
		{
			if (*p != ',' || p + 1 >= end - 1)
				return value_fail(c, t, "ranges not separated by commas");
			p++;
		}
	}
	*out = list;
	return PGOUTPUT_VALUE_OK;
}

static enum pgoutput_value_rc
value_convert(struct value_ctx *c, uint32_t typid, const char *s, size_t n,
			  yyjson_mut_val **out)
{
	enum pgoutput_value_rc rc = PGOUTPUT_VALUE_OK;
	const struct pgoutput_type *t = value_type(c, typid, &rc);

	if (t == NULL)
		return rc;
	if (c->depth >= VALUE_MAX_DEPTH)
		return value_fail(c, t, "nested too deep");
	c->depth++;
	switch (t->kind)
	{
		case PGOUTPUT_KIND_BOOL:
			if (value_eq(s, n, "t"))
				*out = yyjson_mut_true(c->doc);
			else if (value_eq(s, n, "f"))
				*out = yyjson_mut_false(c->doc);
			else
				rc = value_fail(c, t, "neither t nor f");
			if (rc == PGOUTPUT_VALUE_OK && *out == NULL)
				rc = value_oom(c);
			break;
		case PGOUTPUT_KIND_INT:
			if (!value_json_number(s, n, true))
				rc = value_fail(c, t, "not an integer");
			else
				rc = value_raw(c, s, n, out);
			break;
		case PGOUTPUT_KIND_FLOAT:
			/* extra_float_digits > 0: the shortest round-trip text */
			if (value_special_float(s, n))
				rc = value_string(c, s, n, out);
			else if (!value_json_number(s, n, false))
				rc = value_fail(c, t, "not a number");
			else
				rc = value_raw(c, s, n, out);
			break;
		case PGOUTPUT_KIND_NUMERIC:
			if (value_special_float(s, n))
				rc = value_string(c, s, n, out);
			else if (!value_json_number(s, n, false))
				rc = value_fail(c, t, "not a number");
			else if (c->opts->numeric_as_string)
				rc = value_string(c, s, n, out);
			else
				rc = value_raw(c, s, n, out);
			break;
		case PGOUTPUT_KIND_JSON:
		case PGOUTPUT_KIND_JSONB:
			rc = value_json(c, t, s, n, out);
			break;
		case PGOUTPUT_KIND_BYTEA:
			rc = value_bytea(c, t, s, n, out);
			break;
		case PGOUTPUT_KIND_DATE:
		case PGOUTPUT_KIND_TIMESTAMP:
		case PGOUTPUT_KIND_TIMESTAMPTZ:
			rc = value_datetime(c, t, s, n, out);
			break;
		case PGOUTPUT_KIND_TIME:
			rc = value_time(c, t, s, n, out);
			break;
		case PGOUTPUT_KIND_TIMETZ:
			rc = value_timetz(c, t, s, n, out);
			break;
		case PGOUTPUT_KIND_INTERVAL:
			rc = value_interval(c, t, s, n, out);
			break;
		case PGOUTPUT_KIND_ARRAY:
			rc = value_array(c, t, s, n, out);
			break;
		case PGOUTPUT_KIND_VECTOR:
			rc = value_vector(c, t, s, n, out);
			break;
		case PGOUTPUT_KIND_COMPOSITE:
			rc = value_composite(c, t, s, n, out);
			break;
		case PGOUTPUT_KIND_RANGE:
			rc = value_range(c, t, s, n, out);
			break;
		case PGOUTPUT_KIND_MULTIRANGE:
			rc = value_multirange(c, t, s, n, out);
			break;
		case PGOUTPUT_KIND_STRING:
		default:
			rc = value_string(c, s, n, out);
			break;
	}
	c->depth--;
	return rc;
}

enum pgoutput_value_rc
pgoutput_value_render(yyjson_mut_doc *doc, const struct pgoutput_catalog *cat,
					  const struct pgoutput_value_opts *opts, uint32_t typid,
					  const char *text, size_t len, yyjson_mut_val **out,
					  char *err, size_t errlen)
{
	struct value_ctx c;

	c.doc = doc;
	c.cat = cat;
	c.opts = opts;
	c.err = err;
	c.errlen = errlen;
	c.depth = 0;
	return value_convert(&c, typid, text != NULL ? text : "", len, out);
}

bool
pgoutput_value_utf8(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *) str;
	size_t		i = 0;

	while (i < len)
	{
		unsigned char b = s[i];
		size_t		n;
		unsigned char lo = 0x80;
		unsigned char hi = 0xBF;

		if (b == 0)
			return false;
		if (b < 0x80)
		{
			i++;
			continue;
		}
		if (b >= 0xC2 && b <= 0xDF)
			n = 2;
		else if (b >= 0xE0 && b <= 0xEF)
		{
			n = 3;
			if (b == 0xE0)
				lo = 0xA0;		/* no overlong forms */
			else if (b == 0xED)
				hi = 0x9F;		/* no surrogates */
		}
		else if (b >= 0xF0 && b <= 0xF4)
		{
			n = 4;
			if (b == 0xF0)
				lo = 0x90;
			else if (b == 0xF4)
				hi = 0x8F;		/* nothing past U+10FFFF */
		}
		else
			return false;
		if (len - i < n || s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k < n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xBF)
				return false;
		i += n;
	}
	return true;
}
