/*
 * sink_set.c
 *		The enabled sinks as one: what the loop (loop.c) and the initial
 *		load (snapshot.c) do with every sink, in registry order (sink.h).
 *
 * Every event goes to every sink, and a unit (transaction or standalone
 * message) is complete only when every sink confirmed its part, so the
 * helpers stop at the first sink that fails: the session ends, and the
 * slot replays everything unconfirmed to all of them.
 */
#include "sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
sink_set_create(struct sink_set *set, const struct agent_config *cfg,
				char *err, size_t errlen)
{
	int			n = sink_kind_count();

	memset(set, 0, sizeof(*set));
	set->sinks = calloc((size_t) n, sizeof(*set->sinks));
	set->published = calloc((size_t) n, sizeof(*set->published));
	set->confirmed = calloc((size_t) n, sizeof(*set->confirmed));
	if (set->sinks == NULL || set->published == NULL || set->confirmed == NULL)
	{
		sink_set_destroy(set);
		snprintf(err, errlen, "out of memory");
		return false;
	}
	for (int i = 0; i < n; i++)
	{
		const struct sink_kind *kind = sink_kind_at(i);
		struct sink *s;

		if (!sink_kind_enabled(kind, cfg))
			continue;
		if ((s = kind->create(cfg, err, errlen)) == NULL)
		{
			sink_set_destroy(set);
			return false;
		}
		s->kind = kind;
		set->sinks[set->n++] = s;
	}
	return true;
}

void
sink_set_destroy(struct sink_set *set)
{
	for (int i = 0; i < set->n; i++)
		set->sinks[i]->ops->destroy(set->sinks[i]);
	free(set->sinks);
	free(set->published);
	free(set->confirmed);
	memset(set, 0, sizeof(*set));
}

/*
 * A sink failed: which change it refused, if that is why; it is down
 * until it opens again (what /readyz and walcast_sink_connected say).
 */
static enum sink_status
sink_set_failed(struct sink_set *set, struct sink *s, enum sink_status st)
{
	set->refused_lsn = st == SINK_REFUSED ? s->st.refused_lsn : 0;
	s->st.connected = false;
	s->st.down = true;
	return st;
}

/*
 * Confirms since the agent started: each sink's confirmed prefix grows
 * within a session (numbering restarts at open), so the growth since the
 * last count is what the destination confirmed meanwhile.
 */
static void
sink_set_count_confirms(struct sink *s)
{
	if (s->st.confirmed > s->st.confirms_counted)
		s->st.confirms += s->st.confirmed - s->st.confirms_counted;
	s->st.confirms_counted = s->st.confirmed;
}

static void
sink_set_close_one(struct sink *s)
{
	sink_set_count_confirms(s);
	s->ops->close(s);
	s->st.connected = false;
}

enum sink_status
sink_set_open(struct sink_set *set, char *err, size_t errlen)
{
	for (int i = 0; i < set->n; i++)
	{
		struct sink *s = set->sinks[i];
		enum sink_status st = s->ops->open(s, err, errlen);

		if (st != SINK_OK)
		{
			while (--i >= 0)
				sink_set_close_one(set->sinks[i]);
			return sink_set_failed(set, s, st);
		}
		s->st.confirms_counted = s->st.confirmed;
		s->st.connected = true;
		s->st.down = false;
	}
	return SINK_OK;
}

void
sink_set_close(struct sink_set *set)
{
	for (int i = 0; i < set->n; i++)
		sink_set_close_one(set->sinks[i]);
}

enum sink_status
sink_set_publish(struct sink_set *set, const struct event *ev, char *err,
				 size_t errlen)
{
	for (int i = 0; i < set->n; i++)
	{
		struct sink *s = set->sinks[i];
		enum sink_status st = s->ops->publish(s, ev, err, errlen);

		if (st != SINK_OK)
			return sink_set_failed(set, s, st);
		s->st.by_op[ev->op]++;
	}
	return SINK_OK;
}

enum sink_status
sink_set_end_txn(struct sink_set *set, char *err, size_t errlen)
{
	for (int i = 0; i < set->n; i++)
	{
		struct sink *s = set->sinks[i];
		enum sink_status st = s->ops->end_txn(s, err, errlen);

		if (st != SINK_OK)
			return sink_set_failed(set, s, st);
		set->published[i] = s->st.published;
	}
	return SINK_OK;
}

enum sink_status
sink_set_service(struct sink_set *set, char *err, size_t errlen)
{
	for (int i = 0; i < set->n; i++)
	{
		struct sink *s = set->sinks[i];
		enum sink_status st = s->ops->service(s, err, errlen);

		sink_set_count_confirms(s);
		if (st != SINK_OK)
			return sink_set_failed(set, s, st);
	}
	return SINK_OK;
}

int64_t
sink_set_wait(struct sink_set *set, int64_t now, int64_t wait)
{
	for (int i = 0; i < set->n; i++)
	{
		struct sink *s = set->sinks[i];
		int64_t		due = s->ops->deadline != NULL ? s->ops->deadline(s) : -1;

		if (due >= 0 && due - now < wait)
			wait = due - now;
	}
	return wait < 0 ? 0 : wait;
}

enum sink_status
sink_set_flush(struct sink_set *set, char *err, size_t errlen)
{
	for (int i = 0; i < set->n; i++)
	{
		struct sink *s = set->sinks[i];
		enum sink_status st = s->ops->flush != NULL ? s->ops->flush(s, err, errlen) :
			SINK_OK;

		if (st != SINK_OK)
			return sink_set_failed(set, s, st);
	}
	return SINK_OK;
}

void
sink_set_pollfds(struct sink_set *set, struct pollfd *pfd, int *nfd)
{
	for (int i = 0; i < set->n; i++)
	{
		pfd[*nfd].fd = set->sinks[i]->ops->pollfd(set->sinks[i], &pfd[*nfd].events);
		pfd[*nfd].revents = 0;
		if (pfd[*nfd].fd >= 0)
			(*nfd)++;
	}
}

bool
sink_set_have_room(const struct sink_set *set, uint64_t max_events,
				   uint64_t max_bytes)
{
	for (int i = 0; i < set->n; i++)
	{
		const struct sink_stats *st = &set->sinks[i]->st;

		if (st->blocked || st->full || st->inflight_events >= max_events ||
			st->inflight_bytes >= max_bytes)
			return false;
	}
	return true;
}

uint64_t
sink_set_unconfirmed(const struct sink_set *set)
{
	uint64_t	n = 0;

	for (int i = 0; i < set->n; i++)
		n += set->sinks[i]->st.published - set->sinks[i]->st.confirmed;
	return n;
}

const uint64_t *
sink_set_confirmed(struct sink_set *set)
{
	for (int i = 0; i < set->n; i++)
		set->confirmed[i] = set->sinks[i]->st.confirmed;
	return set->confirmed;
}

void
sink_set_stats(const struct sink_set *set, struct strbuf *line)
{
	for (int i = 0; i < set->n; i++)
		if (set->sinks[i]->kind->stats != NULL)
			set->sinks[i]->kind->stats(set->sinks[i], line);
}
