/*
 * sink_s3_int.h
 *		What the object-storage sink's files share (sink_s3.c: the ops;
 *		sink_s3_object.c: the open objects; sink_s3_round.c: rounds and
 *		their marker): the sink's state and the functions between them.
 *		sink_s3.c's header comment explains rounds, names and the marker.
 */
#ifndef WALCAST_SINK_S3_INT_H
#define WALCAST_SINK_S3_INT_H

#include <zlib.h>

#include "sink.h"
#include "sink_s3.h"

/*
 * An object that outgrows this goes as a multipart upload, in parts of
 * this size (S3's smallest part is 5 MiB; the last may be smaller).
 */
#define SINK_S3_PART (8 * 1024 * 1024)

/* Where the round marker lives, under the prefix. */
#define SINK_S3_MARKER "_walcast/round"

struct sink_s3_object
{
	char	   *schema;
	char	   *table;
	char	   *key;
	bool		load;
	bool		frozen;			/* its table's columns changed: a newer
								 * object of the table takes its rows */
	struct sink_s3_columns cols;
	struct strbuf body;			/* bytes not yet sent (compressed when gzip) */
	z_stream	z;
	bool		z_on;
	uint64_t	rows;
	struct sink_s3_multipart mp;
};

/* A table whose LOAD objects this session numbers (and cleared). */
struct sink_s3_loaded
{
	char	   *schema;
	char	   *table;
	int			next;			/* the next LOAD number */
};

struct sink_s3
{
	struct sink base;
	const struct sink_s3_settings *set;
	char	   *bucket;
	char	   *prefix;
	struct sink_s3_http *http;

	struct sink_s3_object *obj; /* the round's objects */
	int			nobj;
	int			capobj;
	int64_t		round_started;	/* clock_now_ms of its first event; -1 */
	size_t		round_bytes;	/* rendered, before compression */
	uint64_t	round_first;	/* commit LSN of its first transaction; 0 */
	uint64_t	round_last;
	bool		in_unit;		/* events since the last end_txn */
	uint64_t	unit_commit;	/* the open unit's commit LSN */
	uint64_t	unit_events;	/* held of the open unit, outside the window */
	uint64_t	unit_bytes;
	bool		unit_skipped;	/* it is skipped (a stored round's) */

	/* The marker read at open: a round that may have been stored. */
	bool		marked;
	uint64_t	mark_start;
	uint64_t	mark_end;
	bool		replaying;		/* cutting the marked round again */

	struct sink_s3_loaded *loaded;
	int			nloaded;

	uint64_t	objects;		/* stored since the agent started */
	uint64_t	unchanged;		/* UPDATE values left out (TOAST), as NULL */
	uint64_t	skipped;		/* events of stored rounds not written again */
};

/* ---- the open objects (sink_s3_object.c) ---- */

/* Drop the round's objects (unconfirmed: the slot sends them again). */
extern void sink_s3_round_drop(struct sink_s3 *ss);

/*
 * The open object for ev's table (and, in CSV, its columns), made when
 * there is none; NULL with the status in *st.
 */
extern struct sink_s3_object *sink_s3_object_for(struct sink_s3 *ss,
												 const struct event *ev,
												 enum sink_status *st,
												 char *err, size_t errlen);

/* Append rendered bytes (through gzip when on); finish: the gzip trailer. */
extern bool sink_s3_object_add(struct sink_s3_object *o, const char *p,
							   size_t n, bool finish);

/* o's body as the next part of its multipart upload (started if need be). */
extern enum sink_status sink_s3_object_part(struct sink_s3 *ss,
											struct sink_s3_object *o,
											char *err, size_t errlen);

/* Store o: a PUT, or its multipart upload's last part and completion. */
extern enum sink_status sink_s3_object_store(struct sink_s3 *ss,
											 struct sink_s3_object *o,
											 char *err, size_t errlen);

/* ---- rounds and the marker (sink_s3_round.c) ---- */

extern enum sink_status sink_s3_round_close(struct sink_s3 *ss, char *err,
											size_t errlen);
extern bool sink_s3_round_due(const struct sink_s3 *ss);
extern enum sink_status sink_s3_close_early(struct sink_s3 *ss, char *err,
											size_t errlen);
extern enum sink_status sink_s3_read_marker(struct sink_s3 *ss, char *err,
											size_t errlen);
extern enum sink_status sink_s3_unit_begin(struct sink_s3 *ss, uint64_t commit,
										   char *err, size_t errlen);

#endif							/* WALCAST_SINK_S3_INT_H */
