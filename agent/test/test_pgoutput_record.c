/*
 * test_pgoutput_record.c
 *		cmocka tests of decode/pgoutput_record.c: pgoutput messages in,
 *		walcast records out, compared as text with what the walcast plugin
 *		writes (pg_decoder/record.c's field order), with a catalogue filled
 *		by a loader of the test's own.
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
#include "pgoutput_record.h"

#define RELID 16384
#define RELID2 16390

static struct pgoutput_catalog *cat;
static struct pgoutput_record *dec;
static char err[512];

/* What the test loader says; tests change it. */
static int	loads;				/* relation() calls */
static const char *loader_pk[4];	/* pk for identities other than DEFAULT */
static int	loader_npk;
static bool loader_fail;
static bool inner_has_c;		/* inner_t got an attribute "c" */

static const char *
fake_type_name(uint32_t typid, int32_t typmod)
{
	if (typid == FX_TEXT && typmod == 24)
		return "character varying(20)";
	return pgoutput_catalog_type(cat, typid) ?
		pgoutput_catalog_type(cat, typid)->name : "???";
}

static bool
fake_relation(void *arg, struct pgoutput_catalog *c,
			  struct pgoutput_relation *rel, char *e, size_t elen)
{
	(void) arg;
	loads++;
	if (loader_fail)
	{
		snprintf(e, elen, "catalogue unreachable");
		return false;
	}
	fx_types(c);
	if (inner_has_c)
	{
		struct pgoutput_type *t = pgoutput_catalog_put_type(c, FX_INNER,
															PGOUTPUT_KIND_COMPOSITE,
															"inner_t");

		pgoutput_catalog_type_add_att(t, "a", FX_INT4);
		pgoutput_catalog_type_add_att(t, "b", FX_TEXT);
		pgoutput_catalog_type_add_att(t, "c", FX_INT4);
	}
	for (int i = 0; i < rel->ncols; i++)
		pgoutput_catalog_set_type_name(rel, i, fake_type_name(rel->cols[i].typid,
															  rel->cols[i].typmod));
	if (rel->replident != 'd')
		pgoutput_catalog_set_pk(rel, loader_npk, loader_pk);
	return true;
}

/* The initial load's table: public.load (id integer, g integer, v text). */
static bool
fake_table(void *arg, struct pgoutput_catalog *c,
		   struct pgoutput_relation *rel, char *e, size_t elen)
{
	(void) arg;
	(void) e;
	(void) elen;
	fx_types(c);
	pgoutput_catalog_set_names(rel, "public", "load", 'd');
	pgoutput_catalog_add_column(rel, "id", FX_INT4, -1, true, "integer");
	pgoutput_catalog_add_column(rel, "g", FX_INT4, -1, false, "integer");
	pgoutput_catalog_add_column(rel, "v", FX_CPX, -1, false, "cpx");
	return true;
}

static const struct pgoutput_catalog_loader fake_loader = {
	.relation = fake_relation,
	.table = fake_table,
};

static struct pgoutput_record_opts opts;

static int
setup(void **state)
{
	(void) state;
	loads = 0;
	loader_npk = 0;
	loader_fail = false;
	inner_has_c = false;
	cat = pgoutput_catalog_new(&fake_loader, NULL);
	pgoutput_record_default_opts(&opts);
	dec = pgoutput_record_new(&opts, cat);
	return 0;
}

static int
teardown(void **state)
{
	(void) state;
	pgoutput_record_free(dec);
	pgoutput_catalog_free(cat);
	return 0;
}

/* Options other than the defaults: a decoder of their own. */
static void
reopen(void)
{
	pgoutput_record_free(dec);
	dec = pgoutput_record_new(&opts, cat);
}

static void
feed(uint64_t lsn, const struct fx_msg *m)
{
	if (!pgoutput_record_feed(dec, lsn, m->data, m->len, err, sizeof(err)))
		fail_msg("feed: %s", err);
}

/* The next record's text (static), or NULL when the message is done. */
static const char *
next(void)
{
	static char out[16384];
	const char *text;
	size_t		len;
	enum pgoutput_record_rc rc = pgoutput_record_next(dec, &text, &len, err,
													  sizeof(err));

	if (rc == PGOUTPUT_RECORD_ERROR)
		fail_msg("next: %s", err);
	if (rc == PGOUTPUT_RECORD_NEED_MORE)
		return NULL;
	assert_true(len < sizeof(out));
	memcpy(out, text, len);
	out[len] = '\0';
	assert_int_equal(strlen(out), len);
	return out;
}

/* Feed a message that must give no record. */
static void
feed_silent(uint64_t lsn, const struct fx_msg *m)
{
	feed(lsn, m);
	assert_null(next());
}

/* Feed a message whose next() fails with an error containing what. */
static void
feed_error(uint64_t lsn, const struct fx_msg *m, const char *what)
{
	const char *text;
	size_t		len;

	feed(lsn, m);
	assert_int_equal(pgoutput_record_next(dec, &text, &len, err, sizeof(err)),
					 PGOUTPUT_RECORD_ERROR);
	if (strstr(err, what) == NULL)
		fail_msg("error \"%s\" does not say \"%s\"", err, what);
}

#define TS 849922026912475		/* 2026-12-07T01:27:06.912475Z */
#define PREFIX(xid) "\"xid\":" #xid ",\"commit_lsn\":\"0/1516F38\",\"ts\":\"2026-12-07T01:27:06.912475Z\""

static void
relation(uint32_t relid, const char *name, char replident, int ncols,
		 const char *const *names, const uint32_t *types, const uint8_t *flags)
{
	struct fx_msg m;

	m.len = 0;
	fx_u8(&m, 'R');
	fx_u32(&m, relid);
	fx_str(&m, "public");
	fx_str(&m, name);
	fx_u8(&m, (uint8_t) replident);
	fx_u16(&m, (uint16_t) ncols);
	for (int i = 0; i < ncols; i++)
	{
		fx_u8(&m, flags[i]);
		fx_str(&m, names[i]);
		fx_u32(&m, types[i]);
		fx_u32(&m, types[i] == FX_TEXT && i == 1 ? 24 : 0xffffffff);
	}
	feed_silent(0x1516E50, &m);
}

/* t (id integer key, name varchar(20), doc jsonb) with identity replident. */
static void
relation_t(char replident)
{
	static const char *const names[] = {"id", "name", "doc"};
	static const uint32_t types[] = {FX_INT4, FX_TEXT, FX_JSONB};
	uint8_t		flags[] = {1, 0, 0};

	if (replident == 'f')
		flags[1] = flags[2] = 1;
	if (replident == 'n')
		flags[0] = 0;
	relation(RELID, "t", replident, 3, names, types, flags);
}

static void
begin(uint32_t xid)
{
	struct fx_msg m;

	fx_begin(&m, UINT64_C(0x1516F38), TS, xid);
	feed_silent(0x1516E50, &m);
}

static void
commit_expect(const char *want)
{
	struct fx_msg m;

	fx_commit(&m, UINT64_C(0x1516F38), UINT64_C(0x1516F68), TS);
	feed(0x1516F68, &m);
	if (want == NULL)
		assert_null(next());
	else
	{
		assert_string_equal(next(), want);
		assert_null(next());
	}
}

/* An I/U/D message; tuples as strings of 'n', 'u', or 't' then its text. */
static void
change(struct fx_msg *m, char kind, char old_kind, int ncols,
	   const char *const *old, const char *const *new)
{
	m->len = 0;
	fx_u8(m, (uint8_t) kind);
	fx_u32(m, RELID);
	for (int pass = 0; pass < 2; pass++)
	{
		const char *const *tuple = pass == 0 ? old : new;

		if (pass == 0 && !old_kind)
			continue;
		if (pass == 1 && kind == 'D')
			break;
		fx_u8(m, (uint8_t) (pass == 0 ? old_kind : 'N'));
		fx_u16(m, (uint16_t) ncols);
		for (int i = 0; i < ncols; i++)
		{
			if (tuple[i][0] == 't')
				fx_text(m, tuple[i] + 1);
			else
				fx_u8(m, (uint8_t) tuple[i][0]);
		}
	}
}

static void
test_insert_deferred_begin(void **state)
{
	struct fx_msg m;
	static const char *const row[] = {"t1", "tann", "t{\"a\": [1, 2]}"};

	(void) state;
	relation_t('d');
	begin(726);
	change(&m, 'I', 0, 3, NULL, row);
	feed(0x1516E50, &m);
	assert_string_equal(next(), "{\"action\":\"B\"," PREFIX(726) ",\"seq\":0}");
	assert_string_equal(next(), "{\"action\":\"I\"," PREFIX(726) ",\"seq\":1,"
						"\"lsn\":\"0/1516E50\",\"schema\":\"public\",\"table\":\"t\",\"pk\":[\"id\"],"
						"\"new\":{\"id\":1,\"name\":\"ann\",\"doc\":{\"a\":[1,2]}}}");
	assert_null(next());
	assert_null(next());		/* NEED_MORE again, nothing new */
	commit_expect("{\"action\":\"C\"," PREFIX(726) ",\"seq\":2,\"end_lsn\":\"0/1516F68\"}");

	/* a transaction that writes nothing: no B, no C (pgoutput < 15 sends them) */
	begin(727);
	commit_expect(NULL);
}

static void
test_types_and_type_oids(void **state)
{
	struct fx_msg m;
	static const char *const row[] = {"t1", "n", "n"};

	(void) state;
	opts.include_types = true;
	opts.include_type_oids = true;
	opts.include_pk = false;
	reopen();
	relation_t('d');
	begin(726);
	change(&m, 'I', 0, 3, NULL, row);
	feed(0x1516E50, &m);
	assert_non_null(next());
	assert_string_equal(next(), "{\"action\":\"I\"," PREFIX(726) ",\"seq\":1,"
						"\"lsn\":\"0/1516E50\",\"schema\":\"public\",\"table\":\"t\","
						"\"types\":{\"id\":\"integer\",\"name\":\"character varying(20)\",\"doc\":\"jsonb\"},"
						"\"type_oids\":{\"id\":23,\"name\":25,\"doc\":3802},"
						"\"new\":{\"id\":1,\"name\":null,\"doc\":null}}");
}

static void
test_update_delete_default(void **state)
{
	struct fx_msg m;
	static const char *const old_key[] = {"t1", "n", "n"};
	static const char *const new_row[] = {"t2", "tb", "u"};

	(void) state;
	relation_t('d');
	begin(730);
	/* the key did not change: no old, unchanged TOAST named */
	change(&m, 'U', 0, 3, NULL, new_row);
	feed(0x100, &m);
	assert_non_null(next());	/* B */
	assert_string_equal(next(), "{\"action\":\"U\"," PREFIX(730) ",\"seq\":1,\"lsn\":\"0/100\","
						"\"schema\":\"public\",\"table\":\"t\",\"pk\":[\"id\"],\"identity\":\"default\","
						"\"new\":{\"id\":2,\"name\":\"b\"},\"unchanged\":[\"doc\"]}");
	/* the key changed: the old key, key columns only */
	change(&m, 'U', 'K', 3, old_key, new_row);
	feed(0x200, &m);
	assert_string_equal(next(), "{\"action\":\"U\"," PREFIX(730) ",\"seq\":2,\"lsn\":\"0/200\","
						"\"schema\":\"public\",\"table\":\"t\",\"pk\":[\"id\"],\"identity\":\"default\","
						"\"new\":{\"id\":2,\"name\":\"b\"},\"unchanged\":[\"doc\"],\"old\":{\"id\":1}}");
	change(&m, 'D', 'K', 3, old_key, NULL);
	feed(0x300, &m);
	assert_string_equal(next(), "{\"action\":\"D\"," PREFIX(730) ",\"seq\":3,\"lsn\":\"0/300\","
						"\"schema\":\"public\",\"table\":\"t\",\"pk\":[\"id\"],\"identity\":\"default\","
						"\"old\":{\"id\":1}}");
	assert_null(next());
	commit_expect("{\"action\":\"C\"," PREFIX(730) ",\"seq\":4,\"end_lsn\":\"0/1516F68\"}");
}

static void
test_full_identity(void **state)
{
	struct fx_msg m;
	static const char *const old_row[] = {"t1", "ta", "t{\"big\": 1}"};
	static const char *const new_row[] = {"t1", "tb", "u"};

	(void) state;
	loader_pk[0] = "id";
	loader_npk = 1;
	relation_t('f');
	begin(731);
	/* unchanged TOAST takes the old row's value: no "unchanged" */
	change(&m, 'U', 'O', 3, old_row, new_row);
	feed(0x100, &m);
	assert_non_null(next());
	assert_string_equal(next(), "{\"action\":\"U\"," PREFIX(731) ",\"seq\":1,\"lsn\":\"0/100\","
						"\"schema\":\"public\",\"table\":\"t\",\"pk\":[\"id\"],\"identity\":\"full\","
						"\"new\":{\"id\":1,\"name\":\"b\",\"doc\":{\"big\":1}},"
						"\"old\":{\"id\":1,\"name\":\"a\",\"doc\":{\"big\":1}}}");
	change(&m, 'D', 'O', 3, old_row, NULL);
	feed(0x200, &m);
	assert_string_equal(next(), "{\"action\":\"D\"," PREFIX(731) ",\"seq\":2,\"lsn\":\"0/200\","
						"\"schema\":\"public\",\"table\":\"t\",\"pk\":[\"id\"],\"identity\":\"full\","
						"\"old\":{\"id\":1,\"name\":\"a\",\"doc\":{\"big\":1}}}");
}

static void
test_index_and_nothing_identity(void **state)
{
	struct fx_msg m;
	static const char *const key[] = {"n", "tk", "n"};
	static const char *const new_row[] = {"t1", "tk2", "n"};
	static const char *const names[] = {"id", "name", "doc"};
	static const uint32_t types[] = {FX_INT4, FX_TEXT, FX_JSONB};
	static const uint8_t flags[] = {0, 1, 0};

	(void) state;
	/* USING INDEX on name, a primary key on id: pk is the primary key */
	loader_pk[0] = "id";
	loader_npk = 1;
	relation(RELID, "t", 'i', 3, names, types, flags);
	begin(732);
	change(&m, 'U', 'K', 3, key, new_row);
	feed(0x100, &m);
	assert_non_null(next());
	assert_string_equal(next(), "{\"action\":\"U\"," PREFIX(732) ",\"seq\":1,\"lsn\":\"0/100\","
						"\"schema\":\"public\",\"table\":\"t\",\"pk\":[\"id\"],\"identity\":\"index\","
						"\"new\":{\"id\":1,\"name\":\"k2\",\"doc\":null},\"old\":{\"name\":\"k\"}}");
	commit_expect("{\"action\":\"C\"," PREFIX(732) ",\"seq\":2,\"end_lsn\":\"0/1516F68\"}");

	/*
	 * NOTHING (pgoutput sends no update or delete of such a table, but
	 * the record says what the plugin says if one comes): old is null.
	 */
	loader_npk = 0;
	relation_t('n');
	begin(733);
	change(&m, 'U', 0, 3, NULL, new_row);
	feed(0x100, &m);
	assert_non_null(next());
	assert_string_equal(next(), "{\"action\":\"U\"," PREFIX(733) ",\"seq\":1,\"lsn\":\"0/100\","
						"\"schema\":\"public\",\"table\":\"t\",\"pk\":[],\"identity\":\"nothing\","
						"\"new\":{\"id\":1,\"name\":\"k2\",\"doc\":null},\"old\":null}");
	/* DEFAULT without a key flagged (no primary key): nothing, pk [] */
	{
		static const uint8_t none[] = {0, 0, 0};

		relation(RELID, "t", 'd', 3, names, types, none);
	}
	change(&m, 'D', 'K', 3, key, NULL);
	feed(0x200, &m);
	assert_string_equal(next(), "{\"action\":\"D\"," PREFIX(733) ",\"seq\":2,\"lsn\":\"0/200\","
						"\"schema\":\"public\",\"table\":\"t\",\"pk\":[],\"identity\":\"nothing\","
						"\"old\":null}");
}

static void
test_truncate_several(void **state)
{
	struct fx_msg m;
	static const char *const names[] = {"k"};
	static const uint32_t types[] = {FX_INT8};
	static const uint8_t flags[] = {1};

	(void) state;
	relation_t('d');
	relation(RELID2, "u", 'd', 1, names, types, flags);
	begin(734);
	m.len = 0;
	fx_u8(&m, 'T');
	fx_u32(&m, 2);
	fx_u8(&m, 3);				/* CASCADE, RESTART IDENTITY */
	fx_u32(&m, RELID);
	fx_u32(&m, RELID2);
	feed(0x400, &m);
	assert_string_equal(next(), "{\"action\":\"B\"," PREFIX(734) ",\"seq\":0}");
	assert_string_equal(next(), "{\"action\":\"T\"," PREFIX(734) ",\"seq\":1,\"lsn\":\"0/400\","
						"\"schema\":\"public\",\"table\":\"t\",\"pk\":[\"id\"],"
						"\"cascade\":true,\"restart_identity\":true}");
	assert_string_equal(next(), "{\"action\":\"T\"," PREFIX(734) ",\"seq\":2,\"lsn\":\"0/400\","
						"\"schema\":\"public\",\"table\":\"u\",\"pk\":[\"k\"],"
						"\"cascade\":true,\"restart_identity\":true}");
	assert_null(next());
	commit_expect("{\"action\":\"C\"," PREFIX(734) ",\"seq\":3,\"end_lsn\":\"0/1516F68\"}");
}

static void
message(struct fx_msg *m, bool transactional, const char *prefix,
		const char *content, size_t len)
{
	m->len = 0;
	fx_u8(m, 'M');
	fx_u8(m, transactional ? 1 : 0);
	fx_u64(m, UINT64_C(0x1537F00));
	fx_str(m, prefix);
	fx_u32(m, (uint32_t) len);
	fx_bytes(m, content, len);
}

static void
test_messages(void **state)
{
	struct fx_msg m;

	(void) state;
	/* non-transactional: lsn only, whenever it comes */
	message(&m, false, "latin1", "\xe9", 1);
	feed(0x1537F00, &m);
	assert_string_equal(next(), "{\"action\":\"M\",\"lsn\":\"0/1537F00\",\"prefix\":\"latin1\","
						"\"transactional\":false,\"content_base64\":\"6Q==\"}");
	assert_null(next());

	begin(741);
	message(&m, true, "tx é", "line\nbreak \"q\" é", strlen("line\nbreak \"q\" é"));
	feed(0x1537F00, &m);
	assert_string_equal(next(), "{\"action\":\"B\"," PREFIX(741) ",\"seq\":0}");
	assert_string_equal(next(), "{\"action\":\"M\"," PREFIX(741) ",\"seq\":1,\"lsn\":\"0/1537F00\","
						"\"prefix\":\"tx é\",\"transactional\":true,"
						"\"content\":\"line\\nbreak \\\"q\\\" é\"}");
	/* a NUL is not text */
	message(&m, true, "nul", "a\0b", 3);
	feed(0x1537F00, &m);
	assert_string_equal(next(), "{\"action\":\"M\"," PREFIX(741) ",\"seq\":2,\"lsn\":\"0/1537F00\","
						"\"prefix\":\"nul\",\"transactional\":true,\"content_base64\":\"YQBi\"}");
	/* a non-transactional one inside a transaction belongs to none */
	message(&m, false, "p", "", 0);
	feed(0x1537F00, &m);
	assert_string_equal(next(), "{\"action\":\"M\",\"lsn\":\"0/1537F00\",\"prefix\":\"p\","
						"\"transactional\":false,\"content\":\"\"}");
	commit_expect("{\"action\":\"C\"," PREFIX(741) ",\"seq\":3,\"end_lsn\":\"0/1516F68\"}");
}

/* ADD COLUMN: pgoutput sends the relation again; records follow it. */
static void
test_relation_refresh(void **state)
{
	struct fx_msg m;
	static const char *const names[] = {"id", "name", "doc", "added"};
	static const uint32_t types[] = {FX_INT4, FX_TEXT, FX_JSONB, FX_BOOL};
	static const uint8_t flags[] = {1, 0, 0, 0};
	static const char *const row3[] = {"t1", "n", "n"};
	static const char *const row4[] = {"t2", "n", "n", "tt"};

	(void) state;
	relation_t('d');
	assert_int_equal(loads, 1);
	begin(750);
	change(&m, 'I', 0, 3, NULL, row3);
	feed(0x100, &m);
	assert_non_null(next());
	assert_non_null(next());
	relation(RELID, "t", 'd', 4, names, types, flags);
	assert_int_equal(loads, 2);
	change(&m, 'I', 0, 4, NULL, row4);
	feed(0x200, &m);
	assert_string_equal(next(), "{\"action\":\"I\"," PREFIX(750) ",\"seq\":2,\"lsn\":\"0/200\","
						"\"schema\":\"public\",\"table\":\"t\",\"pk\":[\"id\"],"
						"\"new\":{\"id\":2,\"name\":null,\"doc\":null,\"added\":true}}");
	/* a row of the old width no longer fits */
	change(&m, 'I', 0, 3, NULL, row3);
	feed_error(0x300, &m, "a row of 3 columns, its Relation message has 4");
}

/*
 * A composite type altered without its table's Relation message: the
 * value has a field more than the cached type; the relation's types are
 * loaded again once, and the record then comes out.
 */
static void
test_stale_composite_reloads(void **state)
{
	struct fx_msg m;
	static const char *const names[] = {"id", "c"};
	static const uint32_t types[] = {FX_INT4, FX_INNER};
	static const uint8_t flags[] = {1, 0};
	static const char *const row[] = {"t1", "t(1,x,3)"};

	(void) state;
	relation(RELID, "t", 'd', 2, names, types, flags);
	begin(760);
	inner_has_c = true;			/* the catalogue has changed since */
	change(&m, 'I', 0, 2, NULL, row);
	feed(0x100, &m);
	assert_non_null(next());
	assert_string_equal(next(), "{\"action\":\"I\"," PREFIX(760) ",\"seq\":1,\"lsn\":\"0/100\","
						"\"schema\":\"public\",\"table\":\"t\",\"pk\":[\"id\"],"
						"\"new\":{\"id\":1,\"c\":{\"a\":1,\"b\":\"x\",\"c\":3}}}");
	assert_int_equal(loads, 2);
	/* still not matching after the reload: an error naming it all */
	{
		static const char *const bad[] = {"t2", "t(1,x,3,4)"};

		change(&m, 'I', 0, 2, NULL, bad);
		feed_error(0x200, &m,
				   "table \"public.t\", column \"c\" (inner_t): type \"inner_t\": a value with other fields than the type's 3 attributes");
	}
}

/* A Type message forgets the type; the relation's next load brings it. */
static void
test_type_message(void **state)
{
	struct fx_msg m;

	(void) state;
	relation_t('d');
	assert_non_null(pgoutput_catalog_type(cat, FX_MOOD));
	m.len = 0;
	fx_u8(&m, 'Y');
	fx_u32(&m, FX_MOOD);
	fx_str(&m, "public");
	fx_str(&m, "mood");
	feed_silent(0x100, &m);
	assert_null(pgoutput_catalog_type(cat, FX_MOOD));
	relation_t('d');
	assert_non_null(pgoutput_catalog_type(cat, FX_MOOD));
}

static void
test_value_error_names_table_column_type(void **state)
{
	struct fx_msg m;
	static const char *const row[] = {"tx", "n", "n"};

	(void) state;
	relation_t('d');
	begin(770);
	change(&m, 'I', 0, 3, NULL, row);
	feed(0x100, &m);
	assert_non_null(next());	/* B */
	{
		const char *text;
		size_t		len;

		assert_int_equal(pgoutput_record_next(dec, &text, &len, err, sizeof(err)),
						 PGOUTPUT_RECORD_ERROR);
		assert_string_equal(err, "table \"public.t\", column \"id\" (integer): type \"integer\": not an integer");
	}
}

static void
test_protocol_errors(void **state)
{
	struct fx_msg m;
	static const char *const row[] = {"t1", "n", "n"};
	static const char *const toast[] = {"t1", "u", "n"};

	(void) state;
	/* a change outside a transaction */
	relation_t('d');
	change(&m, 'I', 0, 3, NULL, row);
	feed_error(0x100, &m, "pgoutput sent 'I' outside a transaction");
	pgoutput_record_reset(dec);

	/* a change of a relation never described (reset dropped it) */
	begin(780);
	change(&m, 'I', 0, 3, NULL, row);
	feed_error(0x100, &m, "relation OID 16384 without its Relation message");
	pgoutput_record_reset(dec);

	/* Begin in a transaction */
	begin(781);
	fx_begin(&m, 1, 2, 3);
	feed_error(0x100, &m, "a Begin inside a transaction");
	pgoutput_record_reset(dec);

	/* unchanged TOAST in an inserted row */
	relation_t('d');
	begin(782);
	change(&m, 'I', 0, 3, NULL, toast);
	feed_error(0x100, &m, "table \"public.t\", column \"name\": an unchanged value in an inserted row");
	pgoutput_record_reset(dec);

	/* bytes that are not a message */
	m.len = 0;
	fx_u8(&m, 'S');
	fx_u32(&m, 1);
	fx_u8(&m, 1);
	feed_error(0x100, &m, "streaming of in-progress transactions");

	/* a message fed while the previous one still has records */
	relation_t('d');
	begin(783);
	change(&m, 'I', 0, 3, NULL, row);
	feed(0x100, &m);
	assert_non_null(next());	/* B; the I is still to come */
	assert_false(pgoutput_record_feed(dec, 0x200, m.data, m.len, err, sizeof(err)));
	assert_non_null(strstr(err, "before the previous one's records were all read"));
	pgoutput_record_reset(dec);

	/* the catalogue failing: the relation is not usable */
	loader_fail = true;
	{
		static const char *const names[] = {"id"};
		static const uint32_t types[] = {FX_INT4};
		static const uint8_t flags[] = {1};

		m.len = 0;
		fx_u8(&m, 'R');
		fx_u32(&m, RELID);
		fx_str(&m, "public");
		fx_str(&m, "t");
		fx_u8(&m, 'd');
		fx_u16(&m, 1);
		fx_u8(&m, flags[0]);
		fx_str(&m, names[0]);
		fx_u32(&m, types[0]);
		fx_u32(&m, 0xffffffff);
		feed_error(0x100, &m, "catalogue unreachable");
	}
	assert_null(pgoutput_catalog_relation(cat, RELID));
}

/* Commit times: the plugin's json_timestamp, whatever the value. */
static void
test_commit_timestamps(void **state)
{
	static const struct
	{
		int64_t		ts;
		const char *text;
	}			cases[] = {
		{0, "2000-01-01T00:00:00Z"},
		{-1, "1999-12-31T23:59:59.999999Z"},
		{INT64_C(86400000000), "2000-01-02T00:00:00Z"},
		{INT64_C(5097600000000), "2000-02-29T00:00:00Z"},
		{INT64_C(-946684800000000), "1970-01-01T00:00:00Z"},
		{INT64_C(849922026912475), "2026-12-07T01:27:06.912475Z"},
		{INT64_C(849922026900000), "2026-12-07T01:27:06.9Z"},
		{INT64_C(-63113904000000000), "0000-01-01T00:00:00Z"},
		{INT64_C(-63145440000000000), "-0001-01-01T00:00:00Z"},
		{INT64_C(252424080000000000), "9999-01-01T00:00:00Z"},
		{INT64_C(252455615999999999), "9999-12-31T23:59:59.999999Z"},
		{INT64_C(252455616000000000), "10000-01-01T00:00:00Z"},
	};
	struct fx_msg m;
	char		want[256];

	(void) state;
	relation_t('d');
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		message(&m, true, "p", "", 0);
		fx_begin(&m, 1, cases[i].ts, 1);
		feed_silent(0x100, &m);
		message(&m, true, "p", "", 0);
		feed(0x100, &m);
		snprintf(want, sizeof(want),
				 "{\"action\":\"B\",\"xid\":1,\"commit_lsn\":\"0/1\",\"ts\":\"%s\",\"seq\":0}",
				 cases[i].text);
		assert_string_equal(next(), want);
		assert_non_null(next());
		fx_commit(&m, 1, UINT64_C(0xFFFFFFFF00000000), cases[i].ts);
		feed(0x100, &m);
		snprintf(want, sizeof(want),
				 "{\"action\":\"C\",\"xid\":1,\"commit_lsn\":\"0/1\",\"ts\":\"%s\",\"seq\":2,"
				 "\"end_lsn\":\"FFFFFFFF/0\"}", cases[i].text);
		assert_string_equal(next(), want);
	}
}

static void
test_load_row(void **state)
{
	const char *values[] = {"1", NULL, "(5,x,\"2024-01-01 00:00:00+00\",\"(1,a)\",{1})"};
	const char *names[] = {"id", "g", "v"};
	const char *wrong[] = {"id", "h", "v"};
	size_t		lengths[3];
	const char *text;
	size_t		len;

	(void) state;
	for (int i = 0; i < 3; i++)
		lengths[i] = values[i] ? strlen(values[i]) : 0;
	assert_true(pgoutput_record_load_row(dec, 17000, UINT64_C(0x1A2B3C0), 3, names,
										 values, lengths, &text, &len, err, sizeof(err)));
	assert_string_equal(text, "{\"action\":\"L\",\"lsn\":\"0/1A2B3C0\",\"schema\":\"public\","
						"\"table\":\"load\",\"pk\":[\"id\"],\"new\":{\"id\":1,\"g\":null,"
						"\"v\":{\"x\":5,\"label\":\"x\",\"at\":\"2024-01-01T00:00:00Z\","
						"\"nested\":{\"a\":1,\"b\":\"a\"},\"arr\":[1]}}}");
	assert_int_equal(len, strlen(text));
	/* no lsn: none written */
	assert_true(pgoutput_record_load_row(dec, 17000, 0, 3, NULL, values, lengths, &text,
										 &len, err, sizeof(err)));
	assert_non_null(strstr(text, "{\"action\":\"L\",\"schema\""));
	assert_false(pgoutput_record_load_row(dec, 17000, 0, 3, wrong, values, lengths, &text,
										  &len, err, sizeof(err)));
	assert_non_null(strstr(err, "column 2 is \"h\", the catalogue says \"g\""));
	assert_false(pgoutput_record_load_row(dec, 17000, 0, 2, NULL, values, lengths, &text,
										  &len, err, sizeof(err)));
	assert_non_null(strstr(err, "a row of 2 columns, the catalogue has 3"));
	values[0] = "x";
	lengths[0] = 1;
	assert_false(pgoutput_record_load_row(dec, 17000, 0, 3, NULL, values, lengths, &text,
										  &len, err, sizeof(err)));
	assert_string_equal(err, "table \"public.load\", column \"id\" (integer): type \"integer\": not an integer");
}

/*
 * A stream of valid messages, each mutated at random before it is fed:
 * the decoder returns records or an error (then the session is reset, as
 * the agent does), never crashes or reads past a message.
 */
static void
test_fuzz_stream(void **state)
{
	static struct fx_msg msgs[8];
	static const char *const names[] = {"id", "name", "doc"};
	static const uint32_t types[] = {FX_INT4, FX_TEXT, FX_CPX};
	static const char *const old_row[] = {"t1", "ta", "t(1,\"x,y\",,\"(2,q)\",{3})"};
	static const char *const new_row[] = {"t2", "u", "t(,,,,)"};
	uint64_t	rng = 0xD1B54A32D192ED03u;
	int			records = 0;
	int			errors = 0;

	(void) state;
	msgs[0].len = 0;
	fx_u8(&msgs[0], 'R');
	fx_u32(&msgs[0], RELID);
	fx_str(&msgs[0], "public");
	fx_str(&msgs[0], "t");
	fx_u8(&msgs[0], 'f');
	fx_u16(&msgs[0], 3);
	for (int i = 0; i < 3; i++)
	{
		fx_u8(&msgs[0], 1);
		fx_str(&msgs[0], names[i]);
		fx_u32(&msgs[0], types[i]);
		fx_u32(&msgs[0], 0xffffffff);
	}
	fx_begin(&msgs[1], 0x100, TS, 9);
	change(&msgs[2], 'U', 'O', 3, old_row, new_row);
	change(&msgs[3], 'I', 0, 3, NULL, old_row);
	message(&msgs[4], true, "p", "\xe9t\xe9", 3);
	msgs[5].len = 0;
	fx_u8(&msgs[5], 'T');
	fx_u32(&msgs[5], 1);
	fx_u8(&msgs[5], 1);
	fx_u32(&msgs[5], RELID);
	change(&msgs[6], 'D', 'O', 3, old_row, NULL);
	fx_commit(&msgs[7], 0x100, 0x200, TS);

	for (int iter = 0; iter < 30000; iter++)
	{
		const struct fx_msg *m = &msgs[iter % 8];
		size_t		len = m->len;
		char	   *copy = malloc(len);
		const char *text;
		size_t		tlen;
		enum pgoutput_record_rc rc;

		memcpy(copy, m->data, len);
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		if (rng % 3 == 0)		/* one in three mutated */
		{
			size_t		pos = (size_t) (rng >> 20) % len;

			if ((rng >> 8) % 2)
				copy[pos] = (char) (rng >> 40);
			else
				len = pos;
		}
		if (!pgoutput_record_feed(dec, 0x100, copy, len, err, sizeof(err)))
			fail_msg("feed: %s", err);
		while ((rc = pgoutput_record_next(dec, &text, &tlen, err, sizeof(err))) ==
			   PGOUTPUT_RECORD_READY)
		{
			assert_int_equal(strlen(text), tlen);
			records++;
		}
		if (rc == PGOUTPUT_RECORD_ERROR)
		{
			errors++;
			pgoutput_record_reset(dec);
		}
		free(copy);
	}
	assert_true(records > 0 && errors > 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_insert_deferred_begin),
		T(test_types_and_type_oids),
		T(test_update_delete_default),
		T(test_full_identity),
		T(test_index_and_nothing_identity),
		T(test_truncate_several),
		T(test_messages),
		T(test_relation_refresh),
		T(test_stale_composite_reloads),
		T(test_type_message),
		T(test_value_error_names_table_column_type),
		T(test_protocol_errors),
		T(test_commit_timestamps),
		T(test_load_row),
		T(test_fuzz_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
