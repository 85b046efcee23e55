/*
 * pgoutput_value.h
 *		One value's text, as a type's output function prints it under the
 *		pinned session settings (pgoutput_session.h), turned into the JSON
 *		the walcast plugin writes for it (docs/format.md "Values").
 *
 * The plugin formats values from their stored form; pgoutput sends the
 * text of the output function.  Under DateStyle ISO, TimeZone UTC,
 * IntervalStyle iso_8601, extra_float_digits 3 and bytea_output hex, that
 * text determines the plugin's JSON exactly: integers and floats (shortest
 * round-trip) are already JSON numbers, dates and times need their ISO
 * form adjusted (T, Z, astronomical years, full zone offsets), bytea
 * becomes base64, and arrays, composites, ranges and multiranges are
 * parsed from their text form and each element converted by its own type.
 * A text that does not have the form the type's kind says is an error,
 * never a guess; the caller adds table and column to the message.
 */
#ifndef WALCAST_PGOUTPUT_VALUE_H
#define WALCAST_PGOUTPUT_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pgoutput_catalog.h"
#include "yyjson.h"

/* The plugin options that change values (docs/plugin-options.md). */
struct pgoutput_value_opts
{
	bool		numeric_as_string;	/* numeric-data-types-as-string (true) */
	bool		bytea_hex;		/* bytea-encoding=hex (false: base64) */
};

enum pgoutput_value_rc
{
	PGOUTPUT_VALUE_OK,
	PGOUTPUT_VALUE_ERROR,		/* err says why */
	PGOUTPUT_VALUE_STALE		/* a type the catalogue does not have, or a
								 * composite of another number of fields:
								 * load the relation's types again, retry */
};

/*
 * Convert text[0..len) of a value of type typid into *out, a value of
 * doc.  Strings are copied into doc.  err gets the type's name and what
 * is wrong, never the value itself (values are payload).
 */
extern enum pgoutput_value_rc pgoutput_value_render(yyjson_mut_doc *doc,
													const struct pgoutput_catalog *cat,
													const struct pgoutput_value_opts *opts,
													uint32_t typid,
													const char *text,
													size_t len,
													yyjson_mut_val **out,
													char *err,
													size_t errlen);

/*
 * Whether s[0..len) is valid UTF-8 as PostgreSQL's pg_utf8_islegal checks
 * it (no overlong forms, no surrogates, nothing past U+10FFFF) and holds
 * no NUL: the plugin's test for a logical message's "content".
 */
extern bool pgoutput_value_utf8(const char *s, size_t len);

/* Base64 (RFC 4648, padded) of len bytes into out, 4*ceil(len/3) bytes. */
extern size_t pgoutput_value_base64(const unsigned char *in, size_t len,
									char *out);

#endif							/* WALCAST_PGOUTPUT_VALUE_H */
