/*
 * partition.c
 *		An event's partition (see partition.h; docs/partitioning.md is the
 *		specification a consumer reimplements, with test vectors).
 *
 * FNV-1a because it is a dozen lines in any language, needs no table and
 * no seed, and spreads short keys well enough for a modulus: the point is
 * that a consumer can compute the same partition from the record alone.
 * The bytes are the record's own text, never a re-rendering: a number
 * hashes as its digits as sent (yyjson keeps numbers as text here), a
 * string as its unescaped characters, a container as its JSON text as the
 * record writes it (event_value_text).
 */
#include "partition.h"

#include <string.h>

uint32_t
partition_fnv1a(uint32_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++)
	{
		h ^= p[i];
		h *= PARTITION_FNV_PRIME;
	}
	return h;
}

/* A text and its 0x00 terminator, the unit every part of the hash uses. */
static uint32_t
partition_add(uint32_t h, const char *s, size_t len)
{
	static const char zero = '\0';

	if (s != NULL)
		h = partition_fnv1a(h, s, len);
	return partition_fnv1a(h, &zero, 1);
}

/*
 * Where a key column's value is: new for inserts, updates and load rows,
 * old for deletes.  A column an update's new leaves out (an unchanged
 * TOAST value) is taken from old when old has it.
 */
static yyjson_val *
partition_find(const struct event *ev, yyjson_val *name)
{
	yyjson_val *newrow = yyjson_obj_get(ev->rec, "new");
	yyjson_val *oldrow = yyjson_obj_get(ev->rec, "old");
	yyjson_val *k;

	if (ev->op == EVENT_DELETE)
		return event_find_key(oldrow, name);
	k = event_find_key(newrow, name);
	if (k == NULL && ev->op == EVENT_UPDATE)
		k = event_find_key(oldrow, name);
	return k;
}

/* One key column's value text, then 0x00; absent: the 0x00 alone. */
static uint32_t
partition_add_value(uint32_t h, const struct event *ev, yyjson_val *name)
{
	yyjson_val *k = partition_find(ev, name);
	yyjson_val *v;
	struct event_text t;

	if (k == NULL)
		return partition_add(h, NULL, 0);
	v = yyjson_obj_iter_get_val(k);
	if (yyjson_is_str(v))
		return partition_add(h, yyjson_get_str(v), yyjson_get_len(v));
	t = event_value_text(ev, k);
	return partition_add(h, t.ptr, t.len);
}

uint32_t
partition_hash(const struct event *ev)
{
	uint32_t	h = PARTITION_FNV_BASIS;
	yyjson_val *pk;
	yyjson_val *name;
	size_t		idx,
				max;

	if (ev->op == EVENT_MESSAGE)
	{
		yyjson_val *prefix = yyjson_obj_get(ev->rec, "prefix");

		return partition_fnv1a(h, yyjson_get_str(prefix), yyjson_get_len(prefix));
	}

	h = partition_add(h, ev->schema, ev->schema ? strlen(ev->schema) : 0);
	h = partition_add(h, ev->table, ev->table ? strlen(ev->table) : 0);
	/* without a key (no "pk", or []): the table's hash */
	pk = yyjson_obj_get(ev->rec, "pk");
	yyjson_arr_foreach(pk, idx, max, name)
	{
		if (yyjson_is_str(name))
			h = partition_add_value(h, ev, name);
	}
	return h;
}

int
partition_of(const struct event *ev, int n)
{
	if (ev->op == EVENT_TRUNCATE)
		return PARTITION_ALL;
	return (int) (partition_hash(ev) % (uint32_t) n);
}
