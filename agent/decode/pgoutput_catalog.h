/*
 * pgoutput_catalog.h
 *		What the pgoutput decoder needs to know about relations and types,
 *		cached by OID.
 *
 * pgoutput sends, per relation, its name, replica identity and columns
 * (name, type OID, type modifier, replica-identity flag), and for a column
 * of a non-built-in type the type's name; values come as the text of the
 * type's output function.  Rendering them as the walcast plugin does needs
 * more: how each type's text is structured (base, domain, array, composite,
 * range, multirange, enum...), the type name with modifiers as format_type
 * prints it (the "types" field), and the primary key ("pk").  That comes
 * from the catalogue, over an ordinary connection (the replication
 * connection runs no queries while streaming), through a loader: one
 * query per relation, for the relation and every type reachable from its
 * columns (pgoutput_catalog_pq.c).  Unit tests give a loader of their own.
 *
 * Entries are refreshed when the stream re-sends a Relation message (after
 * DDL, or in a new session) and forgotten when a Type message names their
 * type.  The catalogue answers for *now*, the stream for when the change
 * was made: docs/pgoutput.md lists what that can change.
 */
#ifndef WALCAST_PGOUTPUT_CATALOG_H
#define WALCAST_PGOUTPUT_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pgoutput_proto.h"

/*
 * How the text of a type's values is turned into JSON (docs/format.md
 * "Values"; pgoutput_value.c).  A domain has the kind of its base type.
 */
enum pgoutput_kind
{
	PGOUTPUT_KIND_STRING,		/* the text as a JSON string (text, enum,
								 * uuid, inet, money, geometric, ...) */
	PGOUTPUT_KIND_BOOL,
	PGOUTPUT_KIND_INT,			/* smallint, integer, bigint, oid */
	PGOUTPUT_KIND_FLOAT,		/* real, double precision */
	PGOUTPUT_KIND_NUMERIC,
	PGOUTPUT_KIND_JSON,
	PGOUTPUT_KIND_JSONB,
	PGOUTPUT_KIND_BYTEA,
	PGOUTPUT_KIND_DATE,
	PGOUTPUT_KIND_TIME,
	PGOUTPUT_KIND_TIMETZ,
	PGOUTPUT_KIND_TIMESTAMP,
	PGOUTPUT_KIND_TIMESTAMPTZ,
	PGOUTPUT_KIND_INTERVAL,
	PGOUTPUT_KIND_ARRAY,		/* elem, delim */
	PGOUTPUT_KIND_VECTOR,		/* int2vector, oidvector: "1 2 3"; elem */
	PGOUTPUT_KIND_COMPOSITE,	/* natts, attnames, atttypes */
	PGOUTPUT_KIND_RANGE,		/* elem: the subtype */
	PGOUTPUT_KIND_MULTIRANGE	/* elem: the range type */
};

struct pgoutput_type
{
	uint32_t	oid;
	enum pgoutput_kind kind;
	char	   *name;			/* format_type(oid, NULL), for messages */
	uint32_t	elem;
	char		delim;			/* ARRAY: the element type's typdelim */
	int			natts;
	char	  **attnames;		/* COMPOSITE: live attributes in order */
	uint32_t   *atttypes;
};

struct pgoutput_column
{
	char	   *name;
	uint32_t	typid;
	int32_t		typmod;
	bool		key;			/* in the replica identity (FULL: every one) */
	char	   *type_name;		/* format_type(typid, typmod) */
};

struct pgoutput_relation
{
	uint32_t	oid;
	char	   *nspname;
	char	   *relname;
	char		replident;		/* 'd', 'n', 'f', 'i' */
	/* "default", "index", "full" or "nothing", as the plugin says it */
	const char *identity;
	int			ncols;
	struct pgoutput_column *cols;
	int			npk;
	char	  **pk;				/* the "pk" field, in column order */
};

struct pgoutput_catalog;

/*
 * Fills what the stream does not carry.  relation(): rel holds what the
 * Relation message said (names, identity, columns); set every column's
 * type_name, the pk (pgoutput_catalog_set_pk) and every type reachable
 * from the columns (pgoutput_catalog_put_type).  table(): rel has only
 * its oid: fill everything (the initial load reads tables, not the
 * stream), with every column, generated ones included, in column order.
 * Both return false with a one-line reason in err.
 */
struct pgoutput_catalog_loader
{
	bool		(*relation) (void *arg, struct pgoutput_catalog *cat,
							 struct pgoutput_relation *rel,
							 char *err, size_t errlen);
	bool		(*table) (void *arg, struct pgoutput_catalog *cat,
						  struct pgoutput_relation *rel,
						  char *err, size_t errlen);
};

extern struct pgoutput_catalog *pgoutput_catalog_new(const struct pgoutput_catalog_loader *loader,
													 void *arg);
extern void pgoutput_catalog_free(struct pgoutput_catalog *cat);

/* A new replication session: every relation will be sent again. */
extern void pgoutput_catalog_reset(struct pgoutput_catalog *cat);

/* A Relation message: (re)build the relation's entry, loading the rest. */
extern bool pgoutput_catalog_relation_msg(struct pgoutput_catalog *cat,
										  const struct pgoutput_relation_msg *m,
										  char *err, size_t errlen);

/* A Type message: forget the type (its relation's message follows). */
extern void pgoutput_catalog_type_msg(struct pgoutput_catalog *cat,
									  const struct pgoutput_type_msg *m);

/*
 * Load the types of a relation again: a value did not have the shape the
 * cached type says (a composite type altered without its table's Relation
 * message being re-sent).
 */
extern bool pgoutput_catalog_reload(struct pgoutput_catalog *cat,
									uint32_t relid, char *err,
									size_t errlen);

/* The relation of the stream's Relation message relid, or NULL. */
extern const struct pgoutput_relation *pgoutput_catalog_relation(const struct pgoutput_catalog *cat,
																 uint32_t relid);

/* A table read by the initial load, loaded on first use; NULL on error. */
extern const struct pgoutput_relation *pgoutput_catalog_table(struct pgoutput_catalog *cat,
															  uint32_t relid,
															  char *err,
															  size_t errlen);

extern const struct pgoutput_type *pgoutput_catalog_type(const struct pgoutput_catalog *cat,
														 uint32_t typid);

/* For loaders (and tests).  All copy their strings; false: out of memory. */
extern struct pgoutput_type *pgoutput_catalog_put_type(struct pgoutput_catalog *cat,
													   uint32_t oid,
													   enum pgoutput_kind kind,
													   const char *name);
extern bool pgoutput_catalog_type_add_att(struct pgoutput_type *t,
										  const char *name, uint32_t typid);
extern bool pgoutput_catalog_set_pk(struct pgoutput_relation *rel, int n,
									const char *const *names);
extern bool pgoutput_catalog_set_names(struct pgoutput_relation *rel,
									   const char *nspname,
									   const char *relname, char replident);
extern bool pgoutput_catalog_add_column(struct pgoutput_relation *rel,
										const char *name, uint32_t typid,
										int32_t typmod, bool key,
										const char *type_name);
extern bool pgoutput_catalog_set_type_name(struct pgoutput_relation *rel,
										   int col, const char *type_name);

/* The kind of a built-in scalar type by OID, or STRING (see the .c). */
extern enum pgoutput_kind pgoutput_catalog_builtin_kind(uint32_t oid);

#endif							/* WALCAST_PGOUTPUT_CATALOG_H */
