/*
 * snapshot.c
 *		When to load, and the slot it needs: the initial full load,
 *		consistent with the stream (see snapshot.h and docs/snapshot.md;
 *		reading the tables is snapshot_load.c's).
 *
 * Consistency comes from PostgreSQL itself, as in logical replication's
 * table synchronisation and pg_recvlogical + pg_dump --snapshot:
 * CREATE_REPLICATION_SLOT ... EXPORT_SNAPSHOT returns the slot's
 * consistent point and the name of a snapshot that sees exactly the
 * transactions committed before it.  A second connection adopts it
 * (SET TRANSACTION SNAPSHOT in a REPEATABLE READ transaction) and reads
 * every table; the stream then starts at the consistent point, where
 * decoding begins with the first transaction the snapshot did not see.
 * The exported snapshot lives only while the replication connection runs
 * no other command, so that connection stays idle until the load is
 * confirmed (a walsender waiting for a command has no wal_sender_timeout).
 * Nothing is acknowledged to the slot before every sink confirmed the
 * whole load.
 */
#include "snapshot_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "snapshot_plan.h"

/* ---- when to load ---- */

static enum snapshot_status
snapshot_stream_status(enum stream_status st)
{
	switch (st)
	{
		case STREAM_OK:
			return SNAPSHOT_STREAM;
		case STREAM_UNREACHABLE:
			return SNAPSHOT_UNREACHABLE;
		case STREAM_RETRY:
			return SNAPSHOT_RETRY;
		case STREAM_BUSY:
			return SNAPSHOT_BUSY;
		default:
			return SNAPSHOT_FATAL;
	}
}

static bool
snapshot_state_matches(const struct snapshot_state *st, const struct stream *s,
					   const char *slot)
{
	return strcmp(st->system_id, s->system_id) == 0 &&
		strcmp(st->database, s->database) == 0 && strcmp(st->slot, slot) == 0;
}

/*
 * Create the slot with an exported snapshot (after dropping the old one,
 * for a restart), load under it, and record every step in the state file.
 * "creating" is durable before the server is asked to drop or create
 * anything, and "loading" before a row is read: whatever point a start
 * dies at, the next one finds a file that says what the slot is
 * (snapshot_plan.c), and the crash window between CREATE_REPLICATION_SLOT
 * and the agent hearing of its result loses nothing.
 */
static enum snapshot_status
snapshot_consistent_load(struct agent *a, const char *path, bool drop_first,
						 char *err, size_t errlen)
{
	struct stream *s = &a->stream;
	struct snapshot_state st;
	enum snapshot_status r;

	memset(&st, 0, sizeof(st));
	st.status = SNAPSHOT_STATE_CREATING;
	snprintf(st.system_id, sizeof(st.system_id), "%s", s->system_id);
	snprintf(st.database, sizeof(st.database), "%s", s->database);
	snprintf(st.slot, sizeof(st.slot), "%s", a->cfg.slot);
	st.created_slot = true;

	/*
	 * A slot created from now on has its consistent point at or after the
	 * WAL position IDENTIFY_SYSTEM reported; the slot about to be dropped
	 * is confirmed where it is.  Either passes snapshot_plan's check that
	 * the slot found after a crash is the agent's.
	 */
	st.create_lsn = s->identify_lsn;
	if (drop_first && s->slot_confirmed_lsn < st.create_lsn)
		st.create_lsn = s->slot_confirmed_lsn;
	if (!snapshot_state_write(path, &st, err, errlen))
		return SNAPSHOT_FATAL;
	if (drop_first && !stream_drop_slot(s, err, errlen))
		return SNAPSHOT_RETRY;
	if ((r = snapshot_stream_status(stream_create_slot(s, err, errlen))) != SNAPSHOT_STREAM)
		return r;

	st.status = SNAPSHOT_STATE_LOADING;
	st.consistent_point = s->consistent_point;
	if (!snapshot_state_write(path, &st, err, errlen))
		return SNAPSHOT_FATAL;
	r = snapshot_load(a, s->snapshot_name, s->consistent_point, &st, err, errlen);
	if (r != SNAPSHOT_STREAM)
		return r;
	st.status = SNAPSHOT_STATE_DONE;
	if (!snapshot_state_write(path, &st, err, errlen))
		return SNAPSHOT_FATAL;
	return SNAPSHOT_STREAM;
}

enum snapshot_status
snapshot_prepare(struct agent *a, char *err, size_t errlen)
{
	struct stream *s = &a->stream;
	enum config_snapshot mode = a->cfg.snapshot;
	struct snapshot_state st;
	struct snapshot_plan_input in;
	char		why[1024];
	char	   *path = NULL;
	enum snapshot_status r;

	/*
	 * stream_prepare takes the slot's lock first: from then on no other
	 * agent creates, drops or loads this slot until this session ends, so
	 * what is read below stays true while it is acted on.
	 */
	/*
	 * --reload-table: rows under a snapshot of this connection's own, to
	 * the sinks, beside the agent that streams the slot; the slot is not
	 * touched, nor its lock taken (docs/snapshot.md, "Reloading tables").
	 */
	if (a->cfg.reload_table != NULL)
	{
		r = snapshot_load(a, NULL, 0, NULL, err, errlen);
		return r == SNAPSHOT_STREAM ? SNAPSHOT_DONE : r;
	}

	/*
	 * --snapshot=always loads on every start of the agent, not on every
	 * reconnect: a session after a completed load only streams.
	 */
	if (mode == CONFIG_SNAPSHOT_ALWAYS && a->load_done)
		mode = CONFIG_SNAPSHOT_NEVER;
	s->for_load = mode != CONFIG_SNAPSHOT_NEVER;
	r = snapshot_stream_status(stream_prepare(s, err, errlen));
	if (r == SNAPSHOT_STREAM)
		a->ever_connected = true;
	if (r != SNAPSHOT_STREAM)
		return r;

	/*
	 * An absent slot that --create-slot may create: not after a slot this
	 * agent streamed from was dropped (run.c), and here, without a load,
	 * is where it is created.
	 */
	if (!s->exists && a->cfg.create_slot && !s->slot_used)
	{
		if (!agent_slot_gap_ok(a, s->identify_lsn, true, err, errlen))
		{
			stream_close(s, false);
			return SNAPSHOT_FATAL;
		}
		if (mode == CONFIG_SNAPSHOT_NEVER)
			return snapshot_stream_status(stream_create_slot(s, err, errlen));
	}
	if (mode == CONFIG_SNAPSHOT_NEVER)
		return r;

	path = snapshot_state_path(a->cfg.state_dir, a->cfg.slot);
	if (path == NULL)
	{
		snprintf(err, errlen, "out of memory");
		r = SNAPSHOT_FATAL;
		goto done;
	}
	if (!snapshot_state_read(path, &st, err, errlen))
	{
		r = SNAPSHOT_FATAL;
		goto done;
	}
	if (st.status != SNAPSHOT_STATE_NONE && !snapshot_state_matches(&st, s, a->cfg.slot))
	{
		log_warning("snapshot state file \"%s\" describes slot \"%s\" of database \"%s\" on system %s, not this one: ignored",
					path, st.slot, st.database, st.system_id);
		st.status = SNAPSHOT_STATE_NONE;
	}

	memset(&in, 0, sizeof(in));
	in.mode = mode;
	in.create_slot = a->cfg.create_slot;
	in.slot = a->cfg.slot;
	in.state_path = path;
	in.slot_exists = s->exists;
	in.slot_used = s->slot_used;
	in.slot_confirmed = s->slot_confirmed_lsn;
	in.st = &st;
	switch (snapshot_plan(&in, why, sizeof(why)))
	{
		case SNAPSHOT_PLAN_STREAM:
			if (why[0] != '\0')
				log_info("%s", why);
			r = SNAPSHOT_STREAM;
			break;
		case SNAPSHOT_PLAN_LOAD_OWN:
			r = snapshot_load(a, NULL, 0, NULL, err, errlen);
			a->load_done = r == SNAPSHOT_STREAM;
			break;
		case SNAPSHOT_PLAN_CREATE:
			if (why[0] != '\0')
				log_warning("%s", why);
			r = snapshot_consistent_load(a, path, false, err, errlen);
			a->load_done = r == SNAPSHOT_STREAM;
			break;
		case SNAPSHOT_PLAN_RECREATE:
			log_warning("%s", why);
			r = snapshot_consistent_load(a, path, true, err, errlen);
			a->load_done = r == SNAPSHOT_STREAM;
			break;
		case SNAPSHOT_PLAN_MISSING:
			stream_missing_slot_error(s, err, errlen);
			r = SNAPSHOT_FATAL;
			break;
		case SNAPSHOT_PLAN_REFUSE:
		default:
			snprintf(err, errlen, "%s", why);
			r = SNAPSHOT_FATAL;
			break;
	}
	if (r == SNAPSHOT_STREAM && mode == CONFIG_SNAPSHOT_ONLY)
		r = SNAPSHOT_DONE;

done:
	if (r != SNAPSHOT_STREAM)
		stream_close(s, false);
	free(path);
	return r;
}
