/*
 * mongo_ceiling.c: the Mongo server's own bulk-insert rate, measured with
 * libmongoc the way walcast-agent writes (ordered bulks of 200 operations,
 * the agent's default write concern w=majority,j=true, documents shaped
 * like the mirror's: _id, the row's columns and the _walcast metadata).
 * bench/mongo_bench.py runs it in the same run as the agent, so that the
 * mirror's rate can be given as a fraction of this one.  Plain inserts
 * into an empty collection: no condition, no upsert, so an upper bound.
 * With UPDATES, also the server's update rate: that many plain updates by
 * _id ($set of a column and the metadata, no condition, no upsert) of the
 * documents just inserted, in ordered bulks of BULK, the upper bound of
 * the mirror's update workload.
 *
 * Usage: mongo_ceiling URI DATABASE COLLECTION COUNT [UPDATES BULK]
 * Prints: "inserted N documents in T s: R docs/s"
 *         "updated N documents in T s: R docs/s" (with UPDATES)
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

/* A document of the mirror's shape for row i. */
static void
row_doc(bson_t *doc, long i, long version)
{
	bson_t		meta;
	char		s[32];

	snprintf(s, sizeof(s), "r%ld", i);
	BSON_APPEND_INT32(doc, "_id", (int32_t) i);
	BSON_APPEND_INT32(doc, "id", (int32_t) i);
	BSON_APPEND_INT32(doc, "v", (int32_t) (i + version));
	BSON_APPEND_UTF8(doc, "s", s);
	BSON_APPEND_DOCUMENT_BEGIN(doc, "_walcast", &meta);
	BSON_APPEND_INT64(&meta, "lsn", version);
	BSON_APPEND_INT64(&meta, "seq", i);
	bson_append_document_end(doc, &meta);
}

/*
 * n operations in ordered bulks of bulk_ops: inserts of rows 0..n-1, or
 * (update) plain updates by _id of rows spread over the count inserted,
 * setting v and the metadata as the mirror's $set does.  Returns the
 * seconds taken, or -1.
 */
static double
run(mongoc_collection_t *coll, const mongoc_write_concern_t *wc, long n,
	long bulk_ops, bool update, long count)
{
	double		t0 = now();
	long		i = 0;

	while (i < n)
	{
		bson_t		opts = BSON_INITIALIZER;
		bson_t		reply;
		bson_error_t error;
		mongoc_bulk_operation_t *bulk;
		bool		ok;

		BSON_APPEND_BOOL(&opts, "ordered", true);
		mongoc_write_concern_append((mongoc_write_concern_t *) wc, &opts);
		bulk = mongoc_collection_create_bulk_operation_with_opts(coll, &opts);
		for (long end = i + bulk_ops < n ? i + bulk_ops : n; i < end; i++)
		{
			bson_t		doc = BSON_INITIALIZER;

			if (update)
			{
				long		k = (i * 7919) % count;
				bson_t		filter = BSON_INITIALIZER;
				bson_t		set = BSON_INITIALIZER;

				BSON_APPEND_INT32(&filter, "_id", (int32_t) k);
				BSON_APPEND_DOCUMENT_BEGIN(&doc, "$set", &set);
				BSON_APPEND_INT32(&set, "v", (int32_t) (k + i + 1));
				BSON_APPEND_INT64(&set, "_walcast.lsn", count + i);
				bson_append_document_end(&doc, &set);
				mongoc_bulk_operation_update_one(bulk, &filter, &doc, false);
				bson_destroy(&filter);
			}
			else
			{
				row_doc(&doc, i, 0);
				mongoc_bulk_operation_insert(bulk, &doc);
			}
			bson_destroy(&doc);
		}
		ok = mongoc_bulk_operation_execute(bulk, &reply, &error) != 0;
		if (!ok)
			fprintf(stderr, "mongo_ceiling: %s\n", error.message);
		bson_destroy(&reply);
		mongoc_bulk_operation_destroy(bulk);
		bson_destroy(&opts);
		if (!ok)
			return -1;
	}
	return now() - t0;
}

int
main(int argc, char **argv)
{
	mongoc_client_t *client;
	mongoc_collection_t *coll;
	mongoc_write_concern_t *wc;
	long		count;
	long		updates = 0;
	long		update_bulk = 0;
	double		t;
	int			rc = 0;

	if ((argc != 5 && argc != 7) || (count = strtol(argv[4], NULL, 10)) <= 0 ||
		(argc == 7 && ((updates = strtol(argv[5], NULL, 10)) <= 0 ||
					   (update_bulk = strtol(argv[6], NULL, 10)) <= 0)))
	{
		fprintf(stderr, "usage: mongo_ceiling URI DATABASE COLLECTION COUNT [UPDATES BULK]\n");
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

	if ((t = run(coll, wc, count, BULK_OPS, false, count)) < 0)
		rc = 2;
	else
		printf("inserted %ld documents in %.2f s: %.0f docs/s\n", count, t, count / t);
	if (rc == 0 && updates > 0)
	{
		if ((t = run(coll, wc, updates, update_bulk, true, count)) < 0)
			rc = 2;
		else
			printf("updated %ld documents in %.2f s: %.0f docs/s\n", updates, t, updates / t);
	}
	mongoc_write_concern_destroy(wc);
	mongoc_collection_destroy(coll);
	mongoc_client_destroy(client);
	mongoc_cleanup();
	return rc;
}
