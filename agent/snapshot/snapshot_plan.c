/*
 * snapshot_plan.c
 *		The initial load's decision table (see snapshot_plan.h and
 *		docs/snapshot.md, "Restart").
 *
 * The one rule behind every case: a slot may be dropped only when the
 * agent knows it was made for a load that has not finished, and that
 * nothing was streamed from it.  Then the stream has consumed nothing, a
 * new slot with a new exported snapshot and a new load lose nothing.  In
 * every other doubt the agent refuses and says what an operator can do.
 */
#include "snapshot_plan.h"

#include <stdio.h>

#include "lsn.h"

enum snapshot_plan_action
snapshot_plan(const struct snapshot_plan_input *in, char *why, size_t whylen)
{
	const struct snapshot_state *st = in->st;
	char		cp[LSN_BUFLEN];
	char		confirmed[LSN_BUFLEN];
	char		create[LSN_BUFLEN];

	why[0] = '\0';
	lsn_format(st->consistent_point, cp, sizeof(cp));
	lsn_format(in->slot_confirmed, confirmed, sizeof(confirmed));
	lsn_format(st->create_lsn, create, sizeof(create));

	switch (st->status)
	{
		case SNAPSHOT_STATE_CREATING:

			/*
			 * The state was made durable before CREATE_REPLICATION_SLOT, and
			 * "loading" only after the slot was created: the start that
			 * wrote it died in between, perhaps after the server created
			 * the slot but before the agent heard of it.  No row was read
			 * under that slot's snapshot and no change streamed from it.
			 */
			if (!in->slot_exists)
			{
				snprintf(why, whylen,
						 "a previous start was about to create slot \"%s\" for an initial load and stopped (%s says \"creating\"): creating it now",
						 in->slot, in->state_path);
				return SNAPSHOT_PLAN_CREATE;
			}
			if (in->slot_confirmed < st->create_lsn)
			{
				/* a slot created after create_lsn cannot be confirmed below it */
				snprintf(why, whylen,
						 "%s says the agent was about to create slot \"%s\" at WAL position %s, but the existing slot is older (confirmed up to %s): it is not the one the agent made, and dropping it could lose changes, so the agent will not; drop the slot if nothing needs its changes, or delete the state file to stream from it (docs/snapshot.md)",
						 in->state_path, in->slot, create, confirmed);
				return SNAPSHOT_PLAN_REFUSE;
			}
			snprintf(why, whylen,
					 "slot \"%s\" was created for an initial load by a start that stopped before recording it (%s says \"creating\"): it has served no load and consumed nothing, so the agent drops it and creates it anew for a new load",
					 in->slot, in->state_path);
			return SNAPSHOT_PLAN_RECREATE;

		case SNAPSHOT_STATE_LOADING:
			/*
			 * Dropped by someone while no load had completed: nothing was
			 * streamed from it, so a new slot and a new load lose nothing,
			 * even if this process had created it.
			 */
			if (!in->slot_exists)
				return in->create_slot ? SNAPSHOT_PLAN_CREATE : SNAPSHOT_PLAN_MISSING;

			/*
			 * The exported snapshot died with the connection of the start
			 * that loaded, so the load cannot be resumed.  If that start
			 * created the slot and the slot has not moved, nothing of the
			 * stream was consumed: a new slot and load lose nothing.
			 */
			if (!st->created_slot || in->slot_confirmed != st->consistent_point)
			{
				snprintf(why, whylen,
						 "the initial load of slot \"%s\" did not complete (%s), and the slot %s: recreating it could lose changes, so the agent will not; drop the slot and delete the state file to start over, or delete the state file and use --snapshot=always or never (docs/snapshot.md)",
						 in->slot, in->state_path,
						 !st->created_slot ? "was not created by the agent for it" :
						 "has moved past its consistent point");
				return SNAPSHOT_PLAN_REFUSE;
			}
			snprintf(why, whylen,
					 "the initial load of slot \"%s\" (consistent point %s) did not complete: dropping the slot, which has consumed nothing, and creating it anew for a new load",
					 in->slot, cp);
			return SNAPSHOT_PLAN_RECREATE;

		case SNAPSHOT_STATE_NONE:
		case SNAPSHOT_STATE_DONE:
			break;
	}

	/*
	 * --create-slot is about the first start.  A slot this process already
	 * used (and whose load, if any, completed) that is now gone was dropped
	 * under it: creating it again would hide the changes lost meanwhile.
	 */
	if (!in->slot_exists)
		return in->create_slot && !in->slot_used ? SNAPSHOT_PLAN_CREATE :
			SNAPSHOT_PLAN_MISSING;
	if (in->mode == CONFIG_SNAPSHOT_ALWAYS || in->mode == CONFIG_SNAPSHOT_ONLY)
		return SNAPSHOT_PLAN_LOAD_OWN;
	if (st->status == SNAPSHOT_STATE_NONE)
		snprintf(why, whylen,
				 "replication slot \"%s\" was not created by this agent with a load (no state in \"%s\"): streaming without an initial load (--snapshot=always loads anyway)",
				 in->slot, in->state_path);
	return SNAPSHOT_PLAN_STREAM;
}
