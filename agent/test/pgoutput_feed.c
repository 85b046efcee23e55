/*
 * pgoutput_feed.c
 *		Test driver of the pgoutput decoder (decode/pgoutput_*.c), for the
 *		end-to-end equivalence tests (regress/e2e/test_pgoutput_*.py): real
 *		pgoutput bytes in, walcast records out, with the catalogue looked up
 *		on a real server.  Not part of the agent.
 *
 * Usage: pgoutput_feed [--types] [--type-oids] [--numeric-as-number]
 *                      [--bytea-hex] CONNINFO
 *        pgoutput_feed --print-options
 *
 * Connects to CONNINFO with pgoutput_session's pinned settings (checked),
 * then reads lines on stdin:
 *	LSN <TAB> HEX		one pgoutput message (LSN as X/X: its dataStart, the
 *						lsn column of pg_logical_slot_get_binary_changes),
 *						its records printed one per line
 *	load <TAB> RELID <TAB> LSN
 *						SELECT * FROM ONLY the table, an L record per row
 *	reset				a new session
 * On an error, prints "error: ..." on stderr and exits 2.
 * --print-options prints the startup options string and exits.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "hex.h"
#include "lsn.h"
#include "pgoutput_catalog.h"
#include "pgoutput_catalog_pq.h"
#include "pgoutput_record.h"
#include "pgoutput_session.h"

static void
feed_die(const char *msg)
{
	fprintf(stderr, "error: %s\n", msg);
	exit(2);
}

static void
feed_drain(struct pgoutput_record *d)
{
	const char *text;
	size_t		len;
	char		err[512];
	enum pgoutput_record_rc rc;

	while ((rc = pgoutput_record_next(d, &text, &len, err, sizeof(err))) ==
		   PGOUTPUT_RECORD_READY)
	{
		fwrite(text, 1, len, stdout);
		fputc('\n', stdout);
	}
	if (rc == PGOUTPUT_RECORD_ERROR)
		feed_die(err);
}

static void
feed_load(PGconn *conn, struct pgoutput_record *d, const char *relid,
		  uint64_t lsn)
{
	const char *params[1] = {relid};
	PGresult   *res;
	char	   *sql;
	char		err[512];

	res = PQexecParams(conn,
					   "SELECT pg_catalog.format('SELECT * FROM ONLY %I.%I', n.nspname, c.relname)"
					   " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
					   " WHERE c.oid = $1::pg_catalog.oid",
					   1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		feed_die("no such table");
	sql = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	res = PQexec(conn, sql);
	free(sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		feed_die(PQerrorMessage(conn));
	for (int r = 0; r < PQntuples(res); r++)
	{
		int			n = PQnfields(res);
		const char **names = calloc(n + 1, sizeof(char *));
		const char **values = calloc(n + 1, sizeof(char *));
		size_t	   *lengths = calloc(n + 1, sizeof(size_t));
		const char *text;
		size_t		len;

		for (int i = 0; i < n; i++)
		{
			names[i] = PQfname(res, i);
			values[i] = PQgetisnull(res, r, i) ? NULL : PQgetvalue(res, r, i);
			lengths[i] = (size_t) PQgetlength(res, r, i);
		}
		if (!pgoutput_record_load_row(d, (uint32_t) strtoul(relid, NULL, 10),
									  lsn, n, names, values, lengths, &text,
									  &len, err, sizeof(err)))
			feed_die(err);
		fwrite(text, 1, len, stdout);
		fputc('\n', stdout);
		free(names);
		free(values);
		free(lengths);
	}
	PQclear(res);
}

int
main(int argc, char **argv)
{
	struct pgoutput_record_opts opts;
	const char *conninfo = NULL;
	const char *keys[8];
	const char *vals[8];
	int			n = 0;
	PGconn	   *conn;
	struct pgoutput_catalog *cat;
	struct pgoutput_record *d;
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		got;
	char	   *bytes = NULL;
	size_t		bytes_cap = 0;
	char		err[512];

	pgoutput_record_default_opts(&opts);
	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--print-options") == 0)
		{
			printf("%s\n", pgoutput_session_options());
			return 0;
		}
		else if (strcmp(argv[i], "--types") == 0)
			opts.include_types = true;
		else if (strcmp(argv[i], "--type-oids") == 0)
			opts.include_type_oids = true;
		else if (strcmp(argv[i], "--numeric-as-number") == 0)
			opts.values.numeric_as_string = false;
		else if (strcmp(argv[i], "--bytea-hex") == 0)
			opts.values.bytea_hex = true;
		else
			conninfo = argv[i];
	}
	if (conninfo == NULL)
	{
		fprintf(stderr, "usage: %s [--types] [--type-oids] [--numeric-as-number] [--bytea-hex] CONNINFO\n",
				argv[0]);
		return 1;
	}
	keys[n] = "dbname";
	vals[n++] = conninfo;
	n += pgoutput_session_params(keys + n, vals + n, 4);
	keys[n] = NULL;
	vals[n] = NULL;
	conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(conn) != CONNECTION_OK)
		feed_die(PQerrorMessage(conn));
	if (!pgoutput_session_check(conn, err, sizeof(err)))
		feed_die(err);
	cat = pgoutput_catalog_new(&pgoutput_catalog_pq, conn);
	d = cat ? pgoutput_record_new(&opts, cat) : NULL;
	if (d == NULL)
		feed_die("out of memory");

	while ((got = getline(&line, &cap, stdin)) > 0)
	{
		char	   *tab;
		uint64_t	lsn = 0;
		size_t		hexlen;

		while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
			line[--got] = '\0';
		if (got == 0)
			continue;
		if (strcmp(line, "reset") == 0)
		{
			pgoutput_record_reset(d);
			continue;
		}
		if ((tab = strchr(line, '\t')) == NULL)
			feed_die("a line without a tab");
		*tab++ = '\0';
		if (strcmp(line, "load") == 0)
		{
			char	   *tab2 = strchr(tab, '\t');

			if (tab2 == NULL || !lsn_parse(tab2 + 1, &lsn))
				feed_die("load needs RELID<TAB>LSN");
			*tab2 = '\0';
			feed_load(conn, d, tab, lsn);
			fflush(stdout);
			continue;
		}
		if (!lsn_parse(line, &lsn))
			feed_die("a line without an LSN");
		if (tab[0] == '\\' && tab[1] == 'x')
			tab += 2;
		hexlen = strlen(tab);
		if (hexlen % 2 != 0)
			feed_die("odd hex length");
		if (hexlen / 2 + 1 > bytes_cap)
		{
			bytes_cap = hexlen / 2 + 1;
			if ((bytes = realloc(bytes, bytes_cap)) == NULL)
				feed_die("out of memory");
		}
		for (size_t i = 0; i < hexlen / 2; i++)
		{
			int			hi = hex_digit(tab[2 * i]);
			int			lo = hex_digit(tab[2 * i + 1]);

			if (hi < 0 || lo < 0)
				feed_die("not hex");
			bytes[i] = (char) (hi << 4 | lo);
		}
		if (!pgoutput_record_feed(d, lsn, bytes, hexlen / 2, err, sizeof(err)))
			feed_die(err);
		feed_drain(d);
		fflush(stdout);
	}
	free(line);
	free(bytes);
	pgoutput_record_free(d);
	pgoutput_catalog_free(cat);
	PQfinish(conn);
	return 0;
}
