/*
 * test_decoder.c
 *		Unit tests of the decoder seam (decode/decoder.h) and the walcast
 *		decoder: the table, the START_REPLICATION options and the ones it
 *		refuses, and the iterator over a message's records.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decoder.h"
#include "decoder_harness.h"

static const struct event_needs no_needs = {false, false, NULL, NULL};
/* A sink that needs type names and keys (the mirror: test_sink_mongo.c). */
static const struct event_needs mirror_needs = {true, true, "x_uri",
"its documents are keyed"};

static void
load(struct agent_config *cfg, int argc, const char **argv)
{
	char		err[512];
	char	   *args[32];

	for (int i = 0; i < argc; i++)
		args[i] = (char *) argv[i];
	args[argc] = NULL;
	assert_int_equal(config_load(cfg, argc, args, err, sizeof(err)), CONFIG_OK);
}

#define LOAD(cfg, ...) \
	load((cfg), \
		 (int) (sizeof((const char *[]) {"walcast-agent", __VA_ARGS__}) / sizeof(const char *)), \
		 (const char *[]) {"walcast-agent", __VA_ARGS__})

/* The options as "name=value name=value ...". */
static void
options_text(const struct decoder *d, char *buf, size_t len)
{
	size_t		n = 0;

	buf[0] = '\0';
	for (int i = 0; i < d->options.count; i++)
		n += (size_t) snprintf(buf + n, len - n, "%s%s=%s", i ? " " : "",
							   d->options.items[i].name,
							   d->options.items[i].value);
}

static void
test_table(void **state)
{
	struct agent_config cfg;

	(void) state;
	assert_non_null(decoder_find(NULL));
	assert_ptr_equal(decoder_find(NULL), decoder_find("walcast"));
	assert_string_equal(decoder_find(NULL)->plugin, "walcast");
	assert_null(decoder_find("no_such_plugin"));
	LOAD(&cfg, "-S", "s");
	assert_ptr_equal(decoder_choose(&cfg), decoder_find("walcast"));
	config_free(&cfg);
}

static void
test_options(void **state)
{
	struct agent_config cfg;
	struct decoder *d;
	char		err[512];
	char		text[512];

	(void) state;
	LOAD(&cfg, "-S", "s");
	d = decoder_create(&cfg, &no_needs, err, sizeof(err));
	assert_non_null(d);
	options_text(d, text, sizeof(text));
	assert_string_equal(text, "include-pk=true batch-bytes=65536");
	decoder_free(d);

	/* the mirror needs type names; -o comes last, in order */
	d = decoder_create(&cfg, &mirror_needs, err, sizeof(err));
	options_text(d, text, sizeof(text));
	assert_string_equal(text, "include-pk=true batch-bytes=65536 include-types=true");
	decoder_free(d);
	config_free(&cfg);

	/* a default -o sets is not sent twice, and keeps the user's place */
	LOAD(&cfg, "-o", "include-xids=false", "-o", "batch-bytes=0", "-o", "include-types=false");
	d = decoder_create(&cfg, &mirror_needs, err, sizeof(err));
	options_text(d, text, sizeof(text));
	assert_string_equal(text, "include-pk=true include-xids=false batch-bytes=0 include-types=false");
	decoder_free(d);
	config_free(&cfg);
}

/* The arguments before each expect_refused/expect_accepted option. */
static const char *const decoder_args[] = {"walcast-agent"};

static void
test_refused(void **state)
{
	(void) state;
	expect_refused(&no_needs, "include-lsn=false",
				   "option: include-lsn=false is not possible with walcast-agent (it needs commit records and LSNs to acknowledge, and sequence numbers for message ids)");
	expect_refused(&no_needs, "include-seq=off",
				   "option: include-seq=off is not possible with walcast-agent (it needs commit records and LSNs to acknowledge, and sequence numbers for message ids)");
	expect_refused(&no_needs, "include-transaction=n",
				   "option: include-transaction=n is not possible with walcast-agent (it needs commit records and LSNs to acknowledge, and sequence numbers for message ids)");
	expect_refused(&no_needs, "stream-changes=true",
				   "option: stream-changes=true is not supported by walcast-agent (it publishes committed transactions only)");
	expect_refused(&no_needs, "two-phase=on",
				   "option: two-phase=on is not supported by walcast-agent (it publishes committed transactions only)");
	expect_refused(&mirror_needs, "include-pk=false",
				   "option: include-pk=false is not possible with x_uri (its documents are keyed)");
	expect_accepted(&no_needs, "include-pk=false");
	expect_refused(&no_needs, "batch-across-transactions=true",
				   "option: batch-across-transactions=true is not possible with walcast-agent (the plugin would hold committed transactions while the agent confirms the idle server's position past them; batch across transactions in the agent with --batch window instead)");
	expect_accepted(&no_needs, "batch-across-transactions=false");
	expect_accepted(&no_needs, "stream-changes=false");
	expect_accepted(&no_needs, "include-lsn=true");
	expect_accepted(&no_needs, "numeric-data-types-as-string=true");
	/* numbers of any size are kept as their text */
	expect_accepted(&no_needs, "numeric-data-types-as-string=off");
}

static struct decoder *
new_decoder(struct agent_config *cfg)
{
	char		err[512];
	struct decoder *d;

	LOAD(cfg, "-S", "s");
	d = decoder_create(cfg, &no_needs, err, sizeof(err));
	assert_non_null(d);
	assert_int_equal(decoder_begin_session(d, NULL, err, sizeof(err)), DECODER_OK);
	return d;
}

/* Several records in one message, one event each, then NEED_MORE. */
static void
test_iterator(void **state)
{
	static const char msg[] =
		"{\"action\":\"B\",\"xid\":7,\"commit_lsn\":\"0/20\",\"seq\":0}\n"
		"\n"
		"{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"new\":{\"id\":1},\"commit_lsn\":\"0/20\",\"seq\":1}\n"
		"{\"action\":\"C\",\"xid\":7,\"commit_lsn\":\"0/20\",\"end_lsn\":\"0/28\",\"seq\":2}";
	static const enum event_op want[] = {EVENT_BEGIN, EVENT_INSERT, EVENT_COMMIT};
	struct agent_config cfg;
	struct decoder *d = new_decoder(&cfg);
	struct event ev;
	char		err[512];

	(void) state;
	/* nothing fed yet: ask for a message */
	assert_int_equal(decoder_next(d, &ev, err, sizeof(err)), DECODER_NEED_MORE);
	decoder_feed(d, 0x10, msg, strlen(msg));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
	{
		assert_int_equal(decoder_next(d, &ev, err, sizeof(err)), DECODER_EVENT);
		assert_int_equal(ev.op, want[i]);
		/* the event borrows the message's bytes */
		assert_true(ev.raw >= msg && ev.raw + ev.rawlen <= msg + strlen(msg));
		event_free(&ev);
	}
	assert_int_equal(decoder_next(d, &ev, err, sizeof(err)), DECODER_NEED_MORE);
	assert_int_equal(decoder_next(d, &ev, err, sizeof(err)), DECODER_NEED_MORE);

	/* a message with no record at all (only separators) */
	decoder_feed(d, 0x30, "\n\n", 2);
	assert_int_equal(decoder_next(d, &ev, err, sizeof(err)), DECODER_NEED_MORE);

	/* a new session forgets the half-read message of the last one */
	decoder_feed(d, 0x40, msg, strlen(msg));
	assert_int_equal(decoder_next(d, &ev, err, sizeof(err)), DECODER_EVENT);
	event_free(&ev);
	assert_int_equal(decoder_begin_session(d, NULL, err, sizeof(err)), DECODER_OK);
	assert_int_equal(decoder_next(d, &ev, err, sizeof(err)), DECODER_NEED_MORE);
	decoder_free(d);
	config_free(&cfg);
}

static void
test_iterator_errors(void **state)
{
	static const char bad[] = "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\"}\n{\"action\":";
	static const char commit[] = "{\"action\":\"C\",\"xid\":7,\"commit_lsn\":\"0/20\",\"seq\":2}";
	static const char broken[] = "{\"action\":\"I\",\"xid\":7,\"lsn\":\"16/B374D848\",\"schema\":\"public\","
		"\"table\":\"orders\",\"new\":{\"a\":[1,}}";
	struct agent_config cfg;
	struct decoder *d = new_decoder(&cfg);
	struct event ev;
	char		err[512];

	(void) state;
	decoder_feed(d, 0x16B374D848ULL, bad, strlen(bad));
	assert_int_equal(decoder_next(d, &ev, err, sizeof(err)), DECODER_EVENT);
	event_free(&ev);
	/* named as far as it goes, for the loop's error and --skip-lsn */
	assert_int_equal(decoder_next(d, &ev, err, sizeof(err)), DECODER_BAD_RECORD);
	assert_string_equal(err, "invalid record from the plugin: invalid JSON at byte 10: unexpected end of data");
	assert_true(ev.lsn == 0);
	assert_null(ev.table);
	event_free(&ev);
	decoder_feed(d, 0x30, broken, strlen(broken));
	assert_int_equal(decoder_next(d, &ev, err, sizeof(err)), DECODER_BAD_RECORD);
	assert_true(ev.lsn == 0x16B374D848ULL);
	assert_string_equal(ev.schema, "public");
	assert_string_equal(ev.table, "orders");
	assert_true(ev.raw == broken && ev.rawlen == strlen(broken));
	event_free(&ev);

	/* the acknowledgement rule needs every commit's end */
	decoder_feed(d, 0x20, commit, strlen(commit));
	assert_int_equal(decoder_next(d, &ev, err, sizeof(err)), DECODER_FATAL);
	assert_string_equal(err, "commit record without \"end_lsn\": the agent needs the plugin's include-lsn=true");
	decoder_free(d);
	config_free(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_iterator),
		cmocka_unit_test(test_iterator_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
