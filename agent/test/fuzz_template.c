/*
 * fuzz_template.c
 *		libFuzzer target of the name templates: the routing key
 *		(format/route.c, --routing-key) and the mirror's collection
 *		(--mongo-collection, --mongo-collection-map, sinks/sink_mongo_doc.c),
 *		checked by the configuration as the agent checks them, then
 *		rendered for a change of a table whose names come from the input.
 *
 * Input, framed as fuzz_input.h says: the routing-key template, the
 * collection template, a --mongo-collection-map entry (empty: none), the
 * schema, the table, and one byte choosing the action (insert, update,
 * delete, truncate).  Seeds: test/fuzz_seeds/template.
 *
 * Properties beyond the sanitizers': a routing key the configuration
 * accepted compiles; a rendered key is at most ROUTE_KEY_MAX bytes; every
 * change maps to a collection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_input.h"
#include "route.h"
#include "sink_amqp.h"
#include "sink_mongo.h"
#include "walcast_record.h"
#include "yyjson.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A change record of schema.table, written by yyjson (names escaped). */
static char *
fuzz_template_record(const char *schema, const char *table, uint8_t which,
					 size_t *len)
{
	static const char *const actions[] = {"I", "U", "D", "T"};
	const char *action = actions[which % 4];
	yyjson_mut_doc *doc = yyjson_mut_doc_new(NULL);
	yyjson_mut_val *rec = yyjson_mut_obj(doc);
	yyjson_mut_val *row = yyjson_mut_obj(doc);
	char	   *out;

	yyjson_mut_doc_set_root(doc, rec);
	yyjson_mut_obj_add_str(doc, rec, "action", action);
	yyjson_mut_obj_add_int(doc, rec, "xid", 747);
	yyjson_mut_obj_add_str(doc, rec, "lsn", "0/5000");
	yyjson_mut_obj_add_str(doc, rec, "commit_lsn", "0/6000");
	yyjson_mut_obj_add_int(doc, rec, "seq", 1);
	yyjson_mut_obj_add_str(doc, rec, "schema", schema);
	yyjson_mut_obj_add_str(doc, rec, "table", table);
	if (action[0] != 'T')
	{
		yyjson_mut_val *pk = yyjson_mut_arr(doc);

		yyjson_mut_arr_add_str(doc, pk, "id");
		yyjson_mut_obj_add_val(doc, rec, "pk", pk);
		yyjson_mut_obj_add_int(doc, row, "id", 1);
		yyjson_mut_obj_add_val(doc, rec, action[0] == 'D' ? "old" : "new", row);
	}
	out = yyjson_mut_write(doc, YYJSON_WRITE_ALLOW_INVALID_UNICODE, len);
	yyjson_mut_doc_free(doc);
	return out;
}

static void
fuzz_template_render(const struct agent_config *cfg, const struct event *ev)
{
	const struct sink_amqp_settings *aset = sink_amqp_settings(cfg);
	struct sink_mongo_conv conv = {SINK_MONGO_NUMERIC_STRING, SINK_MONGO_STRING,
	SINK_MONGO_STRING, false};
	struct sink_mongo_doc_ctx ctx = {sink_mongo_settings(cfg), &conv};
	struct sink_mongo_doc_plan plan;
	struct route_template *route;
	char		key[ROUTE_KEY_BUFLEN];
	char		err[512];

	route = route_compile(aset->routing_key ? aset->routing_key : ROUTE_DEFAULT_TEMPLATE,
						  err, sizeof(err));
	if (route == NULL)
	{
		fprintf(stderr, "an accepted routing key does not compile: %s\n", err);
		abort();
	}
	if (route_render(route, ev, -1, key, sizeof(key)) && strlen(key) > ROUTE_KEY_MAX)
		abort();
	route_free(route);
	if (sink_mongo_doc_map(&ctx, ev, &plan, err, sizeof(err)) != SINK_MONGO_DOC_OK ||
		plan.coll == NULL)
	{
		fprintf(stderr, "a change maps to no collection: %s\n", err);
		abort();
	}
	sink_mongo_doc_plan_free(&plan);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {data, size};
	char	   *parts[5] = {0};
	size_t		lens[5];
	char	   *rec = NULL;
	size_t		reclen;
	struct agent_config cfg;
	struct event ev;
	char		err[512];
	int			n;

	for (n = 0; n < 5; n++)
		if ((parts[n] = fuzz_input_next(&in, &lens[n], true)) == NULL)
			goto done;
	if ((rec = fuzz_template_record(parts[3], parts[4], fuzz_input_byte(&in), &reclen)) == NULL)
		goto done;
	{
		char	   *argv[8] = {"walcast-agent", "--routing-key", parts[0],
		"--mongo-collection", parts[1]};
		int			argc = 5;

		if (parts[2][0] != '\0')
		{
			argv[argc++] = "--mongo-collection-map";
			argv[argc++] = parts[2];
		}
		argv[argc] = NULL;
		if (config_load(&cfg, argc, argv, err, sizeof(err)) == CONFIG_OK)
		{
			if (!walcast_record_parse(&ev, rec, reclen, err, sizeof(err)))
			{
				fprintf(stderr, "a record yyjson wrote does not parse: %s\n", err);
				abort();
			}
			fuzz_template_render(&cfg, &ev);
			event_free(&ev);
		}
		config_free(&cfg);
	}
done:
	free(rec);
	for (int i = 0; i < 5; i++)
		free(parts[i]);
	return 0;
}
