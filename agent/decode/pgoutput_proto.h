/*
 * pgoutput_proto.h
 *		A bounds-checked parser of the messages of PostgreSQL's logical
 *		replication protocol, as the built-in pgoutput plugin writes them
 *		(protocol versions 1 to 4; PostgreSQL's "Logical Replication Message
 *		Formats", written by src/backend/replication/logical/proto.c).
 *
 * One call parses one message, the payload of one XLogData.  Nothing is
 * copied: strings and column values point into the message, which the
 * caller keeps until it is done with the result.  Strings are the
 * protocol's NUL-terminated ones, checked to end inside the message.
 * Every length and count is checked against the bytes that remain before
 * anything is read or allocated, and a message must end exactly where its
 * last field does: truncated, hostile or unknown input gives an error,
 * never an over-read (tests fuzz it).
 *
 * The agent asks pgoutput neither for streaming of in-progress
 * transactions nor for two-phase decoding nor for binary values, so their
 * messages (S, E, c, A, b, P, K, r, p) and binary column values ('b') are
 * refused with an error saying so.  Without streaming, no message carries
 * a transaction id of its own (only Begin does).
 */
#ifndef WALCAST_PGOUTPUT_PROTO_H
#define WALCAST_PGOUTPUT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Column flag of a Relation message: the column is in the replica identity. */
#define PGOUTPUT_ATT_KEY 1

/* One column value of a tuple: 'n' null, 'u' unchanged TOAST, 't' text. */
struct pgoutput_datum
{
	char		status;
	uint32_t	len;			/* 't': bytes at data (no terminating NUL) */
	const char *data;
};

struct pgoutput_tuple
{
	int			ncols;
	const struct pgoutput_datum *cols;	/* in the parser's scratch space */
};

/* One column of a Relation message. */
struct pgoutput_attr
{
	uint8_t		flags;			/* PGOUTPUT_ATT_KEY */
	const char *name;
	uint32_t	typid;
	int32_t		typmod;
};

struct pgoutput_begin
{
	uint64_t	final_lsn;		/* the commit record's LSN */
	int64_t		commit_time;	/* microseconds since 2000-01-01 UTC */
	uint32_t	xid;
};

struct pgoutput_commit
{
	uint64_t	commit_lsn;
	uint64_t	end_lsn;
	int64_t		commit_time;
};

struct pgoutput_origin
{
	uint64_t	lsn;
	const char *name;
};

struct pgoutput_relation_msg
{
	uint32_t	relid;
	const char *nspname;		/* "pg_catalog" when sent empty */
	const char *relname;
	char		replident;		/* 'd', 'n', 'f' or 'i' */
	int			natts;
	const struct pgoutput_attr *atts;
};

struct pgoutput_type_msg
{
	uint32_t	typid;
	const char *nspname;
	const char *typname;
};

/* Insert (new), Update (old when old_kind is 'K' or 'O', new), Delete (old). */
struct pgoutput_change
{
	uint32_t	relid;
	char		old_kind;		/* 0: none, 'K': key columns, 'O': old row */
	struct pgoutput_tuple old;
	struct pgoutput_tuple new;
};

struct pgoutput_truncate
{
	bool		cascade;
	bool		restart_identity;
	int			nrelids;
	const uint32_t *relids;		/* in the parser's scratch space */
};

struct pgoutput_message
{
	bool		transactional;
	uint64_t	lsn;
	const char *prefix;
	uint32_t	content_len;
	const char *content;
};

struct pgoutput_msg
{
	char		kind;			/* 'B', 'C', 'O', 'R', 'Y', 'I', 'U', 'D',
								 * 'T' or 'M' */
	union
	{
		struct pgoutput_begin begin;
		struct pgoutput_commit commit;
		struct pgoutput_origin origin;
		struct pgoutput_relation_msg relation;
		struct pgoutput_type_msg type;
		struct pgoutput_change change;
		struct pgoutput_truncate truncate;
		struct pgoutput_message message;
	}			u;
};

/*
 * The parser's scratch space (column arrays, relation ids), reused from
 * message to message; a result points into it until the next parse.
 * Zero-initialise, free with pgoutput_proto_free.
 */
struct pgoutput_proto
{
	struct pgoutput_datum *datums;
	size_t		datums_cap;
	struct pgoutput_attr *attrs;
	size_t		attrs_cap;
	uint32_t   *relids;
	size_t		relids_cap;
};

/*
 * Parse one message of len bytes.  On failure returns false with a
 * one-line reason in err (the message kind and what is wrong).
 */
extern bool pgoutput_proto_parse(struct pgoutput_proto *p, const char *data,
								 size_t len, struct pgoutput_msg *msg,
								 char *err, size_t errlen);
extern void pgoutput_proto_free(struct pgoutput_proto *p);

#endif							/* WALCAST_PGOUTPUT_PROTO_H */
