/*
 * snapshot_plan.h
 *		What a start does about the initial load (docs/snapshot.md, "When
 *		the agent loads" and "Restart"), decided from facts alone: the
 *		mode, --create-slot, the slot as pg_replication_slots shows it (the
 *		caller holds the slot's lock, so no other agent changes it), and
 *		the state file.  Pure, so that every case has a unit test.
 */
#ifndef WALCAST_SNAPSHOT_PLAN_H
#define WALCAST_SNAPSHOT_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "snapshot_state.h"

enum snapshot_plan_action
{
	SNAPSHOT_PLAN_STREAM,		/* stream from the slot, no load */
	SNAPSHOT_PLAN_LOAD_OWN,		/* load under a snapshot of its own, then
								 * stream (always/only on an existing slot) */
	SNAPSHOT_PLAN_CREATE,		/* create the slot with an exported snapshot,
								 * load, stream */
	SNAPSHOT_PLAN_RECREATE,		/* drop the slot, which served no load and
								 * consumed nothing, then as CREATE */
	SNAPSHOT_PLAN_MISSING,		/* the slot does not exist and may not be
								 * created: the stream's own error */
	SNAPSHOT_PLAN_REFUSE		/* why says why: going on could lose changes */
};

struct snapshot_plan_input
{
	enum config_snapshot mode;	/* not CONFIG_SNAPSHOT_NEVER */
	bool		create_slot;	/* --create-slot */
	const char *slot;			/* for messages */
	const char *state_path;		/* for messages */
	bool		slot_exists;
	bool		slot_used;		/* an earlier session of this process used it */
	uint64_t	slot_confirmed; /* confirmed_flush_lsn, when it exists */

	/* the state file; status NONE when absent or another slot's */
	const struct snapshot_state *st;
};

/*
 * The action; why is a sentence for the log: a warning for RECREATE and
 * for CREATE after an interrupted start, the error for REFUSE, an info
 * line for STREAM without a recorded load; "" otherwise.
 */
extern enum snapshot_plan_action snapshot_plan(const struct snapshot_plan_input *in,
											   char *why, size_t whylen);

#endif							/* WALCAST_SNAPSHOT_PLAN_H */
