/*
 * fuzz_pgoutput_value.c
 *		libFuzzer target of the pgoutput decoder's value converter
 *		(decode/pgoutput_value.c): a type's output text in, the walcast
 *		plugin's JSON for it out.
 *
 * Input: one byte choosing the type (among the fixture's, which cover
 * every kind: scalars, arrays, vectors, composites nested in arrays,
 * ranges, multiranges, domains), one byte of options
 * (numeric-data-types-as-string, bytea-encoding=hex), then the text.
 * Seeds (test/fuzz_seeds/pgoutput_value) are texts a real server printed
 * under the decoder's pinned settings (scripts/fuzz-seeds.py).
 *
 * Property beyond the sanitizers': what the converter accepts is written
 * as JSON that yyjson reads back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "pgoutput_fixture.h"
#include "pgoutput_value.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fixture's types, in the order the first input byte picks them. */
static const uint32_t fuzz_value_types[] = {
	FX_BOOL, FX_BYTEA, FX_INT8, FX_INT2VECTOR, FX_INT4, FX_TEXT, FX_JSON,
	FX_FLOAT4, FX_FLOAT8, FX_INT4ARRAY, FX_TEXTARRAY, FX_BOXARRAY, FX_BOX,
	FX_DATE, FX_TIME, FX_TIMESTAMP, FX_TIMESTAMPTZ, FX_INTERVAL, FX_TIMETZ,
	FX_NUMERIC, FX_UUID, FX_JSONB, FX_INT4RANGE, FX_INT4MULTIRANGE,
	FX_MOOD, FX_POSINT, FX_INNER, FX_CPX, FX_CPXARRAY, FX_INTARR,
	FX_INTARRARRAY, FX_TEXTRANGE
};

#define FUZZ_VALUE_NTYPES (sizeof(fuzz_value_types) / sizeof(fuzz_value_types[0]))

static bool
fuzz_value_no_load(void *arg, struct pgoutput_catalog *c,
				   struct pgoutput_relation *rel, char *e, size_t elen)
{
	(void) arg;
	(void) c;
	(void) rel;
	snprintf(e, elen, "no loader");
	return false;
}

static const struct pgoutput_catalog_loader fuzz_value_loader = {
	.relation = fuzz_value_no_load,
	.table = fuzz_value_no_load,
};

static struct pgoutput_catalog *fuzz_value_cat;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {data, size};
	uint32_t	typid = fuzz_value_types[fuzz_input_byte(&in) % FUZZ_VALUE_NTYPES];
	uint8_t		flags = fuzz_input_byte(&in);
	struct pgoutput_value_opts opts = {flags & 1, flags & 2};
	yyjson_mut_doc *doc = yyjson_mut_doc_new(NULL);
	yyjson_mut_val *out = NULL;
	size_t		len;
	char	   *text = fuzz_input_rest(&in, &len, false);
	char		err[512];

	/* The catalogue holds no per-input state: built once. */
	if (fuzz_value_cat == NULL)
	{
		fuzz_value_cat = pgoutput_catalog_new(&fuzz_value_loader, NULL);
		fx_types(fuzz_value_cat);
	}
	if (doc == NULL || text == NULL)
		abort();
	if (pgoutput_value_render(doc, fuzz_value_cat, &opts, typid, text, len,
							  &out, err, sizeof(err)) == PGOUTPUT_VALUE_OK)
	{
		size_t		jlen;
		char	   *json;
		yyjson_doc *back;

		yyjson_mut_doc_set_root(doc, out);
		/* as the record writer writes and the record parser reads */
		json = yyjson_mut_write(doc, YYJSON_WRITE_ALLOW_INVALID_UNICODE, &jlen);
		if (json == NULL ||
			(back = yyjson_read(json, jlen, YYJSON_READ_NUMBER_AS_RAW |
								YYJSON_READ_ALLOW_INVALID_UNICODE)) == NULL)
		{
			fprintf(stderr, "type %u: the converter wrote no valid JSON\n", typid);
			abort();
		}
		yyjson_doc_free(back);
		free(json);
	}
	yyjson_mut_doc_free(doc);
	free(text);
	return 0;
}
