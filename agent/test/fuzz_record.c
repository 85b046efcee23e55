/*
 * fuzz_record.c
 *		libFuzzer target of the record parser (decode/walcast_record.c) and
 *		of everything that reads its tree: each input is one record; a
 *		record that parses is rendered in every envelope, mapped to the
 *		mirror's write operations in each numeric mode and written as the
 *		object-storage sink's CSV row (with its header); one that does not
 *		is named by walcast_record_peek.  Run by `make fuzz` (test/fuzz.mk)
 *		under AddressSanitizer and UBSan, from the seeds in
 *		test/fuzz_seeds/record (issue 12's values).
 *
 * Nothing is asserted beyond what the sanitizers check and one invariant
 * the envelopes rest on: the native envelope is the record's bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "sink_mongo.h"
#include "sink_s3.h"
#include "walcast_record.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_mongo(const struct event *ev, enum sink_mongo_numeric numeric,
		   enum sink_mongo_fallback nested)
{
	static struct sink_mongo_settings set = {.mongo_collection = "{schema}_{table}"};
	struct sink_mongo_conv conv = {numeric, nested, SINK_MONGO_STRING, false};
	struct sink_mongo_doc_ctx ctx = {&set, &conv};
	struct sink_mongo_doc_plan plan;
	char		err[512];

	if (!event_is_row_change(ev->op))
		return;
	if (sink_mongo_doc_map(&ctx, ev, &plan, err, sizeof(err)) == SINK_MONGO_DOC_OK)
		for (int i = 0; i < plan.nops; i++)
			(void) sink_mongo_doc_seal(plan.ops[i]);
	sink_mongo_doc_plan_free(&plan);
}

static void
fuzz_s3_csv(const struct event *ev)
{
	struct sink_s3_columns cols;
	struct strbuf out = {0};
	int			unchanged;

	if (!sink_s3_columns_of(ev, &cols))
		return;
	sink_s3_csv_header(&cols, "ts", &out);
	(void) sink_s3_csv_row(ev, &cols, "ts", &out, &unchanged);
	free(out.data);
	sink_s3_columns_free(&cols);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event ev;
	char		err[512];
	/* an exact-size copy, so that reading past the record is caught */
	char	   *copy = malloc(size ? size : 1);

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	if (walcast_record_parse(&ev, copy, size, err, sizeof(err)))
	{
		for (int k = ENVELOPE_NATIVE; k <= ENVELOPE_FLAT; k++)
		{
			size_t		len = 0;
			char	   *out = envelope_render_at((enum envelope_kind) k, &ev, 1700000000000LL,
												 &len, err, sizeof(err));

			if (out != NULL && k == ENVELOPE_NATIVE &&
				(len != size || memcmp(out, copy, size) != 0))
				abort();
			free(out);
		}
		fuzz_mongo(&ev, SINK_MONGO_NUMERIC_DECIMAL128, SINK_MONGO_NATIVE);
		fuzz_mongo(&ev, SINK_MONGO_NUMERIC_STRING, SINK_MONGO_STRING);
		fuzz_mongo(&ev, SINK_MONGO_NUMERIC_DOUBLE, SINK_MONGO_NATIVE);
		fuzz_s3_csv(&ev);
	}
	else
	{
		struct walcast_record_id id;

		walcast_record_peek(copy, size, &id);
	}
	event_free(&ev);
	free(copy);
	return 0;
}
