/*
 * test_sink_amqp_batch.c
 *		Unit tests of the RabbitMQ sink's open batched message
 *		(sinks/sink_amqp_batch.c) with a sender that records what it is
 *		handed instead of a broker, checked against the acknowledgement
 *		rule (ack.c): a transaction held in an open --batch window message
 *		is never confirmed before that message is sent and confirmed.  Also
 *		the closing rules (caps, routing key, linger, the load's chunks, a
 *		full in-flight window), --batch transaction beside them, and the
 *		real sink through the sink helpers, without a connection.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ack.h"
#include "clock.h"
#include "config_int.h"
#include "log.h"
#include "sink_amqp.h"
#include "walcast_record.h"

/* What the fake sender was handed, in order. */
#define MAX_SENT 16
struct sent
{
	char		key[64];
	char		id[128];
	char		body[1024];
	uint32_t	count;
	uint32_t	events;
	bool		has_xid;
	bool		has_table;
};

/* A sink without a destination, its open message, and what it sent. */
struct rig
{
	struct agent_config cfg;
	struct sink sink;
	struct sink_amqp_batch batch;
	struct sent sent[MAX_SENT];
	int			nsent;
	bool		fail;			/* the next send fails (a lost connection) */
};

static enum sink_status
fake_send(void *ctx, const struct sink_amqp_msg *m, char *err, size_t errlen)
{
	struct rig *r = ctx;
	struct sent *s;

	if (r->fail)
	{
		snprintf(err, errlen, "lost");
		return SINK_RETRY;
	}
	assert_true(r->nsent < MAX_SENT);
	s = &r->sent[r->nsent++];
	snprintf(s->key, sizeof(s->key), "%s", m->key);
	snprintf(s->id, sizeof(s->id), "%s", m->id);
	assert_true(m->len < sizeof(s->body));
	memcpy(s->body, m->body, m->len);
	s->body[m->len] = '\0';
	s->count = m->count;
	s->events = m->events;
	s->has_xid = m->meta->xid >= 0;
	s->has_table = m->meta->has_table;
	return SINK_OK;
}

/* A rig for the command line args (after the program name). */
static void
rig_start(struct rig *r, int argc, char **argv)
{
	char		err[512];
	char	   *args[16] = {"walcast-agent"};

	assert_true(argc < 15);
	for (int i = 0; i < argc; i++)
		args[i + 1] = argv[i];
	memset(r, 0, sizeof(*r));
	assert_int_equal(config_load(&r->cfg, argc + 1, args, err, sizeof(err)), CONFIG_OK);
	r->sink.cfg = &r->cfg;
	sink_amqp_batch_init(&r->batch, &r->sink, sink_amqp_settings(&r->cfg), fake_send, r);
}

static void
rig_stop(struct rig *r)
{
	sink_amqp_batch_free(&r->batch);
	config_free(&r->cfg);
}

/*
 * The broker confirms every message sent so far: the confirmed prefix is
 * the number of messages sent (tags 1, 2, ...).
 */
static uint64_t
confirmed(const struct rig *r)
{
	return (uint64_t) r->nsent;
}

/* One event: a row of table t in transaction xid (commit_lsn 0/<xid>0). */
static void
event(struct event *ev, const char *table, int xid, int seq)
{
	char		rec[256];
	char		err[256];

	snprintf(rec, sizeof(rec),
			 "{\"action\":\"I\",\"xid\":%d,\"lsn\":\"0/%d%d\",\"commit_lsn\":\"0/%d0\",\"seq\":%d,"
			 "\"schema\":\"s\",\"table\":\"%s\",\"new\":{\"id\":%d}}", xid, xid, seq, xid, seq, table, seq);
	/* the record is copied in place: rec may go */
	assert_true(walcast_record_parse(ev, rec, strlen(rec), err, sizeof(err)));
	ev->raw = NULL;
}

/* Hold a row of table t (routing key t) of transaction xid, at now. */
static void
add(struct rig *r, const char *table, int xid, int seq, int64_t now)
{
	struct event ev;
	char		id[64];
	char		body[64];
	char		err[256];

	event(&ev, table, xid, seq);
	event_message_id(&ev, id, sizeof(id));
	snprintf(body, sizeof(body), "%s#%d.%d", table, xid, seq);
	assert_int_equal(sink_amqp_batch_add(&r->batch, &ev, table, id, 1, body, strlen(body),
										 now, err, sizeof(err)), SINK_OK);
	event_free(&ev);
}

static void
end(struct rig *r, int64_t now)
{
	char		err[256];

	assert_int_equal(sink_amqp_batch_end(&r->batch, now, err, sizeof(err)), SINK_OK);
}

/* The tracker learns the transaction with the sink's last sequence number. */
static void
commit(struct ack_tracker *t, const struct rig *r, uint64_t end_lsn)
{
	uint64_t	published = r->sink.st.published;

	ack_begin(t);
	assert_true(ack_commit(t, end_lsn, 0, &published));
}

static uint64_t
advance(struct ack_tracker *t, const struct rig *r)
{
	uint64_t	c = confirmed(r);

	return ack_advance(t, &c);
}

/*
 * The acknowledgement rule: transactions held in an open window message
 * stay unconfirmed, however many earlier messages the broker confirmed,
 * until that message itself is sent and confirmed.
 */
static void
test_window_confirms_after_its_message(void **state)
{
	char	   *args[] = {"--batch", "window", "--batch-linger-ms", "5"};
	struct ack_tracker t;
	struct rig	r;
	char		err[256];

	(void) state;
	rig_start(&r, 4, args);
	ack_init(&t, 1);

	add(&r, "a", 1, 1, 1000);
	end(&r, 1001);
	commit(&t, &r, 0x100);
	assert_int_equal(r.nsent, 0);
	/* the open message took its sequence number: the commit waits for it */
	assert_int_equal(r.sink.st.published, 1);
	assert_int_equal(r.sink.st.inflight_events, 1);
	assert_int_equal(advance(&t, &r), 0);

	add(&r, "a", 2, 1, 1002);
	end(&r, 1003);
	commit(&t, &r, 0x200);
	assert_int_equal(r.sink.st.published, 1);	/* the same message */
	assert_int_equal(advance(&t, &r), 0);

	/* the linger runs from the first event held */
	assert_int_equal(sink_amqp_batch_deadline(&r.batch), 1005);
	assert_int_equal(sink_amqp_batch_expire(&r.batch, 1004, err, sizeof(err)), SINK_OK);
	assert_int_equal(r.nsent, 0);
	assert_int_equal(advance(&t, &r), 0);
	assert_int_equal(sink_amqp_batch_expire(&r.batch, 1005, err, sizeof(err)), SINK_OK);
	assert_int_equal(r.nsent, 1);
	assert_string_equal(r.sent[0].body, "[a#1.1,a#2.1]");
	assert_string_equal(r.sent[0].id, "0/10:1+2");
	assert_int_equal(r.sent[0].count, 2);
	assert_false(r.sent[0].has_xid);	/* two transactions: no xid header */
	assert_true(r.sent[0].has_table);
	/* sent with its reserved number, not a new one */
	assert_int_equal(r.sink.st.published, 1);
	assert_int_equal(r.sink.st.messages, 1);
	assert_int_equal(r.sink.st.events, 2);
	assert_int_equal(sink_amqp_batch_deadline(&r.batch), -1);

	/* sent and confirmed: both transactions at once */
	assert_int_equal(advance(&t, &r), 0x200);
	assert_true(ack_idle(&t));
	ack_free(&t);
	rig_stop(&r);
}

/* Nothing of an open message outlives a closed session. */
static void
test_window_dropped_at_close(void **state)
{
	char	   *args[] = {"--batch", "window"};
	struct ack_tracker t;
	struct rig	r;

	(void) state;
	rig_start(&r, 2, args);
	ack_init(&t, 1);
	add(&r, "a", 1, 1, 1000);
	end(&r, 1000);
	commit(&t, &r, 0x100);
	sink_amqp_batch_drop(&r.batch);
	assert_int_equal(sink_amqp_batch_deadline(&r.batch), -1);
	assert_int_equal(r.nsent, 0);
	assert_int_equal(advance(&t, &r), 0);
	ack_free(&t);
	rig_stop(&r);
}

/*
 * The caps close the message after its complete transactions: the next
 * one moves on whole, unless it alone exceeds them.
 */
static void
test_window_caps_keep_transactions_whole(void **state)
{
	char	   *args[] = {"--batch", "window", "--batch-max-events", "3"};
	struct ack_tracker t;
	struct rig	r;

	(void) state;
	rig_start(&r, 4, args);
	ack_init(&t, 1);
	add(&r, "a", 1, 1, 0);
	add(&r, "a", 1, 2, 0);
	end(&r, 1);
	commit(&t, &r, 0x100);
	add(&r, "a", 2, 1, 2);
	add(&r, "a", 2, 2, 2);		/* 4 > 3: transaction 1 goes alone */
	assert_int_equal(r.nsent, 1);
	assert_string_equal(r.sent[0].body, "[a#1.1,a#1.2]");
	assert_string_equal(r.sent[0].id, "0/10:1+2");
	assert_true(r.sent[0].has_xid);
	assert_int_equal(r.sink.st.published, 1);
	/* transaction 2, half read, has no number yet: it is not complete */
	assert_int_equal(sink_amqp_batch_deadline(&r.batch), -1);
	end(&r, 3);
	commit(&t, &r, 0x200);
	assert_int_equal(r.sink.st.published, 2);
	assert_int_equal(advance(&t, &r), 0x100);

	/* a transaction of 5 alone exceeds 3: cut at the caps, in order */
	add(&r, "a", 3, 1, 10);		/* 3 entries: fits */
	assert_int_equal(r.nsent, 1);
	add(&r, "a", 3, 2, 10);		/* 4: closes 2's message, 3 moves on */
	add(&r, "a", 3, 3, 10);
	add(&r, "a", 3, 4, 10);		/* 3 alone exceeds the caps: cut */
	add(&r, "a", 3, 5, 10);
	end(&r, 11);
	commit(&t, &r, 0x300);
	assert_int_equal(r.nsent, 3);
	assert_string_equal(r.sent[1].body, "[a#2.1,a#2.2]");
	assert_string_equal(r.sent[1].id, "0/20:1+2");
	assert_string_equal(r.sent[2].body, "[a#3.1,a#3.2,a#3.3]");
	assert_string_equal(r.sent[2].id, "0/30:1+3");
	assert_int_equal(advance(&t, &r), 0x200);
	assert_int_equal(r.sink.st.published, 4);	/* 3's last part, held */
	assert_int_equal(sink_amqp_batch_deadline(&r.batch), 15);
	rig_stop(&r);
	ack_free(&t);
}

/* One message, one routing key: alternating keys close every message. */
static void
test_window_key_change_closes(void **state)
{
	char	   *args[] = {"--batch", "window", "--batch-linger-ms", "100"};
	struct rig	r;

	(void) state;
	rig_start(&r, 4, args);
	add(&r, "a", 1, 1, 0);
	end(&r, 0);
	add(&r, "a", 2, 1, 0);
	end(&r, 0);
	add(&r, "b", 3, 1, 0);
	end(&r, 0);
	add(&r, "a", 4, 1, 0);
	end(&r, 0);
	assert_int_equal(r.nsent, 2);
	assert_string_equal(r.sent[0].key, "a");
	assert_string_equal(r.sent[0].body, "[a#1.1,a#2.1]");
	assert_string_equal(r.sent[1].key, "b");
	assert_string_equal(r.sent[1].body, "[b#3.1]");
	assert_int_equal(r.sink.st.published, 3);	/* a's second, open */
	rig_stop(&r);
}

/*
 * A full in-flight window: the complete transactions go out, the one
 * being read stays unless it alone fills the window.
 */
static void
test_window_flush_when_full(void **state)
{
	char	   *args[] = {"--batch", "window", "--batch-linger-ms", "1000",
	"--max-inflight-events", "3", "--batch-max-events", "3"};
	struct rig	r;
	char		err[256];

	(void) state;
	rig_start(&r, 8, args);
	add(&r, "a", 1, 1, 0);
	end(&r, 0);
	add(&r, "a", 2, 1, 0);
	assert_int_equal(r.sink.st.inflight_events, 2);
	/* a broker that blocked publishing gets nothing, and nothing is due */
	r.sink.st.blocked = true;
	assert_int_equal(sink_amqp_batch_flush(&r.batch, err, sizeof(err)), SINK_OK);
	assert_int_equal(sink_amqp_batch_expire(&r.batch, 5000, err, sizeof(err)), SINK_OK);
	assert_int_equal(sink_amqp_batch_deadline(&r.batch), -1);
	assert_int_equal(r.nsent, 0);
	r.sink.st.blocked = false;
	assert_int_equal(sink_amqp_batch_deadline(&r.batch), 1000);
	assert_int_equal(sink_amqp_batch_flush(&r.batch, err, sizeof(err)), SINK_OK);
	assert_int_equal(r.nsent, 1);
	assert_string_equal(r.sent[0].body, "[a#1.1]");
	assert_int_equal(sink_amqp_batch_flush(&r.batch, err, sizeof(err)), SINK_OK);
	assert_int_equal(r.nsent, 1);	/* 2 is being read, and leaves room */
	add(&r, "a", 2, 2, 0);
	add(&r, "a", 2, 3, 0);		/* 2 alone fills the window */
	assert_int_equal(sink_amqp_batch_flush(&r.batch, err, sizeof(err)), SINK_OK);
	assert_int_equal(r.nsent, 2);
	assert_string_equal(r.sent[1].body, "[a#2.1,a#2.2,a#2.3]");
	end(&r, 0);					/* nothing held: no number taken */
	assert_int_equal(r.sink.st.published, 2);
	rig_stop(&r);
}

/* --batch transaction: every commit closes; the load's chunks, in both. */
static void
test_transaction_and_load(void **state)
{
	char	   *txn[] = {"--batch", "transaction"};
	char	   *window[] = {"--batch", "window", "--batch-linger-ms", "1000"};
	char	   *zero[] = {"--batch", "window", "--batch-linger-ms", "0"};
	struct rig	r;
	struct event ev;
	char		err[256];

	(void) state;
	rig_start(&r, 2, txn);
	add(&r, "a", 1, 1, 0);
	assert_int_equal(r.sink.st.published, 0);	/* numbered when sent */
	end(&r, 0);
	assert_int_equal(r.nsent, 1);
	assert_int_equal(r.sink.st.published, 1);
	assert_int_equal(sink_amqp_batch_deadline(&r.batch), -1);
	rig_stop(&r);

	rig_start(&r, 4, zero);
	add(&r, "a", 1, 1, 0);
	end(&r, 0);
	assert_int_equal(r.nsent, 1);
	rig_stop(&r);

	/* a load's rows close at the end of their chunk, lingering or not */
	rig_start(&r, 4, window);
	event(&ev, "a", 1, 1);
	ev.op = EVENT_READ;
	assert_int_equal(sink_amqp_batch_add(&r.batch, &ev, "a", "snapshot:0/1:s.a:1", 1, "r1", 2,
										 0, err, sizeof(err)), SINK_OK);
	event_free(&ev);
	end(&r, 0);
	assert_int_equal(r.nsent, 1);
	assert_string_equal(r.sent[0].id, "snapshot:0/1:s.a:1+1");
	rig_stop(&r);
}

/* A failed send keeps nothing counted as sent; the session then ends. */
static void
test_window_send_fails(void **state)
{
	char	   *args[] = {"--batch", "window"};
	struct rig	r;
	char		err[256];

	(void) state;
	rig_start(&r, 2, args);
	add(&r, "a", 1, 1, 0);
	end(&r, 0);
	r.fail = true;
	assert_int_equal(sink_amqp_batch_expire(&r.batch, 100, err, sizeof(err)), SINK_RETRY);
	assert_string_equal(err, "lost");
	assert_int_equal(r.sink.st.messages, 0);
	rig_stop(&r);
}

/*
 * The real sink through the sink helpers, never connected: a window
 * transaction is reported with the open message's number, which nothing
 * confirmed; the loop is told when it falls due, and flushing it tries
 * to send it (and fails here: no broker).
 */
static void
test_sink_set_window(void **state)
{
	char	   *args[] = {"walcast-agent", "--amqp-uri", "amqp://h/", "--batch", "window",
	"--batch-linger-ms", "10000"};
	static const char rec[] =
		"{\"action\":\"I\",\"xid\":7,\"lsn\":\"0/70\",\"commit_lsn\":\"0/80\",\"seq\":1,"
		"\"schema\":\"s\",\"table\":\"t\",\"new\":{\"id\":1}}";
	struct agent_config cfg;
	struct sink_set set;
	struct ack_tracker t;
	struct event ev;
	char		err[512];
	int64_t		wait;

	(void) state;
	assert_int_equal(config_load(&cfg, 7, args, err, sizeof(err)), CONFIG_OK);
	assert_true(sink_set_create(&set, &cfg, err, sizeof(err)));
	ack_init(&t, set.n);
	assert_int_equal(sink_set_wait(&set, 0, 1000), 1000);

	assert_true(walcast_record_parse(&ev, rec, strlen(rec), err, sizeof(err)));
	ack_begin(&t);
	assert_int_equal(sink_set_publish(&set, &ev, err, sizeof(err)), SINK_OK);
	event_free(&ev);
	assert_int_equal(sink_set_end_txn(&set, err, sizeof(err)), SINK_OK);
	assert_int_equal(set.published[0], 1);
	assert_true(ack_commit(&t, 0x90, 0, set.published));
	assert_int_equal(ack_advance(&t, sink_set_confirmed(&set)), 0);
	assert_int_equal(sink_set_unconfirmed(&set), 1);

	wait = sink_set_wait(&set, clock_now_ms(), 1000);
	assert_true(wait >= 0 && wait <= 10000);
	assert_int_equal(sink_set_flush(&set, err, sizeof(err)), SINK_RETRY);
	assert_string_equal(err, "not connected to RabbitMQ");
	assert_int_equal(ack_advance(&t, sink_set_confirmed(&set)), 0);

	sink_set_close(&set);
	assert_int_equal(sink_set_unconfirmed(&set), 0);
	ack_free(&t);
	sink_set_destroy(&set);
	config_free(&cfg);
}

static int
setup(void **state)
{
	char		err[256];

	(void) state;
	/* the sink's warnings are expected: keep them out of the output */
	return log_open("/dev/null", err, sizeof(err)) ? 0 : -1;
}

static int
teardown(void **state)
{
	(void) state;
	log_close();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_confirms_after_its_message),
		cmocka_unit_test(test_window_dropped_at_close),
		cmocka_unit_test(test_window_caps_keep_transactions_whole),
		cmocka_unit_test(test_window_key_change_closes),
		cmocka_unit_test(test_window_flush_when_full),
		cmocka_unit_test(test_transaction_and_load),
		cmocka_unit_test(test_window_send_fails),
		cmocka_unit_test(test_sink_set_window),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
