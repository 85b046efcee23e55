/*
 * sink_mongo_bson.c
 *		A column value of a walcast record (JSON, docs/format.md "Values")
 *		becomes a typed BSON value, chosen by the column's type name (the
 *		plugin's include-types, which the agent asks for when mirroring).
 *
 * The mapping is documented in docs/mongo.md.  Values whose type is
 * unknown (no types, domains, extension types) keep their JSON shape:
 * string, number, bool, document, array.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
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

static bool
sink_mongo_has_nested_array(const json_t *v, bool in_array)
{
	size_t		i;
	const char *k;
	json_t	   *e;

	if (json_is_array(v))
	{
		if (in_array)
			return true;
		json_array_foreach(v, i, e)
			if (sink_mongo_has_nested_array(e, true))
			return true;
	}
	else if (json_is_object(v))
	{
		json_object_foreach((json_t *) v, k, e)
			if (sink_mongo_has_nested_array(e, false))
			return true;
	}
	return false;
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

static int
sink_mongo_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Standard base64 with padding; out holds at least 3 * len / 4 bytes. */
static bool
sink_mongo_unbase64(const char *s, size_t len, uint8_t *out, size_t *outlen)
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
		if ((v = sink_mongo_hexval(s[i])) < 0)
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

/* ---- appending ---- */

static bool
sink_mongo_bad(char *err, size_t errlen, const char *what, const char *type)
{
	snprintf(err, errlen, "cannot convert a value of type \"%s\": %s", type, what);
	return false;
}

static bool sink_mongo_append_kind(bson_t *doc, const char *key, size_t keylen,
								   json_t *v, enum sink_mongo_kind kind,
								   int dims, const char *type,
								   const struct sink_mongo_conv *c, int *usec,
								   char *err, size_t errlen);

static bool
sink_mongo_append_array(bson_t *doc, const char *key, size_t keylen, json_t *v,
						enum sink_mongo_kind kind, const char *type,
						const struct sink_mongo_conv *c, char *err,
						size_t errlen)
{
	bson_t		child;
	size_t		i;
	json_t	   *e;
	bool		ok = true;

	if (!bson_append_array_begin(doc, key, (int) keylen, &child))
		return sink_mongo_bad(err, errlen, "document too large", type);
	json_array_foreach(v, i, e)
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
										  json_is_array(e) ? 1 : 0, type,
										  c, &ignored, err, errlen)))
			break;
	}
	return bson_append_array_end(doc, &child) && ok;
}

static bool
sink_mongo_append_object(bson_t *doc, const char *key, size_t keylen,
						 json_t *v, const char *type,
						 const struct sink_mongo_conv *c, char *err,
						 size_t errlen)
{
	bson_t		child;
	const char *k;
	json_t	   *e;
	bool		ok = true;

	if (!bson_append_document_begin(doc, key, (int) keylen, &child))
		return sink_mongo_bad(err, errlen, "document too large", type);
	json_object_foreach(v, k, e)
	{
		int			ignored;

		if (!(ok = sink_mongo_append_kind(&child, k, strlen(k), e, SMK_GENERIC,
										  0, type, c, &ignored, err, errlen)))
			break;
	}
	return bson_append_document_end(doc, &child) && ok;
}

static bool
sink_mongo_append_float(bson_t *doc, const char *key, size_t keylen, json_t *v,
						const char *type, const struct sink_mongo_conv *c,
						char *err, size_t errlen)
{
	const char *s = json_string_value(v);
	double		d;

	if (json_is_number(v))
		return bson_append_double(doc, key, (int) keylen, json_number_value(v));
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
sink_mongo_append_numeric(bson_t *doc, const char *key, size_t keylen,
						  json_t *v, const struct sink_mongo_conv *c)
{
	char		buf[64];
	const char *s = json_string_value(v);
	bson_decimal128_t dec;

	if (s == NULL)
	{
		/* numeric-data-types-as-string=false is refused by config.c. */
		snprintf(buf, sizeof(buf), "%.17g", json_number_value(v));
		s = buf;
	}
	switch (c->numeric)
	{
		case SINK_MONGO_NUMERIC_DOUBLE:
			return bson_append_double(doc, key, (int) keylen, strtod(s, NULL));
		case SINK_MONGO_NUMERIC_DECIMAL128:
			/* libbson refuses what it cannot hold exactly: keep the digits. */
			if (bson_decimal128_from_string(s, &dec))
				return bson_append_decimal128(doc, key, (int) keylen, &dec);
			break;
		case SINK_MONGO_NUMERIC_STRING:
			break;
	}
	return bson_append_utf8(doc, key, (int) keylen, s, -1);
}

static bool
sink_mongo_append_binary(bson_t *doc, const char *key, size_t keylen,
						 json_t *v, enum sink_mongo_kind kind, const char *type,
						 const struct sink_mongo_conv *c, char *err,
						 size_t errlen)
{
	const char *s = json_string_value(v);
	size_t		len = json_string_length(v);
	size_t		n = 0;
	uint8_t    *buf;
	bool		ok;

	if (s == NULL)
		return sink_mongo_bad(err, errlen, "not a string", type);
	if ((buf = malloc(len / 2 + 16)) == NULL)
		return sink_mongo_bad(err, errlen, "out of memory", type);
	if (kind == SMK_UUID)
		ok = sink_mongo_unhex(s, len, buf, 16, &n) && n == 16;
	else if (c->bytea_hex)
		ok = sink_mongo_unhex(s, len, buf, len / 2 + 16, &n);
	else
		ok = sink_mongo_unbase64(s, len, buf, &n);
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
sink_mongo_append_time(bson_t *doc, const char *key, size_t keylen, json_t *v,
					   const char *type, int *usec, char *err, size_t errlen)
{
	const char *s = json_string_value(v);
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
						  json_t *v, const char *type,
						  const struct sink_mongo_conv *c, char *err,
						  size_t errlen)
{
	json_int_t	i;

	switch (json_typeof(v))
	{
		case JSON_OBJECT:
			return sink_mongo_append_object(doc, key, keylen, v, type, c, err, errlen);
		case JSON_ARRAY:
			return sink_mongo_append_array(doc, key, keylen, v, SMK_GENERIC,
										   type, c, err, errlen);
		case JSON_STRING:
			return bson_append_utf8(doc, key, (int) keylen, json_string_value(v),
									(int) json_string_length(v));
		case JSON_INTEGER:
			i = json_integer_value(v);
			/* As MongoDB's own shell and drivers do: int32 when it fits. */
			if (i >= INT32_MIN && i <= INT32_MAX)
				return bson_append_int32(doc, key, (int) keylen, (int32_t) i);
			return bson_append_int64(doc, key, (int) keylen, (int64_t) i);
		case JSON_REAL:
			return bson_append_double(doc, key, (int) keylen, json_real_value(v));
		case JSON_TRUE:
		case JSON_FALSE:
			return bson_append_bool(doc, key, (int) keylen, json_is_true(v));
		case JSON_NULL:
			return bson_append_null(doc, key, (int) keylen);
	}
	return false;
}

static bool
sink_mongo_append_kind(bson_t *doc, const char *key, size_t keylen, json_t *v,
					   enum sink_mongo_kind kind, int dims, const char *type,
					   const struct sink_mongo_conv *c, int *usec, char *err,
					   size_t errlen)
{
	*usec = -1;
	if (json_is_null(v))
		return bson_append_null(doc, key, (int) keylen);
	if (dims > 0)
	{
		if (!json_is_array(v))
			return sink_mongo_bad(err, errlen, "not an array", type);
		return sink_mongo_append_array(doc, key, keylen, v, kind, type,
									   c, err, errlen);
	}
	switch (kind)
	{
		case SMK_INT32:
		case SMK_INT64:
			if (!json_is_integer(v))
				return sink_mongo_bad(err, errlen, "not an integer", type);
			if (kind == SMK_INT32)
				return bson_append_int32(doc, key, (int) keylen,
										 (int32_t) json_integer_value(v));
			return bson_append_int64(doc, key, (int) keylen,
									 (int64_t) json_integer_value(v));
		case SMK_FLOAT:
			return sink_mongo_append_float(doc, key, keylen, v, type, c, err, errlen);
		case SMK_NUMERIC:
			return sink_mongo_append_numeric(doc, key, keylen, v, c);
		case SMK_BOOL:
			if (!json_is_boolean(v))
				return sink_mongo_bad(err, errlen, "not a boolean", type);
			return bson_append_bool(doc, key, (int) keylen, json_is_true(v));
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

bool
sink_mongo_bson_append(bson_t *doc, const char *key, size_t keylen, json_t *v,
					   const char *type, const struct sink_mongo_conv *c,
					   int *usec, char *err, size_t errlen)
{
	size_t		tlen = type ? strlen(type) : 0;
	int			dims = 0;
	bool		ok;

	err[0] = '\0';
	/* "integer[]": an array of integer, whatever its dimensions. */
	while (tlen >= 2 && strncmp(type + tlen - 2, "[]", 2) == 0)
	{
		tlen -= 2;
		dims++;
	}

	/*
	 * FerretDB 1.x stores no arrays of arrays; with nested_arrays=string
	 * such a value (a multi-dimensional array, or json holding one) is kept
	 * whole as its JSON text.
	 */
	if (c->nested_arrays == SINK_MONGO_STRING &&
		sink_mongo_has_nested_array(v, false))
	{
		char	   *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

		*usec = -1;
		if (text == NULL)
			return sink_mongo_bad(err, errlen, "out of memory", type ? type : "?");
		ok = bson_append_utf8(doc, key, (int) keylen, text, -1);
		free(text);
		return ok;
	}
	ok = sink_mongo_append_kind(doc, key, keylen, v,
								type ? sink_mongo_kind(type, tlen) : SMK_GENERIC,
								dims, type ? type : "unknown", c, usec, err, errlen);
	if (!ok && err[0] == '\0')
		snprintf(err, errlen, "cannot store column \"%.*s\" (document too large?)",
				 (int) keylen, key);
	return ok;
}
