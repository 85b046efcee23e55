/*
 * snapshot_state.h
 *		The initial load's durable record (docs/snapshot.md, "State file"):
 *		one small key = value file per slot, <state_dir>/<slot>.snapshot,
 *		replaced atomically (write, fsync, rename, fsync the directory).
 *
 * It answers the questions a restart asks: was the agent about to create
 * the slot for a load, did it create the slot for a load, at which
 * consistent point, and did that load complete?
 */
#ifndef WALCAST_SNAPSHOT_STATE_H
#define WALCAST_SNAPSHOT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum snapshot_state_status
{
	SNAPSHOT_STATE_NONE,		/* no file: no load recorded */

	/*
	 * Written before CREATE_REPLICATION_SLOT (and before the drop of a slot
	 * about to be recreated): a slot found with this status was made for a
	 * load that never read a row, so it may be dropped and made anew.
	 */
	SNAPSHOT_STATE_CREATING,
	SNAPSHOT_STATE_LOADING,		/* a load began and did not complete */
	SNAPSHOT_STATE_DONE			/* a load completed and every sink confirmed it */
};

struct snapshot_state
{
	enum snapshot_state_status status;
	char		system_id[32];	/* IDENTIFY_SYSTEM's systemid */
	char		database[128];
	char		slot[64];

	/*
	 * creating: the slot the agent creates, or the one it drops to create
	 * anew, has its confirmed position at or after create_lsn; an older
	 * slot is not the agent's.
	 */
	uint64_t	create_lsn;
	uint64_t	consistent_point;	/* loading, done */
	bool		created_slot;	/* the agent created the slot for this load */
	uint64_t	rows;			/* rows published (done: the whole load) */
	int64_t		tables;
};

/* "none", "creating", "loading", "done". */
extern const char *snapshot_state_name(enum snapshot_state_status status);

/* The file's path, malloc'd; NULL when out of memory. */
extern char *snapshot_state_path(const char *dir, const char *slot);

/*
 * The file's text (NUL-terminated) into *st; false with err set (naming
 * `name` and the line) when it cannot be parsed or lacks what its status
 * needs.  Unknown keys are ignored (a newer agent's); a known key twice is
 * an error.
 */
extern bool snapshot_state_parse(const char *text, const char *name,
								 struct snapshot_state *st, char *err,
								 size_t errlen);

/* The file's text; false when buf is too small. */
extern bool snapshot_state_format(const struct snapshot_state *st, char *buf,
								  size_t buflen);

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
