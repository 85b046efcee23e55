/*
 * obs_view.c
 *		The endpoint's view of the agent: copies, and what readiness,
 *		health and lag mean (obs_view.h).
 */
#include "obs_view.h"

#include <stdlib.h>
#include <string.h>

static const char *const obs_wal_status_names[OBS_WAL_NSTATUS] = {
	"reserved", "extended", "unreserved", "lost"
};

const char *
obs_wal_status_name(enum obs_wal_status s)
{
	return s >= 0 && s < OBS_WAL_NSTATUS ? obs_wal_status_names[s] : NULL;
}

enum obs_wal_status
obs_wal_status_parse(const char *name)
{
	for (int i = 0; name != NULL && i < OBS_WAL_NSTATUS; i++)
		if (strcmp(name, obs_wal_status_names[i]) == 0)
			return (enum obs_wal_status) i;
	return OBS_WAL_UNKNOWN;
}

static void
obs_view_free_tables(struct obs_view *v)
{
	for (int i = 0; i < v->ntables; i++)
		free(v->tables[i].name);
	free(v->tables);
	v->tables = NULL;
	v->ntables = 0;
}

void
obs_view_free(struct obs_view *v)
{
	obs_view_free_tables(v);
}

/* Room for n zeroed tables in v, instead of its own; false when out of memory. */
static bool
obs_view_alloc_tables(struct obs_view *v, int n)
{
	obs_view_free_tables(v);
	if (n == 0)
		return true;
	if ((v->tables = calloc((size_t) n, sizeof(*v->tables))) == NULL)
		return false;
	v->ntables = n;
	return true;
}

bool
obs_view_copy(struct obs_view *dst, const struct obs_view *src)
{
	/* Everything but the tables by value; then the tables deep. */
	obs_view_free_tables(dst);
	*dst = *src;
	dst->tables = NULL;
	dst->ntables = 0;
	if (!obs_view_alloc_tables(dst, src->ntables))
		return false;
	for (int i = 0; i < src->ntables; i++)
	{
		dst->tables[i] = src->tables[i];
		dst->tables[i].name = strdup(src->tables[i].name);
		if (dst->tables[i].name == NULL)
		{
			obs_view_free_tables(dst);
			return false;
		}
	}
	return true;
}

bool
obs_view_set_tables(struct obs_view *v, const struct agent_load *load)
{
	if (!obs_view_alloc_tables(v, load->ntables))
		return false;
	for (int i = 0; i < load->ntables; i++)
	{
		struct obs_table_view *t = &v->tables[i];

		t->estimated = load->estimated[i];
		t->rows = load->rows[i];
		t->rows_total = load->rows_total[i];
		t->done = i < load->done;
		if ((t->name = strdup(load->names[i])) == NULL)
		{
			obs_view_free_tables(v);
			return false;
		}
	}
	v->tables_done = load->done;
	return true;
}

const char *
obs_view_not_ready(const struct obs_view *v)
{
	/* The states that end or pause everything come first. */
	if (v->phase == AGENT_SLOT_LOST)
		return "slot_lost";
	if (v->phase == AGENT_STOPPING)
		return "stopping";
	/* A sink whose failure ended the session, until it opens again. */
	for (int i = 0; i < v->nsinks; i++)
		if (v->sinks[i].down)
			return "sink_disconnected";
	switch (v->phase)
	{
		case AGENT_STARTING:
			return "starting";
		case AGENT_CONNECTING:
			return "connecting";
		case AGENT_LOADING:
			return "loading";
		default:
			break;
	}
	for (int i = 0; i < v->nsinks; i++)
		if (!v->sinks[i].connected)
			return "sink_disconnected";
	for (int i = 0; i < v->nsinks; i++)
		if (v->sinks[i].blocked)
			return "broker_blocked";
	return NULL;
}

bool
obs_view_healthy(const struct obs_view *v, int64_t now_ms)
{
	/*
	 * Only the stream's loop has every wait bounded (a second at most):
	 * setting a session up may wait long and rightly (creating a slot
	 * waits for the transactions running at the time), and a liveness
	 * probe must not kill the agent for it.
	 */
	return v->phase != AGENT_STREAMING || now_ms - v->published_ms <= OBS_STALL_MS;
}

/*
 * Lag is how old the newest moment is up to which every committed
 * transaction has been received (or confirmed by every sink):
 *
 * - received: the newer of the commit time of the newest transaction
 *   received and the last moment the loop had read everything the server
 *   sent, outside a transaction; 0 while it still has.  So an idle,
 *   caught-up agent shows 0, and an hour of silence followed by one new
 *   transaction does not show an hour.  What the server has not sent yet
 *   (a large transaction still being decoded) it cannot see.
 * - confirmed: the commit time of the oldest transaction some sink has
 *   not confirmed (everything older is confirmed); with none pending, the
 *   received lag.  Never less than the received lag.
 *
 * Commit times come from the server's clock, now from the agent's: a
 * negative difference (clock skew) reads as 0.
 */
bool
obs_view_lag(const struct obs_view *v, enum obs_lag_stage stage,
			 int64_t now_us, double *seconds)
{
	const struct agent_lag *l = &v->lag;
	int64_t		upto = l->newest_received > l->caught_up_at ?
		l->newest_received : l->caught_up_at;
	bool		known = upto > 0;
	int64_t		lag = 0;

	if (known && !(l->caught_up && v->phase == AGENT_STREAMING) && now_us > upto)
		lag = now_us - upto;
	if (stage == OBS_LAG_CONFIRMED && l->oldest_pending > 0)
	{
		int64_t		pending = now_us > l->oldest_pending ? now_us - l->oldest_pending : 0;

		if (pending > lag)
			lag = pending;
		known = true;
	}
	*seconds = (double) lag / 1e6;
	return known;
}
