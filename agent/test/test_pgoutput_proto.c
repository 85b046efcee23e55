/*
 * test_pgoutput_proto.c
 *		cmocka tests of decode/pgoutput_proto.c: every message kind the
 *		decoder reads, the ones it refuses, and hostile input: every
 *		truncation of every valid message, lying counts and lengths, and
 *		random mutations (built with AddressSanitizer by test/pgoutput.mk,
 *		so an over-read fails the test).
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
#include "pgoutput_proto.h"

static struct pgoutput_proto proto;
static struct pgoutput_msg msg;
static char err[256];

static bool
parse(const struct fx_msg *m)
{
	err[0] = '\0';
	return pgoutput_proto_parse(&proto, m->data, m->len, &msg, err, sizeof(err));
}

/*
 * Parse a copy of exactly len bytes in a buffer of its own, so that
 * AddressSanitizer sees any read past the end.
 */
static bool
parse_exact(const char *data, size_t len)
{
	char	   *copy = malloc(len ? len : 1);
	bool		ok;

	memcpy(copy, data, len);
	err[0] = '\0';
	ok = pgoutput_proto_parse(&proto, copy, len, &msg, err, sizeof(err));
	free(copy);
	return ok;
}

#define assert_parse_error(m, what) \
	do { \
		assert_false(parse(m)); \
		if (strstr(err, (what)) == NULL) \
			fail_msg("error \"%s\" does not say \"%s\"", err, (what)); \
	} while (0)

static void
build_relation(struct fx_msg *m)
{
	m->len = 0;
	fx_u8(m, 'R');
	fx_u32(m, 16384);
	fx_str(m, "");				/* pg_catalog, sent empty */
	fx_str(m, "t");
	fx_u8(m, 'd');
	fx_u16(m, 3);
	fx_u8(m, 1);
	fx_str(m, "id");
	fx_u32(m, 23);
	fx_u32(m, 0xffffffff);		/* typmod -1 */
	fx_u8(m, 0);
	fx_str(m, "name");
	fx_u32(m, 1043);
	fx_u32(m, 24);
	fx_u8(m, 0);
	fx_str(m, "é col");
	fx_u32(m, 25);
	fx_u32(m, 0xffffffff);
}

static void
build_update(struct fx_msg *m, char old_kind)
{
	m->len = 0;
	fx_u8(m, 'U');
	fx_u32(m, 16384);
	if (old_kind)
	{
		fx_u8(m, (uint8_t) old_kind);
		fx_u16(m, 3);
		fx_text(m, "1");
		fx_u8(m, 'n');
		fx_u8(m, 'n');
	}
	fx_u8(m, 'N');
	fx_u16(m, 3);
	fx_text(m, "2");
	fx_u8(m, 'u');
	fx_text(m, "");
}

static void
build_truncate(struct fx_msg *m, uint8_t flags)
{
	m->len = 0;
	fx_u8(m, 'T');
	fx_u32(m, 3);
	fx_u8(m, flags);
	fx_u32(m, 16384);
	fx_u32(m, 16390);
	fx_u32(m, 4294967295u);
}

static void
build_message(struct fx_msg *m, bool transactional)
{
	m->len = 0;
	fx_u8(m, 'M');
	fx_u8(m, transactional ? 1 : 0);
	fx_u64(m, UINT64_C(0x100000016B3748));
	fx_str(m, "prefix");
	fx_u32(m, 4);
	fx_bytes(m, "a\0\xff\n", 4);
}

static void
test_begin_commit_origin(void **state)
{
	struct fx_msg m;

	(void) state;
	fx_begin(&m, UINT64_C(0x1516F38), INT64_C(848797626912475), 726);
	assert_true(parse(&m));
	assert_int_equal(msg.kind, 'B');
	assert_true(msg.u.begin.final_lsn == UINT64_C(0x1516F38));
	assert_true(msg.u.begin.commit_time == INT64_C(848797626912475));
	assert_int_equal(msg.u.begin.xid, 726);

	fx_commit(&m, UINT64_C(0x1516F38), UINT64_C(0x1516F68), -5);
	assert_true(parse(&m));
	assert_int_equal(msg.kind, 'C');
	assert_true(msg.u.commit.end_lsn == UINT64_C(0x1516F68));
	assert_true(msg.u.commit.commit_time == -5);
	m.data[1] = 1;				/* a flag no version defines */
	assert_parse_error(&m, "unknown flags 0x01");

	m.len = 0;
	fx_u8(&m, 'O');
	fx_u64(&m, 42);
	fx_str(&m, "pg_16399");
	assert_true(parse(&m));
	assert_string_equal(msg.u.origin.name, "pg_16399");
}

static void
test_relation_and_type(void **state)
{
	struct fx_msg m;

	(void) state;
	build_relation(&m);
	assert_true(parse(&m));
	assert_int_equal(msg.u.relation.relid, 16384);
	assert_string_equal(msg.u.relation.nspname, "pg_catalog");
	assert_string_equal(msg.u.relation.relname, "t");
	assert_int_equal(msg.u.relation.replident, 'd');
	assert_int_equal(msg.u.relation.natts, 3);
	assert_int_equal(msg.u.relation.atts[0].flags, PGOUTPUT_ATT_KEY);
	assert_int_equal(msg.u.relation.atts[0].typmod, -1);
	assert_string_equal(msg.u.relation.atts[1].name, "name");
	assert_int_equal(msg.u.relation.atts[1].typid, 1043);
	assert_int_equal(msg.u.relation.atts[1].typmod, 24);
	assert_string_equal(msg.u.relation.atts[2].name, "é col");

	build_relation(&m);
	m.data[1 + 4 + 1 + 2] = 'x';	/* the replica identity */
	assert_parse_error(&m, "unknown replica identity");

	/* a column count the bytes cannot hold */
	build_relation(&m);
	m.data[1 + 4 + 1 + 2 + 1] = (char) 0xff;
	assert_parse_error(&m, "columns announced");

	m.len = 0;
	fx_u8(&m, 'Y');
	fx_u32(&m, 16400);
	fx_str(&m, "public");
	fx_str(&m, "mood");
	assert_true(parse(&m));
	assert_int_equal(msg.u.type.typid, 16400);
	assert_string_equal(msg.u.type.nspname, "public");
	assert_string_equal(msg.u.type.typname, "mood");
}

static void
test_changes(void **state)
{
	struct fx_msg m;

	(void) state;
	m.len = 0;
	fx_u8(&m, 'I');
	fx_u32(&m, 16384);
	fx_u8(&m, 'N');
	fx_u16(&m, 2);
	fx_text(&m, "1");
	fx_u8(&m, 'n');
	assert_true(parse(&m));
	assert_int_equal(msg.u.change.old_kind, 0);
	assert_int_equal(msg.u.change.new.ncols, 2);
	assert_int_equal(msg.u.change.new.cols[0].status, 't');
	assert_int_equal(msg.u.change.new.cols[0].len, 1);
	assert_memory_equal(msg.u.change.new.cols[0].data, "1", 1);
	assert_int_equal(msg.u.change.new.cols[1].status, 'n');

	for (int k = 0; k < 3; k++)
	{
		char		old_kind = "\0KO"[k];

		build_update(&m, old_kind);
		assert_true(parse(&m));
		assert_int_equal(msg.u.change.old_kind, old_kind);
		assert_int_equal(msg.u.change.old.ncols, old_kind ? 3 : 0);
		if (old_kind)
			assert_memory_equal(msg.u.change.old.cols[0].data, "1", 1);
		assert_int_equal(msg.u.change.new.ncols, 3);
		assert_memory_equal(msg.u.change.new.cols[0].data, "2", 1);
		assert_int_equal(msg.u.change.new.cols[1].status, 'u');
		assert_int_equal(msg.u.change.new.cols[2].len, 0);
	}

	m.len = 0;
	fx_u8(&m, 'D');
	fx_u32(&m, 16384);
	fx_u8(&m, 'K');
	fx_u16(&m, 1);
	fx_text(&m, "7");
	assert_true(parse(&m));
	assert_int_equal(msg.u.change.old_kind, 'K');
	assert_int_equal(msg.u.change.new.ncols, 0);

	/* a delete without an old tuple, an insert with one */
	m.len = 0;
	fx_u8(&m, 'D');
	fx_u32(&m, 16384);
	fx_u8(&m, 'N');
	fx_u16(&m, 0);
	assert_parse_error(&m, "expected an old tuple");
	m.data[0] = 'I';
	m.data[5] = 'K';
	assert_parse_error(&m, "expected a new tuple ('N')");

	/* binary values are never asked for */
	m.len = 0;
	fx_u8(&m, 'I');
	fx_u32(&m, 16384);
	fx_u8(&m, 'N');
	fx_u16(&m, 1);
	fx_u8(&m, 'b');
	fx_u32(&m, 4);
	fx_u32(&m, 1);
	assert_parse_error(&m, "column 1 is in binary format");
	m.data[8] = 'z';
	assert_parse_error(&m, "unknown status byte 0x7a");

	/* a length that lies */
	m.len = 0;
	fx_u8(&m, 'I');
	fx_u32(&m, 16384);
	fx_u8(&m, 'N');
	fx_u16(&m, 1);
	fx_u8(&m, 't');
	fx_u32(&m, 0x7fffffff);
	fx_bytes(&m, "abc", 3);
	assert_parse_error(&m, "column 1: 2147483647 bytes announced, 3 left");
}

static void
test_truncate_and_message(void **state)
{
	struct fx_msg m;

	(void) state;
	for (uint8_t flags = 0; flags < 4; flags++)
	{
		build_truncate(&m, flags);
		assert_true(parse(&m));
		assert_int_equal(msg.u.truncate.nrelids, 3);
		assert_int_equal(msg.u.truncate.cascade, (flags & 1) != 0);
		assert_int_equal(msg.u.truncate.restart_identity, (flags & 2) != 0);
		assert_int_equal(msg.u.truncate.relids[2], 4294967295u);
	}
	build_truncate(&m, 4);
	assert_parse_error(&m, "unknown flags 0x04");
	build_truncate(&m, 0);
	m.data[1] = 0x40;			/* 2^30 relations in 12 bytes */
	assert_parse_error(&m, "relations announced");
	m.len = 0;
	fx_u8(&m, 'T');
	fx_u32(&m, 0);
	fx_u8(&m, 0);
	assert_parse_error(&m, "no relation");

	build_message(&m, true);
	assert_true(parse(&m));
	assert_true(msg.u.message.transactional);
	assert_true(msg.u.message.lsn == UINT64_C(0x100000016B3748));
	assert_string_equal(msg.u.message.prefix, "prefix");
	assert_int_equal(msg.u.message.content_len, 4);
	assert_memory_equal(msg.u.message.content, "a\0\xff\n", 4);
	build_message(&m, false);
	assert_true(parse(&m));
	assert_false(msg.u.message.transactional);
	m.data[1] = 2;
	assert_parse_error(&m, "unknown flags 0x02");
	build_message(&m, false);
	m.data[m.len - 5] = 5;		/* content length 5, 4 bytes there */
	assert_parse_error(&m, "content of 5 bytes announced, 4 left");
}

static void
test_refused_and_malformed(void **state)
{
	struct fx_msg m;
	const char *streaming = "SEcA";
	const char *twophase = "bPKrp";

	(void) state;
	for (const char *k = streaming; *k; k++)
	{
		m.len = 0;
		fx_u8(&m, (uint8_t) *k);
		fx_u32(&m, 1);
		assert_parse_error(&m, "streaming of in-progress transactions, which the agent never asks for");
	}
	for (const char *k = twophase; *k; k++)
	{
		m.len = 0;
		fx_u8(&m, (uint8_t) *k);
		assert_parse_error(&m, "two-phase decoding");
	}
	m.len = 0;
	fx_u8(&m, 'Z');
	assert_parse_error(&m, "message 'Z': unknown message type");
	m.len = 0;
	fx_u8(&m, 0x01);
	assert_parse_error(&m, "message 0x01: unknown message type");
	m.len = 0;
	assert_parse_error(&m, "empty");

	/* trailing bytes: a field this parser does not know */
	fx_begin(&m, 1, 2, 3);
	fx_u8(&m, 0);
	assert_parse_error(&m, "1 unexpected bytes after the last field");

	/* a string without its NUL */
	m.len = 0;
	fx_u8(&m, 'Y');
	fx_u32(&m, 1);
	fx_str(&m, "public");
	fx_bytes(&m, "mood", 4);
	assert_parse_error(&m, "the type name has no terminating NUL");

	/* an empty column name */
	build_relation(&m);
	m.len = 0;
	fx_u8(&m, 'R');
	fx_u32(&m, 1);
	fx_str(&m, "s");
	fx_str(&m, "t");
	fx_u8(&m, 'f');
	fx_u16(&m, 1);
	fx_u8(&m, 0);
	fx_str(&m, "");
	fx_u32(&m, 23);
	fx_u32(&m, 0);
	assert_parse_error(&m, "column 1 has an empty name");
}

/*
 * OID 0 (InvalidOid) where a relation or type is named: PostgreSQL never
 * sends it, and the catalogue could never find or free an entry filed
 * under it (found by test/fuzz_pgoutput: a leak per such Relation).
 */
static void
test_invalid_oid(void **state)
{
	struct fx_msg m;

	(void) state;
	build_relation(&m);
	m.data[1] = m.data[2] = m.data[3] = m.data[4] = 0;
	assert_parse_error(&m, "the relation OID is 0 (InvalidOid)");

	m.len = 0;
	fx_u8(&m, 'R');
	fx_u32(&m, 16384);
	fx_str(&m, "s");
	fx_str(&m, "t");
	fx_u8(&m, 'd');
	fx_u16(&m, 1);
	fx_u8(&m, 1);
	fx_str(&m, "id");
	fx_u32(&m, 0);
	fx_u32(&m, 0xffffffff);
	assert_parse_error(&m, "a column's type is 0 (InvalidOid)");

	build_update(&m, 'K');
	m.data[1] = m.data[2] = m.data[3] = m.data[4] = 0;
	assert_parse_error(&m, "the relation OID is 0 (InvalidOid)");

	build_truncate(&m, 0);
	m.data[10] = m.data[11] = m.data[12] = m.data[13] = 0;	/* the second */
	assert_parse_error(&m, "a relation OID is 0 (InvalidOid)");

	m.len = 0;
	fx_u8(&m, 'Y');
	fx_u32(&m, 0);
	fx_str(&m, "public");
	fx_str(&m, "mood");
	assert_parse_error(&m, "the type OID is 0 (InvalidOid)");
}

/* Every valid message used above. */
static size_t
valid_messages(struct fx_msg *out)
{
	size_t		n = 0;

	fx_begin(&out[n++], 1, 2, 3);
	fx_commit(&out[n++], 1, 2, 3);
	build_relation(&out[n++]);
	build_update(&out[n++], 0);
	build_update(&out[n++], 'K');
	build_update(&out[n++], 'O');
	build_truncate(&out[n++], 3);
	build_message(&out[n++], true);
	out[n].len = 0;
	fx_u8(&out[n], 'Y');
	fx_u32(&out[n], 1);
	fx_str(&out[n], "");
	fx_str(&out[n++], "t");
	return n;
}

/* Every proper prefix of every valid message is an error, never a crash. */
static void
test_every_truncation(void **state)
{
	static struct fx_msg msgs[16];
	size_t		n = valid_messages(msgs);

	(void) state;
	for (size_t i = 0; i < n; i++)
	{
		assert_true(parse_exact(msgs[i].data, msgs[i].len));
		for (size_t len = 0; len < msgs[i].len; len++)
		{
			if (parse_exact(msgs[i].data, len))
				fail_msg("message %zu ('%c') truncated to %zu of %zu bytes parsed",
						 i, msgs[i].data[0], len, msgs[i].len);
			assert_true(err[0] != '\0');
		}
	}
}

/*
 * Random mutations of valid messages: flipped bytes, bytes set to 0 or
 * 0xff (counts and lengths that lie), truncations.  The parser must
 * accept or refuse each without reading a byte it was not given.
 */
static void
test_fuzz(void **state)
{
	static struct fx_msg msgs[16];
	size_t		n = valid_messages(msgs);
	uint64_t	rng = 0x9E3779B97F4A7C15u;
	char		buf[sizeof(msgs[0].data)];
	int			accepted = 0;

	(void) state;
	for (int iter = 0; iter < 200000; iter++)
	{
		const struct fx_msg *m = &msgs[iter % n];
		size_t		len = m->len;
		int			edits;

		memcpy(buf, m->data, len);
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		edits = 1 + (int) (rng % 4);
		for (int e = 0; e < edits; e++)
		{
			size_t		pos;

			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			pos = (size_t) (rng >> 8) % len;
			switch (rng % 5)
			{
				case 0:
					buf[pos] ^= (char) (1 << (rng >> 40) % 8);
					break;
				case 1:
					buf[pos] = 0;
					break;
				case 2:
					buf[pos] = (char) 0xff;
					break;
				case 3:
					len = pos + 1;
					break;
				default:
					buf[pos] = (char) (rng >> 24);
					break;
			}
		}
		if (parse_exact(buf, len))
			accepted++;
		else
			assert_true(err[0] != '\0');
	}
	/* some mutations leave a valid message (a changed value byte) */
	assert_true(accepted > 0);
}

static int
teardown(void **state)
{
	(void) state;
	pgoutput_proto_free(&proto);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_begin_commit_origin),
		cmocka_unit_test(test_relation_and_type),
		cmocka_unit_test(test_changes),
		cmocka_unit_test(test_truncate_and_message),
		cmocka_unit_test(test_refused_and_malformed),
		cmocka_unit_test(test_invalid_oid),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
