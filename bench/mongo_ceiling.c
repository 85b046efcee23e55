/*
 * mongo_ceiling.c: the Mongo server's own bulk-insert rate, measured with
 * libmongoc the way walcast-agent writes (ordered bulks of 200 operations,
 * the agent's default write concern w=majority,j=true, documents shaped
 * like the mirror's: _id, the row's columns and the _walcast metadata).
 * bench/mongo_bench.py runs it in the same run as the agent, so that the
 * mirror's rate can be given as a fraction of this one.  Plain inserts
 * into an empty collection: no condition, no upsert, so an upper bound.
 *
 * Usage: mongo_ceiling URI DATABASE COLLECTION COUNT
 * Prints: "inserted N documents in T s: R docs/s"
 */
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BULK_OPS 200

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	mongoc_client_t *client;
	mongoc_collection_t *coll;
	mongoc_write_concern_t *wc;
	bson_error_t error;
	long		count;
	long		i = 0;
	double		t0;
	double		t;
	int			rc = 0;

	if (argc != 5 || (count = strtol(argv[4], NULL, 10)) <= 0)
	{
		fprintf(stderr, "usage: mongo_ceiling URI DATABASE COLLECTION COUNT\n");
		return 1;
	}
	mongoc_init();
	client = mongoc_client_new(argv[1]);
	if (client == NULL)
	{
		fprintf(stderr, "mongo_ceiling: invalid URI\n");
		return 1;
	}
	mongoc_client_set_error_api(client, MONGOC_ERROR_API_VERSION_2);
	coll = mongoc_client_get_collection(client, argv[2], argv[3]);
	wc = mongoc_write_concern_new();
	mongoc_write_concern_set_w(wc, MONGOC_WRITE_CONCERN_W_MAJORITY);
	mongoc_write_concern_set_journal(wc, true);

	t0 = now();
	while (i < count && rc == 0)
	{
		bson_t		opts = BSON_INITIALIZER;
		bson_t		reply;
		mongoc_bulk_operation_t *bulk;

		BSON_APPEND_BOOL(&opts, "ordered", true);
		mongoc_write_concern_append(wc, &opts);
		bulk = mongoc_collection_create_bulk_operation_with_opts(coll, &opts);
		for (long end = i + BULK_OPS < count ? i + BULK_OPS : count; i < end; i++)
		{
			bson_t		doc = BSON_INITIALIZER;
			bson_t		meta;
			char		s[32];

			snprintf(s, sizeof(s), "r%ld", i);
			BSON_APPEND_INT32(&doc, "_id", (int32_t) i);
			BSON_APPEND_INT32(&doc, "id", (int32_t) i);
			BSON_APPEND_INT32(&doc, "v", (int32_t) i);
			BSON_APPEND_UTF8(&doc, "s", s);
			BSON_APPEND_DOCUMENT_BEGIN(&doc, "_walcast", &meta);
			BSON_APPEND_INT64(&meta, "lsn", i);
			BSON_APPEND_INT64(&meta, "commit_lsn", count);
			BSON_APPEND_INT64(&meta, "seq", i);
			bson_append_document_end(&doc, &meta);
			mongoc_bulk_operation_insert(bulk, &doc);
			bson_destroy(&doc);
		}
		if (!mongoc_bulk_operation_execute(bulk, &reply, &error))
		{
			fprintf(stderr, "mongo_ceiling: %s\n", error.message);
			rc = 2;
		}
		bson_destroy(&reply);
		mongoc_bulk_operation_destroy(bulk);
		bson_destroy(&opts);
	}
	t = now() - t0;
	if (rc == 0)
		printf("inserted %ld documents in %.2f s: %.0f docs/s\n", count, t, count / t);
	mongoc_write_concern_destroy(wc);
	mongoc_collection_destroy(coll);
	mongoc_client_destroy(client);
	mongoc_cleanup();
	return rc;
}
