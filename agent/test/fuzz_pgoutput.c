/*
 * fuzz_pgoutput.c
 *		libFuzzer target of the pgoutput decoder's stream side: the protocol
 *		parser (decode/pgoutput_proto.c) and the record writer
 *		(decode/pgoutput_record.c) with its catalogue, over a loader that
 *		answers from a fixed table of types instead of a server.
 *
 * Input: one byte of options (include-types, include-type-oids,
 * numeric-data-types-as-string, bytea-encoding=hex), then a stream of
 * messages, each framed as fuzz_input.h says.  Each message is parsed on
 * its own, then fed to the decoder; after a decoder error the session is
 * reset, as the agent does on reconnecting.  The seeds
 * (test/fuzz_seeds/pgoutput) are sessions a real server sent
 * (scripts/fuzz-seeds.py).
 *
 * Beyond the sanitizers' checks, one property: every record the decoder
 * writes is one the agent's record parser accepts, with the length it
 * says.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "pgoutput_fixture.h"
#include "pgoutput_proto.h"
#include "pgoutput_record.h"
#include "walcast_record.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Every type reachable from the columns: the fixture's, and any other OID
 * as the kind PostgreSQL's built-in type of that OID has (text otherwise),
 * so that a message naming any type decodes instead of failing early.
 */
static void
fuzz_pgoutput_types(struct pgoutput_catalog *c, const struct pgoutput_relation *rel)
{
	fx_types(c);
	for (int i = 0; i < rel->ncols; i++)
		if (pgoutput_catalog_type(c, rel->cols[i].typid) == NULL)
			pgoutput_catalog_put_type(c, rel->cols[i].typid,
									  pgoutput_catalog_builtin_kind(rel->cols[i].typid),
									  "t");
}

static bool
fuzz_pgoutput_relation(void *arg, struct pgoutput_catalog *c,
					   struct pgoutput_relation *rel, char *e, size_t elen)
{
	const char *pk[64];
	int			npk = 0;

	(void) arg;
	(void) e;
	(void) elen;
	fuzz_pgoutput_types(c, rel);
	for (int i = 0; i < rel->ncols; i++)
	{
		const struct pgoutput_type *t = pgoutput_catalog_type(c, rel->cols[i].typid);

		if (!pgoutput_catalog_set_type_name(rel, i, t ? t->name : "t"))
			return false;
		if (rel->cols[i].key && npk < 64)
			pk[npk++] = rel->cols[i].name;
	}
	return pgoutput_catalog_set_pk(rel, npk, pk);
}

/* The initial load's tables are not part of the stream: none here. */
static bool
fuzz_pgoutput_table(void *arg, struct pgoutput_catalog *c,
					struct pgoutput_relation *rel, char *e, size_t elen)
{
	(void) arg;
	(void) c;
	(void) rel;
	snprintf(e, elen, "no tables");
	return false;
}

static const struct pgoutput_catalog_loader fuzz_pgoutput_loader = {
	.relation = fuzz_pgoutput_relation,
	.table = fuzz_pgoutput_table,
};

/* The decoder's records: each must parse as a walcast record. */
static bool
fuzz_pgoutput_drain(struct pgoutput_record *dec)
{
	const char *text;
	size_t		len;
	char		err[512];
	enum pgoutput_record_rc rc;

	while ((rc = pgoutput_record_next(dec, &text, &len, err, sizeof(err))) ==
		   PGOUTPUT_RECORD_READY)
	{
		struct event ev;
		char	   *copy = malloc(len ? len : 1);

		if (strlen(text) != len)
			abort();
		memcpy(copy, text, len);
		if (!walcast_record_parse(&ev, copy, len, err, sizeof(err)))
		{
			fprintf(stderr, "the decoder wrote a record the agent refuses: %s\n%.*s\n",
					err, (int) len, text);
			abort();
		}
		event_free(&ev);
		free(copy);
	}
	return rc == PGOUTPUT_RECORD_NEED_MORE;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {data, size};
	uint8_t		flags = fuzz_input_byte(&in);
	struct pgoutput_record_opts opts;
	struct pgoutput_catalog *cat = pgoutput_catalog_new(&fuzz_pgoutput_loader, NULL);
	struct pgoutput_record *dec;
	struct pgoutput_proto proto = {0};
	char	   *msg;
	size_t		len;
	uint64_t	lsn = 0x1000000;

	pgoutput_record_default_opts(&opts);
	opts.include_types = flags & 1;
	opts.include_type_oids = flags & 2;
	opts.values.numeric_as_string = flags & 4;
	opts.values.bytea_hex = flags & 8;
	if (cat == NULL || (dec = pgoutput_record_new(&opts, cat)) == NULL)
		abort();
	while ((msg = fuzz_input_next(&in, &len, false)) != NULL)
	{
		struct pgoutput_msg parsed;
		char		err[512];

		(void) pgoutput_proto_parse(&proto, msg, len, &parsed, err, sizeof(err));
		if (!pgoutput_record_feed(dec, lsn, msg, len, err, sizeof(err)))
			abort();			/* misuse: the previous message was drained */
		if (!fuzz_pgoutput_drain(dec))
			pgoutput_record_reset(dec);
		lsn += 0x100;
		free(msg);
	}
	pgoutput_proto_free(&proto);
	pgoutput_record_free(dec);
	pgoutput_catalog_free(cat);
	return 0;
}
