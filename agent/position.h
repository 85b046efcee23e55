/*
 * position.h
 *		The newest position this agent reported to PostgreSQL as flushed,
 *		kept durably in the state directory (<state_dir>/<slot>.position),
 *		so that a slot dropped and recreated by someone else while the
 *		agent was stopped is noticed instead of silently skipping the
 *		changes between (docs/agent-operations.md, "Slot lost").
 *
 * The file is written before a new flush position is sent, so it is never
 * behind what the slot learnt from this agent: a slot whose confirmed
 * position lies after it has been moved by someone else.
 */
#ifndef WALCAST_POSITION_H
#define WALCAST_POSITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct position
{
	char	   *path;			/* malloc'd; NULL: not set up */
	char		system_id[32];	/* the cluster it belongs to */
	uint64_t	saved;			/* in the file (0: none) */
	bool		found;			/* a file of this cluster was read */
};

/*
 * Read <dir>/<slot>.position for the cluster system_id.  A missing file,
 * or one of another cluster, is found = false; an unreadable or torn one
 * is false with err set.
 */
extern bool position_load(struct position *p, const char *dir,
						  const char *slot, const char *system_id,
						  char *err, size_t errlen);

/* Record lsn durably if it is newer than what the file says. */
extern bool position_save(struct position *p, uint64_t lsn, char *err,
						  size_t errlen);

/* Record lsn durably, even if older (a slot this agent created anew). */
extern bool position_reset(struct position *p, uint64_t lsn, char *err,
						   size_t errlen);

extern void position_free(struct position *p);

#endif							/* WALCAST_POSITION_H */
