/*
 * pgoutput_load.h
 *		Initial-load rows read with plain SELECTs and rendered by the agent:
 *		the text of each column, as the server prints it under
 *		pgoutput_session's pinned settings, through the pgoutput decoder's
 *		converter (pgoutput_value.c) into the L record the walcast
 *		extension's walcast.snapshot_record() writes for the same row.
 *
 * Used by the pgoutput decoder's load, and by the walcast decoder's when
 * the walcast extension is not installed.  The catalogue is read on the
 * load's own connection, inside its snapshot, so types and columns are
 * those the rows were read with.
 */
#ifndef WALCAST_PGOUTPUT_LOAD_H
#define WALCAST_PGOUTPUT_LOAD_H

#include <stdint.h>

#include <libpq-fe.h>

#include "decoder.h"
#include "pgoutput_record.h"

struct pgoutput_load;

/*
 * The first six columns decoder_tables_read takes, for the table c of
 * namespace n, as walcast.snapshot_tables() gives them: the OID,
 * schema.table, the quoted name, the key (the primary key, else the
 * replica identity index, quoted, in index order), the estimate
 * (pg_class.reltuples, 0 when never analyzed), and readability.
 */
#define PGOUTPUT_LOAD_TABLE_COLUMNS \
	"c.oid, n.nspname || '.' || c.relname," \
	" pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname)," \
	" (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY k.ord)" \
	"  FROM pg_catalog.unnest((SELECT i.indkey::pg_catalog.int2[] FROM pg_catalog.pg_index i" \
	"   WHERE i.indrelid = c.oid AND (i.indisprimary OR i.indisreplident)" \
	"   ORDER BY i.indisprimary DESC LIMIT 1)) WITH ORDINALITY AS k(attnum, ord)" \
	"  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum)," \
	" GREATEST(c.reltuples, 0)::pg_catalog.int8," \
	" pg_catalog.has_table_privilege(c.oid, 'SELECT')"

/*
 * The pinned settings (pgoutput_session.h) as libpq keywords for a
 * connection of cfg: "options" holds the user's own options (from the
 * conninfo, else PGOPTIONS) first and the pins after, so that the pins
 * win and nothing of the user's is lost.  *options receives the malloc'd
 * string the parameters point to (the caller frees it after the last
 * connection).  False when out of memory.
 */
extern bool pgoutput_load_conn_params(const struct agent_config *cfg,
									  struct pqconn_params *params,
									  char **options);

/*
 * A walcast plugin option (-o) that shapes records, into opts: 1 when it
 * is one (include-pk, include-types, include-type-oids,
 * numeric-data-types-as-string, bytea-encoding), 0 when it is not, -1
 * with err for a bad value.
 */
extern int	pgoutput_load_record_option(struct pgoutput_record_opts *opts,
										const struct config_plugin_option *o,
										char *err, size_t errlen);

/*
 * A renderer over conn (borrowed: the caller closes it after
 * pgoutput_load_free), whose pinned settings are checked here, with the
 * record options opts.  NULL with err set.
 */
extern struct pgoutput_load *pgoutput_load_new(PGconn *conn,
											   const struct pgoutput_record_opts *opts,
											   char *err, size_t errlen);
extern void pgoutput_load_free(struct pgoutput_load *l);

/*
 * The select list of a table's rows (every column as text, "t.*"), lsn
 * being the load's position (the records' "lsn").
 */
extern enum decoder_status pgoutput_load_select(struct pgoutput_load *l,
												const char *lsn,
												struct strbuf *sql,
												char *err, size_t errlen);

/*
 * Row row of res, the result of that select for t (whose id is its OID),
 * as a read event whose record and raw bytes stay valid until the next
 * call.
 */
extern enum decoder_status pgoutput_load_row(struct pgoutput_load *l,
											 const struct decoder_table *t,
											 const PGresult *res, int row,
											 struct event *ev, char *err,
											 size_t errlen);

#endif							/* WALCAST_PGOUTPUT_LOAD_H */
