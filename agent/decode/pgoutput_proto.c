/*
 * pgoutput_proto.c
 *		Parser of pgoutput's logical replication messages (see
 *		pgoutput_proto.h).  Field order and sizes follow the logicalrep_write_*
 *		functions of PostgreSQL's proto.c; integers are big-endian, strings
 *		NUL-terminated, a Relation or Type message's empty namespace means
 *		pg_catalog (logicalrep_write_namespace).
 */
#include "pgoutput_proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A read position in one message; every getter checks what remains. */
struct proto_cursor
{
	const unsigned char *pos;
	const unsigned char *end;
	char		kind;
	char	   *err;
	size_t		errlen;
};

static bool
proto_fail(struct proto_cursor *c, const char *fmt,...)
{
	char		reason[160];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (c->kind >= 0x20 && c->kind < 0x7f)
		snprintf(c->err, c->errlen, "pgoutput message '%c': %s", c->kind,
				 reason);
	else
		snprintf(c->err, c->errlen, "pgoutput message 0x%02x: %s",
				 (unsigned char) c->kind, reason);
	return false;
}

static size_t
proto_left(const struct proto_cursor *c)
{
	return (size_t) (c->end - c->pos);
}

static bool
proto_need(struct proto_cursor *c, size_t n, const char *what)
{
	if (proto_left(c) < n)
		return proto_fail(c, "truncated: %zu bytes left for %s, %zu needed",
						  proto_left(c), what, n);
	return true;
}

static bool
proto_u8(struct proto_cursor *c, uint8_t *v, const char *what)
{
	if (!proto_need(c, 1, what))
		return false;
	*v = *c->pos++;
	return true;
}

static bool
proto_u16(struct proto_cursor *c, uint16_t *v, const char *what)
{
	if (!proto_need(c, 2, what))
		return false;
	*v = (uint16_t) ((c->pos[0] << 8) | c->pos[1]);
	c->pos += 2;
	return true;
}

static bool
proto_u32(struct proto_cursor *c, uint32_t *v, const char *what)
{
	if (!proto_need(c, 4, what))
		return false;
	*v = ((uint32_t) c->pos[0] << 24) | ((uint32_t) c->pos[1] << 16) |
		((uint32_t) c->pos[2] << 8) | (uint32_t) c->pos[3];
	c->pos += 4;
	return true;
}

/*
 * An OID that names something: never 0 (InvalidOid), which PostgreSQL
 * does not send there, and which the catalogue's maps use for an empty
 * slot (a relation or type filed under 0 could never be found or freed).
 */
static bool
proto_oid(struct proto_cursor *c, uint32_t *v, const char *what)
{
	if (!proto_u32(c, v, what))
		return false;
	if (*v == 0)
		return proto_fail(c, "%s is 0 (InvalidOid)", what);
	return true;
}

static bool
proto_u64(struct proto_cursor *c, uint64_t *v, const char *what)
{
	uint32_t	hi;
	uint32_t	lo;

	if (!proto_need(c, 8, what))
		return false;
	(void) proto_u32(c, &hi, what);
	(void) proto_u32(c, &lo, what);
	*v = ((uint64_t) hi << 32) | lo;
	return true;
}

static bool
proto_i64(struct proto_cursor *c, int64_t *v, const char *what)
{
	uint64_t	u;

	if (!proto_u64(c, &u, what))
		return false;
	memcpy(v, &u, sizeof(*v));	/* two's complement, as sent */
	return true;
}

/* A NUL-terminated string that must end inside the message. */
static bool
proto_string(struct proto_cursor *c, const char **s, const char *what)
{
	const unsigned char *nul = memchr(c->pos, '\0', proto_left(c));

	if (nul == NULL)
		return proto_fail(c, "truncated: %s has no terminating NUL", what);
	*s = (const char *) c->pos;
	c->pos = nul + 1;
	return true;
}

static bool
proto_done(struct proto_cursor *c)
{
	if (c->pos != c->end)
		return proto_fail(c, "%zu unexpected bytes after the last field",
						  proto_left(c));
	return true;
}

/*
 * Make room for n elements of size elsize in *buf.  n was checked against
 * the bytes left, so a hostile count cannot ask for more than the message
 * could describe.
 */
static bool
proto_reserve(struct proto_cursor *c, void **buf, size_t *cap, size_t n,
			  size_t elsize)
{
	void	   *grown;
	size_t		want;

	if (n <= *cap)
		return true;
	want = *cap ? *cap : 16;
	while (want < n)
		want *= 2;
	grown = realloc(*buf, want * elsize);
	if (grown == NULL)
		return proto_fail(c, "out of memory for %zu entries", n);
	*buf = grown;
	*cap = want;
	return true;
}

/*
 * TupleData: Int16 column count, then per column a status byte and, for
 * 't', Int32 length and the text.  Every column needs at least its status
 * byte, which bounds the count before the scratch array grows.
 */
static bool
proto_tuple(struct proto_cursor *c, struct pgoutput_proto *p, size_t first,
			int *ncols_out)
{
	uint16_t	ncols;

	if (!proto_u16(c, &ncols, "the column count"))
		return false;
	if (ncols > proto_left(c))
		return proto_fail(c, "%u columns announced, %zu bytes left", ncols,
						  proto_left(c));
	if (!proto_reserve(c, (void **) &p->datums, &p->datums_cap,
					   first + ncols, sizeof(struct pgoutput_datum)))
		return false;
	for (uint16_t i = 0; i < ncols; i++)
	{
		struct pgoutput_datum *d = &p->datums[first + i];
		uint8_t		status;

		if (!proto_u8(c, &status, "a column's status"))
			return false;
		d->status = (char) status;
		d->len = 0;
		d->data = NULL;
		switch (status)
		{
			case 'n':
			case 'u':
				break;
			case 't':
				if (!proto_u32(c, &d->len, "a column's length"))
					return false;
				if (d->len > proto_left(c))
					return proto_fail(c, "column %u: %u bytes announced, %zu left",
									  i + 1, d->len, proto_left(c));
				d->data = (const char *) c->pos;
				c->pos += d->len;
				break;
			case 'b':
				return proto_fail(c, "column %u is in binary format, which the agent never asks for",
								  i + 1);
			default:
				return proto_fail(c, "column %u: unknown status byte 0x%02x",
								  i + 1, status);
		}
	}
	*ncols_out = ncols;
	return true;
}

static bool
proto_begin(struct proto_cursor *c, struct pgoutput_begin *b)
{
	return proto_u64(c, &b->final_lsn, "the final LSN") &&
		proto_i64(c, &b->commit_time, "the commit time") &&
		proto_u32(c, &b->xid, "the xid");
}

static bool
proto_commit(struct proto_cursor *c, struct pgoutput_commit *m)
{
	uint8_t		flags;

	if (!proto_u8(c, &flags, "the flags"))
		return false;
	/* none are defined: a new one could change what the message means */
	if (flags != 0)
		return proto_fail(c, "unknown flags 0x%02x", flags);
	return proto_u64(c, &m->commit_lsn, "the commit LSN") &&
		proto_u64(c, &m->end_lsn, "the end LSN") &&
		proto_i64(c, &m->commit_time, "the commit time");
}

static bool
proto_namespace(struct proto_cursor *c, const char **nsp)
{
	if (!proto_string(c, nsp, "the namespace"))
		return false;
	if ((*nsp)[0] == '\0')
		*nsp = "pg_catalog";
	return true;
}

static bool
proto_relation(struct proto_cursor *c, struct pgoutput_proto *p,
			   struct pgoutput_relation_msg *r)
{
	uint8_t		replident;
	uint16_t	natts;

	if (!proto_oid(c, &r->relid, "the relation OID") ||
		!proto_namespace(c, &r->nspname) ||
		!proto_string(c, &r->relname, "the relation name") ||
		!proto_u8(c, &replident, "the replica identity") ||
		!proto_u16(c, &natts, "the column count"))
		return false;
	if (replident != 'd' && replident != 'n' && replident != 'f' &&
		replident != 'i')
		return proto_fail(c, "unknown replica identity 0x%02x", replident);
	r->replident = (char) replident;
	/* flags, a NUL, type OID and typmod: 10 bytes per column at least */
	if ((size_t) natts * 10 > proto_left(c))
		return proto_fail(c, "%u columns announced, %zu bytes left", natts,
						  proto_left(c));
	if (!proto_reserve(c, (void **) &p->attrs, &p->attrs_cap, natts,
					   sizeof(struct pgoutput_attr)))
		return false;
	for (uint16_t i = 0; i < natts; i++)
	{
		struct pgoutput_attr *a = &p->attrs[i];
		uint32_t	typmod;

		if (!proto_u8(c, &a->flags, "a column's flags") ||
			!proto_string(c, &a->name, "a column name") ||
			!proto_oid(c, &a->typid, "a column's type") ||
			!proto_u32(c, &typmod, "a column's type modifier"))
			return false;
		memcpy(&a->typmod, &typmod, sizeof(a->typmod));
		if (a->name[0] == '\0')
			return proto_fail(c, "column %u has an empty name", i + 1);
	}
	r->natts = natts;
	r->atts = p->attrs;
	return true;
}

static bool
proto_type(struct proto_cursor *c, struct pgoutput_type_msg *t)
{
	return proto_oid(c, &t->typid, "the type OID") &&
		proto_namespace(c, &t->nspname) &&
		proto_string(c, &t->typname, "the type name");
}

/* Insert, Update and Delete: relation OID, then tagged tuples. */
static bool
proto_change(struct proto_cursor *c, struct pgoutput_proto *p,
			 struct pgoutput_change *m)
{
	uint8_t		tag;
	size_t		used = 0;
	bool		has_old = false;

	m->old_kind = 0;
	m->old.ncols = 0;
	m->new.ncols = 0;
	m->old.cols = NULL;
	m->new.cols = NULL;
	if (!proto_oid(c, &m->relid, "the relation OID") ||
		!proto_u8(c, &tag, "the tuple tag"))
		return false;
	if (c->kind != 'I' && (tag == 'K' || tag == 'O'))
	{
		m->old_kind = (char) tag;
		if (!proto_tuple(c, p, 0, &m->old.ncols))
			return false;
		used = (size_t) m->old.ncols;
		has_old = true;
		if (c->kind == 'U' && !proto_u8(c, &tag, "the new tuple's tag"))
			return false;
	}
	if (c->kind == 'D')
	{
		if (!has_old)
			return proto_fail(c, "expected an old tuple ('K' or 'O'), got 0x%02x",
							  tag);
	}
	else
	{
		if (tag != 'N')
			return proto_fail(c, "expected a new tuple ('N'), got 0x%02x",
							  tag);
		if (!proto_tuple(c, p, used, &m->new.ncols))
			return false;
	}
	/* only now is the scratch array final: the old tuple comes first */
	m->old.cols = p->datums;
	m->new.cols = p->datums != NULL ? p->datums + used : NULL;
	return true;
}

static bool
proto_truncate(struct proto_cursor *c, struct pgoutput_proto *p,
			   struct pgoutput_truncate *t)
{
	uint32_t	nrelids;
	uint8_t		flags;

	if (!proto_u32(c, &nrelids, "the relation count") ||
		!proto_u8(c, &flags, "the flags"))
		return false;
	if (flags & ~3)
		return proto_fail(c, "unknown flags 0x%02x", flags);
	if (nrelids == 0)
		return proto_fail(c, "no relation");
	if ((size_t) nrelids > proto_left(c) / 4)
		return proto_fail(c, "%u relations announced, %zu bytes left",
						  nrelids, proto_left(c));
	if (!proto_reserve(c, (void **) &p->relids, &p->relids_cap, nrelids,
					   sizeof(uint32_t)))
		return false;
	for (uint32_t i = 0; i < nrelids; i++)
		if (!proto_oid(c, &p->relids[i], "a relation OID"))
			return false;
	t->cascade = (flags & 1) != 0;
	t->restart_identity = (flags & 2) != 0;
	t->nrelids = (int) nrelids;
	t->relids = p->relids;
	return true;
}

static bool
proto_message(struct proto_cursor *c, struct pgoutput_message *m)
{
	uint8_t		flags;

	if (!proto_u8(c, &flags, "the flags"))
		return false;
	if (flags & ~1)
		return proto_fail(c, "unknown flags 0x%02x", flags);
	m->transactional = (flags & 1) != 0;
	if (!proto_u64(c, &m->lsn, "the LSN") ||
		!proto_string(c, &m->prefix, "the prefix") ||
		!proto_u32(c, &m->content_len, "the content length"))
		return false;
	if (m->content_len > proto_left(c))
		return proto_fail(c, "content of %u bytes announced, %zu left",
						  m->content_len, proto_left(c));
	m->content = (const char *) c->pos;
	c->pos += m->content_len;
	return true;
}

bool
pgoutput_proto_parse(struct pgoutput_proto *p, const char *data, size_t len,
					 struct pgoutput_msg *msg, char *err, size_t errlen)
{
	struct proto_cursor c;
	bool		ok;

	c.pos = (const unsigned char *) data;
	c.end = c.pos + len;
	c.kind = 0;
	c.err = err;
	c.errlen = errlen;
	if (len == 0 || data == NULL)
	{
		snprintf(err, errlen, "pgoutput message: empty");
		return false;
	}
	c.kind = (char) *c.pos++;
	msg->kind = c.kind;
	switch (c.kind)
	{
		case 'B':
			ok = proto_begin(&c, &msg->u.begin);
			break;
		case 'C':
			ok = proto_commit(&c, &msg->u.commit);
			break;
		case 'O':
			ok = proto_u64(&c, &msg->u.origin.lsn, "the origin LSN") &&
				proto_string(&c, &msg->u.origin.name, "the origin name");
			break;
		case 'R':
			ok = proto_relation(&c, p, &msg->u.relation);
			break;
		case 'Y':
			ok = proto_type(&c, &msg->u.type);
			break;
		case 'I':
		case 'U':
		case 'D':
			ok = proto_change(&c, p, &msg->u.change);
			break;
		case 'T':
			ok = proto_truncate(&c, p, &msg->u.truncate);
			break;
		case 'M':
			ok = proto_message(&c, &msg->u.message);
			break;
		case 'S':
		case 'E':
		case 'c':
		case 'A':
			return proto_fail(&c, "streaming of in-progress transactions, which the agent never asks for");
		case 'b':
		case 'P':
		case 'K':
		case 'r':
		case 'p':
			return proto_fail(&c, "two-phase decoding, which the agent never asks for");
		default:
			return proto_fail(&c, "unknown message type");
	}
	return ok && proto_done(&c);
}

void
pgoutput_proto_free(struct pgoutput_proto *p)
{
	free(p->datums);
	free(p->attrs);
	free(p->relids);
	memset(p, 0, sizeof(*p));
}
