/*
 * test_sink_mongo.c
 *		Unit tests of the MongoDB mirror's settings
 *		(sinks/sink_mongo_config.c) through the configuration engine:
 *		defaults, every error message, the write concern's syntax,
 *		cross-option rules, the masked URI in --print-config and ps.
 */
#define _POSIX_C_SOURCE 200809L	/* setenv, mkstemp, fileno, dup */

#include "config_harness.h"
#include "decoder.h"
#include "sink_mongo.h"

#define MONGO(cfg) sink_mongo_settings(cfg)

static void
test_mongo_defaults(void **state)
{
	struct agent_config cfg;
	char		err[512];
	char	   *argv[] = {"walcast-agent", NULL};

	(void) state;
	assert_int_equal(config_load(&cfg, 1, argv, err, sizeof(err)), CONFIG_OK);
	assert_null(MONGO(&cfg)->mongo_uri);
	assert_string_equal(MONGO(&cfg)->mongo_database, "walcast");
	assert_string_equal(MONGO(&cfg)->mongo_collection, "{table}");
	assert_string_equal(MONGO(&cfg)->mongo_write_concern, "w=majority,j=true");
	assert_int_equal(MONGO(&cfg)->mongo_numeric, SINK_MONGO_NUMERIC_DECIMAL128);
	assert_int_equal(MONGO(&cfg)->mongo_nested_arrays, SINK_MONGO_NATIVE);
	assert_int_equal(MONGO(&cfg)->mongo_nonfinite, SINK_MONGO_NATIVE);
	assert_false(MONGO(&cfg)->mongo_entry_id);
	assert_int_equal(MONGO(&cfg)->mongo_no_key, SINK_MONGO_NO_KEY_SKIP);
	assert_null(MONGO(&cfg)->mongo_tls_ca_file);
	assert_null(MONGO(&cfg)->mongo_tls_cert_key_file);
	config_free(&cfg);
}

static void
test_mongo_value_errors(void **state)
{
	(void) state;
	EXPECT_ERROR("--mongo-uri: not a valid mongodb:// URI", "--mongo-uri", "mongodb://u:secret@");
	EXPECT_ERROR("--mongo-uri: not a valid mongodb:// URI", "--mongo-uri", "http://u:secret@h");
	EXPECT_ERROR("--mongo-collection: unknown placeholder at \"{op}\" (use {schema} and {table})",
				 "--mongo-collection", "{table}_{op}");
	EXPECT_ERROR("--mongo-collection: a collection name cannot contain '$'",
				 "--mongo-collection", "a$b");
	EXPECT_ERROR("--mongo-collection: must not be empty", "--mongo-collection", "");
	EXPECT_ERROR("--mongo-database: must not be empty", "--mongo-database", "");
	EXPECT_ERROR("--mongo-write-concern: \"j=maybe\" is not a write concern item (w=N|majority|TAG, j=BOOL, wtimeout=MS)",
				 "--mongo-write-concern", "w=1,j=maybe");
	EXPECT_ERROR("--mongo-write-concern: \"fsync=true\" is not a write concern item (w=N|majority|TAG, j=BOOL, wtimeout=MS)",
				 "--mongo-write-concern", "fsync=true");
	EXPECT_ERROR("--mongo-write-concern: \"wtimeout=-5\" is not a write concern item (w=N|majority|TAG, j=BOOL, wtimeout=MS)",
				 "--mongo-write-concern", "wtimeout=-5");
	EXPECT_ERROR("--mongo-numeric: \"float\" is not one of decimal128, string, double",
				 "--mongo-numeric", "float");
	EXPECT_ERROR("--mongo-nested-arrays: \"flat\" is not one of array, string",
				 "--mongo-nested-arrays", "flat");
	EXPECT_ERROR("--mongo-nonfinite: \"null\" is not one of double, string",
				 "--mongo-nonfinite", "null");
	EXPECT_ERROR("--mongo-no-key: \"log\" is not one of skip, fail", "--mongo-no-key", "log");
	EXPECT_ERROR("--mongo-entry-id: \"maybe\" is not a boolean (true/false, on/off, yes/no, 1/0)",
				 "--mongo-entry-id", "maybe");
}

static void
test_mongo_options(void **state)
{
	struct agent_config cfg;
	struct sink_mongo_wc wc;
	char		err[512];

	(void) state;
	assert_int_equal(LOAD(&cfg, err, "--mongo-uri", "mongodb://u:p@h1,h2/?replicaSet=rs",
						  "--mongo-database", "mirror", "--mongo-collection", "{schema}_{table}",
						  "--mongo-write-concern", "w=2,j=false,wtimeout=5000",
						  "--mongo-numeric", "string", "--mongo-nested-arrays", "string",
						  "--mongo-nonfinite", "string", "--mongo-entry-id", "yes",
						  "--mongo-no-key", "fail", "--mongo-tls-ca-file", "ca.pem",
						  "--mongo-collection-map", "public.users=people",
						  "--mongo-collection-map", "my.schema.t=other"),
					 CONFIG_OK);
	assert_int_equal(MONGO(&cfg)->mongo_collection_map.count, 2);
	assert_string_equal(MONGO(&cfg)->mongo_collection_map.items[0].name, "public.users");
	assert_string_equal(MONGO(&cfg)->mongo_collection_map.items[0].value, "people");
	assert_string_equal(MONGO(&cfg)->mongo_collection_map.items[1].name, "my.schema.t");
	assert_string_equal(MONGO(&cfg)->mongo_collection_map.items[1].value, "other");
	assert_string_equal(MONGO(&cfg)->mongo_uri, "mongodb://u:p@h1,h2/?replicaSet=rs");
	assert_string_equal(MONGO(&cfg)->mongo_database, "mirror");
	assert_string_equal(MONGO(&cfg)->mongo_collection, "{schema}_{table}");
	assert_int_equal(MONGO(&cfg)->mongo_numeric, SINK_MONGO_NUMERIC_STRING);
	assert_int_equal(MONGO(&cfg)->mongo_nested_arrays, SINK_MONGO_STRING);
	assert_int_equal(MONGO(&cfg)->mongo_nonfinite, SINK_MONGO_STRING);
	assert_true(MONGO(&cfg)->mongo_entry_id);
	assert_int_equal(MONGO(&cfg)->mongo_no_key, SINK_MONGO_NO_KEY_FAIL);
	assert_string_equal(MONGO(&cfg)->mongo_tls_ca_file, "ca.pem");
	assert_true(sink_mongo_parse_wc(MONGO(&cfg)->mongo_write_concern, &wc, err, sizeof(err)));
	assert_int_equal(wc.w, 2);
	assert_true(wc.journal_set);
	assert_false(wc.journal);
	assert_int_equal(wc.wtimeout_ms, 5000);
	config_free(&cfg);

	/* The environment variable the issue names. */
	setenv("WALCAST_MONGO_URI", "mongodb://127.0.0.1:27017/", 1);
	assert_int_equal(LOAD(&cfg, err), CONFIG_OK);
	assert_string_equal(MONGO(&cfg)->mongo_uri, "mongodb://127.0.0.1:27017/");
	config_free(&cfg);
	unsetenv("WALCAST_MONGO_URI");

	assert_true(sink_mongo_parse_wc("majority", &wc, err, sizeof(err)));
	assert_int_equal(wc.w, -1);
	assert_false(wc.journal_set);
	assert_true(sink_mongo_parse_wc("dc1", &wc, err, sizeof(err)));
	assert_int_equal(wc.w, -2);
	assert_string_equal(wc.tag, "dc1");
	assert_true(sink_mongo_parse_wc("1", &wc, err, sizeof(err)));
	assert_int_equal(wc.w, 1);
}

static void
test_mongo_cross_option(void **state)
{
	(void) state;
	EXPECT_ERROR("mongo_tls_ca_file and mongo_tls_cert_key_file need mongo_uri",
				 "--mongo-tls-ca-file", "ca.pem");
	EXPECT_ERROR("mongo_collection_map: \"users=people\" is not SCHEMA.TABLE=COLLECTION (a collection name cannot be empty or contain '$')",
				 "--mongo-collection-map", "users=people");
	EXPECT_ERROR("mongo_collection_map: \"public.users=\" is not SCHEMA.TABLE=COLLECTION (a collection name cannot be empty or contain '$')",
				 "--mongo-collection-map", "public.users=");
	EXPECT_ERROR("mongo_collection_map: \"public.users=a$b\" is not SCHEMA.TABLE=COLLECTION (a collection name cannot be empty or contain '$')",
				 "--mongo-collection-map", "public.users=a$b");
	EXPECT_ERROR("--mongo-collection-map: \"public.users\" given twice",
				 "--mongo-collection-map", "public.users=a", "--mongo-collection-map", "public.users=b");
}

static void
test_mongo_mask(void **state)
{
	static const struct
	{
		const char *in;
		const char *out;
	}			cases[] = {
		{"mongodb://user:secret@db1:27017,db2/mirror?replicaSet=rs0",
		"mongodb://user:****@db1:27017,db2/mirror?replicaSet=rs0"},
		{"mongodb://us%40er:p%40ss@db/", "mongodb://us%40er:****@db/"},
		{"mongodb+srv://u:secret@cluster.example.com/?tls=true",
		"mongodb+srv://u:****@cluster.example.com/?tls=true"},
		{"mongodb://db/?tls=true&tlsCertificateKeyFilePassword=secret&appname=x",
		"mongodb://db/?tls=true&tlsCertificateKeyFilePassword=****&appname=x"},
		{"mongodb://127.0.0.1:27017/", "mongodb://127.0.0.1:27017/"},
		{"mongodb://u:secret@", "****"},
		/* no scheme: once pointer arithmetic on NULL (test/fuzz_uri,
		 * caught by UBSan under make test SANITIZE=undefined) */
		{"u:secret@db", "****"},
		/* the first '@' ends the user, as libmongoc reads it (test/fuzz_uri) */
		{"mongodb://u:p@d@h/?appname=x", "mongodb://u:****@d@h/?appname=x"},
		/* and a '?' before the first '/' is in the password */
		{"mongodb://u:p?w@h/?appname=x", "mongodb://u:****@h/?appname=x"},
		/* a backslash escapes ':', '@' and '/' there (test/fuzz_uri) */
		{"mongodb://u\\:p@h/", "mongodb://u\\:p@h/"},
		{"mongodb://u\\@x:p@h/", "mongodb://u\\@x:****@h/"},
		{"mongodb://u:p\\/x@h/", "mongodb://u:****@h/"},
		{"", "****"},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char	   *m = sink_mongo_mask_uri(cases[i].in);

		assert_non_null(m);
		assert_string_equal(m, cases[i].out);
		free(m);
	}
}

static void
test_mongo_print_config(void **state)
{
	char		out[8192];

	(void) state;
	assert_int_equal(LOAD_CAPTURED(out, "--print-config",
								   "--mongo-uri", "mongodb://m:hunter2@mdb/"),
					 CONFIG_DONE);
	assert_null(strstr(out, "hunter2"));
	assert_non_null(strstr(out, "\nmongo_uri = mongodb://m:****@mdb/  # --mongo-uri\n"));
	assert_non_null(strstr(out, "\nmongo_write_concern = w=majority,j=true\n"));
}

/* Its URI is a secret: ps does not show the password, nor a plain URI. */
static void
test_mongo_scrub(void **state)
{
	/* a backslash-escaped '/' is user-info to libmongoc (test/fuzz_uri) */
	const char *in[] = {"a", "--mongo-uri", "mongodb://h:1/", "--mongo-uri=mongodb://u:pw@h/",
	"--mongo-uri=mongodb://u:p\\/x@h/"};
	const char *want[] = {"a", "--mongo-uri", "mongodb://h:1/", "--mongo-uri=mongodb://u:**@h/",
	"--mongo-uri=mongodb://u:****@h/"};
	char	   *argv[5];

	(void) state;
	for (int i = 0; i < 5; i++)
		argv[i] = strdup(in[i]);
	config_scrub_argv(5, argv);
	for (int i = 0; i < 5; i++)
	{
		assert_string_equal(argv[i], want[i]);
		free(argv[i]);
	}
}

/* With other sinks, in registry order; the mirror needs keys and types. */
static void
test_mongo_registry(void **state)
{
	struct agent_config cfg;
	struct event_needs needs;
	char		err[512];
	char		names[128];

	(void) state;
	assert_int_equal(LOAD(&cfg, err, "--mongo-uri", "mongodb://h/", "--file-path", "/tmp/x"),
					 CONFIG_OK);
	sink_describe(&cfg, names, sizeof(names));
	assert_string_equal(names, "file and mongo");
	sink_needs(&cfg, &needs);
	assert_true(needs.types && needs.key);
	assert_string_equal(needs.key_setting, "mongo_uri");
	assert_string_equal(needs.key_why, "the mirror's _id is the key");
	config_free(&cfg);

	/* the decoder refuses what would leave the keys out */
	assert_int_equal(LOAD(&cfg, err, "--mongo-uri", "mongodb://h/", "-o", "include-pk=false"),
					 CONFIG_OK);
	sink_needs(&cfg, &needs);
	assert_false(decoder_check(&cfg, &needs, err, sizeof(err)));
	assert_string_equal(err, "option: include-pk=false is not possible with mongo_uri (the mirror's _id is the key)");
	config_free(&cfg);

	/* alone, the mirror replaces stdout too */
	assert_int_equal(LOAD(&cfg, err, "--mongo-uri", "mongodb://h/"), CONFIG_OK);
	sink_describe(&cfg, names, sizeof(names));
	assert_string_equal(names, "mongo");
	config_free(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mongo_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mongo_value_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mongo_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mongo_cross_option, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mongo_mask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mongo_print_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mongo_scrub, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mongo_registry, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
