/*
 * pgoutput_session.c
 *		Pinned session settings of the pgoutput decoder's connections (see
 *		pgoutput_session.h).
 */
#include "pgoutput_session.h"

#include <stdio.h>
#include <string.h>

/*
 * Why each one:
 *	DateStyle ISO			dates and times as YYYY-MM-DD HH:MM:SS (the day
 *							order part of the setting does not change ISO
 *							output, so it is left as it is)
 *	TimeZone UTC			timestamptz printed in UTC, "+00"
 *	IntervalStyle iso_8601	intervals as the plugin writes them
 *	extra_float_digits 3	floats (and geometric types) in the shortest
 *							round-trip form, as the plugin writes them
 *	bytea_output hex		"\x..." (escape format is ambiguous to read)
 *	client_encoding UTF8	pgoutput converts text to the client encoding
 */
static const struct
{
	const char *name;			/* as SHOW takes it */
	const char *value;			/* as SET takes it */
	const char *shown;			/* what SHOW must start with */
}			session_pins[] = {
	{"DateStyle", "ISO", "ISO,"},
	{"TimeZone", "UTC", "UTC"},
	{"IntervalStyle", "iso_8601", "iso_8601"},
	{"extra_float_digits", "3", "3"},
	{"bytea_output", "hex", "hex"},
	{"client_encoding", "UTF8", "UTF8"},
};

#define SESSION_NPINS (sizeof(session_pins) / sizeof(session_pins[0]))

const char *
pgoutput_session_options(void)
{
	/* the values hold no spaces or backslashes: no escaping needed */
	return "-c DateStyle=ISO -c TimeZone=UTC -c IntervalStyle=iso_8601 "
		"-c extra_float_digits=3 -c bytea_output=hex -c client_encoding=UTF8";
}

int
pgoutput_session_params(const char **keys, const char **values, int max)
{
	int			n = 0;

	if (n < max)
	{
		keys[n] = "options";
		values[n++] = pgoutput_session_options();
	}
	if (n < max)
	{
		keys[n] = "client_encoding";
		values[n++] = "UTF8";
	}
	return n;
}

bool
pgoutput_session_check(PGconn *conn, char *err, size_t errlen)
{
	for (size_t i = 0; i < SESSION_NPINS; i++)
	{
		char		sql[64];
		PGresult   *res;
		const char *v;
		bool		ok;

		snprintf(sql, sizeof(sql), "SHOW %s", session_pins[i].name);
		res = PQexec(conn, sql);
		if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		{
			snprintf(err, errlen, "could not read setting %s: %s",
					 session_pins[i].name, PQerrorMessage(conn));
			for (char *p = err; *p; p++)
				if (*p == '\n')
					*p = ' ';
			PQclear(res);
			return false;
		}
		v = PQgetvalue(res, 0, 0);
		/* DateStyle shows "ISO, <order>"; the others their value alone */
		if (session_pins[i].shown[strlen(session_pins[i].shown) - 1] == ',')
			ok = strncmp(v, session_pins[i].shown,
						 strlen(session_pins[i].shown)) == 0;
		else
			ok = strcmp(v, session_pins[i].shown) == 0;
		if (!ok)
			snprintf(err, errlen, "setting %s is \"%s\", not \"%s\": values would not be read right",
					 session_pins[i].name, v, session_pins[i].value);
		PQclear(res);
		if (!ok)
			return false;
	}
	return true;
}

int
pgoutput_session_proto_version(int server_version)
{
	if (server_version >= 160000)
		return 4;
	if (server_version >= 150000)
		return 3;
	if (server_version >= 140000)
		return 2;
	if (server_version >= 130000)
		return 1;
	return 0;
}

bool
pgoutput_session_has_messages(int server_version)
{
	return server_version >= 140000;
}
