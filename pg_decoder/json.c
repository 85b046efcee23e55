/*-------------------------------------------------------------------------
 *
 * json.c
 *		JSON primitives: string escaping, integers, LSNs, ISO 8601 dates and
 *		times, base64/hex, compaction of json text.
 *
 * Nothing here looks at a session setting: dates and times are computed
 * from the stored integers (as timestamp2tm does with a NULL time zone,
 * i.e. UTC), integers with pg_ulltoa_n.  Escaping is a length-aware
 * version of PostgreSQL's escape_json (same output), because values come
 * as varlena bytes without a terminating NUL and copying runs of plain
 * bytes at once is what keeps the per-row cost down.
 *
 *-------------------------------------------------------------------------
 */
#include "walcast.h"

#include "common/base64.h"
#include "datatype/timestamp.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"

/* Bytes that must be escaped in a JSON string: controls, '"' and '\'. */
static const bool json_special[256] = {
	[0x00] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	['"'] = 1, ['\\'] = 1
};

static const char hexdigits[] = "0123456789abcdef";
static const char HEXDIGITS[] = "0123456789ABCDEF";

/* Append s[0..len), UTF-8 already, escaped for the inside of a string. */
void
json_escape_utf8(StringInfo out, const char *s, int len)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *end = p + len;
	const unsigned char *run = p;

	while (p < end)
	{
		unsigned char c = *p;

		if (likely(!json_special[c]))
		{
			p++;
			continue;
		}
		if (p > run)
			appendBinaryStringInfo(out, (const char *) run, p - run);
		switch (c)
		{
			case '"':
				appendBinaryStringInfo(out, "\\\"", 2);
				break;
			case '\\':
				appendBinaryStringInfo(out, "\\\\", 2);
				break;
			case '\b':
				appendBinaryStringInfo(out, "\\b", 2);
				break;
			case '\f':
				appendBinaryStringInfo(out, "\\f", 2);
				break;
			case '\n':
				appendBinaryStringInfo(out, "\\n", 2);
				break;
			case '\r':
				appendBinaryStringInfo(out, "\\r", 2);
				break;
			case '\t':
				appendBinaryStringInfo(out, "\\t", 2);
				break;
			default:
				{
					char		u[6] = {'\\', 'u', '0', '0',
					hexdigits[c >> 4], hexdigits[c & 15]};

					appendBinaryStringInfo(out, u, 6);
				}
				break;
		}
		run = ++p;
	}
	if (p > run)
		appendBinaryStringInfo(out, (const char *) run, p - run);
}

/*
 * Append s[0..len), in the database encoding, escaped.  Output is UTF-8:
 * in a database of another encoding the bytes are converted first
 * (SQL_ASCII has no encoding to convert from: its bytes pass as they are).
 */
void
json_escape(StringInfo out, const char *s, int len)
{
	int			enc = GetDatabaseEncoding();

	if (unlikely(enc != PG_UTF8 && enc != PG_SQL_ASCII))
	{
		char	   *conv = pg_server_to_any(s, len, PG_UTF8);

		if (conv != s)
		{
			s = conv;
			len = strlen(conv);
		}
	}
	json_escape_utf8(out, s, len);
}

void
json_string(StringInfo out, const char *s, int len)
{
	appendStringInfoCharMacro(out, '"');
	json_escape(out, s, len);
	appendStringInfoCharMacro(out, '"');
}

void
json_uint64(StringInfo out, uint64 v)
{
	enlargeStringInfo(out, MAXINT8LEN + 1);
	out->len += pg_ulltoa_n(v, out->data + out->len);
	out->data[out->len] = '\0';
}

void
json_int64(StringInfo out, int64 v)
{
	if (v < 0)
	{
		appendStringInfoCharMacro(out, '-');
		/* negate in unsigned arithmetic: PG_INT64_MIN has no positive twin */
		json_uint64(out, -(uint64) v);
	}
	else
		json_uint64(out, (uint64) v);
}

static char *
put_hex32(char *p, uint32 v)
{
	int			shift = 28;

	while (shift > 0 && ((v >> shift) & 15) == 0)
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		*p++ = HEXDIGITS[(v >> shift) & 15];
	return p;
}

/* "X/X" in upper-case hex, as PostgreSQL prints an LSN. */
void
json_lsn(StringInfo out, XLogRecPtr lsn)
{
	char	   *p;

	enlargeStringInfo(out, 20);
	p = out->data + out->len;
	*p++ = '"';
	p = put_hex32(p, (uint32) (lsn >> 32));
	*p++ = '/';
	p = put_hex32(p, (uint32) lsn);
	*p++ = '"';
	*p = '\0';
	out->len = p - out->data;
}

/* v as exactly width decimal digits (v >= 0, fits). */
static char *
put_digits(char *p, int v, int width)
{
	for (int i = width - 1; i >= 0; i--)
	{
		p[i] = '0' + v % 10;
		v /= 10;
	}
	return p + width;
}

/*
 * ISO 8601 date with astronomical year numbering: 1 BC is year 0000,
 * 2 BC is -0001; at least four digits (more after 9999).
 */
static char *
put_date(char *p, int jd)
{
	int			year;
	int			month;
	int			day;
	int			ay;

	j2date(jd, &year, &month, &day);
	if (year < 0)
		*p++ = '-';
	ay = year < 0 ? -year : year;
	if (ay > 9999)
	{
		p += pg_ultoa_n((uint32) ay, p);
	}
	else
		p = put_digits(p, ay, 4);
	*p++ = '-';
	p = put_digits(p, month, 2);
	*p++ = '-';
	return put_digits(p, day, 2);
}

/* HH:MM:SS, then the fraction with trailing zeros trimmed, if any. */
static char *
put_time(char *p, int64 usecs)
{
	int			frac = (int) (usecs % USECS_PER_SEC);
	int64		secs = usecs / USECS_PER_SEC;

	p = put_digits(p, (int) (secs / SECS_PER_HOUR), 2);
	*p++ = ':';
	p = put_digits(p, (int) (secs / SECS_PER_MINUTE % MINS_PER_HOUR), 2);
	*p++ = ':';
	p = put_digits(p, (int) (secs % SECS_PER_MINUTE), 2);
	if (frac != 0)
	{
		int			width = 6;

		while (frac % 10 == 0)
		{
			frac /= 10;
			width--;
		}
		*p++ = '.';
		p = put_digits(p, frac, width);
	}
	return p;
}

static void
json_special_string(StringInfo out, bool negative)
{
	if (negative)
		appendBinaryStringInfo(out, "\"-infinity\"", 11);
	else
		appendBinaryStringInfo(out, "\"infinity\"", 10);
}

/*
 * A timestamp (microseconds since 2000-01-01) as "YYYY-MM-DDTHH:MM:SS[.f]",
 * with a Z when it is a timestamptz (whose stored value is UTC already).
 */
void
json_timestamp(StringInfo out, int64 ts, bool utc)
{
	int64		date;
	int64		time;
	char	   *p;

	if (TIMESTAMP_NOT_FINITE(ts))
	{
		json_special_string(out, TIMESTAMP_IS_NOBEGIN(ts));
		return;
	}
	/* split as timestamp2tm does: floor division by a day */
	date = ts / USECS_PER_DAY;
	time = ts - date * USECS_PER_DAY;
	if (time < 0)
	{
		time += USECS_PER_DAY;
		date--;
	}
	enlargeStringInfo(out, 48);
	p = out->data + out->len;
	*p++ = '"';
	p = put_date(p, (int) (date + POSTGRES_EPOCH_JDATE));
	*p++ = 'T';
	p = put_time(p, time);
	if (utc)
		*p++ = 'Z';
	*p++ = '"';
	*p = '\0';
	out->len = p - out->data;
}

void
json_date(StringInfo out, int32 date)
{
	char	   *p;

	if (DATE_NOT_FINITE(date))
	{
		json_special_string(out, DATE_IS_NOBEGIN(date));
		return;
	}
	enlargeStringInfo(out, 24);
	p = out->data + out->len;
	*p++ = '"';
	p = put_date(p, date + POSTGRES_EPOCH_JDATE);
	*p++ = '"';
	*p = '\0';
	out->len = p - out->data;
}

/*
 * A time of day; with has_zone, zone is PostgreSQL's timetz zone (seconds
 * west of UTC) and is printed the ISO way, +HH:MM[:SS] east of UTC.
 */
void
json_time(StringInfo out, int64 time, bool has_zone, int zone)
{
	char	   *p;

	enlargeStringInfo(out, 32);
	p = out->data + out->len;
	*p++ = '"';
	p = put_time(p, time);
	if (has_zone)
	{
		int			east = -zone;

		*p++ = east < 0 ? '-' : '+';
		if (east < 0)
			east = -east;
		p = put_digits(p, east / SECS_PER_HOUR, 2);
		*p++ = ':';
		p = put_digits(p, east / SECS_PER_MINUTE % MINS_PER_HOUR, 2);
		if (east % SECS_PER_MINUTE != 0)
		{
			*p++ = ':';
			p = put_digits(p, east % SECS_PER_MINUTE, 2);
		}
	}
	*p++ = '"';
	*p = '\0';
	out->len = p - out->data;
}

/*
 * Drop the white space between tokens of the JSON text at out->data[start..]
 * in place.  The json type keeps its input as typed, newlines included,
 * and a record must stay on one line; jsonb's text form puts a space after
 * every comma and colon.  Inside strings nothing changes (a raw newline
 * cannot occur there in valid JSON).
 */
void
json_compact(StringInfo out, int start)
{
	bool		in_string = false;
	char	   *src = out->data + start;
	char	   *end = out->data + out->len;
	char	   *dst = src;

	for (; src < end; src++)
	{
		char		c = *src;

		if (in_string)
		{
			if (c == '\\' && src + 1 < end)
			{
				*dst++ = c;
				c = *++src;
			}
			else if (c == '"')
				in_string = false;
		}
		else if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			continue;
		else if (c == '"')
			in_string = true;
		*dst++ = c;
	}
	*dst = '\0';
	out->len = dst - out->data;
}

void
json_base64(StringInfo out, const char *s, int len)
{
	int			enclen = pg_b64_enc_len(len);
	int			n;

	enlargeStringInfo(out, enclen + 2);
	out->data[out->len++] = '"';
	n = pg_b64_encode(s, len, out->data + out->len, enclen);
	if (n < 0)
		elog(ERROR, "could not encode %d bytes as base64", len);
	out->len += n;
	out->data[out->len++] = '"';
	out->data[out->len] = '\0';
}

void
json_hex(StringInfo out, const char *s, int len)
{
	char	   *p;

	enlargeStringInfo(out, len * 2 + 2);
	p = out->data + out->len;
	*p++ = '"';
	for (int i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		*p++ = hexdigits[c >> 4];
		*p++ = hexdigits[c & 15];
	}
	*p++ = '"';
	*p = '\0';
	out->len = p - out->data;
}
