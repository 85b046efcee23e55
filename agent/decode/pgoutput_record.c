/*
 * pgoutput_record.c
 *		pgoutput messages -> walcast records (see pgoutput_record.h).
 *
 * What the walcast plugin does, and how it is matched here:
 *	- B is deferred to a transaction's first record (txn.c's txn_open);
 *	  a transaction that writes nothing writes no B and no C.  pgoutput
 *	  before PostgreSQL 15 sends Begin/Commit for empty transactions too;
 *	  they give nothing here either.
 *	- xid, commit_lsn and ts of the Begin message go into every record of
 *	  the transaction, seq counts them (B 0, records 1..n, C n+1).
 *	- A change's lsn is the message's dataStart; a logical message's is
 *	  its own LSN field (the same position).
 *	- Records are written in the plugin's field order (record.c): action,
 *	  xid, commit_lsn, ts, seq, lsn, schema, table, pk, types, type_oids,
 *	  identity, new, unchanged, old; T ends with cascade and
 *	  restart_identity; M with prefix, transactional, content.
 *	- Old rows and unchanged TOAST follow record.c's record_row: an old
 *	  key ('K') shows the identity's columns only; an unchanged column of
 *	  the new row takes the old row's value under REPLICA IDENTITY FULL,
 *	  else goes to "unchanged".
 * Each record is a yyjson document written to text; the writer escapes
 * strings (control characters as \u00XX with upper-case hex digits, the
 * plugin's are lower-case: the one byte-level difference, not a
 * difference of value).
 */
#include "pgoutput_record.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgoutput_proto.h"
#include "yyjson.h"

/* Microseconds from 2000-01-01 (PostgreSQL's epoch) per day. */
#define RECORD_USECS_PER_DAY INT64_C(86400000000)
/* Days from 1970-01-01 to 2000-01-01. */
#define RECORD_EPOCH_DAYS 10957

struct pgoutput_record
{
	struct pgoutput_record_opts opts;
	struct pgoutput_catalog *cat;
	struct pgoutput_proto proto;
	yyjson_alc *alc;			/* documents and written records */
	char	   *out;			/* the last record's text, from alc */

	/* the message being read */
	bool		have_msg;
	bool		parsed;
	uint64_t	data_start;
	const char *data;
	size_t		len;
	struct pgoutput_msg msg;
	int			step;			/* truncate: the next relation */

	/* the transaction between Begin and Commit */
	bool		in_txn;
	bool		begun;			/* its B was written */
	uint32_t	xid;
	uint64_t	seq;
	char		commit_lsn[24];
	char		ts[72];
};

void
pgoutput_record_default_opts(struct pgoutput_record_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->include_pk = true;
	opts->values.numeric_as_string = true;
	opts->values.bytea_hex = false;
}

struct pgoutput_record *
pgoutput_record_new(const struct pgoutput_record_opts *opts,
					struct pgoutput_catalog *cat)
{
	struct pgoutput_record *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->opts = *opts;
	d->cat = cat;
	if ((d->alc = yyjson_alc_dyn_new()) == NULL)
	{
		free(d);
		return NULL;
	}
	return d;
}

static void
record_drop_text(struct pgoutput_record *d)
{
	if (d->out != NULL)
		d->alc->free(d->alc->ctx, d->out);
	d->out = NULL;
}

void
pgoutput_record_free(struct pgoutput_record *d)
{
	if (d == NULL)
		return;
	record_drop_text(d);
	pgoutput_proto_free(&d->proto);
	yyjson_alc_dyn_free(d->alc);
	free(d);
}

void
pgoutput_record_reset(struct pgoutput_record *d)
{
	record_drop_text(d);
	d->have_msg = false;
	d->in_txn = false;
	d->begun = false;
	pgoutput_catalog_reset(d->cat);
}

bool
pgoutput_record_feed(struct pgoutput_record *d, uint64_t data_start_lsn,
					 const char *data, size_t len, char *err, size_t errlen)
{
	if (d->have_msg)
	{
		snprintf(err, errlen, "pgoutput decoder: a message was fed before the previous one's records were all read");
		return false;
	}
	d->have_msg = true;
	d->parsed = false;
	d->data_start = data_start_lsn;
	d->data = data;
	d->len = len;
	d->step = 0;
	return true;
}

/* "X/X", upper-case hex, as PostgreSQL prints an LSN (and the plugin). */
static void
record_lsn_text(char *buf, size_t size, uint64_t lsn)
{
	snprintf(buf, size, "%" PRIX32 "/%" PRIX32, (uint32_t) (lsn >> 32),
			 (uint32_t) lsn);
}

/*
 * A commit time (microseconds since 2000-01-01 UTC) as the plugin's
 * json_timestamp writes it: YYYY-MM-DDTHH:MM:SS, the fraction without
 * trailing zeros, Z.  The calendar is the proleptic Gregorian one, as
 * PostgreSQL's; days to a civil date by the usual era arithmetic.
 */
static void
record_ts_text(char *buf, size_t size, int64_t ts)
{
	int64_t		days = ts / RECORD_USECS_PER_DAY;
	int64_t		usecs = ts % RECORD_USECS_PER_DAY;
	int64_t		z;
	int64_t		era;
	int64_t		doe;
	int64_t		yoe;
	int64_t		y;
	int64_t		doy;
	int64_t		mp;
	int			month;
	int			day;
	int			frac;
	int64_t		secs;
	char		fbuf[8] = "";
	char		ybuf[24];

	if (usecs < 0)
	{
		usecs += RECORD_USECS_PER_DAY;
		days--;
	}
	z = days + RECORD_EPOCH_DAYS + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	day = (int) (doy - (153 * mp + 2) / 5 + 1);
	month = (int) (mp < 10 ? mp + 3 : mp - 9);
	if (month <= 2)
		y++;
	frac = (int) (usecs % 1000000);
	secs = usecs / 1000000;
	if (frac != 0)
	{
		int			width = 6;

		while (frac % 10 == 0)
		{
			frac /= 10;
			width--;
		}
		snprintf(fbuf, sizeof(fbuf), ".%0*d", width, frac);
	}
	if (y < 0)
		snprintf(ybuf, sizeof(ybuf), "-%04" PRId64, -y);
	else
		snprintf(ybuf, sizeof(ybuf), "%04" PRId64, y);
	snprintf(buf, size, "%s-%02d-%02dT%02d:%02d:%02d%sZ", ybuf, month, day,
			 (int) (secs / 3600), (int) (secs / 60 % 60), (int) (secs % 60),
			 fbuf);
}

/* Write doc as this call's record; the document is freed either way. */
static enum pgoutput_record_rc
record_write(struct pgoutput_record *d, yyjson_mut_doc *doc,
			 const char **text, size_t *len, char *err, size_t errlen)
{
	yyjson_write_err werr;
	size_t		n;
	char	   *s;

	/*
	 * ALLOW_INVALID_UNICODE: in a SQL_ASCII database the server does not
	 * convert text, and the plugin passes such bytes through as they are.
	 */
	s = yyjson_mut_write_opts(doc, YYJSON_WRITE_ALLOW_INVALID_UNICODE, d->alc,
							  &n, &werr);
	yyjson_mut_doc_free(doc);
	if (s == NULL)
	{
		snprintf(err, errlen, "could not write a record: %s", werr.msg);
		return PGOUTPUT_RECORD_ERROR;
	}
	record_drop_text(d);
	d->out = s;
	*text = s;
	*len = n;
	return PGOUTPUT_RECORD_READY;
}

static enum pgoutput_record_rc
record_oom(yyjson_mut_doc *doc, char *err, size_t errlen)
{
	yyjson_mut_doc_free(doc);
	snprintf(err, errlen, "out of memory");
	return PGOUTPUT_RECORD_ERROR;
}

/* A new document whose root object holds "action". */
static yyjson_mut_val *
record_open(struct pgoutput_record *d, yyjson_mut_doc **doc, char action)
{
	static const char actions[] = "BCIUDTML";
	const char *a = strchr(actions, action);
	yyjson_mut_val *root;

	if ((*doc = yyjson_mut_doc_new(d->alc)) == NULL)
		return NULL;
	if ((root = yyjson_mut_obj(*doc)) == NULL)
		return NULL;
	yyjson_mut_doc_set_root(*doc, root);
	/* a static one-letter string: no copy */
	if (!yyjson_mut_obj_add_strn(*doc, root, "action", a, 1))
		return NULL;
	return root;
}

/* xid, commit_lsn, ts and the next seq: every transactional record's. */
static bool
record_txn_fields(struct pgoutput_record *d, yyjson_mut_doc *doc,
				  yyjson_mut_val *root, uint64_t seq)
{
	return yyjson_mut_obj_add_uint(doc, root, "xid", d->xid) &&
		yyjson_mut_obj_add_str(doc, root, "commit_lsn", d->commit_lsn) &&
		yyjson_mut_obj_add_str(doc, root, "ts", d->ts) &&
		yyjson_mut_obj_add_uint(doc, root, "seq", seq);
}

static bool
record_add_lsn(yyjson_mut_doc *doc, yyjson_mut_val *root, const char *key,
			   uint64_t lsn)
{
	char		buf[24];

	record_lsn_text(buf, sizeof(buf), lsn);
	return yyjson_mut_obj_add_strcpy(doc, root, key, buf);
}

static enum pgoutput_record_rc
record_begin(struct pgoutput_record *d, const char **text, size_t *len,
			 char *err, size_t errlen)
{
	yyjson_mut_doc *doc;
	yyjson_mut_val *root = record_open(d, &doc, 'B');

	if (root == NULL || !record_txn_fields(d, doc, root, 0))
		return record_oom(doc, err, errlen);
	d->begun = true;
	d->seq = 0;
	return record_write(d, doc, text, len, err, errlen);
}

static enum pgoutput_record_rc
record_commit(struct pgoutput_record *d, const struct pgoutput_commit *m,
			  const char **text, size_t *len, char *err, size_t errlen)
{
	yyjson_mut_doc *doc;
	yyjson_mut_val *root = record_open(d, &doc, 'C');
	char		commit_lsn[24];

	record_lsn_text(commit_lsn, sizeof(commit_lsn), m->commit_lsn);
	if (root == NULL ||
		!yyjson_mut_obj_add_uint(doc, root, "xid", d->xid) ||
		!yyjson_mut_obj_add_strcpy(doc, root, "commit_lsn", commit_lsn) ||
		!yyjson_mut_obj_add_str(doc, root, "ts", d->ts) ||
		!yyjson_mut_obj_add_uint(doc, root, "seq", d->seq + 1) ||
		!record_add_lsn(doc, root, "end_lsn", m->end_lsn))
		return record_oom(doc, err, errlen);
	return record_write(d, doc, text, len, err, errlen);
}

/* schema, table, and pk, types, type_oids as the options ask. */
static bool
record_rel_head(struct pgoutput_record *d, yyjson_mut_doc *doc,
				yyjson_mut_val *root, const struct pgoutput_relation *rel)
{
	if (!yyjson_mut_obj_add_str(doc, root, "schema", rel->nspname) ||
		!yyjson_mut_obj_add_str(doc, root, "table", rel->relname))
		return false;
	if (d->opts.include_pk)
	{
		yyjson_mut_val *pk = yyjson_mut_obj_add_arr(doc, root, "pk");

		if (pk == NULL)
			return false;
		for (int i = 0; i < rel->npk; i++)
			if (!yyjson_mut_arr_add_str(doc, pk, rel->pk[i]))
				return false;
	}
	if (d->opts.include_types)
	{
		yyjson_mut_val *types = yyjson_mut_obj_add_obj(doc, root, "types");

		if (types == NULL)
			return false;
		for (int i = 0; i < rel->ncols; i++)
			if (!yyjson_mut_obj_add_str(doc, types, rel->cols[i].name,
										rel->cols[i].type_name))
				return false;
	}
	if (d->opts.include_type_oids)
	{
		yyjson_mut_val *oids = yyjson_mut_obj_add_obj(doc, root, "type_oids");

		if (oids == NULL)
			return false;
		for (int i = 0; i < rel->ncols; i++)
			if (!yyjson_mut_obj_add_uint(doc, oids, rel->cols[i].name,
										 rel->cols[i].typid))
				return false;
	}
	return true;
}

/* Outcome of rendering a row image. */
enum record_row_rc
{
	ROW_OK,
	ROW_OOM,
	ROW_ERROR,
	ROW_STALE
};

/*
 * One value into obj under the column's name, its error naming table,
 * column and type.
 */
static enum record_row_rc
record_value(struct pgoutput_record *d, yyjson_mut_doc *doc,
			 yyjson_mut_val *obj, const struct pgoutput_relation *rel, int i,
			 const struct pgoutput_datum *v, char *err, size_t errlen)
{
	const struct pgoutput_column *col = &rel->cols[i];
	yyjson_mut_val *val;
	char		why[256];
	enum pgoutput_value_rc rc;

	if (v->status == 'n')
		val = yyjson_mut_null(doc);
	else
	{
		rc = pgoutput_value_render(doc, d->cat, &d->opts.values, col->typid,
								   v->data, v->len, &val, why, sizeof(why));
		if (rc != PGOUTPUT_VALUE_OK)
		{
			snprintf(err, errlen, "table \"%s.%s\", column \"%s\" (%s): %s",
					 rel->nspname, rel->relname, col->name,
					 col->type_name ? col->type_name : "?", why);
			return rc == PGOUTPUT_VALUE_STALE ? ROW_STALE : ROW_ERROR;
		}
	}
	if (val == NULL || !yyjson_mut_obj_add_val(doc, obj, col->name, val))
		return ROW_OOM;
	return ROW_OK;
}

/*
 * The new row (and "unchanged"), as record.c's record_row: a column whose
 * value is unchanged TOAST takes the old row's value when the old row is
 * whole (REPLICA IDENTITY FULL) and has one, else is named in unchanged.
 */
static enum record_row_rc
record_new_row(struct pgoutput_record *d, yyjson_mut_doc *doc,
			   yyjson_mut_val *root, const struct pgoutput_relation *rel,
			   const struct pgoutput_tuple *new_row,
			   const struct pgoutput_tuple *full_old, char *err,
			   size_t errlen)
{
	yyjson_mut_val *obj = yyjson_mut_obj_add_obj(doc, root, "new");
	yyjson_mut_val *unchanged = NULL;

	if (obj == NULL)
		return ROW_OOM;
	for (int i = 0; i < rel->ncols; i++)
	{
		const struct pgoutput_datum *v = &new_row->cols[i];
		enum record_row_rc rc;

		if (v->status == 'u')
		{
			if (full_old != NULL && full_old->cols[i].status == 't')
				v = &full_old->cols[i];
			else
			{
				if (unchanged == NULL)
					unchanged = yyjson_mut_arr(doc);
				if (unchanged == NULL ||
					!yyjson_mut_arr_add_str(doc, unchanged, rel->cols[i].name))
					return ROW_OOM;
				continue;
			}
		}
		if ((rc = record_value(d, doc, obj, rel, i, v, err, errlen)) != ROW_OK)
			return rc;
	}
	if (unchanged != NULL &&
		!yyjson_mut_obj_add_val(doc, root, "unchanged", unchanged))
		return ROW_OOM;
	return ROW_OK;
}

/* The old key (identity columns only) or the whole old row. */
static enum record_row_rc
record_old_row(struct pgoutput_record *d, yyjson_mut_doc *doc,
			   yyjson_mut_val *root, const struct pgoutput_relation *rel,
			   const struct pgoutput_tuple *old, bool keys_only, char *err,
			   size_t errlen)
{
	yyjson_mut_val *obj = yyjson_mut_obj_add_obj(doc, root, "old");

	if (obj == NULL)
		return ROW_OOM;
	for (int i = 0; i < rel->ncols; i++)
	{
		enum record_row_rc rc;

		if (keys_only && !rel->cols[i].key)
			continue;
		if (old->cols[i].status == 'u')
		{
			/* the server flattens the old row it logs: cannot happen */
			snprintf(err, errlen, "table \"%s.%s\", column \"%s\": an unchanged value in the old row",
					 rel->nspname, rel->relname, rel->cols[i].name);
			return ROW_ERROR;
		}
		if ((rc = record_value(d, doc, obj, rel, i, &old->cols[i], err,
							   errlen)) != ROW_OK)
			return rc;
	}
	return ROW_OK;
}

static bool
record_check_width(const struct pgoutput_relation *rel,
				   const struct pgoutput_tuple *t, char *err, size_t errlen)
{
	if (t->ncols == rel->ncols)
		return true;
	snprintf(err, errlen, "table \"%s.%s\": a row of %d columns, its Relation message has %d",
			 rel->nspname, rel->relname, t->ncols, rel->ncols);
	return false;
}

static const struct pgoutput_relation *
record_relation(struct pgoutput_record *d, uint32_t relid, char *err,
				size_t errlen)
{
	const struct pgoutput_relation *rel = pgoutput_catalog_relation(d->cat,
																	relid);

	if (rel == NULL)
		snprintf(err, errlen, "pgoutput sent a change of relation OID %u without its Relation message",
				 relid);
	return rel;
}

/*
 * A change whose relation is known and whose tuples fit it: checked
 * before anything of it (its B included) is written.
 */
static bool
record_check_change(struct pgoutput_record *d, const struct pgoutput_change *m,
					char *err, size_t errlen)
{
	const struct pgoutput_relation *rel = record_relation(d, m->relid, err,
														  errlen);

	if (rel == NULL ||
		(m->old_kind && !record_check_width(rel, &m->old, err, errlen)) ||
		(d->msg.kind != 'D' && !record_check_width(rel, &m->new, err, errlen)))
		return false;
	if (d->msg.kind == 'I')
		for (int i = 0; i < m->new.ncols; i++)
			if (m->new.cols[i].status == 'u')
			{
				snprintf(err, errlen, "table \"%s.%s\", column \"%s\": an unchanged value in an inserted row",
						 rel->nspname, rel->relname, rel->cols[i].name);
				return false;
			}
	return true;
}

/* I, U, D: one try; ROW_STALE asks the caller to reload and try again. */
static enum record_row_rc
record_change_try(struct pgoutput_record *d, const struct pgoutput_change *m,
				  const struct pgoutput_relation *rel, yyjson_mut_doc **docp,
				  char *err, size_t errlen)
{
	char		action = d->msg.kind;
	bool		full = rel->identity[0] == 'f';
	bool		nothing = rel->identity[0] == 'n';
	bool		has_old = m->old_kind != 0 && !nothing;
	yyjson_mut_val *root = record_open(d, docp, action);
	yyjson_mut_doc *doc = *docp;
	enum record_row_rc rc;

	if (root == NULL || !record_txn_fields(d, doc, root, d->seq + 1) ||
		!record_add_lsn(doc, root, "lsn", d->data_start) ||
		!record_rel_head(d, doc, root, rel))
		return ROW_OOM;
	if (action != 'I' &&
		!yyjson_mut_obj_add_str(doc, root, "identity", rel->identity))
		return ROW_OOM;
	if (action != 'D')
	{
		rc = record_new_row(d, doc, root, rel, &m->new,
							full && has_old ? &m->old : NULL, err, errlen);
		if (rc != ROW_OK)
			return rc;
	}

	/*
	 * old: the key (DEFAULT, INDEX) or the whole row (FULL) when the
	 * server logged it; null when the table has no identity to log; left
	 * out of an UPDATE that did not change the key.
	 */
	if (has_old)
		return record_old_row(d, doc, root, rel, &m->old, !full, err, errlen);
	if (action == 'D' || (action == 'U' && nothing))
		return yyjson_mut_obj_add_null(doc, root, "old") ? ROW_OK : ROW_OOM;
	return ROW_OK;
}

static enum pgoutput_record_rc
record_change(struct pgoutput_record *d, const char **text, size_t *len,
			  char *err, size_t errlen)
{
	const struct pgoutput_change *m = &d->msg.u.change;
	const struct pgoutput_relation *rel;
	yyjson_mut_doc *doc = NULL;
	enum record_row_rc rc;

	if ((rel = record_relation(d, m->relid, err, errlen)) == NULL)
		return PGOUTPUT_RECORD_ERROR;
	rc = record_change_try(d, m, rel, &doc, err, errlen);
	if (rc == ROW_STALE)
	{
		/* a type changed without a Relation message: look again, once */
		yyjson_mut_doc_free(doc);
		doc = NULL;
		if (!pgoutput_catalog_reload(d->cat, m->relid, err, errlen))
			return PGOUTPUT_RECORD_ERROR;
		rc = record_change_try(d, m, rel, &doc, err, errlen);
	}
	if (rc == ROW_OOM)
		return record_oom(doc, err, errlen);
	if (rc != ROW_OK)
	{
		yyjson_mut_doc_free(doc);
		return PGOUTPUT_RECORD_ERROR;
	}
	d->seq++;
	return record_write(d, doc, text, len, err, errlen);
}

static enum pgoutput_record_rc
record_truncate(struct pgoutput_record *d, uint32_t relid, const char **text,
				size_t *len, char *err, size_t errlen)
{
	const struct pgoutput_truncate *m = &d->msg.u.truncate;
	const struct pgoutput_relation *rel = record_relation(d, relid, err,
														  errlen);
	yyjson_mut_doc *doc;
	yyjson_mut_val *root;

	if (rel == NULL)
		return PGOUTPUT_RECORD_ERROR;
	root = record_open(d, &doc, 'T');
	if (root == NULL || !record_txn_fields(d, doc, root, d->seq + 1) ||
		!record_add_lsn(doc, root, "lsn", d->data_start) ||
		!record_rel_head(d, doc, root, rel) ||
		!yyjson_mut_obj_add_bool(doc, root, "cascade", m->cascade) ||
		!yyjson_mut_obj_add_bool(doc, root, "restart_identity",
								 m->restart_identity))
		return record_oom(doc, err, errlen);
	d->seq++;
	return record_write(d, doc, text, len, err, errlen);
}

/*
 * A logical message: a transactional one is part of its transaction; a
 * non-transactional one has only its lsn.  content when the bytes are
 * UTF-8 without NUL, else content_base64, as the plugin decides.
 */
static enum pgoutput_record_rc
record_message(struct pgoutput_record *d, const char **text, size_t *len,
			   char *err, size_t errlen)
{
	const struct pgoutput_message *m = &d->msg.u.message;
	yyjson_mut_doc *doc;
	yyjson_mut_val *root = record_open(d, &doc, 'M');
	bool		ok;

	if (root == NULL)
		return record_oom(doc, err, errlen);
	if (m->transactional && !record_txn_fields(d, doc, root, d->seq + 1))
		return record_oom(doc, err, errlen);
	ok = record_add_lsn(doc, root, "lsn", m->lsn) &&
		yyjson_mut_obj_add_str(doc, root, "prefix", m->prefix) &&
		yyjson_mut_obj_add_bool(doc, root, "transactional", m->transactional);
	if (ok && pgoutput_value_utf8(m->content, m->content_len))
		ok = yyjson_mut_obj_add_strn(doc, root, "content", m->content,
									 m->content_len);
	else if (ok)
	{
		char	   *b64 = malloc(4 * ((size_t) m->content_len / 3 + 1));

		ok = b64 != NULL &&
			yyjson_mut_obj_add_strncpy(doc, root, "content_base64", b64,
									   pgoutput_value_base64((const unsigned char *) m->content,
															 m->content_len, b64));
		free(b64);
	}
	if (!ok)
		return record_oom(doc, err, errlen);
	if (m->transactional)
		d->seq++;
	return record_write(d, doc, text, len, err, errlen);
}

static bool
record_need_txn(struct pgoutput_record *d, char *err, size_t errlen)
{
	if (d->in_txn)
		return true;
	snprintf(err, errlen, "pgoutput sent '%c' outside a transaction",
			 d->msg.kind);
	return false;
}

/*
 * Read the message and act on those that write no record.  Returns
 * READY when the message has records to write (next() writes them),
 * NEED_MORE when it is done.
 */
static enum pgoutput_record_rc
record_take(struct pgoutput_record *d, char *err, size_t errlen)
{
	struct pgoutput_msg *m = &d->msg;

	if (!pgoutput_proto_parse(&d->proto, d->data, d->len, m, err, errlen))
		return PGOUTPUT_RECORD_ERROR;
	d->parsed = true;
	switch (m->kind)
	{
		case 'B':
			if (d->in_txn)
			{
				snprintf(err, errlen, "pgoutput sent a Begin inside a transaction");
				return PGOUTPUT_RECORD_ERROR;
			}
			d->in_txn = true;
			d->begun = false;
			d->seq = 0;
			d->xid = m->u.begin.xid;
			record_lsn_text(d->commit_lsn, sizeof(d->commit_lsn),
							m->u.begin.final_lsn);
			record_ts_text(d->ts, sizeof(d->ts), m->u.begin.commit_time);
			return PGOUTPUT_RECORD_NEED_MORE;
		case 'C':
			if (!record_need_txn(d, err, errlen))
				return PGOUTPUT_RECORD_ERROR;
			return d->begun ? PGOUTPUT_RECORD_READY : PGOUTPUT_RECORD_NEED_MORE;
		case 'O':
			/* records carry no origin (the plugin only filters by it) */
			return PGOUTPUT_RECORD_NEED_MORE;
		case 'R':
			if (!pgoutput_catalog_relation_msg(d->cat, &m->u.relation, err,
											   errlen))
				return PGOUTPUT_RECORD_ERROR;
			return PGOUTPUT_RECORD_NEED_MORE;
		case 'Y':
			pgoutput_catalog_type_msg(d->cat, &m->u.type);
			return PGOUTPUT_RECORD_NEED_MORE;
		case 'M':
			if (m->u.message.transactional && !record_need_txn(d, err, errlen))
				return PGOUTPUT_RECORD_ERROR;
			return PGOUTPUT_RECORD_READY;
		case 'T':
			if (!record_need_txn(d, err, errlen))
				return PGOUTPUT_RECORD_ERROR;
			/* every relation known before anything is written */
			for (int i = 0; i < m->u.truncate.nrelids; i++)
				if (record_relation(d, m->u.truncate.relids[i], err, errlen) == NULL)
					return PGOUTPUT_RECORD_ERROR;
			return PGOUTPUT_RECORD_READY;
		default:				/* I, U, D */
			if (!record_need_txn(d, err, errlen) ||
				!record_check_change(d, &m->u.change, err, errlen))
				return PGOUTPUT_RECORD_ERROR;
			return PGOUTPUT_RECORD_READY;
	}
}

enum pgoutput_record_rc
pgoutput_record_next(struct pgoutput_record *d, const char **text,
					 size_t *len, char *err, size_t errlen)
{
	enum pgoutput_record_rc rc;
	bool		last = true;

	if (!d->have_msg)
		return PGOUTPUT_RECORD_NEED_MORE;
	if (!d->parsed)
	{
		rc = record_take(d, err, errlen);
		if (rc != PGOUTPUT_RECORD_READY)
		{
			d->have_msg = false;
			if (d->msg.kind == 'C' && rc == PGOUTPUT_RECORD_NEED_MORE)
				d->in_txn = false;
			return rc;
		}
	}
	if (d->msg.kind == 'C')
	{
		rc = record_commit(d, &d->msg.u.commit, text, len, err, errlen);
		d->in_txn = false;
	}
	else if (d->msg.kind == 'M' && !d->msg.u.message.transactional)
		rc = record_message(d, text, len, err, errlen);
	else if (!d->begun)
	{
		/* the deferred B, before the transaction's first record */
		rc = record_begin(d, text, len, err, errlen);
		last = false;
	}
	else if (d->msg.kind == 'M')
		rc = record_message(d, text, len, err, errlen);
	else if (d->msg.kind == 'T')
	{
		rc = record_truncate(d, d->msg.u.truncate.relids[d->step], text, len,
							 err, errlen);
		last = ++d->step >= d->msg.u.truncate.nrelids;
	}
	else
		rc = record_change(d, text, len, err, errlen);
	if (last || rc != PGOUTPUT_RECORD_READY)
		d->have_msg = false;
	return rc;
}

bool
pgoutput_record_load_row(struct pgoutput_record *d, uint32_t relid,
						 uint64_t lsn, int nvalues, const char *const *names,
						 const char *const *values, const size_t *lengths,
						 const char **text, size_t *len, char *err,
						 size_t errlen)
{
	for (int attempt = 0; attempt < 2; attempt++)
	{
		const struct pgoutput_relation *rel;
		yyjson_mut_doc *doc;
		yyjson_mut_val *root;
		yyjson_mut_val *obj;
		enum record_row_rc rc = ROW_OK;

		if ((rel = pgoutput_catalog_table(d->cat, relid, err, errlen)) == NULL)
			return false;
		if (nvalues != rel->ncols)
		{
			snprintf(err, errlen, "table \"%s.%s\": a row of %d columns, the catalogue has %d",
					 rel->nspname, rel->relname, nvalues, rel->ncols);
			return false;
		}
		for (int i = 0; names != NULL && i < nvalues; i++)
			if (strcmp(names[i], rel->cols[i].name) != 0)
			{
				snprintf(err, errlen, "table \"%s.%s\": column %d is \"%s\", the catalogue says \"%s\"",
						 rel->nspname, rel->relname, i + 1, names[i],
						 rel->cols[i].name);
				return false;
			}
		root = record_open(d, &doc, 'L');
		if (root == NULL || (lsn != 0 && !record_add_lsn(doc, root, "lsn", lsn)) ||
			!record_rel_head(d, doc, root, rel) ||
			(obj = yyjson_mut_obj_add_obj(doc, root, "new")) == NULL)
			return record_oom(doc, err, errlen) == PGOUTPUT_RECORD_READY;
		for (int i = 0; i < nvalues && rc == ROW_OK; i++)
		{
			struct pgoutput_datum v;

			v.status = values[i] != NULL ? 't' : 'n';
			v.data = values[i];
			v.len = values[i] != NULL ? (uint32_t) lengths[i] : 0;
			rc = record_value(d, doc, obj, rel, i, &v, err, errlen);
		}
		if (rc == ROW_OK)
			return record_write(d, doc, text, len, err, errlen) ==
				PGOUTPUT_RECORD_READY;
		yyjson_mut_doc_free(doc);
		if (rc == ROW_OOM)
		{
			snprintf(err, errlen, "out of memory");
			return false;
		}
		if (rc != ROW_STALE || attempt > 0 ||
			!pgoutput_catalog_reload(d->cat, relid, err, errlen))
			return false;
	}
	return false;
}
