/*
 * pgoutput_fixture.h
 *		Shared by the pgoutput decoder's unit tests: a builder of pgoutput
 *		messages (big-endian fields, NUL-terminated strings, as proto.c
 *		writes them) and a catalogue of the types the tests use, filled
 *		by hand instead of by a server.  Header-only: each test program
 *		includes it once.
 */
#ifndef WALCAST_PGOUTPUT_FIXTURE_H
#define WALCAST_PGOUTPUT_FIXTURE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgoutput_catalog.h"

/* A message being built; fixed size, enough for every test. */
struct fx_msg
{
	char		data[65536];
	size_t		len;
};

static inline void
fx_u8(struct fx_msg *m, uint8_t v)
{
	m->data[m->len++] = (char) v;
}

static inline void
fx_u16(struct fx_msg *m, uint16_t v)
{
	fx_u8(m, (uint8_t) (v >> 8));
	fx_u8(m, (uint8_t) v);
}

static inline void
fx_u32(struct fx_msg *m, uint32_t v)
{
	fx_u16(m, (uint16_t) (v >> 16));
	fx_u16(m, (uint16_t) v);
}

static inline void
fx_u64(struct fx_msg *m, uint64_t v)
{
	fx_u32(m, (uint32_t) (v >> 32));
	fx_u32(m, (uint32_t) v);
}

static inline void
fx_str(struct fx_msg *m, const char *s)
{
	size_t		n = strlen(s) + 1;

	memcpy(m->data + m->len, s, n);
	m->len += n;
}

static inline void
fx_bytes(struct fx_msg *m, const char *s, size_t n)
{
	memcpy(m->data + m->len, s, n);
	m->len += n;
}

/* One 't' column value. */
static inline void
fx_text(struct fx_msg *m, const char *s)
{
	fx_u8(m, 't');
	fx_u32(m, (uint32_t) strlen(s));
	fx_bytes(m, s, strlen(s));
}

static inline void
fx_begin(struct fx_msg *m, uint64_t final_lsn, int64_t commit_time,
		 uint32_t xid)
{
	m->len = 0;
	fx_u8(m, 'B');
	fx_u64(m, final_lsn);
	fx_u64(m, (uint64_t) commit_time);
	fx_u32(m, xid);
}

static inline void
fx_commit(struct fx_msg *m, uint64_t commit_lsn, uint64_t end_lsn,
		  int64_t commit_time)
{
	m->len = 0;
	fx_u8(m, 'C');
	fx_u8(m, 0);
	fx_u64(m, commit_lsn);
	fx_u64(m, end_lsn);
	fx_u64(m, (uint64_t) commit_time);
}

/* Built-in type OIDs the tests use. */
enum
{
	FX_BOOL = 16, FX_BYTEA = 17, FX_INT8 = 20, FX_INT2VECTOR = 22,
	FX_INT4 = 23, FX_TEXT = 25, FX_JSON = 114, FX_FLOAT4 = 700,
	FX_FLOAT8 = 701, FX_INT4ARRAY = 1007, FX_TEXTARRAY = 1009,
	FX_BOXARRAY = 1020, FX_BOX = 603, FX_DATE = 1082, FX_TIME = 1083,
	FX_TIMESTAMP = 1114, FX_TIMESTAMPTZ = 1184, FX_INTERVAL = 1186,
	FX_TIMETZ = 1266, FX_NUMERIC = 1700, FX_UUID = 2950, FX_JSONB = 3802,
	FX_INT4RANGE = 3904, FX_INT4MULTIRANGE = 4451,
	/* user types, as a database would number them */
	FX_MOOD = 16400, FX_POSINT = 16401, FX_INNER = 16402, FX_CPX = 16403,
	FX_CPXARRAY = 16404, FX_INTARR = 16405, FX_INTARRARRAY = 16406,
	FX_TEXTRANGE = 16407
};

static inline void
fx_type(struct pgoutput_catalog *cat, uint32_t oid, enum pgoutput_kind kind,
		const char *name, uint32_t elem, char delim)
{
	struct pgoutput_type *t = pgoutput_catalog_put_type(cat, oid, kind, name);

	t->elem = elem;
	t->delim = delim;
}

/*
 * The types of the tests: built-in scalars, arrays, a range and a
 * multirange, an enum, a domain over integer, composites (one nesting
 * the other), a domain over an array and an array of it, a text range.
 */
static inline void
fx_types(struct pgoutput_catalog *cat)
{
	static const struct
	{
		uint32_t	oid;
		const char *name;
	}			scalars[] = {
		{FX_BOOL, "boolean"}, {FX_BYTEA, "bytea"}, {FX_INT8, "bigint"},
		{FX_INT4, "integer"}, {FX_TEXT, "text"}, {FX_JSON, "json"},
		{FX_FLOAT4, "real"}, {FX_FLOAT8, "double precision"},
		{FX_DATE, "date"}, {FX_TIME, "time without time zone"},
		{FX_TIMESTAMP, "timestamp without time zone"},
		{FX_TIMESTAMPTZ, "timestamp with time zone"},
		{FX_INTERVAL, "interval"}, {FX_TIMETZ, "time with time zone"},
		{FX_NUMERIC, "numeric"}, {FX_UUID, "uuid"}, {FX_JSONB, "jsonb"},
		{FX_BOX, "box"},
	};
	struct pgoutput_type *t;

	for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++)
		fx_type(cat, scalars[i].oid,
				pgoutput_catalog_builtin_kind(scalars[i].oid),
				scalars[i].name, 0, 0);
	fx_type(cat, FX_INT2VECTOR, PGOUTPUT_KIND_VECTOR, "int2vector", FX_INT4, ',');
	fx_type(cat, FX_INT4ARRAY, PGOUTPUT_KIND_ARRAY, "integer[]", FX_INT4, ',');
	fx_type(cat, FX_TEXTARRAY, PGOUTPUT_KIND_ARRAY, "text[]", FX_TEXT, ',');
	fx_type(cat, FX_BOXARRAY, PGOUTPUT_KIND_ARRAY, "box[]", FX_BOX, ';');
	fx_type(cat, FX_INT4RANGE, PGOUTPUT_KIND_RANGE, "int4range", FX_INT4, 0);
	fx_type(cat, FX_INT4MULTIRANGE, PGOUTPUT_KIND_MULTIRANGE, "int4multirange",
			FX_INT4RANGE, 0);
	fx_type(cat, FX_MOOD, PGOUTPUT_KIND_STRING, "mood", 0, 0);
	fx_type(cat, FX_POSINT, PGOUTPUT_KIND_INT, "posint", 0, 0);
	t = pgoutput_catalog_put_type(cat, FX_INNER, PGOUTPUT_KIND_COMPOSITE,
								  "inner_t");
	pgoutput_catalog_type_add_att(t, "a", FX_INT4);
	pgoutput_catalog_type_add_att(t, "b", FX_TEXT);
	t = pgoutput_catalog_put_type(cat, FX_CPX, PGOUTPUT_KIND_COMPOSITE, "cpx");
	pgoutput_catalog_type_add_att(t, "x", FX_INT4);
	pgoutput_catalog_type_add_att(t, "label", FX_TEXT);
	pgoutput_catalog_type_add_att(t, "at", FX_TIMESTAMPTZ);
	pgoutput_catalog_type_add_att(t, "nested", FX_INNER);
	pgoutput_catalog_type_add_att(t, "arr", FX_INT4ARRAY);
	fx_type(cat, FX_CPXARRAY, PGOUTPUT_KIND_ARRAY, "cpx[]", FX_CPX, ',');
	fx_type(cat, FX_INTARR, PGOUTPUT_KIND_ARRAY, "intarr", FX_INT4, ',');
	fx_type(cat, FX_INTARRARRAY, PGOUTPUT_KIND_ARRAY, "intarr[]", FX_INTARR, ',');
	fx_type(cat, FX_TEXTRANGE, PGOUTPUT_KIND_RANGE, "textrange", FX_TEXT, 0);
}

#endif							/* WALCAST_PGOUTPUT_FIXTURE_H */
