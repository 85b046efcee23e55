/*
 * pqconn.h
 *		Opening a libpq connection the agent's way: the user's conninfo,
 *		then the keywords the caller must have win over it.
 *
 * PQconnectdbParams with expand_dbname: the conninfo (or URI) is expanded
 * where "dbname" stands, and later keywords override what it sets.  So
 * connect_timeout comes first (a conninfo naming its own wins), the
 * caller's extra keywords after the conninfo (a decoder's pinned session
 * settings: the conninfo cannot undo them), replication after those.
 */
#ifndef WALCAST_PQCONN_H
#define WALCAST_PQCONN_H

#include <libpq-fe.h>

#define PQCONN_MAX_PARAMS 4

/* Extra keywords; keys and values NULL-terminated, strings borrowed. */
struct pqconn_params
{
	const char *keys[PQCONN_MAX_PARAMS + 1];
	const char *values[PQCONN_MAX_PARAMS + 1];
};

/*
 * Connect to conninfo (NULL or "": the PG* environment) with extra (NULL:
 * none), as a replication connection when replication is not NULL
 * ("database"), with appname as fallback_application_name.  As
 * PQconnectdbParams: NULL when out of memory, else check PQstatus.
 */
extern PGconn *pqconn_open(const char *conninfo,
						   const struct pqconn_params *extra,
						   const char *replication, const char *appname);

#endif							/* WALCAST_PQCONN_H */
