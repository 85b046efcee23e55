/*-------------------------------------------------------------------------
 *
 * txn.c
 *		The decoding callbacks: transactions, changes, truncates, messages,
 *		and (PostgreSQL 14+) streamed and two-phase transactions.
 *
 * Every callback renders under data->change_cxt, hands its records to
 * batch.c while still inside it (under the SQL interface the output is
 * copied into a tuplestore in the current context, which would otherwise
 * pile up copies for the whole call), and resets it on its single way out.
 *
 * BEGIN is deferred, as in pgoutput: B (or S for a stream block) is
 * written with the first record that survives the filters, so a
 * transaction whose changes are all filtered out costs nothing downstream
 * (include-empty-xacts restores the B/C pair).  Per-transaction state
 * (WcTxn) hangs off txn->output_plugin_private of the top-level
 * transaction; streamed transactions interleave, so nothing about a
 * transaction may live in WcData.
 *
 *-------------------------------------------------------------------------
 */
#include "walcast.h"

#include "utils/memutils.h"

static MemoryContext
txn_enter(WcData *data)
{
	return MemoryContextSwitchTo(data->change_cxt);
}

static void
txn_leave(WcData *data, MemoryContext old)
{
	MemoryContextSwitchTo(old);
	MemoryContextReset(data->change_cxt);
}

static WcTxn *
txn_state(LogicalDecodingContext *ctx, ReorderBufferTXN *txn)
{
	if (txn->output_plugin_private == NULL)
		txn->output_plugin_private = MemoryContextAllocZero(ctx->context,
															sizeof(WcTxn));
	return txn->output_plugin_private;
}

static void
txn_state_free(ReorderBufferTXN *txn)
{
	if (txn->output_plugin_private != NULL)
		pfree(txn->output_plugin_private);
	txn->output_plugin_private = NULL;
}

/*
 * Is the transaction filtered by its replication origin?  Asked at its
 * first record (needs catalog access, which the change callbacks have).
 */
static bool
txn_skipped(WcData *data, ReorderBufferTXN *txn, WcTxn *st)
{
	if (!st->origin_checked)
	{
		st->skip = (data->opts.only_local &&
					txn->origin_id != InvalidRepOriginId) ||
			filter_origin_skipped(&data->opts, txn->origin_id);
		st->origin_checked = true;
	}
	return st->skip;
}

static void
txn_emit_begin(LogicalDecodingContext *ctx, WcData *data,
			   ReorderBufferTXN *txn, WcTxn *st)
{
	StringInfo	out = batch_record_start(ctx, data);

	record_begin(out, data, txn, st);
	batch_record_end(ctx, data);
}

static void
txn_emit_stream(LogicalDecodingContext *ctx, WcData *data, char action,
				ReorderBufferTXN *txn, XLogRecPtr lsn)
{
	StringInfo	out = batch_record_start(ctx, data);

	record_stream(out, data, action, txn, lsn);
	batch_record_end(ctx, data);
}

static void
txn_emit_commit(LogicalDecodingContext *ctx, WcData *data, char action,
				ReorderBufferTXN *txn, WcTxn *st, XLogRecPtr lsn)
{
	StringInfo	out = batch_record_start(ctx, data);

	record_commit(out, data, action, txn, st, lsn);
	batch_record_end(ctx, data);
}

/*
 * A record of this transaction is about to be written: write the
 * deferred B (or S) first.  False if the transaction is filtered out.
 */
static bool
txn_open(LogicalDecodingContext *ctx, WcData *data, ReorderBufferTXN *txn,
		 WcTxn *st)
{
	if (txn_skipped(data, txn, st))
		return false;
	if (st->streaming)
	{
		if (!st->block_open)
			txn_emit_stream(ctx, data, 'S', txn, InvalidXLogRecPtr);
		st->block_open = true;
	}
	else if (!st->begun)
	{
		if (data->opts.include_transaction)
			txn_emit_begin(ctx, data, txn, st);
		st->begun = true;
	}
	st->emitted = true;
	return true;
}

static void
txn_begin_common(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
				 bool prepared)
{
	WcData	   *data = ctx->output_plugin_private;
	WcTxn	   *st = txn_state(ctx, txn);
	MemoryContext old = txn_enter(data);

	st->prepared = prepared;
	/* final_lsn is the COMMIT's (or the PREPARE's) LSN during replay */
	record_txn_prefix(data, txn, st, txn->final_lsn);
	txn_leave(data, old);
}

static void
txn_begin(LogicalDecodingContext *ctx, ReorderBufferTXN *txn)
{
	txn_begin_common(ctx, txn, false);
}

/*
 * End of a transaction: C (commit), P (prepare) or X (stream commit).  C
 * follows include-transaction; P and X are always written for a
 * transaction that wrote anything, since without them a consumer cannot
 * tell committed from prepared or streamed-and-aborted work.
 */
static void
txn_finish(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, char action,
		   XLogRecPtr lsn)
{
	WcData	   *data = ctx->output_plugin_private;
	WcTxn	   *st = txn_state(ctx, txn);
	MemoryContext old = txn_enter(data);

	if (!st->emitted)
	{
		if (!data->opts.include_empty_xacts || st->streaming ||
			txn_skipped(data, txn, st))
			goto cleanup;
		if (data->opts.include_transaction)
			txn_emit_begin(ctx, data, txn, st);
	}
	if (data->opts.include_transaction || action != 'C')
	{
		st->seq++;
		txn_emit_commit(ctx, data, action, txn, st, lsn);
	}
	batch_unit_end(ctx, data);

cleanup:
	txn_leave(data, old);
	txn_state_free(txn);
}

static void
txn_commit(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
		   XLogRecPtr commit_lsn)
{
	txn_finish(ctx, txn, 'C', commit_lsn);
}

static void
txn_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
		   Relation relation, ReorderBufferChange *change)
{
	WcData	   *data = ctx->output_plugin_private;
	WcTxn	   *st = txn_state(ctx, txn);
	MemoryContext old = txn_enter(data);
	TransactionId subxid = InvalidTransactionId;
	int			bit;
	WcRel	   *rel;
	StringInfo	out;

	switch (change->action)
	{
		case REORDER_BUFFER_CHANGE_INSERT:
			bit = WC_ACT_INSERT;
			break;
		case REORDER_BUFFER_CHANGE_UPDATE:
			bit = WC_ACT_UPDATE;
			break;
		case REORDER_BUFFER_CHANGE_DELETE:
			bit = WC_ACT_DELETE;
			break;
		default:
			elog(ERROR, "unexpected change action %d", (int) change->action);
			bit = 0;			/* keep the compiler quiet */
	}
	if ((data->opts.actions & bit) == 0)
		goto cleanup;
	rel = relinfo_get(data, relation);
	if (rel->skip || !txn_open(ctx, data, txn, st))
		goto cleanup;

#ifdef WC_HAVE_STREAMING
	/* a streamed change says its subtransaction, for a later A record */
	if (st->streaming && change->txn != NULL && change->txn->xid != txn->xid)
		subxid = change->txn->xid;
#endif
	st->seq++;
	out = batch_record_start(ctx, data);
	record_change(out, data, st, rel, relation, change, subxid);
	batch_record_end(ctx, data);

cleanup:
	txn_leave(data, old);
}

/* One T record per truncated relation that passes the table filters. */
static void
txn_truncate(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
			 int nrelations, Relation relations[],
			 ReorderBufferChange *change)
{
	WcData	   *data = ctx->output_plugin_private;
	WcTxn	   *st = txn_state(ctx, txn);
	MemoryContext old = txn_enter(data);

	if ((data->opts.actions & WC_ACT_TRUNCATE) == 0)
		goto cleanup;
	for (int i = 0; i < nrelations; i++)
	{
		WcRel	   *rel = relinfo_get(data, relations[i]);
		StringInfo	out;

		if (rel->skip)
			continue;
		if (!txn_open(ctx, data, txn, st))
			break;
		st->seq++;
		out = batch_record_start(ctx, data);
		record_truncate(out, data, st, rel, relations[i], change);
		batch_record_end(ctx, data);
	}

cleanup:
	txn_leave(data, old);
}

/*
 * pg_logical_emit_message.  A transactional message is part of its
 * transaction (deferred B, seq); a non-transactional one is a unit of its
 * own, even when emitted inside a transaction (txn is then that
 * transaction, but the message does not wait for its commit).
 */
static void
txn_message(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
			XLogRecPtr message_lsn, bool transactional, const char *prefix,
			Size message_size, const char *message)
{
	WcData	   *data = ctx->output_plugin_private;
	MemoryContext old = txn_enter(data);
	WcTxn	   *st = NULL;
	StringInfo	out;

	if ((data->opts.actions & WC_ACT_MESSAGE) == 0 ||
		filter_prefix_skipped(&data->opts, prefix))
		goto cleanup;
	if (transactional)
	{
		st = txn_state(ctx, txn);
		if (!txn_open(ctx, data, txn, st))
			goto cleanup;
		st->seq++;
	}
	out = batch_record_start(ctx, data);
	record_message(out, data, st, message_lsn, prefix, message_size, message);
	batch_record_end(ctx, data);
	if (!transactional)
		batch_unit_end(ctx, data);

cleanup:
	txn_leave(data, old);
}

#ifdef WC_HAVE_STREAMING

static void
txn_stream_start(LogicalDecodingContext *ctx, ReorderBufferTXN *txn)
{
	WcData	   *data = ctx->output_plugin_private;
	WcTxn	   *st = txn_state(ctx, txn);

	if (!st->streaming)
	{
		MemoryContext old = txn_enter(data);

		st->streaming = true;
		record_txn_prefix(data, txn, st, InvalidXLogRecPtr);
		txn_leave(data, old);
	}
	st->block_open = false;		/* S is deferred to the first record */
}

static void
txn_stream_stop(LogicalDecodingContext *ctx, ReorderBufferTXN *txn)
{
	WcData	   *data = ctx->output_plugin_private;
	WcTxn	   *st = txn_state(ctx, txn);
	MemoryContext old = txn_enter(data);

	if (st->block_open)
	{
		txn_emit_stream(ctx, data, 'E', txn, InvalidXLogRecPtr);
		st->block_open = false;
		batch_unit_end(ctx, data);
	}
	txn_leave(data, old);
}

/*
 * A streamed transaction, or one of its subtransactions (txn is then the
 * subtransaction, and the record carries its subxid), rolled back.
 */
static void
txn_stream_abort(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
				 XLogRecPtr abort_lsn)
{
	WcData	   *data = ctx->output_plugin_private;
	ReorderBufferTXN *top = WC_TOPTXN(txn);
	WcTxn	   *st = top->output_plugin_private;
	MemoryContext old = txn_enter(data);

	if (st != NULL && st->emitted)
	{
		txn_emit_stream(ctx, data, 'A', txn, abort_lsn);
		batch_unit_end(ctx, data);
	}
	txn_leave(data, old);
	if (txn == top)
		txn_state_free(txn);
}

static void
txn_stream_commit(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
				  XLogRecPtr commit_lsn)
{
	txn_finish(ctx, txn, 'X', commit_lsn);
}

#endif							/* WC_HAVE_STREAMING */

#ifdef WC_HAVE_TWO_PHASE

static void
txn_begin_prepare(LogicalDecodingContext *ctx, ReorderBufferTXN *txn)
{
	txn_begin_common(ctx, txn, true);
}

static void
txn_prepare(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
			XLogRecPtr prepare_lsn)
{
	txn_finish(ctx, txn, 'P', prepare_lsn);
}

/*
 * K and R may come in a later session than their PREPARE, so nothing is
 * known of whether its P was written: they are always written, and a
 * consumer ignores a gid it has not seen.
 */
static void
txn_finish_prepared(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
					char action, XLogRecPtr lsn)
{
	WcData	   *data = ctx->output_plugin_private;
	MemoryContext old = txn_enter(data);

	if (!(data->opts.only_local && txn->origin_id != InvalidRepOriginId))
	{
		txn_emit_commit(ctx, data, action, txn, NULL, lsn);
		batch_unit_end(ctx, data);
	}
	txn_leave(data, old);
}

static void
txn_commit_prepared(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
					XLogRecPtr commit_lsn)
{
	txn_finish_prepared(ctx, txn, 'K', commit_lsn);
}

static void
txn_rollback_prepared(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
					  XLogRecPtr prepare_end_lsn, TimestampTz prepare_time)
{
	/* final_lsn is the ROLLBACK PREPARED record's LSN here */
	txn_finish_prepared(ctx, txn, 'R', txn->final_lsn);
}

static void
txn_stream_prepare(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
				   XLogRecPtr prepare_lsn)
{
	txn_finish(ctx, txn, 'P', prepare_lsn);
}

#endif							/* WC_HAVE_TWO_PHASE */

void
txn_register_callbacks(OutputPluginCallbacks *cb)
{
	cb->begin_cb = txn_begin;
	cb->change_cb = txn_change;
	cb->truncate_cb = txn_truncate;
	cb->message_cb = txn_message;
	cb->commit_cb = txn_commit;
#ifdef WC_HAVE_STREAMING
	cb->stream_start_cb = txn_stream_start;
	cb->stream_stop_cb = txn_stream_stop;
	cb->stream_abort_cb = txn_stream_abort;
	cb->stream_commit_cb = txn_stream_commit;
	cb->stream_change_cb = txn_change;
	cb->stream_truncate_cb = txn_truncate;
	cb->stream_message_cb = txn_message;
#endif
#ifdef WC_HAVE_TWO_PHASE
	cb->begin_prepare_cb = txn_begin_prepare;
	cb->prepare_cb = txn_prepare;
	cb->commit_prepared_cb = txn_commit_prepared;
	cb->rollback_prepared_cb = txn_rollback_prepared;
	cb->stream_prepare_cb = txn_stream_prepare;
#endif
}
