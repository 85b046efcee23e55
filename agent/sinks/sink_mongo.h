/*
 * sink_mongo.h
 *		The MongoDB mirror (docs/mongo.md): internals shared by
 *		sink_mongo.c (the sink: connection, queue, ordered bulk writes),
 *		sink_mongo_doc.c (a record becomes write operations) and
 *		sink_mongo_bson.c (a JSON value becomes a typed BSON value).
 *
 * A record turns into at most two operations on the collection of its
 * table.  Every operation is conditional on the document's metadata
 * position (_walcast.lsn) being older than the change, so replaying the
 * slot rewrites nothing and an older change never overwrites a newer one.
 */
#ifndef WALCAST_SINK_MONGO_H
#define WALCAST_SINK_MONGO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <mongoc/mongoc.h>

#include "config.h"
#include "event.h"
#include "sink.h"

/* The metadata sub-document of every mirrored document. */
#define SINK_MONGO_META "_walcast"

/* How values are converted (from the configuration and plugin options). */
struct sink_mongo_conv
{
	enum config_mongo_numeric numeric;
	enum config_mongo_fallback nested_arrays;
	enum config_mongo_fallback nonfinite;
	bool		bytea_hex;		/* the plugin's bytea-encoding=hex */
};

enum sink_mongo_op_kind
{
	SINK_MONGO_REPLACE,			/* upsert of the whole row */
	SINK_MONGO_UPDATE,			/* upsert with $set / $unset */
	SINK_MONGO_DELETE,			/* one document by key */
	SINK_MONGO_DELETE_MANY		/* truncate: all older documents */
};

/* One queued write; filter and doc are owned. */
struct sink_mongo_op
{
	enum sink_mongo_op_kind kind;
	char	   *coll;
	bson_t	   *filter;			/* {_id: key, _walcast.lsn: {$not: {$gte: lsn}}} */
	bson_t	   *doc;			/* replacement or update; NULL for deletes */
	int64_t		lsn;
	size_t		bytes;			/* for the in-flight byte count */
	bool		insert_first;	/* REPLACE sent as a plain insert until a
								 * duplicate key says the document exists */
	bool		applied;		/* found already applied (a replay): not sent */
};

struct mongo_sink
{
	struct sink base;
	mongoc_uri_t *uri;
	mongoc_client_t *client;	/* NULL while closed */
	mongoc_write_concern_t *wc;
	struct sink_mongo_conv conv;

	/* Operations not yet written, in change order. */
	struct sink_mongo_op **ops;
	size_t		nops;
	size_t		capops;

	/* Tables without a usable key, each warned about once. */
	char	  **nokey_tables;
	size_t		n_nokey;
	uint64_t	skipped;		/* their changes, since the agent started */
};

/* sink_mongo.c */
extern bool sink_mongo_queue(struct mongo_sink *ms, struct sink_mongo_op *op,
							 char *err, size_t errlen);
extern void sink_mongo_op_free(struct sink_mongo_op *op);
extern enum sink_status sink_mongo_flush(struct mongo_sink *ms, char *err,
										 size_t errlen);
extern enum sink_status sink_mongo_fetch(struct mongo_sink *ms,
										 const char *coll, const bson_t *filter,
										 const json_t *columns, bson_t *into,
										 char *err, size_t errlen);
/* The document's _id of a filter as relaxed extended JSON, for messages. */
extern void sink_mongo_describe_key(const bson_t *filter, char *buf,
									size_t len);

/* sink_mongo_doc.c: queue the operations of one change record. */
extern enum sink_status sink_mongo_doc_event(struct mongo_sink *ms,
											 const struct event *ev,
											 char *err, size_t errlen);

/* sink_mongo_bson.c */

/*
 * Append v (a column of type type, NULL when unknown) to doc under key.
 * *usec receives the microseconds within the millisecond of a timestamp
 * stored as a BSON date, -1 for anything else.
 */
extern bool sink_mongo_bson_append(bson_t *doc, const char *key, size_t keylen,
								   json_t *v, const char *type,
								   const struct sink_mongo_conv *c, int *usec,
								   char *err, size_t errlen);

#endif							/* WALCAST_SINK_MONGO_H */
