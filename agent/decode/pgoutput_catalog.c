/*
 * pgoutput_catalog.c
 *		The relation and type cache of the pgoutput decoder (see
 *		pgoutput_catalog.h).  Three maps from OID to entry: the stream's
 *		relations, the initial load's tables, the types.  The loader fills
 *		what pgoutput does not send; this file keeps the entries, replaces
 *		them whole (a failed load leaves the old entry as it was) and
 *		derives what follows from the Relation message alone.
 */
#include "pgoutput_catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * An open-addressing map from OID (never 0, InvalidOid) to an entry, with
 * linear probing and backward-shift deletion.  Catalogues are small: a few
 * hundred entries in a big database.
 */
struct oidmap
{
	uint32_t   *keys;
	void	  **vals;
	size_t		cap;			/* a power of two, or 0 */
	size_t		count;
};

static size_t
oidmap_slot(uint32_t key, size_t cap)
{
	/* Fibonacci hashing: OIDs come in runs */
	return (size_t) ((key * UINT32_C(2654435769)) & (cap - 1));
}

static void *
oidmap_get(const struct oidmap *m, uint32_t key)
{
	if (m->cap == 0 || key == 0)
		return NULL;
	for (size_t i = oidmap_slot(key, m->cap);; i = (i + 1) & (m->cap - 1))
	{
		if (m->keys[i] == key)
			return m->vals[i];
		if (m->keys[i] == 0)
			return NULL;
	}
}

static bool
oidmap_grow(struct oidmap *m)
{
	size_t		cap = m->cap ? m->cap * 2 : 64;
	uint32_t   *keys = calloc(cap, sizeof(uint32_t));
	void	  **vals = calloc(cap, sizeof(void *));

	if (keys == NULL || vals == NULL)
	{
		free(keys);
		free(vals);
		return false;
	}
	for (size_t j = 0; j < m->cap; j++)
	{
		size_t		i;

		if (m->keys[j] == 0)
			continue;
		for (i = oidmap_slot(m->keys[j], cap); keys[i] != 0;
			 i = (i + 1) & (cap - 1))
			;
		keys[i] = m->keys[j];
		vals[i] = m->vals[j];
	}
	free(m->keys);
	free(m->vals);
	m->keys = keys;
	m->vals = vals;
	m->cap = cap;
	return true;
}

/* Put val under key; *old receives the entry it replaces, or NULL. */
static bool
oidmap_put(struct oidmap *m, uint32_t key, void *val, void **old)
{
	size_t		i;

	*old = NULL;
	if ((m->count + 1) * 4 > m->cap * 3 && !oidmap_grow(m))
		return false;
	for (i = oidmap_slot(key, m->cap); m->keys[i] != 0;
		 i = (i + 1) & (m->cap - 1))
	{
		if (m->keys[i] == key)
		{
			*old = m->vals[i];
			m->vals[i] = val;
			return true;
		}
	}
	m->keys[i] = key;
	m->vals[i] = val;
	m->count++;
	return true;
}

static void *
oidmap_remove(struct oidmap *m, uint32_t key)
{
	size_t		i;
	size_t		j;
	void	   *val;

	if (m->cap == 0 || key == 0)
		return NULL;
	for (i = oidmap_slot(key, m->cap); m->keys[i] != key;
		 i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == 0)
			return NULL;
	val = m->vals[i];
	/* shift back the entries of the run that probed past slot i */
	for (j = (i + 1) & (m->cap - 1); m->keys[j] != 0; j = (j + 1) & (m->cap - 1))
	{
		size_t		home = oidmap_slot(m->keys[j], m->cap);

		/* can the entry at j move to i?  only if home is not in (i, j] */
		if ((j > i && (home <= i || home > j)) ||
			(j < i && (home <= i && home > j)))
		{
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			i = j;
		}
	}
	m->keys[i] = 0;
	m->vals[i] = NULL;
	m->count--;
	return val;
}

struct pgoutput_catalog
{
	const struct pgoutput_catalog_loader *loader;
	void	   *arg;
	struct oidmap rels;			/* stream relations: pgoutput_relation */
	struct oidmap tables;		/* load tables: pgoutput_relation */
	struct oidmap types;		/* pgoutput_type */
};

static void
catalog_type_free(struct pgoutput_type *t)
{
	if (t == NULL)
		return;
	for (int i = 0; i < t->natts; i++)
		free(t->attnames[i]);
	free(t->attnames);
	free(t->atttypes);
	free(t->name);
	free(t);
}

static void
catalog_relation_free(struct pgoutput_relation *rel)
{
	if (rel == NULL)
		return;
	for (int i = 0; i < rel->ncols; i++)
	{
		free(rel->cols[i].name);
		free(rel->cols[i].type_name);
	}
	free(rel->cols);
	for (int i = 0; i < rel->npk; i++)
		free(rel->pk[i]);
	free(rel->pk);
	free(rel->nspname);
	free(rel->relname);
	free(rel);
}

static void
catalog_map_clear(struct oidmap *m, bool relations)
{
	for (size_t i = 0; i < m->cap; i++)
	{
		if (m->keys[i] == 0)
			continue;
		if (relations)
			catalog_relation_free(m->vals[i]);
		else
			catalog_type_free(m->vals[i]);
	}
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

struct pgoutput_catalog *
pgoutput_catalog_new(const struct pgoutput_catalog_loader *loader, void *arg)
{
	struct pgoutput_catalog *cat = calloc(1, sizeof(*cat));

	if (cat == NULL)
		return NULL;
	cat->loader = loader;
	cat->arg = arg;
	return cat;
}

void
pgoutput_catalog_reset(struct pgoutput_catalog *cat)
{
	catalog_map_clear(&cat->rels, true);
	catalog_map_clear(&cat->tables, true);
	catalog_map_clear(&cat->types, false);
}

void
pgoutput_catalog_free(struct pgoutput_catalog *cat)
{
	if (cat == NULL)
		return;
	pgoutput_catalog_reset(cat);
	free(cat);
}

/*
 * The kinds of the built-in types the plugin renders itself (its
 * typeinfo_kind), by their fixed OIDs.  Every other type gets its kind from
 * its catalogue entry (array, composite, range, multirange) or is a
 * string.
 */
enum pgoutput_kind
pgoutput_catalog_builtin_kind(uint32_t oid)
{
	switch (oid)
	{
		case 16:				/* bool */
			return PGOUTPUT_KIND_BOOL;
		case 20:				/* int8 */
		case 21:				/* int2 */
		case 23:				/* int4 */
		case 26:				/* oid */
			return PGOUTPUT_KIND_INT;
		case 700:				/* float4 */
		case 701:				/* float8 */
			return PGOUTPUT_KIND_FLOAT;
		case 1700:
			return PGOUTPUT_KIND_NUMERIC;
		case 114:
			return PGOUTPUT_KIND_JSON;
		case 3802:
			return PGOUTPUT_KIND_JSONB;
		case 17:
			return PGOUTPUT_KIND_BYTEA;
		case 1082:
			return PGOUTPUT_KIND_DATE;
		case 1083:
			return PGOUTPUT_KIND_TIME;
		case 1266:
			return PGOUTPUT_KIND_TIMETZ;
		case 1114:
			return PGOUTPUT_KIND_TIMESTAMP;
		case 1184:
			return PGOUTPUT_KIND_TIMESTAMPTZ;
		case 1186:
			return PGOUTPUT_KIND_INTERVAL;
		default:
			return PGOUTPUT_KIND_STRING;
	}
}

static char *
catalog_strdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

struct pgoutput_type *
pgoutput_catalog_put_type(struct pgoutput_catalog *cat, uint32_t oid,
						  enum pgoutput_kind kind, const char *name)
{
	struct pgoutput_type *t = calloc(1, sizeof(*t));
	void	   *old;

	if (t == NULL)
		return NULL;
	t->oid = oid;
	t->kind = kind;
	t->name = catalog_strdup(name != NULL ? name : "?");
	if (t->name == NULL || !oidmap_put(&cat->types, oid, t, &old))
	{
		catalog_type_free(t);
		return NULL;
	}
	catalog_type_free(old);
	return t;
}

bool
pgoutput_catalog_type_add_att(struct pgoutput_type *t, const char *name,
							  uint32_t typid)
{
	char	  **names = realloc(t->attnames, (t->natts + 1) * sizeof(char *));
	uint32_t   *types;

	if (names == NULL)
		return false;
	t->attnames = names;
	types = realloc(t->atttypes, (t->natts + 1) * sizeof(uint32_t));
	if (types == NULL)
		return false;
	t->atttypes = types;
	if ((names[t->natts] = strdup(name)) == NULL)
		return false;
	types[t->natts++] = typid;
	return true;
}

bool
pgoutput_catalog_set_pk(struct pgoutput_relation *rel, int n,
						const char *const *names)
{
	char	  **pk = n > 0 ? calloc(n, sizeof(char *)) : NULL;

	if (n > 0 && pk == NULL)
		return false;
	for (int i = 0; i < n; i++)
	{
		if ((pk[i] = strdup(names[i])) == NULL)
		{
			while (i-- > 0)
				free(pk[i]);
			free(pk);
			return false;
		}
	}
	for (int i = 0; i < rel->npk; i++)
		free(rel->pk[i]);
	free(rel->pk);
	rel->pk = pk;
	rel->npk = n;
	return true;
}

bool
pgoutput_catalog_set_names(struct pgoutput_relation *rel, const char *nspname,
						   const char *relname, char replident)
{
	char	   *n = strdup(nspname);
	char	   *r = strdup(relname);

	if (n == NULL || r == NULL)
	{
		free(n);
		free(r);
		return false;
	}
	free(rel->nspname);
	free(rel->relname);
	rel->nspname = n;
	rel->relname = r;
	rel->replident = replident;
	return true;
}

bool
pgoutput_catalog_add_column(struct pgoutput_relation *rel, const char *name,
							uint32_t typid, int32_t typmod, bool key,
							const char *type_name)
{
	struct pgoutput_column *cols;
	struct pgoutput_column *c;

	cols = realloc(rel->cols, (rel->ncols + 1) * sizeof(*cols));
	if (cols == NULL)
		return false;
	rel->cols = cols;
	c = &cols[rel->ncols];
	memset(c, 0, sizeof(*c));
	c->name = strdup(name);
	c->type_name = catalog_strdup(type_name);
	if (c->name == NULL || (type_name != NULL && c->type_name == NULL))
	{
		free(c->name);
		free(c->type_name);
		return false;
	}
	c->typid = typid;
	c->typmod = typmod;
	c->key = key;
	rel->ncols++;
	return true;
}

bool
pgoutput_catalog_set_type_name(struct pgoutput_relation *rel, int col,
							   const char *type_name)
{
	char	   *s;

	if (col < 0 || col >= rel->ncols || (s = strdup(type_name)) == NULL)
		return false;
	free(rel->cols[col].type_name);
	rel->cols[col].type_name = s;
	return true;
}

/*
 * The identity word of the plugin (its relinfo_identity): DEFAULT and
 * USING INDEX log no old key when there is no key to log (no primary key,
 * the index dropped), which the Relation message shows as no column
 * flagged.
 */
static const char *
catalog_identity(const struct pgoutput_relation *rel)
{
	bool		any_key = false;

	for (int i = 0; i < rel->ncols; i++)
		any_key |= rel->cols[i].key;
	switch (rel->replident)
	{
		case 'f':
			return "full";
		case 'd':
			return any_key ? "default" : "nothing";
		case 'i':
			return any_key ? "index" : "nothing";
		default:
			return "nothing";
	}
}

/*
 * With REPLICA IDENTITY DEFAULT the flagged columns are the primary key's
 * (the plugin's pk), as they were when the change was made: no catalogue
 * needed, nothing to go stale.
 */
static bool
catalog_default_pk(struct pgoutput_relation *rel)
{
	const char **names;
	int			n = 0;
	bool		ok;

	if (rel->replident != 'd')
		return true;
	names = calloc(rel->ncols + 1, sizeof(char *));
	if (names == NULL)
		return false;
	for (int i = 0; i < rel->ncols; i++)
		if (rel->cols[i].key)
			names[n++] = rel->cols[i].name;
	ok = pgoutput_catalog_set_pk(rel, n, names);
	free(names);
	return ok;
}

static bool
catalog_load(struct pgoutput_catalog *cat, struct pgoutput_relation *rel,
			 char *err, size_t errlen)
{
	if (cat->loader == NULL || cat->loader->relation == NULL)
	{
		snprintf(err, errlen, "no catalogue to look relation \"%s.%s\" up in",
				 rel->nspname, rel->relname);
		return false;
	}
	if (!cat->loader->relation(cat->arg, cat, rel, err, errlen))
		return false;
	for (int i = 0; i < rel->ncols; i++)
	{
		if (rel->cols[i].type_name == NULL)
		{
			snprintf(err, errlen, "relation \"%s.%s\": no type name for column \"%s\"",
					 rel->nspname, rel->relname, rel->cols[i].name);
			return false;
		}
	}
	if (!catalog_default_pk(rel))
	{
		snprintf(err, errlen, "out of memory");
		return false;
	}
	rel->identity = catalog_identity(rel);
	return true;
}

bool
pgoutput_catalog_relation_msg(struct pgoutput_catalog *cat,
							  const struct pgoutput_relation_msg *m,
							  char *err, size_t errlen)
{
	struct pgoutput_relation *rel = calloc(1, sizeof(*rel));
	void	   *old;

	if (rel == NULL)
		goto oom;
	rel->oid = m->relid;
	if (!pgoutput_catalog_set_names(rel, m->nspname, m->relname, m->replident))
		goto oom;
	for (int i = 0; i < m->natts; i++)
		if (!pgoutput_catalog_add_column(rel, m->atts[i].name, m->atts[i].typid,
										 m->atts[i].typmod,
										 (m->atts[i].flags & PGOUTPUT_ATT_KEY) != 0,
										 NULL))
			goto oom;
	if (!catalog_load(cat, rel, err, errlen))
	{
		catalog_relation_free(rel);
		return false;
	}
	if (!oidmap_put(&cat->rels, rel->oid, rel, &old))
		goto oom;
	catalog_relation_free(old);
	return true;

oom:
	catalog_relation_free(rel);
	snprintf(err, errlen, "out of memory");
	return false;
}

void
pgoutput_catalog_type_msg(struct pgoutput_catalog *cat,
						  const struct pgoutput_type_msg *m)
{
	catalog_type_free(oidmap_remove(&cat->types, m->typid));
}

bool
pgoutput_catalog_reload(struct pgoutput_catalog *cat, uint32_t relid,
						char *err, size_t errlen)
{
	struct pgoutput_relation *rel = oidmap_get(&cat->rels, relid);

	if (rel == NULL)
		rel = oidmap_get(&cat->tables, relid);
	if (rel == NULL)
	{
		snprintf(err, errlen, "relation OID %u is not known", relid);
		return false;
	}
	if (oidmap_get(&cat->tables, relid) == rel)
	{
		/* a load table: read it again whole */
		catalog_relation_free(oidmap_remove(&cat->tables, relid));
		return pgoutput_catalog_table(cat, relid, err, errlen) != NULL;
	}
	return catalog_load(cat, rel, err, errlen);
}

const struct pgoutput_relation *
pgoutput_catalog_relation(const struct pgoutput_catalog *cat, uint32_t relid)
{
	return oidmap_get(&cat->rels, relid);
}

const struct pgoutput_relation *
pgoutput_catalog_table(struct pgoutput_catalog *cat, uint32_t relid,
					   char *err, size_t errlen)
{
	struct pgoutput_relation *rel = oidmap_get(&cat->tables, relid);
	void	   *old;

	if (rel != NULL)
		return rel;
	if (cat->loader == NULL || cat->loader->table == NULL)
	{
		snprintf(err, errlen, "no catalogue to look table OID %u up in",
				 relid);
		return NULL;
	}
	if ((rel = calloc(1, sizeof(*rel))) == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rel->oid = relid;
	if (!cat->loader->table(cat->arg, cat, rel, err, errlen))
	{
		catalog_relation_free(rel);
		return NULL;
	}
	if (rel->nspname == NULL || rel->relname == NULL)
	{
		snprintf(err, errlen, "table OID %u: the catalogue gave no name",
				 relid);
		catalog_relation_free(rel);
		return NULL;
	}
	if (!catalog_default_pk(rel) || !oidmap_put(&cat->tables, relid, rel, &old))
	{
		catalog_relation_free(rel);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rel->identity = catalog_identity(rel);
	return rel;
}

const struct pgoutput_type *
pgoutput_catalog_type(const struct pgoutput_catalog *cat, uint32_t typid)
{
	return oidmap_get(&cat->types, typid);
}
