/*
 * test_partition.c
 *		Unit tests of format/partition.c: the FNV-1a test vectors of
 *		docs/partitioning.md (the contract's and the records'), and which
 *		partition each kind of record goes to.  The expected hashes were
 *		computed from the documented byte layout by a separate Python
 *		script, not by this code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "partition.h"
#include "walcast_record.h"

static uint32_t
fnv(const char *s, size_t len)
{
	return partition_fnv1a(PARTITION_FNV_BASIS, s, len);
}

/* The contract's vectors (docs/partitioning.md). */
static void
test_fnv1a_vectors(void **state)
{
	(void) state;
	assert_int_equal(fnv("", 0), 0x811c9dc5u);
	assert_int_equal(fnv("a", 1), 0xe40c292cu);
	assert_int_equal(fnv("foobar", 6), 0xbf9cf968u);
	/* the bytes may include 0x00: the hash is over bytes, not C strings */
	assert_int_equal(fnv("public\0orders\00042\0", 17), 0xaa12fb9fu);
	/* folding in two calls is folding once */
	assert_int_equal(partition_fnv1a(fnv("foo", 3), "bar", 3), 0xbf9cf968u);
}

static uint32_t
hash_of(const char *json, int n, int *partition)
{
	struct event ev;
	char		err[256];
	uint32_t	h;

	assert_true(walcast_record_parse(&ev, json, strlen(json), err, sizeof(err)));
	h = partition_hash(&ev);
	*partition = partition_of(&ev, n);
	event_free(&ev);
	return h;
}

#define HEAD "\"xid\":7,\"commit_lsn\":\"0/10\",\"seq\":1,\"lsn\":\"0/8\","

/* The records of docs/partitioning.md, and every value type. */
static void
test_records(void **state)
{
	static const struct
	{
		const char *json;
		uint32_t	hash;
		int			p4;			/* partition among 4 */
	}			cases[] = {
		/* docs: public.orders id 42 */
		{"{\"action\":\"I\"," HEAD "\"schema\":\"public\",\"table\":\"orders\",\"pk\":[\"id\"],\"new\":{\"id\":42,\"note\":\"x\"}}",
		0xaa12fb9fu, 3},
		/* its delete: the key from old, the same partition */
		{"{\"action\":\"D\"," HEAD "\"schema\":\"public\",\"table\":\"orders\",\"pk\":[\"id\"],\"identity\":\"default\",\"old\":{\"id\":42}}",
		0xaa12fb9fu, 3},
		/* a load row: like an insert */
		{"{\"action\":\"L\",\"lsn\":\"0/8\",\"schema\":\"public\",\"table\":\"orders\",\"pk\":[\"id\"],\"new\":{\"note\":null,\"id\":42}}",
		0xaa12fb9fu, 3},
		/* an update moving the key: the new key's partition */
		{"{\"action\":\"U\"," HEAD "\"schema\":\"public\",\"table\":\"orders\",\"pk\":[\"id\"],\"identity\":\"default\",\"new\":{\"id\":43},\"old\":{\"id\":42}}",
		0x84108136u, 2},
		/* docs: a text key */
		{"{\"action\":\"I\"," HEAD "\"schema\":\"public\",\"table\":\"users\",\"pk\":[\"email\"],\"new\":{\"email\":\"ann@example.com\"}}",
		0x82396096u, 2},
		/* docs: a two-column key, in pk's order, not the row's */
		{"{\"action\":\"I\"," HEAD "\"schema\":\"shop\",\"table\":\"order_items\",\"pk\":[\"order_id\",\"line\"],\"new\":{\"line\":2,\"order_id\":7}}",
		0x9fd23253u, 3},
		/* no key: the table's hash; "pk" absent or empty alike */
		{"{\"action\":\"I\"," HEAD "\"schema\":\"public\",\"table\":\"log\",\"pk\":[],\"new\":{\"m\":1}}",
		0xc2241586u, 2},
		{"{\"action\":\"I\"," HEAD "\"schema\":\"public\",\"table\":\"log\",\"new\":{\"m\":1}}",
		0xc2241586u, 2},
		/* a string hashes unescaped, as UTF-8 */
		{"{\"action\":\"I\"," HEAD "\"schema\":\"public\",\"table\":\"t\",\"pk\":[\"k\"],\"new\":{\"k\":\"caf\\u00e9 \\\"q\\\"\"}}",
		0xb1970575u, 1},
		{"{\"action\":\"I\"," HEAD "\"schema\":\"public\",\"table\":\"t\",\"pk\":[\"k\"],\"new\":{\"k\":\"caf\xc3\xa9 \\\"q\\\"\"}}",
		0xb1970575u, 1},
		/* a number as written ("1.50", not 1.5), then a string */
		{"{\"action\":\"I\"," HEAD "\"schema\":\"public\",\"table\":\"t\",\"pk\":[\"n\",\"s\"],\"new\":{\"n\":1.50,\"s\":\"x\"}}",
		0xb213474au, 2},
		/* containers as the record writes them; literals as their words */
		{"{\"action\":\"I\"," HEAD "\"schema\":\"public\",\"table\":\"t\",\"pk\":[\"k\"],\"new\":{\"k\":[1,2]}}",
		0xa97b9bdbu, 3},
		{"{\"action\":\"I\"," HEAD "\"schema\":\"public\",\"table\":\"t\",\"pk\":[\"k\"],\"new\":{\"k\":{\"a\":1}}}",
		0xe84eb486u, 2},
		{"{\"action\":\"I\"," HEAD "\"schema\":\"public\",\"table\":\"t\",\"pk\":[\"k\"],\"new\":{\"k\":true}}",
		0x5ef7541cu, 0},
		{"{\"action\":\"I\"," HEAD "\"schema\":\"public\",\"table\":\"t\",\"pk\":[\"k\"],\"new\":{\"k\":null}}",
		0x910b1ed3u, 3},
		/* a key value the record lacks hashes as empty text */
		{"{\"action\":\"D\"," HEAD "\"schema\":\"public\",\"table\":\"orders\",\"pk\":[\"id\"],\"identity\":\"nothing\",\"old\":null}",
		0xa0f4c7d9u, 1},
		/* an update without the key in new (unchanged TOAST): from old */
		{"{\"action\":\"U\"," HEAD "\"schema\":\"public\",\"table\":\"orders\",\"pk\":[\"id\"],\"identity\":\"full\",\"new\":{\"note\":\"y\"},\"unchanged\":[\"id\"],\"old\":{\"id\":42,\"note\":\"x\"}}",
		0xaa12fb9fu, 3},
		/* a logical message: its prefix */
		{"{\"action\":\"M\",\"lsn\":\"0/8\",\"transactional\":false,\"prefix\":\"audit\",\"content\":\"x\"}",
		0xf5615aa8u, 0},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		int			p;

		assert_int_equal(hash_of(cases[i].json, 4, &p), cases[i].hash);
		assert_int_equal(p, cases[i].p4);
		(void) hash_of(cases[i].json, 1024, &p);
		assert_int_equal(p, (int) (cases[i].hash % 1024));
		(void) hash_of(cases[i].json, 1, &p);
		assert_int_equal(p, 0);
	}
}

/* A TRUNCATE goes to every partition. */
static void
test_truncate(void **state)
{
	int			p;

	(void) state;
	(void) hash_of("{\"action\":\"T\"," HEAD "\"schema\":\"public\",\"table\":\"orders\",\"cascade\":false,\"restart_identity\":false}",
				   4, &p);
	assert_int_equal(p, PARTITION_ALL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fnv1a_vectors),
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_truncate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
