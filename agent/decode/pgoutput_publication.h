/*
 * pgoutput_publication.h
 *		The publications the pgoutput decoder reads, on an ordinary
 *		connection: that they exist, creating one when asked (and allowed),
 *		and the tables whose missing replica identity a publication turns
 *		into the application's errors (docs/managed-postgres.md, "Replica
 *		identity").
 *
 * pgoutput looks a publication up as of each change it decodes (under the
 * historic snapshot): a slot that holds changes from before the
 * publication was created fails on each of them ("publication ... does not
 * exist").  So a publication is created before the slot, never beside an
 * existing one.
 *
 * Names are lists as --publication takes them (pgoutput_config.h): comma
 * separated, as stored.
 */
#ifndef WALCAST_PGOUTPUT_PUBLICATION_H
#define WALCAST_PGOUTPUT_PUBLICATION_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "decoder.h"
#include "strbuf.h"

/*
 * The names of the list that name no publication, comma-separated, into
 * missing (empty when every one exists).
 */
extern enum decoder_status pgoutput_publication_missing(PGconn *conn,
														const char *names,
														struct strbuf *missing,
														char *err,
														size_t errlen);

/*
 * Create publication name for spec ("all" or "schema.table,..."), after
 * checking, in this order, that slot does not exist yet, that the role
 * may (CREATE on the database; a superuser for FOR ALL TABLES; the
 * tables' owner for FOR TABLE), that the tables exist, and that none of
 * them lacks a replica identity: err names what stops it (FATAL).
 */
extern enum decoder_status pgoutput_publication_create(PGconn *conn,
													   const char *name,
													   const char *spec,
													   const char *slot,
													   char *err,
													   size_t errlen);

/*
 * The tables ("schema.table, ...") whose UPDATE and DELETE PostgreSQL
 * refuses because one of the publications of the list publishes updates
 * or deletes and the table has no replica identity (REPLICA IDENTITY
 * NOTHING, or DEFAULT without a primary key, or USING INDEX of a dropped
 * index); partitioned tables count by their partitions.
 */
extern enum decoder_status pgoutput_publication_unidentified(PGconn *conn,
															 const char *names,
															 struct strbuf *tables,
															 char *err,
															 size_t errlen);

/*
 * Tables of the list's publications published with a row filter or a
 * column list (PostgreSQL 15+), which the initial load does not apply.
 */
extern enum decoder_status pgoutput_publication_filtered(PGconn *conn,
														 const char *names,
														 struct strbuf *tables,
														 char *err,
														 size_t errlen);

/*
 * pgoutput's publication_names value: each name double-quoted (pgoutput
 * folds unquoted names to lower case), comma-separated; malloc'd.
 */
extern char *pgoutput_publication_quoted(const char *names);

#endif							/* WALCAST_PGOUTPUT_PUBLICATION_H */
