/*
 * pgoutput_record.h
 *		The pgoutput decoder's iterator: pgoutput messages in, walcast
 *		records out, each equal field by field to what the walcast plugin
 *		writes for the same WAL with the agent's default options
 *		(docs/format.md, docs/pgoutput.md for what pgoutput cannot supply).
 *
 * Use:
 *		feed(d, data_start, bytes, len)    one XLogData message
 *		while ((rc = next(d, &text, &len)) == PGOUTPUT_RECORD_READY)
 *			hand text[0..len) on
 *		PGOUTPUT_RECORD_NEED_MORE: feed the next message
 *
 * A message gives zero records (Relation, Type, Origin, Begin, the Commit
 * of a transaction that wrote nothing), one, or several (the deferred B
 * before a transaction's first record, one T per truncated table).  The
 * message's bytes are borrowed until next() has returned its last record
 * (NEED_MORE); a record's text is valid until the following call.  After
 * an error, only reset() and free() are meaningful: the session ends.
 *
 * data_start is the XLogData header's dataStart (for
 * pg_logical_slot_get_binary_changes, its lsn column): the walsender's
 * write position, which for a change is the change's LSN, the record's
 * "lsn".
 */
#ifndef WALCAST_PGOUTPUT_RECORD_H
#define WALCAST_PGOUTPUT_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pgoutput_catalog.h"
#include "pgoutput_value.h"

/* The walcast plugin options the records follow. */
struct pgoutput_record_opts
{
	bool		include_pk;		/* include-pk (the agent asks for it) */
	bool		include_types;	/* include-types (the Mongo mirror) */
	bool		include_type_oids;	/* include-type-oids */
	struct pgoutput_value_opts values;
};

enum pgoutput_record_rc
{
	PGOUTPUT_RECORD_READY,		/* *text, *len hold one record */
	PGOUTPUT_RECORD_NEED_MORE,	/* the message is done: feed another */
	PGOUTPUT_RECORD_ERROR		/* err says why */
};

struct pgoutput_record;

/* The agent's defaults: include-pk on, the plugin's defaults otherwise. */
extern void pgoutput_record_default_opts(struct pgoutput_record_opts *opts);

/* cat is borrowed; NULL when out of memory. */
extern struct pgoutput_record *pgoutput_record_new(const struct pgoutput_record_opts *opts,
												   struct pgoutput_catalog *cat);
extern void pgoutput_record_free(struct pgoutput_record *d);

/*
 * A new replication session: forget the transaction in progress, the
 * message being read and the catalogue's relations (pgoutput sends every
 * relation again in a new session).
 */
extern void pgoutput_record_reset(struct pgoutput_record *d);

/*
 * Take one message.  False (misuse) when the previous message still has
 * records to return.
 */
extern bool pgoutput_record_feed(struct pgoutput_record *d,
								 uint64_t data_start_lsn, const char *data,
								 size_t len, char *err, size_t errlen);

extern enum pgoutput_record_rc pgoutput_record_next(struct pgoutput_record *d,
													const char **text,
													size_t *len, char *err,
													size_t errlen);

/*
 * The L record of one row of table relid read by the initial load: the
 * text of its nvalues columns (values[i] NULL for SQL NULL, lengths[i]
 * its byte count), in column order as SELECT * returns them, read under
 * pgoutput_session's settings.  names, when not NULL, are the result's
 * column names, checked against the catalogue's.  lsn, when not 0, is the
 * snapshot's consistent point.  The text is valid until the next call of
 * any function here.
 */
extern bool pgoutput_record_load_row(struct pgoutput_record *d,
									 uint32_t relid, uint64_t lsn,
									 int nvalues,
									 const char *const *names,
									 const char *const *values,
									 const size_t *lengths,
									 const char **text, size_t *len,
									 char *err, size_t errlen);

#endif							/* WALCAST_PGOUTPUT_RECORD_H */
