/*
 * pqerr.c
 *		libpq's errors on one line (see pqerr.h).
 */
#include "pqerr.h"

#include <stdio.h>
#include <string.h>

void
pqerr_oneline(char *err, size_t errlen, const char *prefix, const char *msg)
{
	size_t		n;
	char	   *p;

	snprintf(err, errlen, "%s%s", prefix, msg ? msg : "");
	for (p = err; *p; p++)
		if (*p == '\n' || *p == '\t' || *p == '\r')
			*p = ' ';
	n = strlen(err);
	while (n > 0 && err[n - 1] == ' ')
		err[--n] = '\0';
	/* collapse the double blanks left by "\n\t" */
	for (p = err; (p = strstr(p, "  ")) != NULL;)
		memmove(p, p + 1, strlen(p + 1) + 1);
}

void
pqerr_result(char *err, size_t errlen, const char *what, const PGresult *res,
			 const PGconn *conn)
{
	char		prefix[256];
	const char *msg = res ? PQresultErrorMessage(res) : NULL;

	if (msg == NULL || msg[0] == '\0')
		msg = PQerrorMessage(conn);
	snprintf(prefix, sizeof(prefix), "%s: ", what);
	pqerr_oneline(err, errlen, prefix, msg);
}
