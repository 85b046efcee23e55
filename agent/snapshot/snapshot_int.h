/*
 * snapshot_int.h
 *		What the initial load's files share: snapshot.c (when to load) and
 *		snapshot_load.c (reading and publishing).  Not for other modules.
 */
#ifndef WALCAST_SNAPSHOT_INT_H
#define WALCAST_SNAPSHOT_INT_H

#include <stdint.h>

#include "snapshot.h"
#include "snapshot_state.h"

/*
 * Read everything under snapshot_name (an exported snapshot, consistent
 * with the slot), or, when it is NULL, under a snapshot of its own (no
 * consistency with the slot: --snapshot=always/only on an existing slot,
 * --reload-table), and publish it to every sink.  Returns when every sink
 * confirmed every row; st (when not NULL) learns the counts.
 */
extern enum snapshot_status snapshot_load(struct agent *a,
										  const char *snapshot_name,
										  uint64_t lsn,
										  struct snapshot_state *st,
										  char *err, size_t errlen);

#endif							/* WALCAST_SNAPSHOT_INT_H */
