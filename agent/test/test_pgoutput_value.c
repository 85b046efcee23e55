/*
 * test_pgoutput_value.c
 *		cmocka tests of decode/pgoutput_value.c: the text of every kind of
 *		type, as PostgreSQL's output functions print it under the pinned
 *		settings, into the JSON the walcast plugin writes
 *		(docs/format.md "Values"), awkward values included; and the
 *		errors for text of any other form.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pgoutput_fixture.h"
#include "pgoutput_value.h"

static struct pgoutput_catalog *cat;
static struct pgoutput_value_opts opts = {.numeric_as_string = true};
static char err[256];

static int
setup(void **state)
{
	(void) state;
	cat = pgoutput_catalog_new(NULL, NULL);
	fx_types(cat);
	return 0;
}

static int
teardown(void **state)
{
	(void) state;
	pgoutput_catalog_free(cat);
	return 0;
}

/* The JSON text of one value (static buffer), or NULL with err set. */
static const char *
conv_rc(uint32_t typid, const char *text, size_t len,
		enum pgoutput_value_rc *rc)
{
	static char out[8192];
	yyjson_mut_doc *doc = yyjson_mut_doc_new(NULL);
	yyjson_mut_val *v = NULL;
	char	   *s;

	err[0] = '\0';
	*rc = pgoutput_value_render(doc, cat, &opts, typid, text, len, &v, err,
								sizeof(err));
	if (*rc != PGOUTPUT_VALUE_OK)
	{
		yyjson_mut_doc_free(doc);
		return NULL;
	}
	yyjson_mut_doc_set_root(doc, v);
	s = yyjson_mut_write(doc, YYJSON_WRITE_ALLOW_INVALID_UNICODE, NULL);
	assert_non_null(s);
	snprintf(out, sizeof(out), "%s", s);
	free(s);
	yyjson_mut_doc_free(doc);
	return out;
}

static const char *
conv(uint32_t typid, const char *text)
{
	enum pgoutput_value_rc rc;

	return conv_rc(typid, text, strlen(text), &rc);
}

#define assert_conv(typid, text, json) \
	do { \
		const char *got_ = conv((typid), (text)); \
		if (got_ == NULL) \
			fail_msg("%s -> error: %s", (text), err); \
		assert_string_equal(got_, (json)); \
	} while (0)

/* An error, whose message names the type and contains what. */
#define assert_conv_error(typid, text, what) \
	do { \
		enum pgoutput_value_rc rc_; \
		const char *got_ = conv_rc((typid), (text), strlen(text), &rc_); \
		if (got_ != NULL) \
			fail_msg("%s -> %s, expected an error", (text), got_); \
		assert_int_equal(rc_, PGOUTPUT_VALUE_ERROR); \
		assert_non_null(strstr(err, (what))); \
	} while (0)

static void
test_scalars(void **state)
{
	(void) state;
	assert_conv(FX_BOOL, "t", "true");
	assert_conv(FX_BOOL, "f", "false");
	assert_conv(FX_INT4, "-2147483648", "-2147483648");
	assert_conv(FX_INT8, "-9223372036854775808", "-9223372036854775808");
	assert_conv(FX_INT4, "0", "0");
	assert_conv(FX_POSINT, "42", "42");	/* a domain as its base */
	assert_conv(FX_TEXT, "", "\"\"");
	assert_conv(FX_TEXT, "q\"b\\n\n\t\x01\x1f\x7f é 😀",
				"\"q\\\"b\\\\n\\n\\t\\u0001\\u001F\x7f é 😀\"");
	assert_conv(FX_MOOD, "a,b \"q\"", "\"a,b \\\"q\\\"\"");
	assert_conv(FX_UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
				"\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
	assert_conv(FX_BOX, "(1,1),(0,0)", "\"(1,1),(0,0)\"");
	assert_conv_error(FX_BOOL, "true", "type \"boolean\": neither t nor f");
	assert_conv_error(FX_INT4, "12a", "not an integer");
	assert_conv_error(FX_INT4, "", "not an integer");
	assert_conv_error(FX_INT4, "007", "not an integer");
	assert_conv_error(FX_INT4, "1.5", "not an integer");
}

static void
test_floats_and_numeric(void **state)
{
	(void) state;
	/* extra_float_digits 3: the shortest round-trip text, as JSON numbers */
	assert_conv(FX_FLOAT8, "0.1", "0.1");
	assert_conv(FX_FLOAT8, "1e+100", "1e+100");
	assert_conv(FX_FLOAT8, "5e-324", "5e-324");
	assert_conv(FX_FLOAT8, "-0", "-0");
	assert_conv(FX_FLOAT8, "1.7976931348623157e+308", "1.7976931348623157e+308");
	assert_conv(FX_FLOAT4, "3.4028235e+38", "3.4028235e+38");
	assert_conv(FX_FLOAT8, "NaN", "\"NaN\"");
	assert_conv(FX_FLOAT8, "Infinity", "\"Infinity\"");
	assert_conv(FX_FLOAT4, "-Infinity", "\"-Infinity\"");
	assert_conv_error(FX_FLOAT8, "1,5", "not a number");
	assert_conv_error(FX_FLOAT8, "inf", "not a number");
	assert_conv_error(FX_FLOAT8, ".5", "not a number");

	/* numeric: exact digits as a string by default */
	assert_conv(FX_NUMERIC, "12.340", "\"12.340\"");
	assert_conv(FX_NUMERIC, "-0.00000000000000000001", "\"-0.00000000000000000001\"");
	assert_conv(FX_NUMERIC, "NaN", "\"NaN\"");
	assert_conv(FX_NUMERIC, "-Infinity", "\"-Infinity\"");
	opts.numeric_as_string = false;
	assert_conv(FX_NUMERIC, "12.340", "12.340");
	assert_conv(FX_NUMERIC, "Infinity", "\"Infinity\"");
	opts.numeric_as_string = true;
	assert_conv_error(FX_NUMERIC, "1 000", "not a number");
}

static void
test_json(void **state)
{
	(void) state;
	/* json: white space between tokens dropped, the rest as stored */
	assert_conv(FX_JSON, "{\"a\" : [1, 2.50, \"x y\"],\n \"a\": {\"\\u00e9\\/\": null},\t\"n\": 1e400}",
				"{\"a\":[1,2.50,\"x y\"],\"a\":{\"\\u00e9\\/\":null},\"n\":1e400}");
	assert_conv(FX_JSON, " \"\\ud800 lone\" ", "\"\\ud800 lone\"");
	assert_conv(FX_JSON, "\"\\u0000\"", "\"\\u0000\"");
	assert_conv(FX_JSON, "[]", "[]");
	assert_conv(FX_JSON, "[[[{}]]]", "[[[{}]]]");
	assert_conv(FX_JSON, "-0.5e-3", "-0.5e-3");
	assert_conv(FX_JSON, "null", "null");
	assert_conv(FX_JSONB, "{\"a\": 1.0, \"b\": {\"c\": [true, false]}, \"s\": \"x, y: z\"}",
				"{\"a\":1.0,\"b\":{\"c\":[true,false]},\"s\":\"x, y: z\"}");
	assert_conv_error(FX_JSON, "{\"a\":1,}", "not valid JSON");
	assert_conv_error(FX_JSON, "[1 2]", "not valid JSON");
	assert_conv_error(FX_JSON, "\"\\x\"", "not valid JSON");
	assert_conv_error(FX_JSON, "\"\\u12\"", "not valid JSON");
	assert_conv_error(FX_JSON, "\"a\nb\"", "not valid JSON");
	assert_conv_error(FX_JSON, "{\"a\" 1}", "not valid JSON");
	assert_conv_error(FX_JSON, "[1]]", "not valid JSON");
	assert_conv_error(FX_JSON, "[1", "not valid JSON");
	assert_conv_error(FX_JSON, "tru", "not valid JSON");
	assert_conv_error(FX_JSON, "01", "not valid JSON");
	assert_conv_error(FX_JSON, "", "not valid JSON");
	assert_conv_error(FX_JSON, "{1:2}", "not valid JSON");

	/*
	 * A NUL byte is no escape and no digit: strchr() finds it, as its
	 * terminator (test/fuzz_pgoutput_value wrote a record with "\<NUL>"
	 * in it, which no JSON reader accepts).
	 */
	{
		enum pgoutput_value_rc rc;

		assert_null(conv_rc(FX_JSONB, "\"\\\0\"", 4, &rc));
		assert_int_equal(rc, PGOUTPUT_VALUE_ERROR);
		assert_null(conv_rc(FX_JSON, "[1\0]", 4, &rc));
		assert_int_equal(rc, PGOUTPUT_VALUE_ERROR);
	}
}

static void
test_bytea(void **state)
{
	(void) state;
	assert_conv(FX_BYTEA, "\\x", "\"\"");
	assert_conv(FX_BYTEA, "\\x00ff10", "\"AP8Q\"");
	assert_conv(FX_BYTEA, "\\x01", "\"AQ==\"");
	assert_conv(FX_BYTEA, "\\x0102", "\"AQI=\"");
	assert_conv(FX_BYTEA, "\\xFFfe", "\"//4=\"");
	opts.bytea_hex = true;
	assert_conv(FX_BYTEA, "\\x00FF10", "\"00ff10\"");
	opts.bytea_hex = false;
	assert_conv_error(FX_BYTEA, "\\000\\377", "is bytea_output pinned to hex?");
	assert_conv_error(FX_BYTEA, "\\x0", "hex format");
	assert_conv_error(FX_BYTEA, "\\x0g", "non-hex digit");
}

static void
test_dates_and_times(void **state)
{
	(void) state;
	assert_conv(FX_DATE, "2024-02-29", "\"2024-02-29\"");
	assert_conv(FX_DATE, "0044-03-15 BC", "\"-0043-03-15\"");
	assert_conv(FX_DATE, "0001-01-01 BC", "\"0000-01-01\"");
	assert_conv(FX_DATE, "4713-01-01 BC", "\"-4712-01-01\"");
	assert_conv(FX_DATE, "5874897-12-31", "\"5874897-12-31\"");
	assert_conv(FX_DATE, "infinity", "\"infinity\"");
	assert_conv(FX_DATE, "-infinity", "\"-infinity\"");
	assert_conv(FX_TIME, "24:00:00", "\"24:00:00\"");
	assert_conv(FX_TIME, "13:14:15.000001", "\"13:14:15.000001\"");
	assert_conv(FX_TIMETZ, "13:14:15.5+05:30", "\"13:14:15.5+05:30\"");
	assert_conv(FX_TIMETZ, "00:00:00-08", "\"00:00:00-08:00\"");
	assert_conv(FX_TIMETZ, "12:00:00+00", "\"12:00:00+00:00\"");
	assert_conv(FX_TIMETZ, "12:00:00+05:45:30", "\"12:00:00+05:45:30\"");
	assert_conv(FX_TIMESTAMP, "2024-02-29 13:14:15.123456", "\"2024-02-29T13:14:15.123456\"");
	assert_conv(FX_TIMESTAMP, "294276-12-31 23:59:59.999999", "\"294276-12-31T23:59:59.999999\"");
	assert_conv(FX_TIMESTAMP, "0044-03-15 12:00:00 BC", "\"-0043-03-15T12:00:00\"");
	assert_conv(FX_TIMESTAMPTZ, "2024-02-29 11:14:15.1+00", "\"2024-02-29T11:14:15.1Z\"");
	assert_conv(FX_TIMESTAMPTZ, "0044-03-15 12:00:00+00 BC", "\"-0043-03-15T12:00:00Z\"");
	assert_conv(FX_TIMESTAMPTZ, "10000-01-01 00:00:00+00", "\"10000-01-01T00:00:00Z\"");
	assert_conv(FX_TIMESTAMPTZ, "-infinity", "\"-infinity\"");
	assert_conv(FX_INTERVAL, "P1Y2M3DT4H5M6.5S", "\"P1Y2M3DT4H5M6.5S\"");
	assert_conv(FX_INTERVAL, "PT0S", "\"PT0S\"");
	assert_conv(FX_INTERVAL, "P-1Y-2M3DT-4H-5M-6.789S", "\"P-1Y-2M3DT-4H-5M-6.789S\"");

	/* what other session settings print: refused, each saying which */
	assert_conv_error(FX_DATE, "29/02/2024", "is DateStyle pinned to ISO?");
	assert_conv_error(FX_DATE, "02-29-2024", "is DateStyle pinned to ISO?");
	assert_conv_error(FX_TIMESTAMP, "Thu Feb 29 13:14:15 2024", "is DateStyle pinned to ISO?");
	assert_conv_error(FX_TIMESTAMPTZ, "2024-02-29 16:59:15.1+05:45", "is TimeZone pinned to UTC?");
	assert_conv_error(FX_TIMESTAMPTZ, "2024-02-29 11:14:15.1", "is TimeZone pinned to UTC?");
	assert_conv_error(FX_TIMESTAMPTZ, "2024-02-29 11:14:15.1 UTC", "is TimeZone pinned to UTC?");
	assert_conv_error(FX_INTERVAL, "1 year 2 mons", "is IntervalStyle pinned to iso_8601?");
	assert_conv_error(FX_INTERVAL, "+1-2 +3 +4:05:06.5", "is IntervalStyle pinned to iso_8601?");
	assert_conv_error(FX_DATE, "2024-02-29x", "after the date");
	assert_conv_error(FX_DATE, "0000-01-01 BC", "not an ISO date");
	assert_conv_error(FX_TIME, "1:02:03", "not an ISO time");
	assert_conv_error(FX_TIMETZ, "13:14:15+5", "not an ISO time with time zone");
	assert_conv_error(FX_TIMETZ, "13:14:15+05:3", "not an ISO time zone offset");
}

static void
test_arrays(void **state)
{
	(void) state;
	assert_conv(FX_INT4ARRAY, "{}", "[]");
	assert_conv(FX_INT4ARRAY, "{1,2,3}", "[1,2,3]");
	assert_conv(FX_INT4ARRAY, "{{1,NULL},{NULL,4}}", "[[1,null],[null,4]]");
	assert_conv(FX_INT4ARRAY, "[0:1]={1,2}", "[1,2]");
	assert_conv(FX_INT4ARRAY, "[0:1][-1:0]={{1,NULL},{null,4}}", "[[1,null],[null,4]]");
	assert_conv(FX_INT4ARRAY, "{{{1,2}},{{3,4}}}", "[[[1,2]],[[3,4]]]");
	assert_conv(FX_TEXTARRAY,
				"{\"a\\\"b\",\"\",NULL,\"NULL\",\"null\",\"x,y\",\" s \",\"{brace}\",\"back\\\\slash\",é,a;b}",
				"[\"a\\\"b\",\"\",null,\"NULL\",\"null\",\"x,y\",\" s \",\"{brace}\",\"back\\\\slash\",\"é\",\"a;b\"]");
	/* box's delimiter is ';' and its text holds commas */
	assert_conv(FX_BOXARRAY, "{(1,1),(0,0);(3,4),(1,2)}", "[\"(1,1),(0,0)\",\"(3,4),(1,2)\"]");
	/* composites as elements: quoted, with their own quoting inside */
	assert_conv(FX_CPXARRAY, "{\"(1,\\\"a,b\\\",,\\\"(2,\\\"\\\"q\\\"\\\")\\\",{7})\",NULL,\"(,,,,)\"}",
				"[{\"x\":1,\"label\":\"a,b\",\"at\":null,\"nested\":{\"a\":2,\"b\":\"q\"},\"arr\":[7]},"
				"null,{\"x\":null,\"label\":null,\"at\":null,\"nested\":null,\"arr\":null}]");
	/* an array of a domain over an array: elements are arrays */
	assert_conv(FX_INTARRARRAY, "{\"{1,2}\",{}}", "[[1,2],[]]");
	assert_conv(FX_INT2VECTOR, "1 2 3", "[1,2,3]");
	assert_conv(FX_INT2VECTOR, "", "[]");

	assert_conv_error(FX_INT4ARRAY, "1,2", "opening brace");
	assert_conv_error(FX_INT4ARRAY, "{1,2", "neither a delimiter nor a brace");
	assert_conv_error(FX_INT4ARRAY, "{1,,2}", "empty bare array element");
	assert_conv_error(FX_INT4ARRAY, "{1,2}x", "after the array");
	assert_conv_error(FX_INT4ARRAY, "[0:1={1,2}", "malformed array dimensions");
	assert_conv_error(FX_INT4ARRAY, "{1,x}", "type \"integer\": not an integer");
	assert_conv_error(FX_TEXTARRAY, "{\"abc}", "unterminated");
	assert_conv_error(FX_INT4ARRAY, "{{{{{{{1}}}}}}}", "more than 6 array dimensions");
	assert_conv_error(FX_INT2VECTOR, "1  2", "empty vector element");
	assert_conv_error(FX_INT2VECTOR, "1 2 ", "trailing space");
}

static void
test_composites(void **state)
{
	enum pgoutput_value_rc rc;

	(void) state;
	assert_conv(FX_CPX, "(5,\"label, with \"\"quotes\"\" and (parens)\",\"2024-03-01 11:00:00+00\",\"(7,\"\" sp \"\")\",\"{1,2,NULL}\")",
				"{\"x\":5,\"label\":\"label, with \\\"quotes\\\" and (parens)\",\"at\":\"2024-03-01T11:00:00Z\","
				"\"nested\":{\"a\":7,\"b\":\" sp \"},\"arr\":[1,2,null]}");
	assert_conv(FX_CPX, "(,\"\",,,)", "{\"x\":null,\"label\":\"\",\"at\":null,\"nested\":null,\"arr\":null}");
	/* record_in's backslash escapes too */
	assert_conv(FX_INNER, "(1,a\\,b)", "{\"a\":1,\"b\":\"a,b\"}");
	assert_conv(FX_INNER, "(1,\"back\\\\slash\")", "{\"a\":1,\"b\":\"back\\\\slash\"}");

	/* another number of fields: the cached type may be stale */
	assert_null(conv_rc(FX_INNER, "(1,a,b)", 7, &rc));
	assert_int_equal(rc, PGOUTPUT_VALUE_STALE);
	assert_non_null(strstr(err, "inner_t"));
	assert_null(conv_rc(FX_INNER, "(1)", 3, &rc));
	assert_int_equal(rc, PGOUTPUT_VALUE_STALE);
	/* a type the catalogue does not have */
	assert_null(conv_rc(99999, "x", 1, &rc));
	assert_int_equal(rc, PGOUTPUT_VALUE_STALE);
	assert_non_null(strstr(err, "99999"));
	assert_conv_error(FX_INNER, "1,a", "parentheses");
	assert_conv_error(FX_INNER, "(1,\"a)", "unterminated");
}

static void
test_ranges(void **state)
{
	(void) state;
	assert_conv(FX_INT4RANGE, "[1,10)", "{\"lower\":1,\"upper\":10,\"lower_inc\":true,\"upper_inc\":false}");
	assert_conv(FX_INT4RANGE, "(,5]", "{\"lower\":null,\"upper\":5,\"lower_inc\":false,\"upper_inc\":true}");
	assert_conv(FX_INT4RANGE, "(,)", "{\"lower\":null,\"upper\":null,\"lower_inc\":false,\"upper_inc\":false}");
	assert_conv(FX_INT4RANGE, "empty", "{\"empty\":true}");
	assert_conv(FX_TEXTRANGE, "[\"a b\",\"z\\\"q\")", "{\"lower\":\"a b\",\"upper\":\"z\\\"q\",\"lower_inc\":true,\"upper_inc\":false}");
	assert_conv(FX_TEXTRANGE, "[\"\",zz)", "{\"lower\":\"\",\"upper\":\"zz\",\"lower_inc\":true,\"upper_inc\":false}");
	assert_conv(FX_TEXTRANGE, "[\"a\"\"b\",\"c,d\"]", "{\"lower\":\"a\\\"b\",\"upper\":\"c,d\",\"lower_inc\":true,\"upper_inc\":true}");
	assert_conv(FX_INT4MULTIRANGE, "{}", "[]");
	assert_conv(FX_INT4MULTIRANGE, "{[1,3),[5,7)}",
				"[{\"lower\":1,\"upper\":3,\"lower_inc\":true,\"upper_inc\":false},"
				"{\"lower\":5,\"upper\":7,\"lower_inc\":true,\"upper_inc\":false}]");
	assert_conv(FX_INT4MULTIRANGE, "{(,3),[5,)}",
				"[{\"lower\":null,\"upper\":3,\"lower_inc\":false,\"upper_inc\":false},"
				"{\"lower\":5,\"upper\":null,\"lower_inc\":true,\"upper_inc\":false}]");
	assert_conv_error(FX_INT4RANGE, "1,10", "opening bracket");
	assert_conv_error(FX_INT4RANGE, "[1,10", "closing bracket");
	assert_conv_error(FX_INT4RANGE, "[1,10)x", "after the range");
	assert_conv_error(FX_INT4MULTIRANGE, "{[1,3)[5,7)}", "commas");
	assert_conv_error(FX_INT4MULTIRANGE, "{[1,3),}", "commas");
	assert_conv_error(FX_INT4MULTIRANGE, "[1,3)", "braces");
}

/* A composite type nesting itself through arrays, deeper than the bound. */
static void
test_depth_bound(void **state)
{
	char		text[4096];
	size_t		n = 0;
	enum pgoutput_value_rc rc;
	struct pgoutput_type *t;

	(void) state;
	t = pgoutput_catalog_put_type(cat, 17000, PGOUTPUT_KIND_COMPOSITE, "selfish");
	pgoutput_catalog_type_add_att(t, "s", 17000);
	for (int i = 0; i < 100; i++)
		text[n++] = '(';
	for (int i = 0; i < 100; i++)
		text[n++] = ')';
	assert_null(conv_rc(17000, text, n, &rc));
	assert_int_equal(rc, PGOUTPUT_VALUE_ERROR);
	assert_non_null(strstr(err, "nested too deep"));
}

static void
test_utf8_and_base64(void **state)
{
	char		b64[16];

	(void) state;
	assert_true(pgoutput_value_utf8("", 0));
	assert_true(pgoutput_value_utf8("plain é € 😀", strlen("plain é € 😀")));
	assert_true(pgoutput_value_utf8("\xf4\x8f\xbf\xbf", 4));	/* U+10FFFF */
	assert_false(pgoutput_value_utf8("a\0b", 3));	/* NUL */
	assert_false(pgoutput_value_utf8("\xe9", 1));	/* Latin-1 */
	assert_false(pgoutput_value_utf8("\xc0\xaf", 2));	/* overlong */
	assert_false(pgoutput_value_utf8("\xe0\x80\xaf", 3));	/* overlong */
	assert_false(pgoutput_value_utf8("\xed\xa0\x80", 3));	/* surrogate */
	assert_false(pgoutput_value_utf8("\xf4\x90\x80\x80", 4));	/* > U+10FFFF */
	assert_false(pgoutput_value_utf8("\xe2\x82", 2));	/* truncated */
	assert_false(pgoutput_value_utf8("\xff\xfe", 2));
	assert_int_equal(pgoutput_value_base64((const unsigned char *) "", 0, b64), 0);
	b64[pgoutput_value_base64((const unsigned char *) "f", 1, b64)] = '\0';
	assert_string_equal(b64, "Zg==");
	b64[pgoutput_value_base64((const unsigned char *) "fo", 2, b64)] = '\0';
	assert_string_equal(b64, "Zm8=");
	b64[pgoutput_value_base64((const unsigned char *) "foob", 4, b64)] = '\0';
	assert_string_equal(b64, "Zm9vYg==");
}

/*
 * Random mutations of valid texts of every kind: each is converted or
 * refused, never read past its end (AddressSanitizer) nor crashed on.
 */
static void
test_fuzz(void **state)
{
	static const struct
	{
		uint32_t	typid;
		const char *text;
	}			seeds[] = {
		{FX_JSON, "{\"a\" : [1, 2.50, \"x\\u00e9\"], \"b\": {\"c\": null}}"},
		{FX_INT4ARRAY, "[0:1][-1:0]={{1,NULL},{NULL,4}}"},
		{FX_TEXTARRAY, "{\"a\\\"b\",\"\",NULL,\"x,y\"}"},
		{FX_CPXARRAY, "{\"(1,\\\"a,b\\\",,\\\"(2,q)\\\",{7})\",NULL}"},
		{FX_CPX, "(5,\"l \"\"q\"\"\",\"2024-03-01 11:00:00+00\",\"(7,x)\",\"{1,NULL}\")"},
		{FX_TEXTRANGE, "[\"a b\",\"z\\\"q\")"},
		{FX_INT4MULTIRANGE, "{[1,3),(,7]}"},
		{FX_TIMESTAMPTZ, "0044-03-15 12:00:00.5+00 BC"},
		{FX_TIMETZ, "13:14:15.5+05:30:15"},
		{FX_BYTEA, "\\x00ff10"},
		{FX_INT2VECTOR, "1 2 3"},
		{FX_FLOAT8, "-1.5e-300"},
		{FX_INTARRARRAY, "{\"{1,2}\",{}}"},
	};
	static const char specials[] = "{}()[],\"\\ ;:NUL0x-+";
	uint64_t	rng = 0x2545F4914F6CDD1Du;
	char		buf[256];
	int			ok = 0;

	(void) state;
	for (int iter = 0; iter < 100000; iter++)
	{
		size_t		k = (size_t) iter % (sizeof(seeds) / sizeof(seeds[0]));
		size_t		len = strlen(seeds[k].text);
		enum pgoutput_value_rc rc;

		memcpy(buf, seeds[k].text, len);
		for (int e = 0; e < 1 + iter % 3; e++)
		{
			size_t		pos;

			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			pos = (size_t) (rng >> 16) % len;
			switch (rng % 4)
			{
				case 0:
					buf[pos] = specials[(rng >> 40) % (sizeof(specials) - 1)];
					break;
				case 1:
					len = pos;	/* truncated */
					break;
				case 2:
					memmove(buf + pos, buf + pos + 1, len - pos - 1);
					len--;
					break;
				default:
					buf[pos] = (char) (rng >> 32);
					break;
			}
			if (len == 0)
				break;
		}
		/* an exact-size copy, so that a read past its end is caught */
		{
			char	   *copy = malloc(len ? len : 1);

			memcpy(copy, buf, len);
			if (conv_rc(seeds[k].typid, copy, len, &rc) != NULL)
				ok++;
			else
				assert_true(err[0] != '\0');
			free(copy);
		}
	}
	assert_true(ok > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_floats_and_numeric),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_bytea),
		cmocka_unit_test(test_dates_and_times),
		cmocka_unit_test(test_arrays),
		cmocka_unit_test(test_composites),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_depth_bound),
		cmocka_unit_test(test_utf8_and_base64),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
