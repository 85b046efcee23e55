/*
 * pgoutput_publication.c
 *		Publications on the catalogue connection: look up, create, and the
 *		replica-identity hazard (see pgoutput_publication.h).
 *
 * Look first, then act: what the role may do is read from the catalogue
 * (has_database_privilege, rolsuper, pg_has_role on the owner) before
 * CREATE PUBLICATION runs, so that a refusal names the privilege instead
 * of passing on the server's error.  Every query takes the list of names
 * as one text parameter split on commas by the server, so no name is ever
 * spliced into SQL; CREATE PUBLICATION quotes with PQescapeIdentifier.
 */
#include "pgoutput_publication.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pqerr.h"

/*
 * A relation c without a replica identity, as CheckCmdReplicaIdentity
 * (execReplication.c) sees it: not FULL, and no index to identify rows
 * by (the primary key under DEFAULT, the chosen index under USING INDEX).
 */
#define PUB_NO_IDENTITY \
	"(c.relreplident = 'n'" \
	" OR (c.relreplident = 'd' AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index i" \
	"  WHERE i.indrelid = c.oid AND i.indisprimary))" \
	" OR (c.relreplident = 'i' AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index i" \
	"  WHERE i.indrelid = c.oid AND i.indisreplident)))"

/*
 * The relations a write lands in, for the relations of a CTE rel(oid,
 * relkind): a partitioned table's leaf partitions (pg_partition_tree), any
 * other table itself; then those of them without a replica identity, as
 * "schema.table".  The CTEs are MATERIALIZED: joined into one query with
 * pg_publication_tables, the planner walks every relation of the
 * database first (seconds, not milliseconds, with a parameter).
 */
#define PUB_LEAVES_WITHOUT_IDENTITY \
	" leaf AS MATERIALIZED (SELECT rel.oid FROM rel WHERE rel.relkind <> 'p'" \
	"  UNION SELECT t.relid FROM rel, pg_catalog.pg_partition_tree(rel.oid) t" \
	"  WHERE rel.relkind = 'p' AND t.isleaf)" \
	" SELECT n.nspname || '.' || c.relname FROM leaf JOIN pg_catalog.pg_class c ON c.oid = leaf.oid" \
	" JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE " PUB_NO_IDENTITY \
	" ORDER BY n.nspname COLLATE \"C\", c.relname COLLATE \"C\""

/* A query failed: the connection lost is worth a new session. */
static enum decoder_status
pub_failed(PGconn *conn, PGresult *res, const char *what, char *err,
		   size_t errlen)
{
	pqerr_result(err, errlen, what, res, conn);
	PQclear(res);
	return PQstatus(conn) == CONNECTION_OK ? DECODER_FATAL : DECODER_RETRY;
}

/* The first column of every row, joined by ", " into out. */
static void
pub_join(const PGresult *res, struct strbuf *out)
{
	for (int i = 0; i < PQntuples(res); i++)
	{
		if (out->len > 0)
			strbuf_puts(out, ", ");
		strbuf_puts(out, PQgetvalue(res, i, 0));
	}
}

/*
 * Run sql with one parameter (or none, when param is NULL) and collect its
 * first column into out.
 */
static enum decoder_status
pub_list(PGconn *conn, const char *sql, const char *param, const char *what,
		 struct strbuf *out, char *err, size_t errlen)
{
	const char *params[1] = {param};
	PGresult   *res = PQexecParams(conn, sql, param != NULL ? 1 : 0, NULL,
								   params, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pub_failed(conn, res, what, err, errlen);
	pub_join(res, out);
	PQclear(res);
	if (out->failed)
	{
		snprintf(err, errlen, "out of memory");
		return DECODER_FATAL;
	}
	return DECODER_OK;
}

enum decoder_status
pgoutput_publication_missing(PGconn *conn, const char *names,
							 struct strbuf *missing, char *err, size_t errlen)
{
	return pub_list(conn,
					"SELECT '\"' || n.name || '\"' FROM pg_catalog.unnest(pg_catalog.string_to_array($1, ','))"
					" WITH ORDINALITY AS n(name, i)"
					" WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_publication p WHERE p.pubname = n.name)"
					" ORDER BY n.i",
					names, "looking up the publications", missing, err, errlen);
}

enum decoder_status
pgoutput_publication_unidentified(PGconn *conn, const char *names,
								  struct strbuf *tables, char *err,
								  size_t errlen)
{
	return pub_list(conn,
					"WITH pub AS MATERIALIZED (SELECT DISTINCT pt.schemaname, pt.tablename"
					"  FROM pg_catalog.pg_publication p"
					"  JOIN pg_catalog.pg_publication_tables pt ON pt.pubname = p.pubname"
					"  WHERE p.pubname = ANY (pg_catalog.string_to_array($1, ','))"
					"  AND (p.pubupdate OR p.pubdelete)),"
					" rel AS MATERIALIZED (SELECT r.oid, r.relkind FROM pub"
					"  JOIN pg_catalog.pg_namespace rn ON rn.nspname = pub.schemaname"
					"  JOIN pg_catalog.pg_class r ON r.relnamespace = rn.oid AND r.relname = pub.tablename),"
					PUB_LEAVES_WITHOUT_IDENTITY,
					names, "looking for published tables without a replica identity",
					tables, err, errlen);
}

enum decoder_status
pgoutput_publication_filtered(PGconn *conn, const char *names,
							  struct strbuf *tables, char *err,
							  size_t errlen)
{
	/* row filters and column lists came with PostgreSQL 15 */
	if (PQserverVersion(conn) < 150000)
		return DECODER_OK;
	return pub_list(conn,
					"SELECT DISTINCT n.nspname || '.' || c.relname, n.nspname COLLATE \"C\", c.relname COLLATE \"C\""
					" FROM pg_catalog.pg_publication p"
					" JOIN pg_catalog.pg_publication_rel pr ON pr.prpubid = p.oid"
					" JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid"
					" JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
					" WHERE p.pubname = ANY (pg_catalog.string_to_array($1, ','))"
					" AND (pr.prqual IS NOT NULL OR pr.prattrs IS NOT NULL)"
					" ORDER BY 2, 3",
					names, "looking up the publications' row filters and column lists",
					tables, err, errlen);
}

/* ---- creating a publication ---- */

/*
 * The tables of a FOR TABLE list that do not exist, and those the role
 * does not own (CREATE PUBLICATION ... FOR TABLE needs the owner's
 * rights), each "schema.table, ...".
 */
static enum decoder_status
pub_check_tables(PGconn *conn, const char *spec, struct strbuf *absent,
				 struct strbuf *foreign, char *err, size_t errlen)
{
	const char *params[1] = {spec};
	PGresult   *res;

	res = PQexecParams(conn,
					   "SELECT t.name, c.oid IS NOT NULL, COALESCE(pg_catalog.pg_has_role(c.relowner, 'USAGE'), false)"
					   " FROM pg_catalog.unnest(pg_catalog.string_to_array($1, ',')) WITH ORDINALITY AS t(name, i)"
					   " LEFT JOIN (pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace)"
					   "  ON n.nspname || '.' || c.relname = t.name AND c.relkind IN ('r', 'p')"
					   " ORDER BY t.i",
					   1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pub_failed(conn, res, "--create-publication: looking up the tables", err, errlen);
	for (int i = 0; i < PQntuples(res); i++)
	{
		struct strbuf *to = strcmp(PQgetvalue(res, i, 1), "t") != 0 ? absent :
			strcmp(PQgetvalue(res, i, 2), "t") != 0 ? foreign : NULL;

		if (to == NULL)
			continue;
		if (to->len > 0)
			strbuf_puts(to, ", ");
		strbuf_puts(to, PQgetvalue(res, i, 0));
	}
	PQclear(res);
	return DECODER_OK;
}

/*
 * What the role lacks to create it: CREATE on the database, a superuser
 * for FOR ALL TABLES, the tables' ownership for FOR TABLE.  *why is empty
 * when nothing is missing.
 */
static enum decoder_status
pub_check_rights(PGconn *conn, const char *name, const char *spec,
				 char *why, size_t whylen, char *err, size_t errlen)
{
	PGresult   *res = PQexec(conn,
							 "SELECT pg_catalog.has_database_privilege(pg_catalog.current_database(), 'CREATE'),"
							 " (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user),"
							 " current_user, pg_catalog.current_database()");
	struct strbuf absent = {0};
	struct strbuf foreign = {0};
	enum decoder_status st = DECODER_OK;

	why[0] = '\0';
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		return pub_failed(conn, res, "--create-publication: reading the role's rights", err, errlen);
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
		snprintf(why, whylen,
				 "--create-publication: role \"%s\" may not create publication \"%s\": it needs CREATE on database \"%s\" (GRANT CREATE ON DATABASE ... TO ...), or have an administrator create the publication",
				 PQgetvalue(res, 0, 2), name, PQgetvalue(res, 0, 3));
	else if (strcmp(spec, "all") == 0 && strcmp(PQgetvalue(res, 0, 1), "t") != 0)
		snprintf(why, whylen,
				 "--create-publication all: FOR ALL TABLES needs a superuser, and role \"%s\" is not one: name the tables instead (--create-publication SCHEMA.TABLE,...), which needs their owner's rights, or have an administrator create publication \"%s\"",
				 PQgetvalue(res, 0, 2), name);
	else if (strcmp(spec, "all") != 0)
	{
		st = pub_check_tables(conn, spec, &absent, &foreign, err, errlen);
		if (st == DECODER_OK && (absent.failed || foreign.failed))
		{
			snprintf(err, errlen, "out of memory");
			st = DECODER_FATAL;
		}
		else if (st == DECODER_OK && absent.len > 0)
			snprintf(why, whylen,
					 "--create-publication: no table %s (tables are named schema.table, unquoted, as stored)",
					 absent.data);
		else if (st == DECODER_OK && foreign.len > 0)
			snprintf(why, whylen,
					 "--create-publication: role \"%s\" may not publish table(s) %s: FOR TABLE needs the owner's rights (have an administrator create publication \"%s\")",
					 PQgetvalue(res, 0, 2), foreign.data, name);
	}
	PQclear(res);
	free(absent.data);
	free(foreign.data);
	return st;
}

/*
 * The tables the publication would cover that have no replica identity:
 * every permanent table of the database for "all" (user tables: OIDs
 * from FirstNormalObjectId, as is_publishable_class), else the named
 * ones; partitioned tables by their partitions.
 */
static enum decoder_status
pub_unidentified_of(PGconn *conn, const char *spec, struct strbuf *tables,
					char *err, size_t errlen)
{
	if (strcmp(spec, "all") == 0)
		return pub_list(conn,
						"SELECT n.nspname || '.' || c.relname FROM pg_catalog.pg_class c"
						" JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
						" WHERE c.relkind = 'r' AND c.relpersistence = 'p' AND c.oid >= 16384"
						" AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'"
						" AND " PUB_NO_IDENTITY
						" ORDER BY n.nspname COLLATE \"C\", c.relname COLLATE \"C\"",
						NULL, "--create-publication: looking for tables without a replica identity",
						tables, err, errlen);
	return pub_list(conn,
					"WITH rel AS MATERIALIZED (SELECT r.oid, r.relkind FROM pg_catalog.pg_class r"
					"  JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace"
					"  WHERE rn.nspname || '.' || r.relname = ANY (pg_catalog.string_to_array($1, ','))"
					"  AND r.relkind IN ('r', 'p')),"
					PUB_LEAVES_WITHOUT_IDENTITY,
					spec, "--create-publication: looking for tables without a replica identity",
					tables, err, errlen);
}

/* CREATE PUBLICATION "name" FOR ALL TABLES | FOR TABLE "s"."t", ... */
static char *
pub_create_sql(PGconn *conn, const char *name, const char *spec)
{
	struct strbuf b = {0};
	char	   *q = PQescapeIdentifier(conn, name, strlen(name));

	if (q == NULL)
		return NULL;
	strbuf_puts(&b, "CREATE PUBLICATION ");
	strbuf_puts(&b, q);
	PQfreemem(q);
	if (strcmp(spec, "all") == 0)
	{
		strbuf_puts(&b, " FOR ALL TABLES");
		return strbuf_finish(&b);
	}
	strbuf_puts(&b, " FOR TABLE ");
	for (const char *p = spec;;)
	{
		size_t		n = strcspn(p, ",");
		const char *dot = memchr(p, '.', n);	/* checked: config_check_table_list */

		if (p != spec)
			strbuf_puts(&b, ", ");
		if ((q = PQescapeIdentifier(conn, p, (size_t) (dot - p))) == NULL)
			break;
		strbuf_puts(&b, q);
		PQfreemem(q);
		strbuf_puts(&b, ".");
		if ((q = PQescapeIdentifier(conn, dot + 1, n - (size_t) (dot - p) - 1)) == NULL)
			break;
		strbuf_puts(&b, q);
		PQfreemem(q);
		if (p[n] == '\0')
			return strbuf_finish(&b);
		p += n + 1;
	}
	free(b.data);
	return NULL;
}

/* Whether a replication slot of that name exists (in any database). */
static enum decoder_status
pub_slot_exists(PGconn *conn, const char *slot, bool *exists, char *err,
				size_t errlen)
{
	const char *params[1] = {slot};
	PGresult   *res = PQexecParams(conn,
								   "SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
								   1, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pub_failed(conn, res, "looking up the slot", err, errlen);
	*exists = PQntuples(res) > 0;
	PQclear(res);
	return DECODER_OK;
}

enum decoder_status
pgoutput_publication_create(PGconn *conn, const char *name, const char *spec,
							const char *slot, char *err, size_t errlen)
{
	struct strbuf tables = {0};
	char		why[1024];
	enum decoder_status st;
	bool		slot_exists;
	char	   *sql;
	PGresult   *res;

	if ((st = pub_slot_exists(conn, slot, &slot_exists, err, errlen)) != DECODER_OK)
		return st;
	if (slot_exists)
	{
		snprintf(err, errlen,
				 "publication \"%s\" does not exist, and slot \"%s\" already does: pgoutput reads a publication as of each change, so the slot would fail on every change it holds from before a publication created now; create the publication first, then the slot (drop slot \"%s\" if nothing needs its changes, and start with --create-slot)",
				 name, slot, slot);
		return DECODER_FATAL;
	}
	if ((st = pub_check_rights(conn, name, spec, why, sizeof(why), err, errlen)) != DECODER_OK)
		return st;
	if (why[0] != '\0')
	{
		snprintf(err, errlen, "%s", why);
		return DECODER_FATAL;
	}

	/*
	 * A publication of updates and deletes makes PostgreSQL refuse the
	 * application's UPDATE and DELETE on a table without a replica
	 * identity: never create one that would, without the user fixing the
	 * tables first (docs/managed-postgres.md, "Replica identity").
	 */
	if ((st = pub_unidentified_of(conn, spec, &tables, err, errlen)) != DECODER_OK)
	{
		free(tables.data);
		return st;
	}
	if (tables.len > 0)
	{
		snprintf(err, errlen,
				 "--create-publication: not creating publication \"%s\": PostgreSQL would then refuse the application's UPDATE and DELETE on table(s) without a replica identity: %s; give each a primary key, or ALTER TABLE ... REPLICA IDENTITY FULL, or leave it out (--create-publication SCHEMA.TABLE,...), then start again (docs/managed-postgres.md, \"Replica identity\")",
				 name, tables.data);
		free(tables.data);
		return DECODER_FATAL;
	}
	free(tables.data);

	if ((sql = pub_create_sql(conn, name, spec)) == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return DECODER_FATAL;
	}
	res = PQexec(conn, sql);
	free(sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		char		what[160];

		snprintf(what, sizeof(what), "--create-publication: could not create publication \"%s\"", name);
		return pub_failed(conn, res, what, err, errlen);
	}
	PQclear(res);
	return DECODER_OK;
}

char *
pgoutput_publication_quoted(const char *names)
{
	struct strbuf b = {0};

	for (const char *p = names;;)
	{
		size_t		n = strcspn(p, ",");

		if (p != names)
			strbuf_add(&b, ",", 1);
		strbuf_add(&b, "\"", 1);
		for (size_t i = 0; i < n; i++)
		{
			/* a quote inside a quoted identifier is doubled */
			if (p[i] == '"')
				strbuf_add(&b, "\"", 1);
			strbuf_add(&b, p + i, 1);
		}
		strbuf_add(&b, "\"", 1);
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	return strbuf_finish(&b);
}
