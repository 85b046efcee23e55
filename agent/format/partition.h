/*
 * partition.h
 *		Which partition an event belongs to with --partitions N: FNV-1a
 *		32-bit over the schema, the table and the key values' text, modulo
 *		N (docs/partitioning.md gives the algorithm and test vectors, so
 *		that a consumer in any language computes the same number).
 *
 * Pure: it reads the event and nothing else, names no sink and no
 * setting.  The RabbitMQ sink publishes each event to its partition's
 * routing key; a TRUNCATE goes to every partition (PARTITION_ALL).
 */
#ifndef WALCAST_PARTITION_H
#define WALCAST_PARTITION_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

/* --partitions accepts 1..PARTITION_MAX (0 = off). */
#define PARTITION_MAX 1024

/* partition_of's answer for a TRUNCATE: one message per partition. */
#define PARTITION_ALL (-1)

/* FNV-1a 32-bit: start from the offset basis, fold bytes in. */
#define PARTITION_FNV_BASIS UINT32_C(2166136261)
#define PARTITION_FNV_PRIME UINT32_C(16777619)

extern uint32_t partition_fnv1a(uint32_t h, const void *data, size_t len);

/*
 * The hash of ev: a logical message's prefix; a row change's schema, 0x00,
 * table, 0x00, then each key column's value text and 0x00 (the key
 * columns as the record's "pk" lists them; none without a key).
 */
extern uint32_t partition_hash(const struct event *ev);

/* ev's partition among n (n >= 1), or PARTITION_ALL for a TRUNCATE. */
extern int	partition_of(const struct event *ev, int n);

#endif							/* WALCAST_PARTITION_H */
