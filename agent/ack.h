/*
 * ack.h
 *		The LSN tracker: which WAL position may be reported to PostgreSQL as
 *		flushed.
 *
 * The acknowledgement rule (docs/agent-operations.md): the flush LSN is the
 * end_lsn of the newest transaction such that it, and every transaction
 * before it, has had every one of its events confirmed by every sink.
 * Nothing merely received or published counts.
 *
 * Each sink numbers what it publishes 1, 2, 3... (for RabbitMQ, the
 * publisher-confirm delivery tags of the current connection) and reports
 * the contiguous confirmed prefix: "everything up to N is confirmed",
 * however the broker's acks arrived (out of order, `multiple`).  A
 * transaction therefore needs only one number per sink: the sink's last
 * sequence number when the transaction ended.  It is complete when every
 * sink's confirmed prefix has reached that number.  A transaction that
 * published nothing (all filtered) records the sequence number of whatever
 * was published before it, so it completes as soon as everything older has.
 *
 * Transactions are decoded one after another (the agent does not ask for
 * in-progress streaming), so the in-flight ones form a FIFO: a ring that
 * grows when needed.  A non-transactional logical message is an entry of
 * its own whose position is its LSN.
 */
#ifndef WALCAST_ACK_H
#define WALCAST_ACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ack_tracker
{
	int			nsinks;			/* any number: each entry has a slot per sink */

	/*
	 * The entries, nsinks + 2 numbers each: the position confirmed once the
	 * entry completes (its end_lsn), its commit time (for lag only), then
	 * each sink's last sequence number (see above).
	 */
	uint64_t   *ring;
	size_t		cap;			/* allocated entries (a power of two) */
	size_t		head;			/* oldest entry */
	size_t		count;			/* entries in flight */
	bool		in_txn;			/* a BEGIN was seen, its COMMIT not yet */
	uint64_t	flush_lsn;		/* what may be reported as flushed */
	char		history[64];	/* the WAL history flush_lsn belongs to */
};

/* A tracker for nsinks sinks (at least one); nothing is allocated yet. */
extern void ack_init(struct ack_tracker *t, int nsinks);
extern void ack_free(struct ack_tracker *t);

/*
 * Forget everything in flight (a new replication session replays it from
 * the slot).  flush_lsn is kept: it was confirmed and stays true.
 */
extern void ack_reset(struct ack_tracker *t);

/*
 * Where a new session starts streaming (START_REPLICATION's position; 0 =
 * the slot's confirmed_flush_lsn).  The flush LSN kept from an earlier
 * session of this process, not the slot's position: that may be behind
 * (the status carrying it was lost with the connection, e.g. a walsender
 * timeout), and replaying what every sink already confirmed costs time
 * and, for the MongoDB mirror, shows older rows again until the replay
 * has caught up (docs/mongo.md, "Replay").  history names the server's
 * WAL history (system identifier and timeline): on another one (a promoted
 * standby, a restored backup) the kept position may not exist or may
 * follow other changes, so it is forgotten and the slot decides.
 */
extern uint64_t ack_resume(struct ack_tracker *t, const char *history);

extern void ack_begin(struct ack_tracker *t);

/*
 * A transaction committed at ts_us (microseconds since the epoch, or when
 * the agent received it) ended at end_lsn; published[i] is sink i's last
 * sequence number after publishing all of its events.  Returns false only
 * when the ring cannot grow (out of memory).
 */
extern bool ack_commit(struct ack_tracker *t, uint64_t end_lsn, int64_t ts_us,
					   const uint64_t *published);

/* A non-transactional message at lsn, published as published[i]. */
extern bool ack_standalone(struct ack_tracker *t, uint64_t lsn, int64_t ts_us,
						   const uint64_t *published);

/*
 * Sinks report their confirmed prefixes; complete entries leave the ring
 * oldest first.  Returns the (possibly advanced) flush LSN.
 */
extern uint64_t ack_advance(struct ack_tracker *t, const uint64_t *confirmed);

/*
 * The server says it has sent everything up to wal_end (a keepalive).  When
 * nothing is in flight and no transaction is open, every change before
 * wal_end has been confirmed, and a transaction still open on the server
 * commits later than wal_end, so it is replayed after a restart anyway:
 * reporting wal_end lets the slot advance on a database whose changes are
 * all filtered out, instead of pinning WAL forever.  Returns true when the
 * flush LSN moved.
 */
extern bool ack_keepalive(struct ack_tracker *t, uint64_t wal_end);

/* Nothing in flight and no open transaction. */
extern bool ack_idle(const struct ack_tracker *t);
extern size_t ack_in_flight(const struct ack_tracker *t);

/*
 * The commit time of the oldest entry in flight (everything committed
 * before it is confirmed: the confirmed lag), 0 when none.
 */
extern int64_t ack_oldest_time(const struct ack_tracker *t);

#endif							/* WALCAST_ACK_H */
