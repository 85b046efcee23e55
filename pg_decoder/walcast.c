/*-------------------------------------------------------------------------
 *
 * walcast.c
 *		Entry point of the walcast output plugin: callback registration,
 *		startup (options, memory contexts, caches) and the origin filter.
 *
 * No shared_preload_libraries: the server loads the library when a slot
 * using it is created or read (and, from 15.19, only if it is listed in
 * output_plugin_libraries).
 *
 *-------------------------------------------------------------------------
 */
#include "walcast.h"

#include "replication/origin.h"
#include "replication/walsender.h"
#include "utils/memutils.h"

PG_MODULE_MAGIC;

extern void _PG_output_plugin_init(OutputPluginCallbacks *cb);

static void
walcast_startup(LogicalDecodingContext *ctx, OutputPluginOptions *opt,
				bool is_init)
{
	WcData	   *data = MemoryContextAllocZero(ctx->context, sizeof(WcData));
	MemoryContext old = MemoryContextSwitchTo(ctx->context);

	data->cxt = ctx->context;
	data->change_cxt = AllocSetContextCreate(ctx->context, "walcast change",
											 ALLOCSET_DEFAULT_SIZES);
	data->cache_cxt = AllocSetContextCreate(ctx->context, "walcast cache",
											ALLOCSET_DEFAULT_SIZES);
	options_parse(&data->opts, ctx->output_plugin_options);
	relinfo_init(data, ctx->context);
	batch_init(data);
	data->sql_interface = !am_walsender;
	ctx->output_plugin_private = data;

	opt->output_type = OUTPUT_PLUGIN_TEXTUAL_OUTPUT;
	opt->receive_rewrites = false;

#ifdef WC_HAVE_STREAMING
	/* stream in-progress transactions only when asked (test_decoding's rule) */
	ctx->streaming &= data->opts.stream_changes;
#endif
#ifdef WC_HAVE_TWO_PHASE
	/*
	 * Slot creation decides two-phase by its own argument; when reading,
	 * the two-phase option decides.  On 15+ asking for it also marks a
	 * slot created without it (as pgoutput's two_phase option does).
	 */
	if (!is_init)
	{
		if (!data->opts.two_phase)
			ctx->twophase = false;
#if PG_VERSION_NUM >= 150000
		else
			ctx->twophase_opt_given = true;
#endif
	}
#endif
	MemoryContextSwitchTo(old);
}

/* only-local: skip whatever was replayed from another node. */
static bool
walcast_filter_origin(LogicalDecodingContext *ctx, RepOriginId origin_id)
{
	WcData	   *data = ctx->output_plugin_private;

	return data->opts.only_local && origin_id != InvalidRepOriginId;
}

void
_PG_output_plugin_init(OutputPluginCallbacks *cb)
{
	AssertVariableIsOfType(&_PG_output_plugin_init, LogicalOutputPluginInit);

	cb->startup_cb = walcast_startup;
	cb->filter_by_origin_cb = walcast_filter_origin;
	txn_register_callbacks(cb);
}
