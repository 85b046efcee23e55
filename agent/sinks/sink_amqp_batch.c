/*
 * sink_amqp_batch.c
 *		The RabbitMQ sink's open batched message (--batch transaction and
 *		--batch window): entries held in one JSON array for one routing key,
 *		closed by the caps (batch_max_events, batch_max_bytes), by the next
 *		entry's key, and by the end of the transaction (transaction) or the
 *		linger bound (window: batch_linger_ms after its first entry was
 *		held), whichever comes first.
 *
 * A unit (a transaction, a standalone message, a chunk of the initial
 * load) is never split across messages unless it alone exceeds the caps
 * or spans routing keys (one message holds one key): when an entry would
 * exceed the caps while the message also holds earlier complete units,
 * the message is closed after them, and the unit's entries so far move on
 * to the next message.  The message therefore has two parts: done, the
 * complete units, and cur, the unit being read, after them in the body.
 *
 * The acknowledgement rule (ack.h).  The tracker records every unit, at
 * its end, with the sink's last sequence number (st.published), and the
 * unit is confirmed once the sink's confirmed prefix reaches that number.
 * A window message outlives the end of the units it holds, so it takes
 * its sequence number at the end of its first unit (reserved): those
 * units then wait for exactly that number, which only the message's own
 * confirm can reach.  Delivery tags follow publish order, and while a
 * message is open nothing else is sent (every entry goes through it), so
 * its number is the next tag: sending it uses the reserved number instead
 * of taking one.  A message that holds only part of a unit takes no
 * number: no unit was reported with it.  A session that closes drops the
 * open message with its number; nothing held is ever confirmed.
 *
 * Held entries count in flight (st.inflight_events, _bytes) from the
 * moment they are held: the in-flight window bounds their memory too.
 * When it is full, nothing more is read and no unit ends, so the loop asks
 * the sinks to flush (sink_ops.flush): the complete units are sent, which
 * is all their confirms need, and the unit being read only when it alone
 * fills the window (it is then at the caps anyway).
 *
 * Message ids are "<first entry's id>+<count>".  Transaction batches
 * depend only on the events and the caps, so a replay rebuilds the same
 * messages; window batches depend on timing too, so a replay may cut them
 * elsewhere and consumers deduplicate per event (docs/format.md).  Rows
 * of the initial load are closed at the end of each chunk in both modes:
 * their messages keep replay-stable ids.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink_amqp.h"

void
sink_amqp_batch_init(struct sink_amqp_batch *b, struct sink *s,
					 const struct sink_amqp_settings *set,
					 sink_amqp_send_fn send, void *ctx)
{
	memset(b, 0, sizeof(*b));
	b->sink = s;
	b->set = set;
	b->send = send;
	b->ctx = ctx;
}

void
sink_amqp_batch_drop(struct sink_amqp_batch *b)
{
	b->len = 0;
	memset(&b->done, 0, sizeof(b->done));
	memset(&b->cur, 0, sizeof(b->cur));
	b->reserved = false;
	b->load = false;
}

void
sink_amqp_batch_free(struct sink_amqp_batch *b)
{
	sink_amqp_batch_drop(b);
	free(b->body);
	b->body = NULL;
	b->cap = 0;
}

/* ---- what the headers say ---- */

static void
sink_amqp_batch_copy_name(char *dst, size_t len, const char *src, bool *ok)
{
	if (src == NULL || strlen(src) >= len)
	{
		*ok = false;
		return;
	}
	strcpy(dst, src);
}

static void
sink_amqp_meta_start(struct sink_amqp_batch_meta *m, const struct event *ev)
{
	memset(m, 0, sizeof(*m));
	m->has_schema = m->has_table = m->same_op = true;
	sink_amqp_batch_copy_name(m->schema, sizeof(m->schema), ev->schema, &m->has_schema);
	sink_amqp_batch_copy_name(m->table, sizeof(m->table), ev->table, &m->has_table);
	m->op = event_op_name(ev->op);
	m->lsn = ev->lsn;
	m->xid = ev->xid;
	m->ts = sink_amqp_event_time(ev);
}

static void
sink_amqp_meta_merge(struct sink_amqp_batch_meta *m, const struct event *ev)
{
	if (m->has_schema && (ev->schema == NULL || strcmp(ev->schema, m->schema) != 0))
		m->has_schema = false;
	if (m->has_table && (ev->table == NULL || strcmp(ev->table, m->table) != 0))
		m->has_table = false;
	if (m->same_op && strcmp(event_op_name(ev->op), m->op) != 0)
		m->same_op = false;
	if (m->xid != ev->xid)
		m->xid = -1;
}

/* m, the first part's, now also speaks for the part after it, n. */
static void
sink_amqp_meta_join(struct sink_amqp_batch_meta *m,
					const struct sink_amqp_batch_meta *n)
{
	if (m->has_schema && (!n->has_schema || strcmp(m->schema, n->schema) != 0))
		m->has_schema = false;
	if (m->has_table && (!n->has_table || strcmp(m->table, n->table) != 0))
		m->has_table = false;
	if (m->same_op && (!n->same_op || strcmp(m->op, n->op) != 0))
		m->same_op = false;
	if (m->xid != n->xid)
		m->xid = -1;
}

/* ---- closing ---- */

static uint32_t
sink_amqp_batch_entries(const struct sink_amqp_batch *b)
{
	return b->done.count + b->cur.count;
}

/* cur's entries join done's: its unit is complete. */
static void
sink_amqp_batch_seal(struct sink_amqp_batch *b)
{
	struct sink_amqp_part *d = &b->done;
	struct sink_amqp_part *c = &b->cur;

	if (d->count == 0)
		*d = *c;
	else
	{
		sink_amqp_meta_join(&d->meta, &c->meta);
		d->count += c->count;
		d->events += c->events;
		d->held += c->held;
	}
	memset(c, 0, sizeof(*c));
	b->load = false;
}

/*
 * A message was sent: its sequence number, unless it took one when its
 * first unit ended, and the totals.  Its events and bytes have counted in
 * flight since they were held; its confirm releases them (sink_amqp.c).
 */
static void
sink_amqp_batch_count_sent(struct sink_amqp_batch *b,
						   const struct sink_amqp_msg *m)
{
	struct sink_stats *st = &b->sink->st;

	if (!b->reserved)
		st->published++;
	st->messages++;
	st->bytes += m->len;
	st->events += m->events;
}

/*
 * Send done's entries, and with whole cur's too; whatever is not sent
 * (cur's) becomes the start of the next message.
 */
static enum sink_status
sink_amqp_batch_send(struct sink_amqp_batch *b, bool whole, char *err,
					 size_t errlen)
{
	const struct sink_amqp_part *first = b->done.count > 0 ? &b->done : &b->cur;
	struct sink_amqp_batch_meta meta = first->meta;
	char		id[SINK_AMQP_ID_BUFLEN + 12];	/* "+<count>" */
	struct sink_amqp_msg m;
	enum sink_status rc;
	size_t		end;

	whole = whole || b->cur.count == 0;
	if (b->done.count == 0 && (!whole || b->cur.count == 0))
		return SINK_OK;
	memset(&m, 0, sizeof(m));
	m.count = b->done.count;
	m.events = b->done.events;
	m.held = b->done.held;
	if (whole && b->cur.count > 0)
	{
		if (b->done.count > 0)
			sink_amqp_meta_join(&meta, &b->cur.meta);
		m.count += b->cur.count;
		m.events += b->cur.events;
		m.held += b->cur.held;
		end = b->len;
	}
	else
		end = b->cur.count > 0 ? b->cur.start - 1 : b->len;	/* cur's ',' */

	/* The body always has room for the ']' (sink_amqp_batch_add). */
	b->body[end] = ']';
	snprintf(id, sizeof(id), "%s+%u", first->id, m.count);
	m.key = b->key;
	m.id = id;
	m.body = b->body;
	m.len = end + 1;
	m.meta = &meta;
	if ((rc = b->send(b->ctx, &m, err, errlen)) != SINK_OK)
		return rc;
	sink_amqp_batch_count_sent(b, &m);
	b->reserved = false;
	if (whole)
	{
		sink_amqp_batch_drop(b);
		return SINK_OK;
	}
	/* cur's entries move to the front, after the '[' */
	memmove(b->body + 1, b->body + b->cur.start, b->len - b->cur.start);
	b->len = 1 + b->len - b->cur.start;
	b->cur.start = 1;
	memset(&b->done, 0, sizeof(b->done));
	return SINK_OK;
}

/* Whether an entry of len bytes still fits in the open message. */
static bool
sink_amqp_batch_fits(const struct sink_amqp_batch *b, size_t len)
{
	/* ',' before it and ']' after it */
	return sink_amqp_batch_entries(b) < (uint32_t) b->set->batch_max_events &&
		b->len + 1 + len + 1 <= b->set->batch_max_bytes;
}

static bool
sink_amqp_batch_grow(struct sink_amqp_batch *b, size_t need)
{
	size_t		cap = b->cap ? b->cap : 4096;
	char	   *p;

	if (need <= b->cap)
		return true;
	while (cap < need)
		cap *= 2;
	if ((p = realloc(b->body, cap)) == NULL)
		return false;
	b->body = p;
	b->cap = cap;
	return true;
}

enum sink_status
sink_amqp_batch_add(struct sink_amqp_batch *b, const struct event *ev,
					const char *key, const char *id, uint32_t events,
					const char *body, size_t len, int64_t now_ms, char *err,
					size_t errlen)
{
	struct sink_amqp_part *c = &b->cur;
	struct sink_stats *st = &b->sink->st;
	enum sink_status rc;

	/* One message, one routing key: another key closes it whole. */
	if (sink_amqp_batch_entries(b) > 0 && strcmp(key, b->key) != 0 &&
		(rc = sink_amqp_batch_send(b, true, err, errlen)) != SINK_OK)
		return rc;
	/* The caps close it after its complete units... */
	if (b->done.count > 0 && !sink_amqp_batch_fits(b, len) &&
		(rc = sink_amqp_batch_send(b, false, err, errlen)) != SINK_OK)
		return rc;
	/* ...or within the unit being read, when it alone exceeds them. */
	if (c->count > 0 && !sink_amqp_batch_fits(b, len) &&
		(rc = sink_amqp_batch_send(b, true, err, errlen)) != SINK_OK)
		return rc;

	if (!sink_amqp_batch_grow(b, b->len + 1 + len + 1))
	{
		snprintf(err, errlen, "out of memory");
		return SINK_FATAL;
	}
	if (sink_amqp_batch_entries(b) == 0)
	{
		b->body[b->len++] = '[';
		snprintf(b->key, sizeof(b->key), "%s", key);
	}
	else
		b->body[b->len++] = ',';
	if (c->count == 0)
	{
		c->start = b->len;
		c->since_ms = now_ms;
		snprintf(c->id, sizeof(c->id), "%s", id);
		sink_amqp_meta_start(&c->meta, ev);
	}
	else
		sink_amqp_meta_merge(&c->meta, ev);
	memcpy(b->body + b->len, body, len);
	b->len += len;
	c->count++;
	c->events += events;
	c->held += len + 1;
	st->inflight_events += events;
	st->inflight_bytes += len + 1;
	if (ev->op == EVENT_READ)
		b->load = true;
	return SINK_OK;
}

/* When the open message's linger ends, or -1: no complete unit held. */
static int64_t
sink_amqp_batch_due(const struct sink_amqp_batch *b)
{
	if (b->set->batch != SINK_AMQP_BATCH_WINDOW || b->done.count == 0)
		return -1;
	return b->done.since_ms + b->set->batch_linger_ms;
}

/*
 * A broker that blocked publishing (connection.blocked: a memory or disk
 * alarm) gets nothing more until it unblocks: the linger waits, and the
 * loop, which reads nothing meanwhile, does not wake for it.
 */
int64_t
sink_amqp_batch_deadline(const struct sink_amqp_batch *b)
{
	return b->sink->st.blocked ? -1 : sink_amqp_batch_due(b);
}

enum sink_status
sink_amqp_batch_end(struct sink_amqp_batch *b, int64_t now_ms, char *err,
					size_t errlen)
{
	bool		load = b->load;

	if (b->cur.count > 0)
		sink_amqp_batch_seal(b);
	if (b->done.count == 0)
		return SINK_OK;

	/*
	 * A load's chunk closes like a transaction batch: its rows carry no id
	 * of their own in the native envelope, and their message ids stay the
	 * same on every repeat of the load.
	 */
	if (b->set->batch != SINK_AMQP_BATCH_WINDOW || load ||
		now_ms >= sink_amqp_batch_due(b))
		return sink_amqp_batch_send(b, true, err, errlen);
	if (!b->reserved)
	{
		b->sink->st.published++;
		b->reserved = true;
	}
	return SINK_OK;
}

enum sink_status
sink_amqp_batch_expire(struct sink_amqp_batch *b, int64_t now_ms, char *err,
					   size_t errlen)
{
	int64_t		deadline = sink_amqp_batch_deadline(b);

	if (deadline < 0 || now_ms < deadline)
		return SINK_OK;
	return sink_amqp_batch_send(b, false, err, errlen);
}

enum sink_status
sink_amqp_batch_flush(struct sink_amqp_batch *b, char *err, size_t errlen)
{
	const struct agent_config *cfg = b->sink->cfg;
	enum sink_status rc;

	/* its unblocking makes room, not a send (sink_amqp_batch_deadline) */
	if (b->sink->st.blocked)
		return SINK_OK;
	if ((rc = sink_amqp_batch_send(b, false, err, errlen)) != SINK_OK)
		return rc;
	if (b->cur.count > 0 &&
		(b->cur.events >= (uint64_t) cfg->max_inflight_events ||
		 b->cur.held >= (uint64_t) cfg->max_inflight_bytes))
		return sink_amqp_batch_send(b, true, err, errlen);
	return SINK_OK;
}
