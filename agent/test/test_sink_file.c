/*
 * test_sink_file.c
 *		Unit tests of the sink registry (which kinds a configuration
 *		enables, how they are named; with other sinks: test_sink_amqp.c,
 *		test_sink_mongo.c) and of the file sink
 *		(sinks/sink_file.c) on real files: nothing counts as confirmed
 *		before it is written and synced, a crash's partial last line is cut,
 *		what was not synced at a close is dropped, and errors are one line.
 */
#define _POSIX_C_SOURCE 200809L

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

#include "config_int.h"
#include "log.h"
#include "sink.h"
#include "walcast_record.h"

static char dir[64];
static char path[128];

static int
setup(void **state)
{
	char		err[256];

	(void) state;
	strcpy(dir, "/tmp/walcast-file-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/events.jsonl", dir);
	/* the sink's info lines are expected: keep them out of the output */
	return log_open("/dev/null", err, sizeof(err)) ? 0 : -1;
}

static int
teardown(void **state)
{
	(void) state;
	unlink(path);
	rmdir(dir);
	log_close();
	return 0;
}

static void
load(struct agent_config *cfg, int argc, char **argv)
{
	char		err[512];

	assert_int_equal(config_load(cfg, argc, argv, err, sizeof(err)), CONFIG_OK);
}

/* The file's content (at most len - 1 bytes). */
static const char *
content(char *buf, size_t len)
{
	FILE	   *f = fopen(path, "r");
	size_t		n = 0;

	if (f != NULL)
	{
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

static void
publish(struct sink_set *set, const char *record)
{
	struct event ev;
	char		err[256];

	assert_true(walcast_record_parse(&ev, record, strlen(record), err, sizeof(err)));
	assert_int_equal(sink_set_publish(set, &ev, err, sizeof(err)), SINK_OK);
	event_free(&ev);
}

#define REC1 "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"commit_lsn\":\"0/20\",\"seq\":1,\"new\":{\"id\":1}}"
#define REC2 "{\"action\":\"U\",\"schema\":\"s\",\"table\":\"t\",\"commit_lsn\":\"0/20\",\"seq\":2,\"new\":{\"id\":1}}"

static void
test_registry(void **state)
{
	struct agent_config cfg;
	struct event_needs needs;
	char		names[128];
	char	   *none[] = {"walcast-agent", NULL};
	char	   *file[] = {"walcast-agent", "--file-path", "/tmp/x", NULL};

	(void) state;
	/* nothing configured: stdout, the fallback */
	load(&cfg, 1, none);
	sink_describe(&cfg, names, sizeof(names));
	assert_string_equal(names, "stdout");
	sink_needs(&cfg, &needs);
	assert_false(needs.types || needs.key);
	config_free(&cfg);

	/* any other sink replaces it */
	load(&cfg, 3, file);
	sink_describe(&cfg, names, sizeof(names));
	assert_string_equal(names, "file");
	/* the file needs nothing of the decoder beyond what every event has */
	sink_needs(&cfg, &needs);
	assert_false(needs.types || needs.key);
	config_free(&cfg);

	/* an empty value unsets */
	{
		char	   *empty[] = {"walcast-agent", "--file-path", "", NULL};

		load(&cfg, 3, empty);
		sink_describe(&cfg, names, sizeof(names));
		assert_string_equal(names, "stdout");
		config_free(&cfg);
	}
}

/* Lines reach the file and count as confirmed only when serviced. */
static void
test_write_then_confirm(void **state)
{
	struct agent_config cfg;
	struct sink_set set;
	char	   *argv[] = {"walcast-agent", "--file-path", path, NULL};
	char		err[256];
	char		buf[1024];
	struct stat sb;

	(void) state;
	load(&cfg, 3, argv);
	assert_true(sink_set_create(&set, &cfg, err, sizeof(err)));
	assert_int_equal(set.n, 1);
	assert_int_equal(sink_set_open(&set, err, sizeof(err)), SINK_OK);
	/* owner-only: rows are data */
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	publish(&set, REC1);
	publish(&set, REC2);
	assert_int_equal(sink_set_end_txn(&set, err, sizeof(err)), SINK_OK);
	assert_int_equal(set.published[0], 2);
	assert_int_equal(sink_set_unconfirmed(&set), 2);
	assert_false(sink_set_have_room(&set, 2, 1 << 20));
	assert_string_equal(content(buf, sizeof(buf)), "");

	assert_int_equal(sink_set_service(&set, err, sizeof(err)), SINK_OK);
	assert_int_equal(sink_set_unconfirmed(&set), 0);
	assert_int_equal(sink_set_confirmed(&set)[0], 2);
	assert_true(sink_set_have_room(&set, 2, 1 << 20));
	/* the native envelope: the record as received, one per line */
	assert_string_equal(content(buf, sizeof(buf)), REC1 "\n" REC2 "\n");

	/* a new session numbers from 1 again and appends */
	sink_set_close(&set);
	assert_int_equal(sink_set_open(&set, err, sizeof(err)), SINK_OK);
	assert_int_equal(set.sinks[0]->st.published, 0);
	publish(&set, REC1);
	assert_int_equal(sink_set_service(&set, err, sizeof(err)), SINK_OK);
	assert_string_equal(content(buf, sizeof(buf)), REC1 "\n" REC2 "\n" REC1 "\n");
	sink_set_close(&set);
	sink_set_destroy(&set);
	config_free(&cfg);
}

/* What was not synced when the session ended is dropped: it comes again. */
static void
test_close_drops_unsynced(void **state)
{
	struct agent_config cfg;
	struct sink_set set;
	char	   *argv[] = {"walcast-agent", "--file-path", path, NULL};
	char		err[256];
	char		buf[1024];

	(void) state;
	load(&cfg, 3, argv);
	assert_true(sink_set_create(&set, &cfg, err, sizeof(err)));
	assert_int_equal(sink_set_open(&set, err, sizeof(err)), SINK_OK);
	publish(&set, REC1);
	sink_set_close(&set);
	assert_string_equal(content(buf, sizeof(buf)), "");
	sink_set_destroy(&set);
	config_free(&cfg);
}

/* A write cut short by a crash leaves a partial line: open cuts it off. */
static void
test_partial_line_cut(void **state)
{
	struct agent_config cfg;
	struct sink_set set;
	char	   *argv[] = {"walcast-agent", "--file-path", path, NULL};
	char		err[256];
	char		buf[1024];
	FILE	   *f = fopen(path, "w");

	(void) state;
	assert_non_null(f);
	fputs(REC1 "\n{\"action\":\"U\",\"sch", f);
	fclose(f);
	load(&cfg, 3, argv);
	assert_true(sink_set_create(&set, &cfg, err, sizeof(err)));
	assert_int_equal(sink_set_open(&set, err, sizeof(err)), SINK_OK);
	assert_string_equal(content(buf, sizeof(buf)), REC1 "\n");
	publish(&set, REC2);
	assert_int_equal(sink_set_service(&set, err, sizeof(err)), SINK_OK);
	assert_string_equal(content(buf, sizeof(buf)), REC1 "\n" REC2 "\n");
	sink_set_close(&set);

	/* a file that is one partial line only becomes empty */
	f = fopen(path, "w");
	fputs("{\"act", f);
	fclose(f);
	assert_int_equal(sink_set_open(&set, err, sizeof(err)), SINK_OK);
	assert_string_equal(content(buf, sizeof(buf)), "");
	sink_set_close(&set);
	sink_set_destroy(&set);
	config_free(&cfg);
}

static void
test_open_errors(void **state)
{
	struct agent_config cfg;
	struct sink_set set;
	char		missing[160];
	char	   *argv[] = {"walcast-agent", "--file-path", missing, NULL};
	char	   *isdir[] = {"walcast-agent", "--file-path", dir, NULL};
	char		err[256];
	char		want[256];

	(void) state;
	snprintf(missing, sizeof(missing), "%s/no/such/dir/x.jsonl", dir);
	load(&cfg, 3, argv);
	assert_true(sink_set_create(&set, &cfg, err, sizeof(err)));
	assert_int_equal(sink_set_open(&set, err, sizeof(err)), SINK_FATAL);
	snprintf(want, sizeof(want), "file sink: could not open \"%s\": No such file or directory", missing);
	assert_string_equal(err, want);
	sink_set_destroy(&set);
	config_free(&cfg);

	load(&cfg, 3, isdir);
	assert_true(sink_set_create(&set, &cfg, err, sizeof(err)));
	assert_int_equal(sink_set_open(&set, err, sizeof(err)), SINK_FATAL);
	snprintf(want, sizeof(want), "file sink: could not open \"%s\": Is a directory", dir);
	assert_string_equal(err, want);
	sink_set_destroy(&set);
	config_free(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry),
		cmocka_unit_test_setup_teardown(test_write_then_confirm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_drops_unsynced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_line_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
