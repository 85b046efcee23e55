/*
 * sink_mongo_bson.c
 *		A column value of a walcast record (JSON, docs/format.md "Values")
 *		becomes a typed BSON value, chosen by the column's type name (the
 *		plugin's include-types, which the agent asks for when mirroring).
 *
 * The mapping is documented in docs/mongo.md ("Types", "Values BSON
 * cannot hold").  Values whose type is unknown (no types, domains,
 * extension types) and json/jsonb values keep their JSON shape: string,
 * number, bool, document, array.  Nothing is lost on the way:
 *
 *	- numbers come as their text (walcast_record.c): an integer of int64
 *	  range becomes int32/int64, any other number (a fraction, an
 *	  exponent, -0, more digits) follows --mongo-numeric, as numeric
 *	  columns do: Decimal128 with the same digits when it has at most 34,
 *	  else a string of the text (or the text, or the nearest double);
 *	- a value BSON or MongoDB cannot hold as a document (a json object
 *	  with duplicate keys, nesting deeper than MongoDB's 100 levels, a key
 *	  that is empty, holds NUL or '.', or starts with '$', a string holding
 *	  U+0000, a lone surrogate escape, arrays of arrays with
 *	  --mongo-nested-arrays=string) is stored
 *	  whole as its JSON text, exactly as the plugin wrote it, and the
 *	  caller marks the column in _walcast.json (sink_mongo_doc.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "hex.h"
#include "sink_mongo.h"

enum sink_mongo_kind
{
	SMK_GENERIC,
	SMK_INT32,
	SMK_INT64,
	SMK_FLOAT,
	SMK_NUMERIC,
	SMK_BOOL,
	SMK_BYTEA,
	SMK_UUID,
	SMK_TIMESTAMP,
	SMK_DATE
};

/* format_type's spelling; typmods ("numeric(10,2)", "timestamp(3) ...") allowed. */
static enum sink_mongo_kind
sink_mongo_kind(const char *type, size_t len)
{
	static const struct
	{
		const char *prefix;
		bool		exact;
		enum sink_mongo_kind kind;
	}			map[] = {
		{"smallint", true, SMK_INT32}, {"integer", true, SMK_INT32},
		{"bigint", true, SMK_INT64}, {"oid", true, SMK_INT64},
		{"real", true, SMK_FLOAT}, {"double precision", true, SMK_FLOAT},
		{"numeric", false, SMK_NUMERIC}, {"boolean", true, SMK_BOOL},
		{"bytea", true, SMK_BYTEA}, {"uuid", true, SMK_UUID},
		{"timestamp", false, SMK_TIMESTAMP}, {"date", true, SMK_DATE},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
	{
		size_t		n = strlen(map[i].prefix);

		if (len < n || strncmp(type, map[i].prefix, n) != 0)
			continue;
		if (len == n || (!map[i].exact && (type[n] == '(' || type[n] == ' ')))
			return map[i].kind;
	}
	return SMK_GENERIC;
}

/*
 * MongoDB stores documents nested at most 100 levels deep, the row's
 * document being the first: a value may use the rest, less one level of
 * margin for a server that counts an update's own nesting.
 */
#define SINK_MONGO_MAX_VALUE_DEPTH 98

/* Decimal128's coefficient: 34 decimal digits. */
#define SINK_MONGO_DECIMAL128_DIGITS 34

/* ---- can BSON hold it? ---- */

/* A key MongoDB cannot store as a field name (libmongoc refuses it too). */
static bool
sink_mongo_bad_key(yyjson_val *k)
{
	const char *s = yyjson_get_str(k);
	size_t		len = yyjson_get_len(k);

	return len == 0 || s[0] == '$' || memchr(s, '.', len) != NULL ||
		memchr(s, '\0', len) != NULL;
}

static int
sink_mongo_key_cmp(const void *a, const void *b)
{
	yyjson_val *ka = *(yyjson_val * const *) a;
	yyjson_val *kb = *(yyjson_val * const *) b;
	size_t		la = yyjson_get_len(ka);
	size_t		lb = yyjson_get_len(kb);
	int			r = memcmp(yyjson_get_str(ka), yyjson_get_str(kb), la < lb ? la : lb);

	return r != 0 ? r : (la > lb) - (la < lb);
}

/*
 * An object with a key twice (the json type keeps them; a document would
 * keep one, or both under one name, which no reader expects).  Small
 * objects pairwise, larger ones sorted.
 */
static bool
sink_mongo_has_duplicates(yyjson_val *obj, bool *oom)
{
	size_t		n = yyjson_obj_size(obj);
	yyjson_val **keys;
	size_t		idx,
				max;
	yyjson_val *k,
			   *v;
	bool		dup = false;

	if (n < 2)
		return false;
	if ((keys = malloc(n * sizeof(*keys))) == NULL)
	{
		*oom = true;
		return false;
	}
	yyjson_obj_foreach(obj, idx, max, k, v)
		keys[idx] = k;
	if (n <= 8)
	{
		for (size_t i = 0; i < n && !dup; i++)
			for (size_t j = i + 1; j < n && !dup; j++)
				dup = sink_mongo_key_cmp(&keys[i], &keys[j]) == 0;
	}
	else
	{
		qsort(keys, n, sizeof(*keys), sink_mongo_key_cmp);
		for (size_t i = 1; i < n && !dup; i++)
			dup = sink_mongo_key_cmp(&keys[i - 1], &keys[i]) == 0;
	}
	free(keys);
	return dup;
}

/*
 * Whether v can be a BSON value as it is (see the top of the file); depth
 * is v's level, 1 for a column.  The walk stops at the depth limit, so it
 * recurses no deeper than that whatever the input.
 */
static bool
sink_mongo_storable(yyjson_val *v, int depth, bool in_array,
					const struct sink_mongo_conv *c, bool *oom)
{
	size_t		idx,
				max;
	yyjson_val *k,
			   *e;

	if (yyjson_is_arr(v))
	{
		if (depth > SINK_MONGO_MAX_VALUE_DEPTH ||
			(in_array && c->nested_arrays == SINK_MONGO_STRING))
			return false;
		yyjson_arr_foreach(v, idx, max, e)
		{
			if (!sink_mongo_storable(e, depth + 1, true, c, oom))
				return false;
		}
	}
	else if (yyjson_is_obj(v))
	{
		if (depth > SINK_MONGO_MAX_VALUE_DEPTH || sink_mongo_has_duplicates(v, oom))
			return false;
		yyjson_obj_foreach(v, idx, max, k, e)
		{
			if (sink_mongo_bad_key(k) || !sink_mongo_storable(e, depth + 1, false, c, oom))
				return false;
		}
	}
	else if (yyjson_is_str(v))
	{
		/*
		 * U+0000 (only the json type keeps it): BSON could hold it, but
		 * servers storing documents as text refuse it (FerretDB on
		 * PostgreSQL, and then it looks like an outage), and C tools cut
		 * the string there.  The JSON text escapes it.
		 */
		return memchr(yyjson_get_str(v), '\0', yyjson_get_len(v)) == NULL;
	}
	return true;
}

/* ---- decoders of the plugin's text forms ---- */

static int
sink_mongo_b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Standard base64 with padding, into out of cap bytes (3 * len / 4 do). */
static bool
sink_mongo_unbase64(const char *s, size_t len, uint8_t *out, size_t cap,
					size_t *outlen)
{
	uint32_t	acc = 0;
	int			bits = 0;
	size_t		n = 0;

	for (size_t i = 0; i < len; i++)
	{
		int			v;

		if (s[i] == '=')
			break;
		if ((v = sink_mongo_b64val(s[i])) < 0)
			return false;
		acc = (acc << 6) | (uint32_t) v;
		bits += 6;
		if (bits >= 8)
		{
			if (n == cap)
				return false;
			bits -= 8;
			out[n++] = (uint8_t) (acc >> bits);
		}
	}
	*outlen = n;
	return true;
}

/* Hex digits, ignoring '-' (uuid's text form). */
static bool
sink_mongo_unhex(const char *s, size_t len, uint8_t *out, size_t cap,
				 size_t *outlen)
{
	size_t		n = 0;
	int			hi = -1;

	for (size_t i = 0; i < len; i++)
	{
		int			v;

		if (s[i] == '-')
			continue;
		if ((v = hex_digit(s[i])) < 0)
			return false;
		if (hi < 0)
			hi = v;
		else
		{
			if (n == cap)
				return false;
			out[n++] = (uint8_t) (hi << 4 | v);
			hi = -1;
		}
	}
	*outlen = n;
	return hi < 0;
}

/*
 * "[-]YYYY-MM-DD[THH:MM:SS[.ffffff]][Z]" (docs/format.md: UTC, ISO 8601,
 * astronomical years) to microseconds since the Unix epoch.
 */
static bool
sink_mongo_parse_time(const char *s, int64_t *us)
{
	int64_t		y;
	int			mo,
				d,
				h = 0,
				mi = 0,
				sec = 0,
				frac = 0,
				scale = 100000;
	char	   *end;
	const char *p;

	errno = 0;
	y = strtoll(s, &end, 10);
	if (errno != 0 || end == s || sscanf(end, "-%2d-%2d", &mo, &d) != 2)
		return false;
	p = end + 6;
	if (*p == 'T')
	{
		if (sscanf(p, "T%2d:%2d:%2d", &h, &mi, &sec) != 3)
			return false;
		p += 9;
		if (*p == '.')
			for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
				frac += (*p - '0') * scale;
	}
	if (*p == 'Z')
		p++;
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31)
		return false;
	*us = ((envelope_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec)
		   * INT64_C(1000000)) + frac;
	return true;
}

/* ---- numbers ---- */

static bool
sink_mongo_bad(char *err, size_t errlen, const char *what, const char *type)
{
	snprintf(err, errlen, "cannot convert a value of type \"%s\": %s", type, what);
	return false;
}

/*
 * An integer written as int64 prints it: no fraction, no exponent, no
 * "-0" (whose sign an integer would lose), within range.
 */
static bool
sink_mongo_int64_text(const char *s, size_t len, int64_t *out)
{
	bool		neg = len > 0 && s[0] == '-';
	size_t		i = neg;
	uint64_t	v = 0;

	if (i >= len || len - i > 19 || (s[i] == '0' && (len - i > 1 || neg)))
		return false;
	for (; i < len; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t) (s[i] - '0');
	}
	if (v > (uint64_t) INT64_MAX + neg)
		return false;
	*out = neg ? (int64_t) (0 - v) : (int64_t) v;
	return true;
}

/* Significant digits of a decimal's text: its digits less leading zeros. */
static size_t
sink_mongo_digits(const char *s, size_t len)
{
	size_t		n = 0;
	bool		lead = true;

	for (size_t i = 0; i < len && s[i] != 'e' && s[i] != 'E'; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			continue;
		if (lead && s[i] == '0')
			continue;
		lead = false;
		n++;
	}
	return n > 0 ? n : 1;
}

/*
 * A decimal's text (a numeric column, or a JSON number that is not an
 * int64) as --mongo-numeric says.  Decimal128 keeps the digits and the
 * exponent as written (2.50 stays 2.50, -0 stays -0); a text of more
 * digits than it holds stays a string rather than be rounded.
 */
static bool
sink_mongo_append_decimal(bson_t *doc, const char *key, size_t keylen,
						  const char *s, size_t len,
						  const struct sink_mongo_conv *c)
{
	bson_decimal128_t dec;
	char		small[64];
	char	   *text = small;
	bool		ok;

	/* libbson reads NUL-terminated text; number text is short. */
	if (len >= sizeof(small) && (text = malloc(len + 1)) == NULL)
		return false;
	memcpy(text, s, len);
	text[len] = '\0';
	switch (c->numeric)
	{
		case SINK_MONGO_NUMERIC_DOUBLE:
			ok = bson_append_double(doc, key, (int) keylen, strtod(text, NULL));
			break;
		case SINK_MONGO_NUMERIC_DECIMAL128:
			if (sink_mongo_digits(s, len) <= SINK_MONGO_DECIMAL128_DIGITS &&
				bson_decimal128_from_string(text, &dec))
			{
				ok = bson_append_decimal128(doc, key, (int) keylen, &dec);
				break;
			}
			/* beyond Decimal128: kept as the exact text */
			ok = bson_append_utf8(doc, key, (int) keylen, s, (int) len);
			break;
		case SINK_MONGO_NUMERIC_STRING:
		default:
			ok = bson_append_utf8(doc, key, (int) keylen, s, (int) len);
			break;
	}
	if (text != small)
		free(text);
	return ok;
}

/* A JSON number (its text): int32/int64 when it is one, else a decimal. */
static bool
sink_mongo_append_number(bson_t *doc, const char *key, size_t keylen,
						 yyjson_val *v, const struct sink_mongo_conv *c)
{
	const char *s = yyjson_get_raw(v);
	size_t		len = yyjson_get_len(v);
	int64_t		i;

	if (sink_mongo_int64_text(s, len, &i))
	{
		/* As MongoDB's own shell and drivers do: int32 when it fits. */
		if (i >= INT32_MIN && i <= INT32_MAX)
			return bson_append_int32(doc, key, (int) keylen, (int32_t) i);
		return bson_append_int64(doc, key, (int) keylen, i);
	}
	return sink_mongo_append_decimal(doc, key, keylen, s, len, c);
}

/* ---- appending ---- */

static bool sink_mongo_append_kind(bson_t *doc, const char *key, size_t keylen,
								   yyjson_val *v, enum sink_mongo_kind kind,
								   int dims, const char *type,
								   const struct sink_mongo_conv *c, int *usec,
								   char *err, size_t errlen);

static bool
sink_mongo_append_array(bson_t *doc, const char *key, size_t keylen, yyjson_val *v,
						enum sink_mongo_kind kind, const char *type,
						const struct sink_mongo_conv *c, char *err,
						size_t errlen)
{
	bson_t		child;
	size_t		i,
				max;
	yyjson_val *e;
	bool		ok = true;

	if (!bson_append_array_begin(doc, key, (int) keylen, &child))
		return sink_mongo_bad(err, errlen, "document too large", type);
	yyjson_arr_foreach(v, i, max, e)
	{
		char		ibuf[16];
		const char *ikey;
		size_t		ilen = bson_uint32_to_string((uint32_t) i, &ikey, ibuf, sizeof(ibuf));
		int			ignored;

		/*
		 * A multi-dimensional array's type is still "integer[]": inner
		 * levels are arrays of the same element type.
		 */
		if (!(ok = sink_mongo_append_kind(&child, ikey, ilen, e, kind,
										  yyjson_is_arr(e) ? 1 : 0, type,
										  c, &ignored, err, errlen)))
			break;
	}
	return bson_append_array_end(doc, &child) && ok;
}

static bool
sink_mongo_append_object(bson_t *doc, const char *key, size_t keylen,
						 yyjson_val *v, const char *type,
						 const struct sink_mongo_conv *c, char *err,
						 size_t errlen)
{
	bson_t		child;
	size_t		idx,
				max;
	yyjson_val *k,
			   *e;
	bool		ok = true;

	if (!bson_append_document_begin(doc, key, (int) keylen, &child))
		return sink_mongo_bad(err, errlen, "document too large", type);
	yyjson_obj_foreach(v, idx, max, k, e)
	{
		int			ignored;

		if (!(ok = sink_mongo_append_kind(&child, yyjson_get_str(k), yyjson_get_len(k),
										  e, SMK_GENERIC, 0, type, c, &ignored,
										  err, errlen)))
			break;
	}
	return bson_append_document_end(doc, &child) && ok;
}

static bool
sink_mongo_append_float(bson_t *doc, const char *key, size_t keylen, yyjson_val *v,
						const char *type, const struct sink_mongo_conv *c,
						char *err, size_t errlen)
{
	const char *s = yyjson_get_str(v);
	double		d;

	if (yyjson_is_raw(v))
	{
		char		num[64];
		size_t		len = yyjson_get_len(v);

		/* The plugin prints floats in their shortest form: short text. */
		if (len >= sizeof(num))
			return sink_mongo_bad(err, errlen, "not a float", type);
		memcpy(num, yyjson_get_raw(v), len);
		num[len] = '\0';
		return bson_append_double(doc, key, (int) keylen, strtod(num, NULL));
	}
	if (s == NULL)
		return sink_mongo_bad(err, errlen, "not a number", type);
	if (c->nonfinite == SINK_MONGO_STRING)
		return bson_append_utf8(doc, key, (int) keylen, s, -1);
	if (strcmp(s, "NaN") == 0)
		d = NAN;
	else if (strcmp(s, "Infinity") == 0)
		d = INFINITY;
	else if (strcmp(s, "-Infinity") == 0)
		d = -INFINITY;
	else
		return sink_mongo_bad(err, errlen, "not a number", type);
	return bson_append_double(doc, key, (int) keylen, d);
}

static bool
sink_mongo_append_binary(bson_t *doc, const char *key, size_t keylen,
						 yyjson_val *v, enum sink_mongo_kind kind, const char *type,
						 const struct sink_mongo_conv *c, char *err,
						 size_t errlen)
{
	const char *s = yyjson_get_str(v);
	size_t		len = yyjson_get_len(v);
	size_t		n = 0;
	size_t		cap;
	uint8_t    *buf;
	bool		ok;

	if (s == NULL)
		return sink_mongo_bad(err, errlen, "not a string", type);
	/*
	 * Room for the longest decoding: base64 gives 3 bytes per 4 characters,
	 * hex 1 per 2, a uuid 16.  (len / 2 + 16 was the hex size: a base64
	 * bytea past 48 bytes overran it, found by test/fuzz_record.)
	 */
	cap = len / 4 * 3 + 3 + 16;
	if ((buf = malloc(cap)) == NULL)
		return sink_mongo_bad(err, errlen, "out of memory", type);
	if (kind == SMK_UUID)
		ok = sink_mongo_unhex(s, len, buf, 16, &n) && n == 16;
	else if (c->bytea_hex)
		ok = sink_mongo_unhex(s, len, buf, cap, &n);
	else
		ok = sink_mongo_unbase64(s, len, buf, cap, &n);
	if (ok)
		ok = bson_append_binary(doc, key, (int) keylen,
								kind == SMK_UUID ? BSON_SUBTYPE_UUID : BSON_SUBTYPE_BINARY,
								buf, (uint32_t) n);
	else
		sink_mongo_bad(err, errlen, "malformed text", type);
	free(buf);
	return ok;
}

/* A BSON date (milliseconds) and the microseconds it cannot hold. */
static bool
sink_mongo_append_time(bson_t *doc, const char *key, size_t keylen, yyjson_val *v,
					   const char *type, int *usec, char *err, size_t errlen)
{
	const char *s = yyjson_get_str(v);
	int64_t		us;
	int64_t		ms;

	if (s == NULL)
		return sink_mongo_bad(err, errlen, "not a string", type);
	/*
	 * A BSON date could hold them as its extremes, but most drivers (Python,
	 * JavaScript) cannot read those: keep PostgreSQL's word.
	 */
	if (strcmp(s, "infinity") == 0 || strcmp(s, "-infinity") == 0)
		return bson_append_utf8(doc, key, (int) keylen, s, -1);
	if (!sink_mongo_parse_time(s, &us))
		return sink_mongo_bad(err, errlen, "malformed date/time", type);
	/* Floor division: 1969-12-31T23:59:59.9995 is -1 ms and 500 us. */
	ms = us / 1000 - (us % 1000 < 0);
	*usec = (int) (us - ms * 1000);
	return bson_append_date_time(doc, key, (int) keylen, ms);
}

static bool
sink_mongo_append_generic(bson_t *doc, const char *key, size_t keylen,
						  yyjson_val *v, const char *type,
						  const struct sink_mongo_conv *c, char *err,
						  size_t errlen)
{
	switch (yyjson_get_type(v))
	{
		case YYJSON_TYPE_OBJ:
			return sink_mongo_append_object(doc, key, keylen, v, type, c, err, errlen);
		case YYJSON_TYPE_ARR:
			return sink_mongo_append_array(doc, key, keylen, v, SMK_GENERIC,
										   type, c, err, errlen);
		case YYJSON_TYPE_STR:
			return bson_append_utf8(doc, key, (int) keylen, yyjson_get_str(v),
									(int) yyjson_get_len(v));
		case YYJSON_TYPE_RAW:
			return sink_mongo_append_number(doc, key, keylen, v, c);
		case YYJSON_TYPE_BOOL:
			return bson_append_bool(doc, key, (int) keylen, yyjson_get_bool(v));
		case YYJSON_TYPE_NULL:
			return bson_append_null(doc, key, (int) keylen);
		default:
			break;
	}
	return sink_mongo_bad(err, errlen, "not a JSON value", type);
}

static bool
sink_mongo_append_kind(bson_t *doc, const char *key, size_t keylen, yyjson_val *v,
					   enum sink_mongo_kind kind, int dims, const char *type,
					   const struct sink_mongo_conv *c, int *usec, char *err,
					   size_t errlen)
{
	int64_t		i;

	*usec = -1;
	if (yyjson_is_null(v))
		return bson_append_null(doc, key, (int) keylen);
	if (dims > 0)
	{
		if (!yyjson_is_arr(v))
			return sink_mongo_bad(err, errlen, "not an array", type);
		return sink_mongo_append_array(doc, key, keylen, v, kind, type,
									   c, err, errlen);
	}
	switch (kind)
	{
		case SMK_INT32:
		case SMK_INT64:
			if (!yyjson_is_raw(v) ||
				!sink_mongo_int64_text(yyjson_get_raw(v), yyjson_get_len(v), &i))
				return sink_mongo_bad(err, errlen, "not an integer", type);
			if (kind == SMK_INT32)
				return bson_append_int32(doc, key, (int) keylen, (int32_t) i);
			return bson_append_int64(doc, key, (int) keylen, i);
		case SMK_FLOAT:
			return sink_mongo_append_float(doc, key, keylen, v, type, c, err, errlen);
		case SMK_NUMERIC:
			/* a string (the default), or a number with numeric-data-types-as-string=false */
			if (yyjson_is_str(v) || yyjson_is_raw(v))
				return sink_mongo_append_decimal(doc, key, keylen,
												 yyjson_is_str(v) ? yyjson_get_str(v) : yyjson_get_raw(v),
												 yyjson_get_len(v), c);
			return sink_mongo_bad(err, errlen, "not a number", type);
		case SMK_BOOL:
			if (!yyjson_is_bool(v))
				return sink_mongo_bad(err, errlen, "not a boolean", type);
			return bson_append_bool(doc, key, (int) keylen, yyjson_get_bool(v));
		case SMK_BYTEA:
		case SMK_UUID:
			return sink_mongo_append_binary(doc, key, keylen, v, kind, type, c,
											err, errlen);
		case SMK_TIMESTAMP:
		case SMK_DATE:
			return sink_mongo_append_time(doc, key, keylen, v, type, usec, err,
										  errlen);
		case SMK_GENERIC:
			break;
	}
	return sink_mongo_append_generic(doc, key, keylen, v, type, c, err, errlen);
}

/* The type's name without its "[]"s, and how many there were. */
static size_t
sink_mongo_base_type(const char *type, int *dims)
{
	size_t		tlen = type ? strlen(type) : 0;

	*dims = 0;
	while (tlen >= 2 && strncmp(type + tlen - 2, "[]", 2) == 0)
	{
		tlen -= 2;
		(*dims)++;
	}
	return tlen;
}

bool
sink_mongo_may_be_text(const char *type)
{
	/* Types whose value is a string the plugin formats: never a document. */
	static const char *const plain[] = {
		"text", "character varying", "character", "name", "\"char\"",
		"time without time zone", "time with time zone", "interval",
		"inet", "cidr", "macaddr", "macaddr8", "money", "xml", "bit",
		"bit varying", "pg_lsn", "tsvector", "tsquery", NULL
	};
	int			dims;
	size_t		tlen = sink_mongo_base_type(type, &dims);

	if (type == NULL || dims > 0)
		return true;
	if (sink_mongo_kind(type, tlen) != SMK_GENERIC)
		return false;
	for (int i = 0; plain[i] != NULL; i++)
	{
		size_t		n = strlen(plain[i]);

		if (tlen >= n && strncmp(type, plain[i], n) == 0 &&
			(tlen == n || type[n] == '('))
			return false;
	}
	return true;
}

bool
sink_mongo_bson_append(bson_t *doc, const char *key, size_t keylen,
					   const struct event *ev, yyjson_val *colkey,
					   const char *type, const struct sink_mongo_conv *c,
					   int *usec, bool *as_text, char *err, size_t errlen)
{
	yyjson_val *v = yyjson_obj_iter_get_val(colkey);
	int			dims;
	size_t		tlen = sink_mongo_base_type(type, &dims);
	bool		oom = false;
	bool		ok;

	err[0] = '\0';
	*usec = -1;
	*as_text = false;
	if (!sink_mongo_storable(v, 1, false, c, &oom) ||
		(ev->nlone > 0 && event_text_has_lone(ev, event_value_text(ev, colkey))))
	{
		struct event_text text = event_value_text(ev, colkey);

		*as_text = true;
		return bson_append_utf8(doc, key, (int) keylen, text.ptr, (int) text.len) ||
			sink_mongo_bad(err, errlen, "document too large", type ? type : "unknown");
	}
	if (oom)
		return sink_mongo_bad(err, errlen, "out of memory", type ? type : "unknown");
	ok = sink_mongo_append_kind(doc, key, keylen, v,
								type ? sink_mongo_kind(type, tlen) : SMK_GENERIC,
								dims, type ? type : "unknown", c, usec, err, errlen);
	if (!ok && err[0] == '\0')
		snprintf(err, errlen, "cannot store column \"%.*s\" (document too large?)",
				 (int) keylen, key);
	return ok;
}
