/*-------------------------------------------------------------------------
 *
 * batch.c
 *		Handing records to the output: one replication message per record,
 *		or, with batch-bytes=N, several records per message joined by '\n'.
 *
 * The walsender's cost is per message, not per byte, so batching is what
 * lifts throughput.  Rules (docs/contract.md): a record is never split; a
 * message exceeds N bytes only when a single record does; a message holds
 * records of one transaction (one "unit": a B..C transaction, a stream
 * block, a non-transactional message) unless batch-across-transactions.
 *
 * Unbatched records are rendered straight into ctx->out.  Batched ones go
 * to data->batch and are copied into ctx->out once per message; the
 * message carries the write location of its newest record, so a client
 * that confirms message positions never confirms past what it received.
 *
 * The SQL functions (pg_logical_slot_get_changes) confirm everything they
 * decoded when they return and give the plugin no chance to write after
 * the last callback, so there a batch always ends with its unit.
 *
 *-------------------------------------------------------------------------
 */
#include "walcast.h"

#include "utils/memutils.h"

void
batch_init(WcData *data)
{
	MemoryContext old = MemoryContextSwitchTo(data->cxt);

	initStringInfo(&data->batch);
	data->batch_last_sep = -1;
	MemoryContextSwitchTo(old);
}

/* Send len bytes of the batch as one message at the newest record's LSN. */
static void
batch_send(LogicalDecodingContext *ctx, WcData *data, int len)
{
	XLogRecPtr	saved_location = ctx->write_location;
	TransactionId saved_xid = ctx->write_xid;

	ctx->write_location = data->batch_lsn;
	ctx->write_xid = data->batch_xid;
	OutputPluginPrepareWrite(ctx, true);
	appendBinaryStringInfo(ctx->out, data->batch.data, len);
	OutputPluginWrite(ctx, true);
	ctx->write_location = saved_location;
	ctx->write_xid = saved_xid;
}

static void
batch_flush(LogicalDecodingContext *ctx, WcData *data)
{
	StringInfo	b = &data->batch;

	if (b->len == 0)
		return;
	batch_send(ctx, data, b->len);
	data->batch_last_sep = -1;

	/* one huge record must not pin its buffer for the rest of the session */
	if (b->maxlen > 2 * data->opts.batch_bytes + ALLOCSET_DEFAULT_MAXSIZE)
	{
		pfree(b->data);
		batch_init(data);
	}
	else
		resetStringInfo(b);
}

/* Where to render the next record. */
StringInfo
batch_record_start(LogicalDecodingContext *ctx, WcData *data)
{
	StringInfo	b = &data->batch;

	if (data->opts.batch_bytes == 0)
	{
		OutputPluginPrepareWrite(ctx, true);
		return ctx->out;
	}
	if (b->len > 0)
	{
		data->batch_last_sep = b->len;
		appendStringInfoCharMacro(b, '\n');
	}
	else
		data->batch_last_sep = -1;
	return b;
}

/* The record is complete: send it, or keep it for the batch. */
void
batch_record_end(LogicalDecodingContext *ctx, WcData *data)
{
	StringInfo	b = &data->batch;
	int			sep = data->batch_last_sep;

	if (data->opts.batch_bytes == 0)
	{
		OutputPluginWrite(ctx, true);
		return;
	}
	if (b->len > data->opts.batch_bytes && sep >= 0)
	{
		/* it does not fit: send what came before, keep it alone */
		int			reclen = b->len - sep - 1;

		batch_send(ctx, data, sep);
		memmove(b->data, b->data + sep + 1, reclen);
		b->len = reclen;
		b->data[reclen] = '\0';
		data->batch_last_sep = -1;
	}
	data->batch_lsn = ctx->write_location;
	data->batch_xid = ctx->write_xid;
	if (b->len >= data->opts.batch_bytes)
		batch_flush(ctx, data);
}

/*
 * A transaction, stream block or non-transactional message is complete.
 * With batch-across-transactions its records may wait for the next ones:
 * the plugin has no idle callback, so they leave only when the batch is
 * full (documented in docs/plugin-options.md).
 */
void
batch_unit_end(LogicalDecodingContext *ctx, WcData *data)
{
	if (data->opts.batch_bytes == 0)
		return;
	if (!data->opts.batch_across_xacts || data->sql_interface)
		batch_flush(ctx, data);
}
