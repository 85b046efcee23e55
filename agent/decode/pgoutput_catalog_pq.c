/*
 * pgoutput_catalog_pq.c
 *		Catalogue queries of the pgoutput decoder (see pgoutput_catalog.h).
 *
 * One query per relation, whatever its number of columns: a recursive
 * CTE collects every type reachable from the columns (a domain's base, an
 * array's element, a composite's attributes, a range's subtype, a
 * multirange's range), and the result carries, as rows of several kinds:
 *
 *	't'	a type: typtype, domain base, array element and its delimiter,
 *		range subtype or multirange range, format_type(oid, NULL)
 *	'a'	an attribute of a composite type, in attnum order
 *	'c'	format_type(typid, typmod) of a column (the "types" field)
 *	'k'	a column of the primary key, else of the replica identity index
 *	'r'	the relation itself (namespace, name, replica identity)
 *	'n'	a column of a table read by the initial load
 *
 * "True arrays" are what the server's get_element_type calls arrays
 * (typsubscript = array_subscript_handler from PostgreSQL 14, typlen = -1
 * before): int2vector and oidvector are among them, with a text form of
 * their own.  Which index counts as the primary key follows the server's
 * RelationGetIndexList: live, valid, unique, immediate, no predicate.
 *
 * Every name is schema-qualified, so the connection's search_path cannot
 * change what a query means; it still decides how format_type qualifies
 * a type name, as it does in the walsender for the walcast plugin.
 */
#include "pgoutput_catalog_pq.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

/* Parts of the query that differ between PostgreSQL 13 and 14+. */
#define PQ_TRUE_ARRAY_14 \
	"t.typelem <> 0 AND t.typsubscript = 'pg_catalog.array_subscript_handler'::pg_catalog.regproc"
#define PQ_TRUE_ARRAY_13 "t.typelem <> 0 AND t.typlen = -1"
#define PQ_MULTIRANGE_DEP_14 \
	" UNION ALL SELECT r.rngtypid FROM pg_catalog.pg_range r WHERE r.rngmultitypid = t.oid"
#define PQ_MULTIRANGE_RANGE_14 \
	"(SELECT r.rngtypid FROM pg_catalog.pg_range r WHERE r.rngmultitypid = t.oid), "

/*
 * The columns: for a stream relation, the Relation message's types and
 * modifiers ($2, $3); for a load table, pg_attribute (generated columns
 * included: SELECT * returns them and the plugin renders them).
 */
#define PQ_COLS_MSG \
	"col(n, typid, typmod, attname) AS (" \
	" SELECT c.n::pg_catalog.int4, c.typid, c.typmod, NULL::pg_catalog.text" \
	" FROM ROWS FROM (pg_catalog.unnest($2::pg_catalog.oid[])," \
	"  pg_catalog.unnest($3::pg_catalog.int4[])) WITH ORDINALITY AS c(typid, typmod, n))"
#define PQ_COLS_TABLE \
	"col(n, typid, typmod, attname) AS (" \
	" SELECT a.attnum::pg_catalog.int4, a.atttypid, a.atttypmod, a.attname::pg_catalog.text" \
	" FROM pg_catalog.pg_attribute a" \
	" WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped)"

/* %s: columns CTE, true-array test x4, multirange dependency, its range. */
static const char pq_query_fmt[] =
"WITH RECURSIVE %s,"
" dep(oid) AS ("
"  SELECT typid FROM col"
"  UNION"
"  SELECT d.oid FROM dep JOIN pg_catalog.pg_type t ON t.oid = dep.oid,"
"  LATERAL (SELECT t.typbasetype WHERE t.typtype = 'd'"
"   UNION ALL SELECT t.typelem WHERE %s"
"   UNION ALL SELECT a.atttypid FROM pg_catalog.pg_attribute a"
"    WHERE t.typtype = 'c' AND a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped"
"   UNION ALL SELECT r.rngsubtype FROM pg_catalog.pg_range r WHERE r.rngtypid = t.oid"
"   %s) AS d(oid)),"
" rel AS (SELECT c.oid, c.relreplident FROM pg_catalog.pg_class c WHERE c.oid = $1),"
" key AS (SELECT pg_catalog.unnest(i.indkey::pg_catalog.int2[]) AS attnum"
"  FROM (SELECT i.indkey FROM pg_catalog.pg_index i JOIN rel ON rel.oid = i.indrelid"
"   WHERE i.indislive AND i.indisvalid AND i.indisunique AND i.indimmediate"
"    AND i.indpred IS NULL"
"    AND (i.indisprimary OR (i.indisreplident AND rel.relreplident = 'i'))"
"   ORDER BY i.indisprimary DESC LIMIT 1) i)"
" SELECT 't', t.oid::pg_catalog.int8, 0, t.typtype::pg_catalog.text, t.typbasetype::pg_catalog.text,"
"  CASE WHEN %s THEN t.typelem ELSE 0 END::pg_catalog.text,"
"  CASE WHEN %s THEN (SELECT e.typdelim FROM pg_catalog.pg_type e WHERE e.oid = t.typelem) END::pg_catalog.text,"
"  COALESCE((SELECT r.rngsubtype FROM pg_catalog.pg_range r WHERE r.rngtypid = t.oid), %s 0)::pg_catalog.text,"
"  pg_catalog.format_type(t.oid, NULL)"
" FROM dep JOIN pg_catalog.pg_type t ON t.oid = dep.oid"
" UNION ALL"
" SELECT 'a', t.oid::pg_catalog.int8, a.attnum::pg_catalog.int4, a.attname::pg_catalog.text,"
"  a.atttypid::pg_catalog.text, NULL, NULL, NULL, NULL"
" FROM dep JOIN pg_catalog.pg_type t ON t.oid = dep.oid"
"  JOIN pg_catalog.pg_attribute a ON a.attrelid = t.typrelid"
" WHERE t.typtype = 'c' AND a.attnum > 0 AND NOT a.attisdropped"
" UNION ALL"
" SELECT 'c', col.n::pg_catalog.int8, 0, pg_catalog.format_type(col.typid, col.typmod),"
"  col.typid::pg_catalog.text, col.typmod::pg_catalog.text, col.attname, NULL, NULL"
" FROM col"
" UNION ALL"
" SELECT 'k', a.attnum::pg_catalog.int8, 0, a.attname::pg_catalog.text, NULL, NULL, NULL, NULL, NULL"
" FROM key JOIN pg_catalog.pg_attribute a ON a.attrelid = $1 AND a.attnum = key.attnum"
" UNION ALL"
" SELECT 'r', c.oid::pg_catalog.int8, 0, n.nspname::pg_catalog.text, c.relname::pg_catalog.text,"
"  c.relreplident::pg_catalog.text, NULL, NULL, NULL"
" FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
" WHERE c.oid = $1"
" ORDER BY 1, 2, 3";

/* Result columns. */
enum
{
	PQ_KIND, PQ_K1, PQ_K2, PQ_V1, PQ_V2, PQ_V3, PQ_V4, PQ_V5, PQ_V6
};

/* What a 't' row says of a type, before domains are resolved. */
struct pq_type_row
{
	uint32_t	oid;
	char		typtype;
	uint32_t	base;
	uint32_t	elem;
	char		delim;
	uint32_t	sub;			/* range: subtype; multirange: range */
	const char *name;
	int			row;			/* of its attributes, the first 'a' row */
};

static uint32_t
pq_oid(const char *s)
{
	return s != NULL ? (uint32_t) strtoul(s, NULL, 10) : 0;
}

static char *
pq_query(PGconn *conn, bool table)
{
	int			version = PQserverVersion(conn);
	const char *arr = version >= 140000 ? PQ_TRUE_ARRAY_14 : PQ_TRUE_ARRAY_13;
	size_t		len = sizeof(pq_query_fmt) + 4 * strlen(PQ_TRUE_ARRAY_14) +
		strlen(PQ_COLS_TABLE) + strlen(PQ_COLS_MSG) +
		strlen(PQ_MULTIRANGE_DEP_14) + strlen(PQ_MULTIRANGE_RANGE_14);
	char	   *sql = malloc(len);

	if (sql == NULL)
		return NULL;
	snprintf(sql, len, pq_query_fmt, table ? PQ_COLS_TABLE : PQ_COLS_MSG,
			 arr, version >= 140000 ? PQ_MULTIRANGE_DEP_14 : "",
			 arr, arr, version >= 140000 ? PQ_MULTIRANGE_RANGE_14 : "");
	return sql;
}

/* "{a,b,c}" of OIDs or typmods: numbers need no quoting. */
static char *
pq_int_array(const struct pgoutput_relation *rel, bool typmods)
{
	size_t		len = 3 + (size_t) rel->ncols * 12;
	char	   *s = malloc(len);
	size_t		n = 0;

	if (s == NULL)
		return NULL;
	s[n++] = '{';
	for (int i = 0; i < rel->ncols; i++)
	{
		if (typmods)
			n += (size_t) snprintf(s + n, len - n, "%s%" PRId32, i ? "," : "",
								   rel->cols[i].typmod);
		else
			n += (size_t) snprintf(s + n, len - n, "%s%" PRIu32, i ? "," : "",
								   rel->cols[i].typid);
	}
	s[n++] = '}';
	s[n] = '\0';
	return s;
}

/*
 * The kind of a type with its domains resolved (the plugin renders a
 * domain as its base type): built-in scalars by OID, then arrays,
 * composites, ranges and multiranges by what the base type is.
 */
static bool
pq_resolve(const struct pq_type_row *rows, int nrows, int i,
		   const struct pq_type_row **base_out)
{
	const struct pq_type_row *t = &rows[i];

	/* a domain chain is short; the bound only guards against a bad result */
	for (int depth = 0; t->typtype == 'd'; depth++)
	{
		const struct pq_type_row *next = NULL;

		if (depth > 32)
			return false;
		for (int j = 0; j < nrows; j++)
			if (rows[j].oid == t->base)
				next = &rows[j];
		if (next == NULL)
			return false;
		t = next;
	}
	*base_out = t;
	return true;
}

static enum pgoutput_kind
pq_kind(const struct pq_type_row *base)
{
	enum pgoutput_kind k = pgoutput_catalog_builtin_kind(base->oid);

	if (k != PGOUTPUT_KIND_STRING)
		return k;
	if (base->elem != 0)
		return (base->oid == 22 || base->oid == 30) ?
			PGOUTPUT_KIND_VECTOR : PGOUTPUT_KIND_ARRAY;
	switch (base->typtype)
	{
		case 'c':
			return PGOUTPUT_KIND_COMPOSITE;
		case 'r':
			return PGOUTPUT_KIND_RANGE;
		case 'm':
			return PGOUTPUT_KIND_MULTIRANGE;
		default:
			return PGOUTPUT_KIND_STRING;
	}
}

/* The 't' and 'a' rows into the catalogue's type entries. */
static bool
pq_put_types(struct pgoutput_catalog *cat, PGresult *res, char *err,
			 size_t errlen)
{
	int			nrows = PQntuples(res);
	struct pq_type_row *rows = calloc(nrows + 1, sizeof(*rows));
	int			n = 0;
	bool		ok = false;

	if (rows == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return false;
	}
	for (int r = 0; r < nrows; r++)
	{
		const char *kind = PQgetvalue(res, r, PQ_KIND);

		if (kind[0] != 't')
			continue;
		rows[n].oid = pq_oid(PQgetvalue(res, r, PQ_K1));
		rows[n].typtype = PQgetvalue(res, r, PQ_V1)[0];
		rows[n].base = pq_oid(PQgetvalue(res, r, PQ_V2));
		rows[n].elem = pq_oid(PQgetvalue(res, r, PQ_V3));
		rows[n].delim = PQgetisnull(res, r, PQ_V4) ? ',' : PQgetvalue(res, r, PQ_V4)[0];
		rows[n].sub = pq_oid(PQgetvalue(res, r, PQ_V5));
		rows[n].name = PQgetvalue(res, r, PQ_V6);
		n++;
	}
	for (int i = 0; i < n; i++)
	{
		const struct pq_type_row *base;
		struct pgoutput_type *t;
		enum pgoutput_kind kind;

		if (!pq_resolve(rows, n, i, &base))
		{
			snprintf(err, errlen, "type %s (OID %u): its base type could not be found",
					 rows[i].name, rows[i].oid);
			goto done;
		}
		kind = pq_kind(base);
		t = pgoutput_catalog_put_type(cat, rows[i].oid, kind, rows[i].name);
		if (t == NULL)
			goto oom;
		t->elem = (kind == PGOUTPUT_KIND_ARRAY || kind == PGOUTPUT_KIND_VECTOR) ?
			base->elem : base->sub;
		t->delim = base->delim;
		if (kind != PGOUTPUT_KIND_COMPOSITE)
			continue;
		/* a domain over a composite has its base's attributes */
		for (int r = 0; r < nrows; r++)
		{
			if (PQgetvalue(res, r, PQ_KIND)[0] != 'a' ||
				pq_oid(PQgetvalue(res, r, PQ_K1)) != base->oid)
				continue;
			if (!pgoutput_catalog_type_add_att(t, PQgetvalue(res, r, PQ_V1),
											   pq_oid(PQgetvalue(res, r, PQ_V2))))
				goto oom;
		}
	}
	ok = true;
	goto done;
oom:
	snprintf(err, errlen, "out of memory");
done:
	free(rows);
	return ok;
}

/* The 'k' rows: primary key, else replica identity index, in column order. */
static bool
pq_set_pk(struct pgoutput_relation *rel, PGresult *res)
{
	int			nrows = PQntuples(res);
	const char **names = calloc(nrows + 1, sizeof(char *));
	int			n = 0;
	bool		ok;

	if (names == NULL)
		return false;
	for (int r = 0; r < nrows; r++)
		if (PQgetvalue(res, r, PQ_KIND)[0] == 'k')
			names[n++] = PQgetvalue(res, r, PQ_V1);
	ok = pgoutput_catalog_set_pk(rel, n, names);
	free(names);
	return ok;
}

static PGresult *
pq_run(PGconn *conn, const struct pgoutput_relation *rel, bool table,
	   char *err, size_t errlen)
{
	char		relid[16];
	char	   *sql = pq_query(conn, table);
	char	   *typids = table ? NULL : pq_int_array(rel, false);
	char	   *typmods = table ? NULL : pq_int_array(rel, true);
	const char *params[3];
	PGresult   *res = NULL;

	snprintf(relid, sizeof(relid), "%" PRIu32, rel->oid);
	params[0] = relid;
	params[1] = typids;
	params[2] = typmods;
	if (sql == NULL || (!table && (typids == NULL || typmods == NULL)))
		snprintf(err, errlen, "out of memory");
	else
	{
		res = PQexecParams(conn, sql, table ? 1 : 3, NULL, params, NULL, NULL,
						   0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
		{
			const char *msg = PQresultErrorMessage(res);
			size_t		n;

			snprintf(err, errlen, "catalogue query for relation OID %s failed: %s",
					 relid, msg && msg[0] ? msg : PQerrorMessage(conn));
			/* one line, as every error of the agent */
			for (n = 0; err[n]; n++)
				if (err[n] == '\n')
					err[n] = ' ';
			while (n > 0 && err[n - 1] == ' ')
				err[--n] = '\0';
			PQclear(res);
			res = NULL;
		}
	}
	free(sql);
	free(typids);
	free(typmods);
	return res;
}

/* The 'r' row, or -1: the relation no longer exists. */
static int
pq_relation_row(PGresult *res)
{
	for (int r = 0; r < PQntuples(res); r++)
		if (PQgetvalue(res, r, PQ_KIND)[0] == 'r')
			return r;
	return -1;
}

static bool
pq_relation(void *arg, struct pgoutput_catalog *cat,
			struct pgoutput_relation *rel, char *err, size_t errlen)
{
	PGconn	   *conn = arg;
	PGresult   *res = pq_run(conn, rel, false, err, errlen);
	bool		ok = false;

	if (res == NULL)
		return false;
	if (!pq_put_types(cat, res, err, errlen))
		goto done;
	for (int r = 0; r < PQntuples(res); r++)
	{
		long		n;

		if (PQgetvalue(res, r, PQ_KIND)[0] != 'c')
			continue;
		n = strtol(PQgetvalue(res, r, PQ_K1), NULL, 10);
		if (!pgoutput_catalog_set_type_name(rel, (int) n - 1,
											PQgetvalue(res, r, PQ_V1)))
			goto oom;
	}

	/*
	 * DEFAULT: the catalogue derives pk from the message.  Otherwise it
	 * takes a relation that still exists: a table dropped since has no
	 * primary key left to ask about, and an empty pk would be a guess.
	 */
	if (rel->replident != 'd')
	{
		if (pq_relation_row(res) < 0)
		{
			snprintf(err, errlen,
					 "relation \"%s.%s\" (OID %u) no longer exists: its primary key (the \"pk\" field) cannot be looked up",
					 rel->nspname, rel->relname, rel->oid);
			goto done;
		}
		if (!pq_set_pk(rel, res))
			goto oom;
	}
	ok = true;
	goto done;
oom:
	snprintf(err, errlen, "out of memory");
done:
	PQclear(res);
	return ok;
}

static bool
pq_table(void *arg, struct pgoutput_catalog *cat,
		 struct pgoutput_relation *rel, char *err, size_t errlen)
{
	PGconn	   *conn = arg;
	PGresult   *res = pq_run(conn, rel, true, err, errlen);
	int			r;
	bool		ok = false;
	bool		default_identity;

	if (res == NULL)
		return false;
	if ((r = pq_relation_row(res)) < 0)
	{
		snprintf(err, errlen, "table OID %u does not exist", rel->oid);
		goto done;
	}
	if (!pgoutput_catalog_set_names(rel, PQgetvalue(res, r, PQ_V1),
									PQgetvalue(res, r, PQ_V2),
									PQgetvalue(res, r, PQ_V3)[0]))
		goto oom;
	if (!pq_put_types(cat, res, err, errlen))
		goto done;

	/*
	 * Column flags as a Relation message would set them; the catalogue
	 * derives pk from them under DEFAULT, and from the 'k' rows otherwise.
	 */
	default_identity = rel->replident == 'd';
	for (r = 0; r < PQntuples(res); r++)
	{
		bool		key = false;
		long		attnum;

		if (PQgetvalue(res, r, PQ_KIND)[0] != 'c')
			continue;
		attnum = strtol(PQgetvalue(res, r, PQ_K1), NULL, 10);
		for (int k = 0; k < PQntuples(res) && default_identity; k++)
			if (PQgetvalue(res, k, PQ_KIND)[0] == 'k' &&
				strtol(PQgetvalue(res, k, PQ_K1), NULL, 10) == attnum)
				key = true;
		if (!pgoutput_catalog_add_column(rel, PQgetvalue(res, r, PQ_V4),
										 pq_oid(PQgetvalue(res, r, PQ_V2)),
										 (int32_t) strtol(PQgetvalue(res, r, PQ_V3), NULL, 10),
										 key || rel->replident == 'f',
										 PQgetvalue(res, r, PQ_V1)))
			goto oom;
	}
	if (!pq_set_pk(rel, res))
		goto oom;
	ok = true;
	goto done;
oom:
	snprintf(err, errlen, "out of memory");
done:
	PQclear(res);
	return ok;
}

const struct pgoutput_catalog_loader pgoutput_catalog_pq = {
	.relation = pq_relation,
	.table = pq_table,
};
