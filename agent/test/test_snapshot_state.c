/*
 * test_snapshot_state.c
 *		Unit tests of snapshot_state.c: the initial load's state file in
 *		every status, byte-exact, through a real directory, and every way a
 *		file can be corrupt (each a clear error naming file and line, never
 *		taken for "no load recorded").
 */
#define _POSIX_C_SOURCE 200809L	/* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "snapshot_state.h"

static struct snapshot_state
sample(enum snapshot_state_status status)
{
	struct snapshot_state st;

	memset(&st, 0, sizeof(st));
	st.status = status;
	snprintf(st.system_id, sizeof(st.system_id), "7710515254054794938");
	snprintf(st.database, sizeof(st.database), "sn1");
	snprintf(st.slot, sizeof(st.slot), "sn1");
	st.create_lsn = 0x1D89ED18;
	st.created_slot = true;
	if (status != SNAPSHOT_STATE_CREATING)
		st.consistent_point = 0x1D89ED50;
	if (status == SNAPSHOT_STATE_DONE)
	{
		st.tables = 2;
		st.rows = 25002;
	}
	return st;
}

static void
assert_state_equal(const struct snapshot_state *a, const struct snapshot_state *b)
{
	assert_int_equal(a->status, b->status);
	assert_string_equal(a->system_id, b->system_id);
	assert_string_equal(a->database, b->database);
	assert_string_equal(a->slot, b->slot);
	assert_true(a->create_lsn == b->create_lsn);
	assert_true(a->consistent_point == b->consistent_point);
	assert_int_equal(a->created_slot, b->created_slot);
	assert_true(a->rows == b->rows);
	assert_int_equal(a->tables, b->tables);
}

/* The file as docs/snapshot.md shows it. */
static void
test_format(void **state)
{
	struct snapshot_state st = sample(SNAPSHOT_STATE_DONE);
	char		buf[1024];

	(void) state;
	assert_true(snapshot_state_format(&st, buf, sizeof(buf)));
	assert_string_equal(buf,
						"# walcast-agent initial load state (docs/snapshot.md); do not edit\n"
						"status = done\nsystem_id = 7710515254054794938\ndatabase = sn1\n"
						"slot = sn1\ncreate_lsn = 0/1D89ED18\nconsistent_point = 0/1D89ED50\n"
						"created_slot = true\ntables = 2\nrows = 25002\n");
	/* too small a buffer is refused, not truncated */
	assert_false(snapshot_state_format(&st, buf, 40));
	assert_string_equal(snapshot_state_name(SNAPSHOT_STATE_NONE), "none");
	assert_string_equal(snapshot_state_name(SNAPSHOT_STATE_CREATING), "creating");
	assert_string_equal(snapshot_state_name(SNAPSHOT_STATE_LOADING), "loading");
	assert_string_equal(snapshot_state_name(SNAPSHOT_STATE_DONE), "done");
}

/* Every status survives format + parse unchanged. */
static void
test_roundtrip(void **state)
{
	const enum snapshot_state_status all[] = {SNAPSHOT_STATE_CREATING,
	SNAPSHOT_STATE_LOADING, SNAPSHOT_STATE_DONE};
	char		buf[1024];
	char		err[512];

	(void) state;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
	{
		struct snapshot_state st = sample(all[i]);
		struct snapshot_state back;

		assert_true(snapshot_state_format(&st, buf, sizeof(buf)));
		if (!snapshot_state_parse(buf, "f", &back, err, sizeof(err)))
			fail_msg("%s: %s", snapshot_state_name(all[i]), err);
		assert_state_equal(&st, &back);
	}
}

/*
 * What is accepted besides the agent's own output: a file of the previous
 * agent (no create_lsn), unknown keys (a newer agent's), comments, blank
 * lines, CRLF, no final newline, extreme values.
 */
static void
test_parse_tolerated(void **state)
{
	struct snapshot_state st;
	char		err[512];

	(void) state;
	assert_true(snapshot_state_parse("status = loading\nsystem_id = 1\ndatabase = d\nslot = s\n"
									 "consistent_point = 0/10\ncreated_slot = true\ntables = 0\nrows = 0\n",
									 "f", &st, err, sizeof(err)));
	assert_int_equal(st.status, SNAPSHOT_STATE_LOADING);
	assert_true(st.create_lsn == 0 && st.consistent_point == 0x10);

	assert_true(snapshot_state_parse("# c\r\n\r\nstatus = done\r\nfuture_key = whatever\r\nsystem_id = 1\r\n"
									 "database = d b\r\nslot = s\r\nconsistent_point = FFFFFFFF/FFFFFFFF\r\n"
									 "created_slot = false\r\nrows = 18446744073709551615\r\n"
									 "tables = 9223372036854775807",
									 "f", &st, err, sizeof(err)));
	assert_int_equal(st.status, SNAPSHOT_STATE_DONE);
	assert_string_equal(st.database, "d b");
	assert_false(st.created_slot);
	assert_true(st.consistent_point == UINT64_MAX);
	assert_true(st.rows == UINT64_MAX);
	assert_true(st.tables == INT64_MAX);
}

/* Every corrupt file: false, and a message naming the file and line. */
static void
test_parse_corrupt(void **state)
{
#define HEAD "system_id = 1\ndatabase = d\nslot = s\ncreated_slot = true\n"
	static const struct
	{
		const char *text;
		const char *err;
	}			cases[] = {
		{"", "snapshot state file \"f\" is incomplete (delete it only if you know the load it describes is finished or abandoned)"},
		{"# only a comment\n", "snapshot state file \"f\" is incomplete (delete it only if you know the load it describes is finished or abandoned)"},
		/* a status without what it needs */
		{"status = creating\n" HEAD, "snapshot state file \"f\" is incomplete (delete it only if you know the load it describes is finished or abandoned)"},
		{"status = loading\n" HEAD, "snapshot state file \"f\" is incomplete (delete it only if you know the load it describes is finished or abandoned)"},
		{"status = done\n" HEAD "create_lsn = 0/1\n", "snapshot state file \"f\" is incomplete (delete it only if you know the load it describes is finished or abandoned)"},
		{"status = done\nconsistent_point = 0/1\ndatabase = d\nslot = s\ncreated_slot = true\n", "snapshot state file \"f\" is incomplete (delete it only if you know the load it describes is finished or abandoned)"},
		{HEAD "consistent_point = 0/1\n", "snapshot state file \"f\" is incomplete (delete it only if you know the load it describes is finished or abandoned)"},
		/* values */
		{"status = loaded\n", "snapshot state file \"f\", line 1: cannot parse \"status = loaded\""},
		{"status = none\n", "snapshot state file \"f\", line 1: cannot parse \"status = none\""},
		{"status = Done\n", "snapshot state file \"f\", line 1: cannot parse \"status = Done\""},
		{"status =done\n", "snapshot state file \"f\", line 1: cannot parse \"status =done\""},
		{"# x\nstatus done\n", "snapshot state file \"f\", line 2: cannot parse \"status done\""},
		{"consistent_point = 0/XYZ\n", "snapshot state file \"f\", line 1: cannot parse \"consistent_point = 0/XYZ\""},
		{"create_lsn = 1D89ED18\n", "snapshot state file \"f\", line 1: cannot parse \"create_lsn = 1D89ED18\""},
		{"created_slot = yes\n", "snapshot state file \"f\", line 1: cannot parse \"created_slot = yes\""},
		{"rows = -1\n", "snapshot state file \"f\", line 1: cannot parse \"rows = -1\""},
		{"rows = 12a\n", "snapshot state file \"f\", line 1: cannot parse \"rows = 12a\""},
		{"rows = 18446744073709551616\n", "snapshot state file \"f\", line 1: cannot parse \"rows = 18446744073709551616\""},
		{"tables = 9223372036854775808\n", "snapshot state file \"f\", line 1: cannot parse \"tables = 9223372036854775808\""},
		{"tables = \n", "snapshot state file \"f\", line 1: cannot parse \"tables = \""},
		{"slot = \n", "snapshot state file \"f\", line 1: cannot parse \"slot = \""},
		{"slot = 0123456789012345678901234567890123456789012345678901234567890123\n",
		"snapshot state file \"f\", line 1: cannot parse \"slot = 0123456789012345678901234567890123456789012345678901234567890123\""},
		/* a key twice: which one is true is unknown */
		{"status = done\nstatus = loading\n", "snapshot state file \"f\", line 2: \"status\" appears twice"},
		{HEAD "slot = t\n", "snapshot state file \"f\", line 5: \"slot\" appears twice"},
	};
	char		err[512];

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		struct snapshot_state st;

		err[0] = '\0';
		if (snapshot_state_parse(cases[i].text, "f", &st, err, sizeof(err)))
			fail_msg("case %zu parsed: %s", i, cases[i].text);
		assert_string_equal(err, cases[i].err);
	}
#undef HEAD
}

static void
test_parse_long_line(void **state)
{
	char		text[700];
	char		err[512];
	struct snapshot_state st;

	(void) state;
	snprintf(text, sizeof(text), "status = done\ndatabase = ");
	memset(text + strlen(text), 'd', 600);
	text[sizeof(text) - 1] = '\0';
	assert_false(snapshot_state_parse(text, "f", &st, err, sizeof(err)));
	assert_string_equal(err, "snapshot state file \"f\", line 2: line too long");
}

/* A real directory: write, replace, read back; errors name the file. */
static void
test_files(void **state)
{
	char		dir[] = "/tmp/wc-state-XXXXXX";
	char		tmp[256];
	char		err[512];
	char	   *path;
	struct snapshot_state st = sample(SNAPSHOT_STATE_CREATING);
	struct snapshot_state back;
	FILE	   *f;

	(void) state;
	assert_non_null(mkdtemp(dir));
	path = snapshot_state_path(dir, "sn1");
	assert_non_null(path);
	snprintf(tmp, sizeof(tmp), "%s/sn1.snapshot", dir);
	assert_string_equal(path, tmp);

	/* no file: nothing recorded */
	assert_true(snapshot_state_read(path, &back, err, sizeof(err)));
	assert_int_equal(back.status, SNAPSHOT_STATE_NONE);

	/* every transition replaces the file, and leaves no temporary file */
	for (int s = SNAPSHOT_STATE_CREATING; s <= SNAPSHOT_STATE_DONE; s++)
	{
		st = sample((enum snapshot_state_status) s);
		assert_true(snapshot_state_write(path, &st, err, sizeof(err)));
		assert_true(snapshot_state_read(path, &back, err, sizeof(err)));
		assert_state_equal(&st, &back);
		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		assert_int_equal(access(tmp, F_OK), -1);
	}

	/* a torn or foreign file: NUL bytes, or far too large */
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite("status = done\n\0\0\0", 1, 17, f);
	fclose(f);
	assert_false(snapshot_state_read(path, &back, err, sizeof(err)));
	snprintf(tmp, sizeof(tmp), "snapshot state file \"%s\" contains a NUL byte (a torn or foreign file)", path);
	assert_string_equal(err, tmp);
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 2000; i++)
		fputs("# padding\n", f);
	fclose(f);
	assert_false(snapshot_state_read(path, &back, err, sizeof(err)));
	snprintf(tmp, sizeof(tmp), "could not read snapshot state file \"%s\": larger than a state file can be", path);
	assert_string_equal(err, tmp);
	assert_int_equal(unlink(path), 0);

	/* a directory where the file should be cannot be read */
	assert_int_equal(mkdir(path, 0700), 0);
	assert_false(snapshot_state_read(path, &back, err, sizeof(err)));
	snprintf(tmp, sizeof(tmp), "could not read snapshot state file \"%s\": read error", path);
	assert_string_equal(err, tmp);
	assert_int_equal(rmdir(path), 0);
	free(path);

	/* a state directory that does not exist cannot be written */
	snprintf(tmp, sizeof(tmp), "%s/missing", dir);
	path = snapshot_state_path(tmp, "sn1");
	assert_false(snapshot_state_write(path, &st, err, sizeof(err)));
	snprintf(tmp, sizeof(tmp), "could not write snapshot state file \"%s\": No such file or directory (see --state-dir)", path);
	assert_string_equal(err, tmp);
	free(path);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_parse_tolerated),
		cmocka_unit_test(test_parse_corrupt),
		cmocka_unit_test(test_parse_long_line),
		cmocka_unit_test(test_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
