/*
 * snapshot_state.h
 *		The initial load's durable record (docs/snapshot.md, "State file"):
 *		one small key = value file per slot, <state_dir>/<slot>.snapshot,
 *		replaced atomically (write, fsync, rename, fsync the directory).
 *
 * It answers the questions a restart asks: did this agent create the slot
 * for a load, at which consistent point, and did that load complete?
 */
#ifndef WALCAST_SNAPSHOT_STATE_H
#define WALCAST_SNAPSHOT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum snapshot_state_status
{
	SNAPSHOT_STATE_NONE,		/* no file: no load recorded */
	SNAPSHOT_STATE_LOADING,		/* a load began and did not complete */
	SNAPSHOT_STATE_DONE			/* a load completed and every sink confirmed it */
};

struct snapshot_state
{
	enum snapshot_state_status status;
	char		system_id[32];	/* IDENTIFY_SYSTEM's systemid */
	char		database[128];
	char		slot[64];
	uint64_t	consistent_point;
	bool		created_slot;	/* the agent created the slot for this load */
	uint64_t	rows;			/* rows published (done: the whole load) */
	int64_t		tables;
};

/* The file's path, malloc'd; NULL when out of memory. */
extern char *snapshot_state_path(const char *dir, const char *slot);

/*
 * Read the file at path.  A missing file is status NONE and true; a file
 * that cannot be read or parsed is false with err set (never guessed).
 */
extern bool snapshot_state_read(const char *path, struct snapshot_state *st,
								char *err, size_t errlen);

/* Replace the file at path durably. */
extern bool snapshot_state_write(const char *path,
								 const struct snapshot_state *st,
								 char *err, size_t errlen);

#endif							/* WALCAST_SNAPSHOT_STATE_H */
