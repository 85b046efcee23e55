/*
 * pgoutput_catalog_pq.h
 *		The catalogue loader of the pgoutput decoder over libpq: one query
 *		per relation on an ordinary (not replication) connection, opened
 *		with pgoutput_session's settings.
 */
#ifndef WALCAST_PGOUTPUT_CATALOG_PQ_H
#define WALCAST_PGOUTPUT_CATALOG_PQ_H

#include "pgoutput_catalog.h"

/*
 * The loader; its argument is the PGconn * (borrowed: the caller keeps
 * it open while the catalogue is used and closes it after).
 */
extern const struct pgoutput_catalog_loader pgoutput_catalog_pq;

#endif							/* WALCAST_PGOUTPUT_CATALOG_PQ_H */
