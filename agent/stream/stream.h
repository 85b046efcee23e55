/*
 * stream.h
 *		The replication connection: libpq's streaming replication protocol in
 *		logical mode, modelled on PostgreSQL's pg_recvlogical.
 *
 * stream_open connects (conninfo + replication=database), runs
 * IDENTIFY_SYSTEM, looks the slot up in pg_replication_slots (creating it
 * only when asked and only when absent) and starts streaming.  stream_next
 * then hands out one XLogData message at a time, whole, with its start
 * position: what the message means is the decoder's business (decode/).
 * The message stays valid until the next call of stream_next, so the
 * caller can decode it piece by piece and stop between any two events
 * when its in-flight window is full.
 *
 * The stream knows no output plugin: the caller names the plugin the slot
 * must use and the options START_REPLICATION passes (the decoder's).
 */
#ifndef WALCAST_STREAM_H
#define WALCAST_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "config.h"
#include "pqconn.h"

enum stream_status
{
	STREAM_OK,
	STREAM_MESSAGE,				/* *msg: one XLogData message, valid until the
								 * next call */
	STREAM_KEEPALIVE,			/* keepalive_end is set, maybe reply_requested */
	STREAM_AGAIN,				/* nothing complete: poll the socket */
	STREAM_RETRY,				/* connection lost, slot busy: retry later */
	STREAM_UNREACHABLE,			/* could not connect or authenticate */
	STREAM_FATAL,				/* slot missing, invalidated, wrong plugin... */
	STREAM_BUSY					/* another agent holds the slot's lock (loading) */
};

/* One XLogData message: its payload and where in the WAL it starts. */
struct stream_message
{
	uint64_t	data_start;		/* dataStart of the 'w' header */
	const char *data;
	size_t		len;
};

struct stream
{
	const struct agent_config *cfg;
	const char *plugin;			/* the slot's output plugin (the decoder's) */
	const struct config_plugin_options *options;	/* START_REPLICATION's */
	/* libpq keywords after the conninfo (the decoder's pinned settings) */
	const struct pqconn_params *conn_params;
	PGconn	   *conn;

	/* The XLogData message last handed out (PQfreemem'd at the next one). */
	char	   *copybuf;

	uint64_t	received_lsn;	/* newest position received (the "write" LSN) */
	uint64_t	server_wal_end; /* the server's WAL end, from its messages */
	uint64_t	keepalive_end;	/* walEnd of the keepalive just returned */
	bool		reply_requested;	/* the server asked for a status reply */
	int64_t		last_recv_ms;	/* loop_now_ms() of the last message read */
	uint64_t	slot_confirmed_lsn; /* confirmed_flush_lsn when we started */
	int			wal_sender_timeout_ms;	/* 0 = disabled or unknown */

	/*
	 * The initial load (snapshot.c).  Set before stream_prepare: an absent
	 * slot is left to the caller (exists = false) when for_load or
	 * --create-slot, who creates it with stream_create_slot (with an
	 * exported snapshot when for_load).  Filled by stream_prepare and
	 * stream_create_slot.
	 */
	bool		for_load;
	bool		exists;			/* the slot exists (after stream_prepare) */
	bool		created;		/* this session created the slot */

	/*
	 * An earlier session of this process prepared the slot (created it or
	 * streamed from it): it is this process's slot.  Kept across sessions,
	 * so that a reconnect never creates it again (--create-slot is about
	 * the first start), and a slot that vanished meanwhile is reported as
	 * the loss it is instead of being silently replaced.
	 */
	bool		slot_used;

	/*
	 * The slot can no longer give what the agent needs: invalidated (its
	 * WAL removed, max_slot_wal_keep_size), or moved past the position this
	 * agent confirmed (position.h).  The failure that says so is fatal,
	 * with its own exit code (docs/agent-operations.md, "Slot lost").
	 */
	bool		slot_lost;
	char		snapshot_name[64];	/* exported snapshot, "" when none */
	uint64_t	consistent_point;	/* of the slot created, else 0 */
	uint64_t	identify_lsn;	/* IDENTIFY_SYSTEM's xlogpos */
	char		system_id[32];	/* IDENTIFY_SYSTEM's systemid */
	char		timeline[16];	/* and timeline */
	char		database[128];	/* and dbname */
	uint64_t	start_lsn;		/* START_REPLICATION's position, 0 = the slot's */
};

/*
 * plugin, options and conn_params (NULL: none) are borrowed: they must
 * outlive the stream.
 */
extern void stream_init(struct stream *s, const struct agent_config *cfg,
						const char *plugin,
						const struct config_plugin_options *options,
						const struct pqconn_params *conn_params);
extern enum stream_status stream_open(struct stream *s, char *err,
									  size_t errlen);

/*
 * stream_open in two steps, for the initial load: stream_prepare connects,
 * identifies the system, takes the slot's lock and checks the slot (an
 * absent one is the caller's to create); the connection then stays idle, which keeps
 * an exported snapshot alive, until stream_begin starts streaming.
 *
 * The slot's lock (docs/snapshot.md, "One agent per slot") is a
 * session-level advisory lock of the replication connection, held until
 * it closes: while one agent prepares, loads or streams, another cannot
 * decide about the slot.  Taken when free; when another session holds it
 * and the slot is active, STREAM_RETRY (as for any active slot); when the
 * slot is idle, i.e. the holder is loading (or is the session of an agent
 * that just died and ends within moments), it waits a few seconds, then
 * STREAM_BUSY naming the holder's PID.
 *
 * With for_load, stream_create_slot creates the absent slot with an
 * exported snapshot, and stream_drop_slot drops it (the load's restart);
 * both keep the connection for what follows, and close it on failure.
 */
extern enum stream_status stream_prepare(struct stream *s, char *err,
										 size_t errlen);
extern enum stream_status stream_begin(struct stream *s, char *err,
									   size_t errlen);
extern enum stream_status stream_create_slot(struct stream *s, char *err,
											 size_t errlen);
extern bool stream_drop_slot(struct stream *s, char *err, size_t errlen);

/*
 * Whether bytes from the server wait unread in the socket: the server is
 * alive even if the loop, busy elsewhere, has not read them yet.
 */
extern bool stream_input_pending(const struct stream *s);

/* The error for a slot that does not exist and may not be created. */
extern void stream_missing_slot_error(const struct stream *s, char *err,
									  size_t errlen);

extern enum stream_status stream_next(struct stream *s,
									  struct stream_message *msg, char *err,
									  size_t errlen);
/* After poll() reported the socket readable. */
extern bool stream_consume(struct stream *s, char *err, size_t errlen);

/*
 * Standby status update: write = received, flush = apply = confirmed by
 * every sink.  The server moves the slot's confirmed_flush_lsn to flush.
 */
extern bool stream_send_status(struct stream *s, uint64_t flush,
							   bool reply_requested, char *err, size_t errlen);

/*
 * The position the status reports as written (received): the newest
 * message's start, or flush when that is further (a commit's end, a
 * keepalive's position), since what was flushed was received first.
 */
static inline uint64_t
stream_written(const struct stream *s, uint64_t flush)
{
	return s->received_lsn > flush ? s->received_lsn : flush;
}
extern int	stream_socket(const struct stream *s);

/*
 * graceful: end the COPY and wait (briefly) for the server to finish, so
 * the walsender releases the slot before we reconnect.
 */
extern void stream_close(struct stream *s, bool graceful);

#endif							/* WALCAST_STREAM_H */
