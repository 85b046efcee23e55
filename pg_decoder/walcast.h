/*-------------------------------------------------------------------------
 *
 * walcast.h
 *		Shared declarations of the walcast logical decoding output plugin.
 *
 * The plugin turns every decoded change into one JSON object (see
 * docs/format.md).  Files, by prefix:
 *
 *	walcast.c	entry point, startup/shutdown, callback registration
 *	txn.c		txn_*: transaction, change, truncate and message callbacks,
 *				2PC and streaming callbacks
 *	options.c	options_*: the one option parser
 *	filter.c	filter_*: name patterns (tables, columns, prefixes, origins)
 *	relinfo.c	relinfo_*: per-relation output cache, relcache-invalidated
 *	typeinfo.c	typeinfo_*: per-type rendering cache, syscache-invalidated
 *	value.c		value_*: rendering of one datum as JSON
 *	json.c		json_*: escaping and number/LSN/timestamp primitives
 *	record.c	record_*: the JSON records themselves
 *	batch.c		batch_*: handing records to the output, optionally batched
 *	snapshot.c	SQL functions of the walcast extension (snapshot rows)
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALCAST_H
#define WALCAST_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "replication/logical.h"
#include "replication/origin.h"
#include "replication/output_plugin.h"
#include "replication/reorderbuffer.h"
#include "utils/rel.h"
#include "utils/typcache.h"

/*
 * Version edges.  Everything that differs between PostgreSQL 13 and 17 in
 * the structures the plugin reads is wrapped here, so the code between
 * stays version-free.
 */
#if PG_VERSION_NUM >= 140000
#define WC_TXN_TIME(txn)	((txn)->xact_time.commit_time)
#define WC_HAVE_STREAMING	1
#define WC_HAVE_TWO_PHASE	1
#else
#define WC_TXN_TIME(txn)	((txn)->commit_time)
#endif

#if PG_VERSION_NUM >= 170000
#define WC_CHANGE_TUPLE(t)	(t)
#else
#define WC_CHANGE_TUPLE(t)	((t) != NULL ? &(t)->tuple : NULL)
#endif

#ifdef rbtxn_get_toptxn
#define WC_TOPTXN(txn)		rbtxn_get_toptxn(txn)
#else
#define WC_TOPTXN(txn)		((txn)->toptxn != NULL ? (txn)->toptxn : (txn))
#endif

/* Bits of the "actions" option. */
#define WC_ACT_INSERT		0x01
#define WC_ACT_UPDATE		0x02
#define WC_ACT_DELETE		0x04
#define WC_ACT_TRUNCATE		0x08
#define WC_ACT_MESSAGE		0x10
#define WC_ACT_ALL			0x1f

/* Values of the "bytea-encoding" option. */
#define WC_BYTEA_BASE64		0
#define WC_BYTEA_HEX		1

/*
 * One part of a name pattern, already unescaped: chars[i] is a literal
 * byte unless star[i], in which case it matches any run of bytes.
 */
typedef struct WcName
{
	int			len;
	char	   *chars;
	bool	   *star;
} WcName;

/* A pattern of 1 (prefix, origin), 2 (schema.table) or 3 parts (.column). */
#define WC_MAX_PARTS 3
typedef struct WcPattern
{
	int			nparts;
	WcName		part[WC_MAX_PARTS];
} WcPattern;

typedef struct WcOptions
{
	bool		include_xids;
	bool		include_timestamp;
	bool		include_lsn;
	bool		include_seq;
	bool		include_transaction;
	bool		include_empty_xacts;
	bool		include_types;
	bool		include_type_oids;
	bool		include_pk;
	bool		numeric_as_string;
	bool		only_local;
	bool		batch_across_xacts;
	bool		stream_changes;
	bool		two_phase;
	int			bytea_encoding;
	int			batch_bytes;
	int			actions;
	List	   *filter_tables;		/* of WcPattern *, 2 parts */
	List	   *add_tables;			/* of WcPattern *, 2 parts; NIL = all */
	List	   *exclude_columns;	/* of WcPattern *, 3 parts */
	List	   *filter_msg_prefixes;	/* of WcPattern *, 1 part, no stars */
	List	   *add_msg_prefixes;	/* of WcPattern *, 1 part; NIL = all */
	List	   *filter_origins;		/* of WcPattern *, 1 part, no stars */
} WcOptions;

/* How a value of a type is rendered (after domains are resolved). */
typedef enum WcKind
{
	WC_KIND_OUTPUT,				/* the type's output function, as a string */
	WC_KIND_TEXT,				/* text, varchar, bpchar: raw bytes escaped */
	WC_KIND_NAME,
	WC_KIND_BOOL,
	WC_KIND_INT2,
	WC_KIND_INT4,
	WC_KIND_INT8,
	WC_KIND_OID,
	WC_KIND_FLOAT4,
	WC_KIND_FLOAT8,
	WC_KIND_NUMERIC,
	WC_KIND_JSON,
	WC_KIND_JSONB,
	WC_KIND_BYTEA,
	WC_KIND_DATE,
	WC_KIND_TIME,
	WC_KIND_TIMETZ,
	WC_KIND_TIMESTAMP,
	WC_KIND_TIMESTAMPTZ,
	WC_KIND_INTERVAL,
	WC_KIND_ARRAY,
	WC_KIND_COMPOSITE,
	WC_KIND_RANGE,
	WC_KIND_MULTIRANGE
} WcKind;

typedef struct WcType
{
	Oid			typid;			/* hash key: the type as declared */
	WcKind		kind;
	int16		typlen;			/* of the base type */
	bool		typbyval;
	char		typalign;
	struct WcType *elem;		/* ARRAY: element type; RANGE: subtype */
	TypeCacheEntry *range_tc;	/* RANGE: the range's type cache entry */
	FmgrInfo	outfn;			/* OUTPUT: the base type's output function */
} WcType;

/* One column of a cached relation. */
typedef struct WcColumn
{
	bool		emit;			/* not dropped and not excluded */
	bool		is_key;			/* part of the replica identity */
	const char *key;			/* "name": (JSON-escaped, with colon) */
	int			key_len;
	WcType	   *type;
} WcColumn;

/* Per-relation output information, rebuilt after relcache invalidation. */
typedef struct WcRel
{
	Oid			relid;			/* hash key */
	bool		valid;
	bool		skip;			/* filtered out by filter-tables/add-tables */
	const char *identity;		/* "default", "index", "full" or "nothing" */
	MemoryContext cxt;			/* owns everything below */
	int			natts;
	WcColumn   *cols;
	char	   *head;			/* ,"schema":"..","table":".." [pk types] */
	int			head_len;
} WcRel;

/* Per-transaction state, in txn->output_plugin_private. */
typedef struct WcTxn
{
	bool		begun;			/* B (or S for this block) was emitted */
	bool		emitted;		/* anything of this transaction emitted */
	bool		streaming;		/* changes arrive through stream callbacks */
	bool		block_open;		/* streaming: S emitted for this block */
	bool		prepared;		/* decoded at PREPARE (two-phase) */
	bool		origin_checked;
	bool		skip;			/* filtered by origin */
	uint64		seq;			/* last seq handed out */
	int			prefix_len;
	char		prefix[192];	/* ,"xid":..,"commit_lsn":..,"ts":.. */
} WcTxn;

/* The plugin's private state, in ctx->output_plugin_private. */
typedef struct WcData
{
	WcOptions	opts;
	MemoryContext cxt;			/* the decoding session's (ctx->context) */
	MemoryContext change_cxt;	/* reset after every callback */
	MemoryContext cache_cxt;	/* relation and type caches */
	HTAB	   *rels;
	HTAB	   *types;
	bool		types_stale;	/* a type changed: rebuild both caches */
	bool		sql_interface;	/* not a walsender: batches end per unit */
	StringInfoData batch;		/* pending batched records */
	int			batch_last_sep; /* offset of the newest separator, or -1 */
	XLogRecPtr	batch_lsn;		/* write location of the newest record */
	TransactionId batch_xid;
} WcData;

/* options.c */
extern void options_parse(WcOptions *opts, List *defs);

/* filter.c */
extern bool filter_name_match(const WcName *name, const char *s);
extern bool filter_table_skipped(const WcOptions *opts, const char *nspname,
								 const char *relname);
extern bool filter_column_excluded(const WcOptions *opts, const char *nspname,
								   const char *relname, const char *attname);
extern bool filter_prefix_skipped(const WcOptions *opts, const char *prefix);
extern bool filter_origin_skipped(const WcOptions *opts, RepOriginId origin);

/* typeinfo.c */
extern WcType *typeinfo_get(WcData *data, Oid typid);

/* relinfo.c */
extern void relinfo_init(WcData *data, MemoryContext session_cxt);
extern WcRel *relinfo_get(WcData *data, Relation rel);

/* json.c */
extern void json_escape(StringInfo out, const char *s, int len);
extern void json_escape_utf8(StringInfo out, const char *s, int len);
extern void json_string(StringInfo out, const char *s, int len);
extern void json_int64(StringInfo out, int64 v);
extern void json_uint64(StringInfo out, uint64 v);
extern void json_lsn(StringInfo out, XLogRecPtr lsn);
extern void json_timestamp(StringInfo out, int64 ts, bool utc);
extern void json_date(StringInfo out, int32 date);
extern void json_time(StringInfo out, int64 time, bool has_zone, int zone);
extern void json_compact(StringInfo out, int start);
extern void json_base64(StringInfo out, const char *s, int len);
extern void json_hex(StringInfo out, const char *s, int len);

/* value.c */
extern void value_render(StringInfo out, WcData *data, WcType *type,
						 Datum d);

/* record.c */
extern void record_begin(StringInfo out, WcData *data, ReorderBufferTXN *txn,
						 WcTxn *st);
extern void record_commit(StringInfo out, WcData *data, char action,
						  ReorderBufferTXN *txn, WcTxn *st,
						  XLogRecPtr commit_lsn);
extern void record_change(StringInfo out, WcData *data, WcTxn *st,
						  WcRel *rel, Relation relation,
						  ReorderBufferChange *change, uint32 subxid);
extern void record_snapshot(StringInfo out, WcData *data, WcRel *rel,
							Relation relation, HeapTupleHeader row,
							XLogRecPtr lsn);
extern void record_truncate(StringInfo out, WcData *data, WcTxn *st,
							WcRel *rel, Relation relation,
							ReorderBufferChange *change);
extern void record_message(StringInfo out, WcData *data, WcTxn *st,
						   XLogRecPtr lsn, const char *prefix,
						   Size size, const char *message);
extern void record_txn_prefix(WcData *data, ReorderBufferTXN *txn,
							  WcTxn *st, XLogRecPtr commit_lsn);
extern void record_stream(StringInfo out, WcData *data, char action,
						  ReorderBufferTXN *txn, XLogRecPtr lsn);

/* batch.c */
extern void batch_init(WcData *data);
extern StringInfo batch_record_start(LogicalDecodingContext *ctx,
									 WcData *data);
extern void batch_record_end(LogicalDecodingContext *ctx, WcData *data);
extern void batch_unit_end(LogicalDecodingContext *ctx, WcData *data);

/* txn.c */
extern void txn_register_callbacks(OutputPluginCallbacks *cb);

#endif							/* WALCAST_H */
