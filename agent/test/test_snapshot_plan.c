/*
 * test_snapshot_plan.c
 *		Unit tests of snapshot_plan.c: what a start does for every state
 *		file status, slot (absent, ours, moved, older than the attempt),
 *		mode and --create-slot; the table in docs/snapshot.md, "Restart".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "snapshot_plan.h"

#define CP 0x1000				/* the recorded consistent point */
#define CREATE 0x0F00			/* the recorded create_lsn */

enum slot
{
	ABSENT,
	AT_CP,						/* confirmed at the consistent point */
	MOVED,						/* confirmed past it */
	OLDER						/* confirmed below create_lsn */
};

struct plan_case
{
	enum snapshot_state_status status;
	bool		created_slot;
	enum slot	slot;
	enum config_snapshot mode;
	bool		create_slot;
	enum snapshot_plan_action want;
	const char *why;			/* a part of the message, or "" for none */
};

/* used: an earlier session of this process used the slot (a reconnect) */
static enum snapshot_plan_action
plan_used(const struct plan_case *c, bool used, char *why, size_t whylen)
{
	struct snapshot_state st;
	struct snapshot_plan_input in;

	memset(&st, 0, sizeof(st));
	st.status = c->status;
	st.created_slot = c->created_slot;
	st.create_lsn = CREATE;
	st.consistent_point = c->status == SNAPSHOT_STATE_CREATING ? 0 : CP;
	memset(&in, 0, sizeof(in));
	in.mode = c->mode;
	in.create_slot = c->create_slot;
	in.slot = "s";
	in.state_path = "dir/s.snapshot";
	in.slot_exists = c->slot != ABSENT;
	in.slot_used = used;
	in.slot_confirmed = c->slot == AT_CP ? CP : c->slot == MOVED ? CP + 0x100 :
		c->slot == OLDER ? CREATE - 0x10 : 0;
	in.st = &st;
	return snapshot_plan(&in, why, whylen);
}

static enum snapshot_plan_action
plan(const struct plan_case *c, char *why, size_t whylen)
{
	return plan_used(c, false, why, whylen);
}

#define I CONFIG_SNAPSHOT_INITIAL
#define A CONFIG_SNAPSHOT_ALWAYS
#define O CONFIG_SNAPSHOT_ONLY

static const struct plan_case cases[] = {
	/* creating: the slot, if any, was made for a load that read nothing */
	{SNAPSHOT_STATE_CREATING, true, ABSENT, I, false, SNAPSHOT_PLAN_CREATE,
	"a previous start was about to create slot \"s\" for an initial load and stopped (dir/s.snapshot says \"creating\"): creating it now"},
	{SNAPSHOT_STATE_CREATING, true, ABSENT, O, true, SNAPSHOT_PLAN_CREATE, "creating it now"},
	{SNAPSHOT_STATE_CREATING, true, AT_CP, I, false, SNAPSHOT_PLAN_RECREATE,
	"slot \"s\" was created for an initial load by a start that stopped before recording it (dir/s.snapshot says \"creating\"): it has served no load and consumed nothing, so the agent drops it and creates it anew for a new load"},
	{SNAPSHOT_STATE_CREATING, true, MOVED, A, true, SNAPSHOT_PLAN_RECREATE, "drops it and creates it anew"},
	{SNAPSHOT_STATE_CREATING, true, OLDER, I, true, SNAPSHOT_PLAN_REFUSE,
	"dir/s.snapshot says the agent was about to create slot \"s\" at WAL position 0/F00, but the existing slot is older (confirmed up to 0/EF0): it is not the one the agent made, and dropping it could lose changes, so the agent will not; drop the slot if nothing needs its changes, or delete the state file to stream from it (docs/snapshot.md)"},
	{SNAPSHOT_STATE_CREATING, true, OLDER, O, false, SNAPSHOT_PLAN_REFUSE, "the existing slot is older"},

	/* loading: restart only an untouched slot the agent created */
	{SNAPSHOT_STATE_LOADING, true, AT_CP, I, false, SNAPSHOT_PLAN_RECREATE,
	"the initial load of slot \"s\" (consistent point 0/1000) did not complete: dropping the slot, which has consumed nothing, and creating it anew for a new load"},
	{SNAPSHOT_STATE_LOADING, true, AT_CP, A, true, SNAPSHOT_PLAN_RECREATE, "did not complete: dropping the slot"},
	{SNAPSHOT_STATE_LOADING, true, MOVED, I, true, SNAPSHOT_PLAN_REFUSE,
	"the initial load of slot \"s\" did not complete (dir/s.snapshot), and the slot has moved past its consistent point: recreating it could lose changes, so the agent will not; drop the slot and delete the state file to start over, or delete the state file and use --snapshot=always or never (docs/snapshot.md)"},
	{SNAPSHOT_STATE_LOADING, false, AT_CP, I, true, SNAPSHOT_PLAN_REFUSE, "and the slot was not created by the agent for it: recreating it could lose changes"},
	{SNAPSHOT_STATE_LOADING, true, ABSENT, I, true, SNAPSHOT_PLAN_CREATE, ""},
	{SNAPSHOT_STATE_LOADING, true, ABSENT, I, false, SNAPSHOT_PLAN_MISSING, ""},

	/* done: the load happened; stream, or load again when asked */
	{SNAPSHOT_STATE_DONE, true, AT_CP, I, false, SNAPSHOT_PLAN_STREAM, ""},
	{SNAPSHOT_STATE_DONE, true, MOVED, I, true, SNAPSHOT_PLAN_STREAM, ""},
	{SNAPSHOT_STATE_DONE, true, MOVED, A, false, SNAPSHOT_PLAN_LOAD_OWN, ""},
	{SNAPSHOT_STATE_DONE, true, MOVED, O, false, SNAPSHOT_PLAN_LOAD_OWN, ""},
	{SNAPSHOT_STATE_DONE, true, ABSENT, I, true, SNAPSHOT_PLAN_CREATE, ""},
	{SNAPSHOT_STATE_DONE, true, ABSENT, A, false, SNAPSHOT_PLAN_MISSING, ""},

	/* no state: a slot someone else made is streamed, and said so */
	{SNAPSHOT_STATE_NONE, false, MOVED, I, false, SNAPSHOT_PLAN_STREAM,
	"replication slot \"s\" was not created by this agent with a load (no state in \"dir/s.snapshot\"): streaming without an initial load (--snapshot=always loads anyway)"},
	{SNAPSHOT_STATE_NONE, false, MOVED, I, true, SNAPSHOT_PLAN_STREAM, "streaming without an initial load"},
	{SNAPSHOT_STATE_NONE, false, MOVED, A, false, SNAPSHOT_PLAN_LOAD_OWN, ""},
	{SNAPSHOT_STATE_NONE, false, ABSENT, I, true, SNAPSHOT_PLAN_CREATE, ""},
	{SNAPSHOT_STATE_NONE, false, ABSENT, O, true, SNAPSHOT_PLAN_CREATE, ""},
	{SNAPSHOT_STATE_NONE, false, ABSENT, I, false, SNAPSHOT_PLAN_MISSING, ""},
};

/*
 * A reconnect of the process that created or streamed from the slot: it
 * never creates the slot again once a load completed (--create-slot is
 * about the first start, issue 12); an unfinished load or creation starts
 * over, which loses nothing since nothing was streamed.
 */
static const struct plan_case reconnect_cases[] = {
	{SNAPSHOT_STATE_DONE, true, ABSENT, I, true, SNAPSHOT_PLAN_MISSING, ""},
	{SNAPSHOT_STATE_NONE, false, ABSENT, I, true, SNAPSHOT_PLAN_MISSING, ""},
	{SNAPSHOT_STATE_NONE, false, ABSENT, O, true, SNAPSHOT_PLAN_MISSING, ""},
	{SNAPSHOT_STATE_LOADING, true, ABSENT, I, true, SNAPSHOT_PLAN_CREATE, ""},
	{SNAPSHOT_STATE_CREATING, true, ABSENT, I, true, SNAPSHOT_PLAN_CREATE, "creating it now"},
	{SNAPSHOT_STATE_LOADING, true, AT_CP, I, true, SNAPSHOT_PLAN_RECREATE, "did not complete: dropping the slot"},
	{SNAPSHOT_STATE_DONE, true, AT_CP, I, true, SNAPSHOT_PLAN_STREAM, ""},
};

static void
check_cases(const struct plan_case *cases, size_t n, bool used)
{
	char		why[1024];

	for (size_t i = 0; i < n; i++)
	{
		enum snapshot_plan_action got = plan_used(&cases[i], used, why, sizeof(why));

		if (got != cases[i].want)
			fail_msg("case %zu: action %d, want %d (%s)", i, got, cases[i].want, why);
		if (cases[i].why[0] == '\0')
		{
			if (why[0] != '\0')
				fail_msg("case %zu: unexpected message: %s", i, why);
		}
		else if (strstr(why, cases[i].why) == NULL)
			fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, why, cases[i].why);
	}
}

static void
test_table(void **state)
{
	(void) state;
	check_cases(cases, sizeof(cases) / sizeof(cases[0]), false);
}

static void
test_reconnect(void **state)
{
	(void) state;
	check_cases(reconnect_cases, sizeof(reconnect_cases) / sizeof(reconnect_cases[0]), true);
}

/*
 * The one rule, checked over every combination: a slot is dropped only
 * when the state file says the agent made it for an unfinished load, and
 * (loading) it has not moved or (creating) it is not older than the
 * attempt; an active slot never reaches the plan.
 */
static void
test_drop_only_when_safe(void **state)
{
	const enum config_snapshot modes[] = {I, A, O};
	char		why[1024];

	(void) state;
	for (int status = SNAPSHOT_STATE_NONE; status <= SNAPSHOT_STATE_DONE; status++)
		for (int created = 0; created < 2; created++)
			for (int slot = ABSENT; slot <= OLDER; slot++)
				for (size_t m = 0; m < 3; m++)
					for (int create = 0; create < 2; create++)
					{
						struct plan_case c = {(enum snapshot_state_status) status, created,
						(enum slot) slot, modes[m], create, 0, ""};
						bool		safe = (status == SNAPSHOT_STATE_CREATING && slot != ABSENT &&
											slot != OLDER) ||
							(status == SNAPSHOT_STATE_LOADING && created && slot == AT_CP);

						if ((plan(&c, why, sizeof(why)) == SNAPSHOT_PLAN_RECREATE) != safe)
							fail_msg("status %d created %d slot %d mode %d create %d: %s",
									 status, created, slot, (int) m, create, why);
					}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_reconnect),
		cmocka_unit_test(test_drop_only_when_safe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
