/*-------------------------------------------------------------------------
 *
 * record.c
 *		The JSON records: B, C, I, U, D, T, M, the streaming and
 *		two-phase ones, and L, a row read by a snapshot (docs/format.md is
 *		the specification).
 *
 * Fields that are the same for every record of a transaction (xid,
 * commit_lsn, ts) are rendered once per transaction into WcTxn.prefix;
 * those of a relation (schema, table, pk, types) once per relation into
 * WcRel.head.  A change then costs its action, seq, lsn and row images.
 *
 *-------------------------------------------------------------------------
 */
#include "walcast.h"

#include "access/htup_details.h"
#include "mb/pg_wchar.h"

static void
record_open(StringInfo out, char action)
{
	char		head[] = "{\"action\":\"?\"";

	head[11] = action;
	appendBinaryStringInfo(out, head, sizeof(head) - 1);
}

static void
record_field_lsn(StringInfo out, const char *key, XLogRecPtr lsn)
{
	appendStringInfoString(out, key);
	json_lsn(out, lsn);
}

static void
record_seq(StringInfo out, WcData *data, WcTxn *st)
{
	if (data->opts.include_seq)
	{
		appendBinaryStringInfo(out, ",\"seq\":", 7);
		json_uint64(out, st->seq);
	}
}

/* xid, commit_lsn and ts of a transaction, as options ask. */
static void
record_common(StringInfo out, WcData *data, TransactionId xid, bool force_xid,
			  XLogRecPtr commit_lsn, TimestampTz ts)
{
	const WcOptions *opts = &data->opts;

	if (opts->include_xids || force_xid)
	{
		appendBinaryStringInfo(out, ",\"xid\":", 7);
		json_uint64(out, xid);
	}
	if (opts->include_lsn && commit_lsn != InvalidXLogRecPtr)
		record_field_lsn(out, ",\"commit_lsn\":", commit_lsn);
	if (opts->include_timestamp && ts != 0)
	{
		appendBinaryStringInfo(out, ",\"ts\":", 6);
		json_timestamp(out, ts, true);
	}
}

/*
 * Render the per-transaction prefix into st->prefix.  While streaming the
 * commit is still ahead: only the xid is known, and it is always given,
 * as the one way to tell interleaved streamed transactions apart.
 */
void
record_txn_prefix(WcData *data, ReorderBufferTXN *txn, WcTxn *st,
				  XLogRecPtr commit_lsn)
{
	StringInfoData buf;

	initStringInfo(&buf);
	if (st->streaming)
		record_common(&buf, data, txn->xid, true, InvalidXLogRecPtr, 0);
	else
		record_common(&buf, data, txn->xid, false, commit_lsn,
					  WC_TXN_TIME(txn));
	Assert(buf.len < sizeof(st->prefix));
	memcpy(st->prefix, buf.data, buf.len);
	st->prefix_len = buf.len;
	pfree(buf.data);
}

static void
record_gid(StringInfo out, ReorderBufferTXN *txn)
{
	if (txn->gid != NULL)
	{
		appendBinaryStringInfo(out, ",\"gid\":", 7);
		json_string(out, txn->gid, strlen(txn->gid));
	}
}

void
record_begin(StringInfo out, WcData *data, ReorderBufferTXN *txn, WcTxn *st)
{
	record_open(out, 'B');
	appendBinaryStringInfo(out, st->prefix, st->prefix_len);
	record_seq(out, data, st);
	if (st->prepared)
		record_gid(out, txn);
	appendStringInfoCharMacro(out, '}');
}

/*
 * The records that end a transaction: C commit, X stream commit, P
 * prepare (commit_lsn is the PREPARE's LSN), K commit prepared, R rollback
 * prepared.  st is NULL for K and R, which may come in another session
 * than their PREPARE and carry no seq.
 */
void
record_commit(StringInfo out, WcData *data, char action,
			  ReorderBufferTXN *txn, WcTxn *st, XLogRecPtr commit_lsn)
{
	record_open(out, action);
	if (action == 'R')
	{
		/* nothing was committed: the LSN is the ROLLBACK PREPARED's */
		record_common(out, data, txn->xid, false, InvalidXLogRecPtr,
					  WC_TXN_TIME(txn));
		if (data->opts.include_lsn)
			record_field_lsn(out, ",\"lsn\":", commit_lsn);
	}
	else
		record_common(out, data, txn->xid, action == 'X', commit_lsn,
					  WC_TXN_TIME(txn));
	if (st != NULL)
		record_seq(out, data, st);
	if (data->opts.include_lsn)
		record_field_lsn(out, ",\"end_lsn\":", txn->end_lsn);
	if (action == 'P' || action == 'K' || action == 'R')
		record_gid(out, txn);
	appendStringInfoCharMacro(out, '}');
}

/* S stream start, E stream stop, A stream abort (lsn: the abort's). */
void
record_stream(StringInfo out, WcData *data, char action,
			  ReorderBufferTXN *txn, XLogRecPtr lsn)
{
	ReorderBufferTXN *top = WC_TOPTXN(txn);

	record_open(out, action);
	appendBinaryStringInfo(out, ",\"xid\":", 7);
	json_uint64(out, top->xid);
	if (top != txn)
	{
		appendBinaryStringInfo(out, ",\"subxid\":", 10);
		json_uint64(out, txn->xid);
	}
	if (lsn != InvalidXLogRecPtr && data->opts.include_lsn)
		record_field_lsn(out, ",\"lsn\":", lsn);
	appendStringInfoCharMacro(out, '}');
}

/* action, transaction fields, seq and lsn: the start of every change. */
static void
record_change_head(StringInfo out, WcData *data, char action, WcTxn *st,
				   XLogRecPtr lsn)
{
	record_open(out, action);
	appendBinaryStringInfo(out, st->prefix, st->prefix_len);
	record_seq(out, data, st);
	if (data->opts.include_lsn)
		record_field_lsn(out, ",\"lsn\":", lsn);
}

/*
 * One row image as an object.  With keys_only, only replica identity
 * columns (an old key of DEFAULT/INDEX identity: the other columns of
 * that tuple are NULL placeholders, not values).
 *
 * A varlena still pointing to TOAST on disk is a value the UPDATE did not
 * change and WAL does not carry: it is taken from the old row when that
 * has it (REPLICA IDENTITY FULL), else its column number is added to
 * unchanged[] and the column left out.  Returns how many were added.
 */
static int
record_row(StringInfo out, WcData *data, WcRel *rel, Datum *values,
		   bool *nulls, bool keys_only, Datum *old_values, bool *old_nulls,
		   int *unchanged)
{
	bool		first = true;
	int			nunchanged = 0;

	appendStringInfoCharMacro(out, '{');
	for (int i = 0; i < rel->natts; i++)
	{
		WcColumn   *col = &rel->cols[i];
		Datum		v = values[i];

		if (!col->emit || (keys_only && !col->is_key))
			continue;
		if (!nulls[i] && col->type->typlen == -1 &&
			VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(v)))
		{
			if (old_values != NULL && !old_nulls[i] &&
				!VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(old_values[i])))
				v = old_values[i];
			else
			{
				if (unchanged != NULL)
					unchanged[nunchanged++] = i;
				continue;
			}
		}
		if (!first)
			appendStringInfoCharMacro(out, ',');
		first = false;
		appendBinaryStringInfo(out, col->key, col->key_len);
		if (nulls[i])
			appendBinaryStringInfo(out, "null", 4);
		else
			value_render(out, data, col->type, v);
	}
	appendStringInfoCharMacro(out, '}');
	return nunchanged;
}

static void
record_deform(HeapTuple tuple, TupleDesc desc, Datum **values, bool **nulls)
{
	*values = palloc(desc->natts * sizeof(Datum));
	*nulls = palloc(desc->natts * sizeof(bool));
	heap_deform_tuple(tuple, desc, *values, *nulls);
}

void
record_change(StringInfo out, WcData *data, WcTxn *st, WcRel *rel,
			  Relation relation, ReorderBufferChange *change, uint32 subxid)
{
	TupleDesc	desc = RelationGetDescr(relation);
	HeapTuple	newtuple = WC_CHANGE_TUPLE(change->data.tp.newtuple);
	HeapTuple	oldtuple = WC_CHANGE_TUPLE(change->data.tp.oldtuple);
	bool		full = (rel->identity[0] == 'f');
	bool		nothing = (rel->identity[0] == 'n');
	Datum	   *old_values = NULL;
	bool	   *old_nulls = NULL;
	char		action;

	switch (change->action)
	{
		case REORDER_BUFFER_CHANGE_INSERT:
			action = 'I';
			break;
		case REORDER_BUFFER_CHANGE_UPDATE:
			action = 'U';
			break;
		default:
			action = 'D';
			break;
	}
	record_change_head(out, data, action, st, change->lsn);
	if (subxid != InvalidTransactionId)
	{
		appendBinaryStringInfo(out, ",\"subxid\":", 10);
		json_uint64(out, subxid);
	}
	appendBinaryStringInfo(out, rel->head, rel->head_len);
	if (action != 'I')
	{
		appendBinaryStringInfo(out, ",\"identity\":\"", 13);
		appendStringInfoString(out, rel->identity);
		appendStringInfoCharMacro(out, '"');
	}
	if (oldtuple != NULL && !nothing)
		record_deform(oldtuple, desc, &old_values, &old_nulls);

	if (newtuple != NULL)
	{
		Datum	   *values;
		bool	   *nulls;
		int		   *unchanged = palloc(rel->natts * sizeof(int));
		int			nunchanged;

		record_deform(newtuple, desc, &values, &nulls);
		appendBinaryStringInfo(out, ",\"new\":", 7);
		nunchanged = record_row(out, data, rel, values, nulls, false,
								full ? old_values : NULL, old_nulls,
								unchanged);
		if (nunchanged > 0)
		{
			appendBinaryStringInfo(out, ",\"unchanged\":[", 14);
			for (int i = 0; i < nunchanged; i++)
			{
				WcColumn   *col = &rel->cols[unchanged[i]];

				if (i > 0)
					appendStringInfoCharMacro(out, ',');
				/* the key is "name": without its colon */
				appendBinaryStringInfo(out, col->key, col->key_len - 1);
			}
			appendStringInfoCharMacro(out, ']');
		}
	}

	/*
	 * old: the key (DEFAULT/INDEX) or the whole row (FULL) when the server
	 * logged it; null when the table has no identity to log; left out of
	 * an UPDATE that did not change the key, whose key is then in new.
	 */
	if (old_values != NULL)
	{
		appendBinaryStringInfo(out, ",\"old\":", 7);
		(void) record_row(out, data, rel, old_values, old_nulls, !full,
						  NULL, NULL, NULL);
	}
	else if (action == 'D' || (action == 'U' && nothing))
		appendBinaryStringInfo(out, ",\"old\":null", 11);
	appendStringInfoCharMacro(out, '}');
}

/*
 * L: one existing row read by a snapshot (snapshot.c), rendered as the new
 * row of an insert is.  No transaction fields: the row belongs to no
 * decoded transaction.  lsn, when valid, is the snapshot's consistent
 * point.  The row comes from a query, so its values are never TOAST
 * pointers (a whole-row value is flattened) and nothing can be unchanged.
 */
void
record_snapshot(StringInfo out, WcData *data, WcRel *rel, Relation relation,
				HeapTupleHeader row, XLogRecPtr lsn)
{
	HeapTupleData tuple;
	Datum	   *values;
	bool	   *nulls;

	tuple.t_len = HeapTupleHeaderGetDatumLength(row);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = RelationGetRelid(relation);
	tuple.t_data = row;
	record_deform(&tuple, RelationGetDescr(relation), &values, &nulls);

	record_open(out, 'L');
	if (lsn != InvalidXLogRecPtr && data->opts.include_lsn)
		record_field_lsn(out, ",\"lsn\":", lsn);
	appendBinaryStringInfo(out, rel->head, rel->head_len);
	appendBinaryStringInfo(out, ",\"new\":", 7);
	(void) record_row(out, data, rel, values, nulls, false, NULL, NULL, NULL);
	appendStringInfoCharMacro(out, '}');
}

void
record_truncate(StringInfo out, WcData *data, WcTxn *st, WcRel *rel,
				Relation relation, ReorderBufferChange *change)
{
	record_change_head(out, data, 'T', st, change->lsn);
	appendBinaryStringInfo(out, rel->head, rel->head_len);
	appendStringInfoString(out, change->data.truncate.cascade ?
						   ",\"cascade\":true" : ",\"cascade\":false");
	appendStringInfoString(out, change->data.truncate.restart_seqs ?
						   ",\"restart_identity\":true}" :
						   ",\"restart_identity\":false}");
}

/*
 * A logical message.  st is NULL for a non-transactional one, which
 * belongs to no transaction: no xid, commit_lsn, ts or seq.
 */
void
record_message(StringInfo out, WcData *data, WcTxn *st, XLogRecPtr lsn,
			   const char *prefix, Size size, const char *message)
{
	if (st != NULL)
		record_change_head(out, data, 'M', st, lsn);
	else
	{
		record_open(out, 'M');
		if (data->opts.include_lsn)
			record_field_lsn(out, ",\"lsn\":", lsn);
	}
	appendBinaryStringInfo(out, ",\"prefix\":", 10);
	json_string(out, prefix, strlen(prefix));
	appendStringInfoString(out, st != NULL ? ",\"transactional\":true" :
						   ",\"transactional\":false");
	/* text when it is valid UTF-8 (NUL excluded), else base64 */
	if (pg_encoding_verifymbstr(PG_UTF8, message, (int) size) == (int) size)
	{
		appendBinaryStringInfo(out, ",\"content\":", 11);
		/* json_escape would convert from the database encoding: not here */
		appendStringInfoCharMacro(out, '"');
		json_escape_utf8(out, message, size);
		appendStringInfoCharMacro(out, '"');
	}
	else
	{
		appendBinaryStringInfo(out, ",\"content_base64\":", 18);
		json_base64(out, message, size);
	}
	appendStringInfoCharMacro(out, '}');
}
