/*
 * sink_mongo.h
 *		The MongoDB mirror (docs/mongo.md): internals shared by
 *		sink_mongo.c (the sink: connection, queue, ordered bulk writes),
 *		sink_mongo_doc.c (a change becomes write operations, pure),
 *		sink_mongo_bson.c (a JSON value becomes a typed BSON value) and
 *		sink_mongo_config.c (its settings).
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

#include <mongoc/mongoc.h>

#include "config.h"
#include "event.h"
#include "sink.h"

/* The metadata sub-document of every mirrored document. */
#define SINK_MONGO_META "_walcast"
/* Under it, the columns stored as their JSON text (docs/mongo.md). */
#define SINK_MONGO_META_JSON "json"

/* How a value MongoDB (or a server speaking its protocol) cannot take is stored. */
enum sink_mongo_numeric
{
	SINK_MONGO_NUMERIC_DECIMAL128,	/* exact; string when beyond 34 digits */
	SINK_MONGO_NUMERIC_STRING,	/* the exact digits as text (FerretDB) */
	SINK_MONGO_NUMERIC_DOUBLE	/* rounded to the nearest double */
};

enum sink_mongo_fallback
{
	SINK_MONGO_NATIVE,			/* nested arrays as arrays, NaN as a double */
	SINK_MONGO_STRING			/* as text (FerretDB 1.x refuses them) */
};

enum sink_mongo_no_key
{
	SINK_MONGO_NO_KEY_SKIP,		/* count, warn once per table, carry on */
	SINK_MONGO_NO_KEY_FAIL		/* stop the agent */
};

/* Its settings block (sink_mongo_config.c); names are the setting keys. */
struct sink_mongo_settings
{
	char	   *mongo_uri;		/* NULL = no mirror */
	char	   *mongo_database;
	char	   *mongo_collection;	/* template: {schema} {table} */
	struct config_plugin_options mongo_collection_map;	/* schema.table=name,
														 * before the template */
	char	   *mongo_write_concern;	/* checked by sink_mongo_parse_wc */
	enum sink_mongo_numeric mongo_numeric;
	enum sink_mongo_fallback mongo_nested_arrays;
	enum sink_mongo_fallback mongo_nonfinite;
	bool		mongo_entry_id;
	enum sink_mongo_no_key mongo_no_key;
	int			mongo_bulk_max; /* writes per bulk request */
	char	   *mongo_tls_ca_file;
	char	   *mongo_tls_cert_key_file;
};

extern const struct config_section sink_mongo_config;
extern const struct sink_mongo_settings *sink_mongo_settings(const struct agent_config *cfg);

/* A parsed --mongo-write-concern. */
struct sink_mongo_wc
{
	int			w;				/* >= 0 a number, -1 majority, -2 tag */
	char		tag[64];
	bool		journal;
	bool		journal_set;
	int			wtimeout_ms;	/* 0 = none */
};

extern bool sink_mongo_parse_wc(const char *v, struct sink_mongo_wc *wc,
								char *msg, size_t len);

/*
 * A copy of a mongodb(+srv):// URI with its password and secret options
 * replaced by "****"; "****" alone when libmongoc refuses it.  malloc'd.
 */
extern char *sink_mongo_mask_uri(const char *uri);

/* How values are converted (from the configuration and plugin options). */
struct sink_mongo_conv
{
	enum sink_mongo_numeric numeric;
	enum sink_mongo_fallback nested_arrays;
	enum sink_mongo_fallback nonfinite;
	bool		bytea_hex;		/* the plugin's bytea-encoding=hex */
};

/* What the mapping of a change to operations depends on. */
struct sink_mongo_doc_ctx
{
	const struct sink_mongo_settings *set;	/* collections, entry_id */
	const struct sink_mongo_conv *conv;
};

enum sink_mongo_op_kind
{
	SINK_MONGO_REPLACE,			/* upsert of the whole row */
	SINK_MONGO_UPDATE,			/* upsert with $set / $unset */
	SINK_MONGO_DELETE,			/* one document by key */
	SINK_MONGO_DELETE_MANY		/* truncate: all older documents */
};

/* One queued write; filter, doc, set and unset are owned. */
struct sink_mongo_op
{
	enum sink_mongo_op_kind kind;
	char	   *coll;
	bson_t	   *filter;			/* {_id: key, _walcast.lsn: {$not: {$gte: lsn}}} */
	bson_t	   *doc;			/* replacement or update; NULL for deletes,
								 * and for an update until sealed */
	bson_t	   *set;			/* an update's $set and $unset until sealed */
	bson_t	   *unset;
	int64_t		lsn;
	size_t		bytes;			/* for the in-flight byte count */
	bool		insert_first;	/* REPLACE sent as a plain insert until a
								 * duplicate key says the document exists */
	bool		applied;		/* found already applied (a replay): not sent */
};

struct sink_mongo
{
	struct sink base;
	const struct sink_mongo_settings *set;
	struct sink_mongo_doc_ctx doc;
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
extern enum sink_status sink_mongo_flush(struct sink_mongo *ms, char *err,
										 size_t errlen);
/* The document's _id of a filter as relaxed extended JSON, for messages. */
extern void sink_mongo_describe_key(const bson_t *filter, char *buf,
									size_t len);

/* sink_mongo_doc.c: a change as write operations, pure */

enum sink_mongo_doc_result
{
	SINK_MONGO_DOC_OK,			/* plan->ops, and maybe plan->copy_from */
	SINK_MONGO_DOC_NO_KEY,		/* the table has no key (plan->coll is set) */
	SINK_MONGO_DOC_ERROR		/* err says why */
};

/* The operations of one change, in order, and what the sink must add. */
struct sink_mongo_doc_plan
{
	char	   *coll;			/* the collection (owned) */
	struct sink_mongo_op *ops[2];	/* a moved row's old delete, the write */
	int			nops;

	/*
	 * A row whose key changed, with unchanged TOAST columns: their values
	 * are in the old document only.  The sink reads copy_columns from the
	 * document whose _id is copy_from into the update's set, then seals it.
	 */
	bson_t	   *copy_from;		/* owned, or NULL */
	yyjson_val *copy_columns;	/* an array of names, borrowed from the event */
};

extern enum sink_mongo_doc_result sink_mongo_doc_map(const struct sink_mongo_doc_ctx *ctx,
													 const struct event *ev,
													 struct sink_mongo_doc_plan *plan,
													 char *err, size_t errlen);

/* An update's doc from its set/unset ({$set: ..., $unset: ...}). */
extern bool sink_mongo_doc_seal(struct sink_mongo_op *op);
/* What the plan still owns (ops not taken out of it, copy_from, coll). */
extern void sink_mongo_doc_plan_free(struct sink_mongo_doc_plan *plan);
extern void sink_mongo_op_free(struct sink_mongo_op *op);

/* sink_mongo_bson.c */

/*
 * Append the column whose key (in a row object of ev's record) is colkey,
 * of type type (NULL when unknown), to doc under key.  *usec receives the
 * microseconds within the millisecond of a timestamp stored as a BSON
 * date, -1 for anything else; *as_text says that the value could not be a
 * BSON value as it is and was stored as its JSON text (a string).
 */
extern bool sink_mongo_bson_append(bson_t *doc, const char *key, size_t keylen,
								   const struct event *ev, yyjson_val *colkey,
								   const char *type,
								   const struct sink_mongo_conv *c, int *usec,
								   bool *as_text, char *err, size_t errlen);

/*
 * Whether a column of this type (NULL: unknown) can be stored as its JSON
 * text: json, jsonb, arrays, composites, unknown types.  An update of
 * such a column clears its mark when it is stored as a value again.
 */
extern bool sink_mongo_may_be_text(const char *type);

#endif							/* WALCAST_SINK_MONGO_H */
