/*
 * pqconn.c
 *		libpq connections with keywords that win over the conninfo (see
 *		pqconn.h).
 */
#include "pqconn.h"

#include <stddef.h>

PGconn *
pqconn_open(const char *conninfo, const struct pqconn_params *extra,
			const char *replication, const char *appname)
{
	const char *keys[PQCONN_MAX_PARAMS + 5];
	const char *values[PQCONN_MAX_PARAMS + 5];
	int			n = 0;

	keys[n] = "connect_timeout";
	values[n++] = "10";
	keys[n] = "dbname";
	values[n++] = conninfo != NULL ? conninfo : "";
	for (int i = 0; extra != NULL && i < PQCONN_MAX_PARAMS && extra->keys[i] != NULL; i++)
	{
		keys[n] = extra->keys[i];
		values[n++] = extra->values[i];
	}
	if (replication != NULL)
	{
		keys[n] = "replication";
		values[n++] = replication;
	}
	keys[n] = "fallback_application_name";
	values[n++] = appname;
	keys[n] = NULL;
	values[n] = NULL;
	return PQconnectdbParams(keys, values, 1);
}
