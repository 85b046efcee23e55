/*
 * sink_list.h
 *		The sinks, one line each: SINK(name) names the kind
 *		sink_<name>_kind (sinks/sink_<name>*.c).  Included by
 *		sink_registry.c with SINK defined, as PostgreSQL's rmgrlist.h is.
 *
 * The order is the order of the ack tracker's sinks, of the stats line's
 * extra counters and of the --help sections: the first enabled sink's
 * counters head the stats line.  stdout is the fallback, enabled only
 * when no other sink is.  Adding a sink: its file group in sinks/ and one
 * line here (docs/architecture.md, "How to add a sink").
 */
SINK(stdout)
SINK(amqp)
SINK(file)
SINK(mongo)
SINK(s3)
