/*-------------------------------------------------------------------------
 *
 * snapshot.c
 *		SQL functions of the walcast extension (walcast--0.1.sql): render a
 *		table's existing rows as walcast records for an initial full load
 *		(docs/snapshot.md), with the very code that renders decoded changes.
 *
 * walcast.snapshot_record(rel, row, options, lsn) writes one "L" record
 * (a row read by a snapshot): relinfo.c's per-relation head, record.c's
 * row rendering, value.c's values, the options parsed by options.c.  So a
 * snapshot row and an inserted row of the same values differ only in the
 * action letter and the transaction fields, by construction.
 * walcast.table_included(rel, options) applies the plugin's own
 * add-tables/filter-tables decision.
 *
 * Logical decoding needs none of this: the output plugin is loaded by slot
 * name, and CREATE EXTENSION is needed only for snapshots.
 *
 * The rendering state (options, relation and type caches) lives in
 * fn_extra, in a context under fn_mcxt: built on the first row of a query,
 * reused for the next rows, gone with the query.  The options array must
 * be the same on every row of a query; a different one rebuilds the state.
 *
 *-------------------------------------------------------------------------
 */
#include "walcast.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/pg_lsn.h"

PG_FUNCTION_INFO_V1(walcast_snapshot_record);
PG_FUNCTION_INFO_V1(walcast_table_included);

/* Per-query state of snapshot_record, in fn_extra. */
typedef struct SnapshotState
{
	MemoryContext cxt;			/* owns everything below */
	ArrayType  *options;		/* copy of the options it was built from */
	WcData		data;
} SnapshotState;

/*
 * The options array as the DefElem list options_parse expects: each
 * element "name=value", or "name" alone for a boolean set to true (as
 * pg_recvlogical's -o name); the same spelling as walcast-agent's -o.
 */
static List *
snapshot_option_defs(ArrayType *arr)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *defs = NIL;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("walcast options must be a one-dimensional array")));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		char	   *item;
		char	   *eq;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("walcast options must not contain nulls")));
		item = TextDatumGetCString(elems[i]);
		eq = strchr(item, '=');
		if (eq != NULL)
		{
			*eq = '\0';
			defs = lappend(defs, makeDefElem(item, (Node *) makeString(eq + 1), -1));
		}
		else
			defs = lappend(defs, makeDefElem(item, NULL, -1));
	}
	return defs;
}

static void
snapshot_parse_options(WcOptions *opts, ArrayType *arr)
{
	options_parse(opts, snapshot_option_defs(arr));
}

static bool
snapshot_same_options(ArrayType *a, ArrayType *b)
{
	return VARSIZE(a) == VARSIZE(b) && memcmp(a, b, VARSIZE(a)) == 0;
}

static SnapshotState *
snapshot_state(FunctionCallInfo fcinfo, ArrayType *options)
{
	SnapshotState *st = fcinfo->flinfo->fn_extra;
	MemoryContext old;

	if (st != NULL && snapshot_same_options(st->options, options))
		return st;
	if (st != NULL)
		MemoryContextDelete(st->cxt);

	st = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(*st));
	st->cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt,
									"walcast snapshot",
									ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(st->cxt);
	st->options = (ArrayType *) palloc(VARSIZE(options));
	memcpy(st->options, options, VARSIZE(options));
	st->data.cxt = st->cxt;
	st->data.change_cxt = st->cxt;
	st->data.cache_cxt = AllocSetContextCreate(st->cxt, "walcast cache",
											   ALLOCSET_DEFAULT_SIZES);
	snapshot_parse_options(&st->data.opts, options);
	/* the caches follow catalog invalidations as in a decoding session */
	relinfo_init(&st->data, st->cxt);
	MemoryContextSwitchTo(old);
	fcinfo->flinfo->fn_extra = st;
	return st;
}

/*
 * snapshot_record(rel regclass, r record, options text[], lsn pg_lsn)
 *		returns text
 *
 * r must be a row of rel's own row type (the whole-row reference of the
 * table in FROM ONLY rel r).  A NULL rel or r gives NULL; NULL options
 * the defaults.  lsn, when not null, is written as the
 * record's "lsn" (the agent passes the snapshot's consistent point).
 */
Datum
walcast_snapshot_record(PG_FUNCTION_ARGS)
{
	Oid			relid;
	HeapTupleHeader row;
	ArrayType  *options;
	XLogRecPtr	lsn;
	SnapshotState *st;
	Relation	relation;
	WcRel	   *rel;
	StringInfoData out;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	relid = PG_GETARG_OID(0);
	row = PG_GETARG_HEAPTUPLEHEADER(1);
	/* NULL options: the defaults, as '{}' */
	options = PG_ARGISNULL(2) ? construct_empty_array(TEXTOID) :
		PG_GETARG_ARRAYTYPE_P(2);
	lsn = PG_ARGISNULL(3) ? InvalidXLogRecPtr : PG_GETARG_LSN(3);
	st = snapshot_state(fcinfo, options);

	relation = relation_open(relid, AccessShareLock);
	if (HeapTupleHeaderGetTypeId(row) != relation->rd_rel->reltype)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("row is of type %s, not of the row type of table \"%s\"",
						format_type_be(HeapTupleHeaderGetTypeId(row)),
						RelationGetRelationName(relation)),
				 errhint("Pass the table's whole-row reference, as in SELECT walcast.snapshot_record('s.t'::regclass, t.*) FROM ONLY s.t t.")));
	rel = relinfo_get(&st->data, relation);

	initStringInfo(&out);
	record_snapshot(&out, &st->data, rel, relation, row, lsn);
	relation_close(relation, AccessShareLock);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(out.data, out.len));
}

/*
 * table_included(rel regclass, options text[]) returns boolean
 *
 * Whether the stream decoded with these options writes rel's changes:
 * the plugin's own add-tables/filter-tables test (filter.c).
 */
Datum
walcast_table_included(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ArrayType  *options = PG_GETARG_ARRAYTYPE_P(1);
	WcOptions	opts;
	char	   *relname = get_rel_name(relid);
	char	   *nspname;

	if (relname == NULL)
		PG_RETURN_NULL();
	nspname = get_namespace_name(get_rel_namespace(relid));
	snapshot_parse_options(&opts, options);
	PG_RETURN_BOOL(!filter_table_skipped(&opts, nspname, relname));
}
