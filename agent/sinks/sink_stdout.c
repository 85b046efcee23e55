/*
 * sink_stdout.c
 *		The sink used when no other sink is configured: one JSON line per
 *		event on standard output, in the configured envelope.
 *
 * A line counts as confirmed once it has been flushed to the file
 * descriptor: from there on it is the reader's (a pipe, a file).  That is
 * the same promise pg_recvlogical makes for its output file without fsync.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "sink.h"

struct sink_stdout
{
	struct sink base;
	bool		dirty;			/* lines written since the last flush */
};

static enum sink_status
sink_stdout_open(struct sink *s, char *err, size_t errlen)
{
	(void) err;
	(void) errlen;
	/* Numbering restarts with every open, as for a broker connection. */
	s->st.published = s->st.confirmed = 0;
	s->st.inflight_events = s->st.inflight_bytes = 0;
	return SINK_OK;
}

static enum sink_status
sink_stdout_publish(struct sink *s, const struct event *ev, char *err,
					size_t errlen)
{
	struct sink_stdout *ss = (struct sink_stdout *) s;
	size_t		len;
	char	   *body;

	body = envelope_render(s->cfg->envelope, ev, &len, err, errlen);
	if (body == NULL)
		return sink_refuse(s, ev->lsn);
	if (fwrite(body, 1, len, stdout) != len || putchar('\n') == EOF)
	{
		free(body);
		snprintf(err, errlen, "could not write to standard output: %s",
				 strerror(errno));
		return SINK_FATAL;
	}
	free(body);
	ss->dirty = true;
	sink_count_published(s, 1, len + 1);
	return SINK_OK;
}

/* Flushing at the end of each transaction keeps write() calls few. */
static enum sink_status
sink_stdout_end_txn(struct sink *s, char *err, size_t errlen)
{
	struct sink_stdout *ss = (struct sink_stdout *) s;

	if (ss->dirty && fflush(stdout) != 0)
	{
		snprintf(err, errlen, "could not write to standard output: %s",
				 strerror(errno));
		return SINK_FATAL;
	}
	ss->dirty = false;
	s->st.confirmed = s->st.published;
	s->st.inflight_events = s->st.inflight_bytes = 0;
	return SINK_OK;
}

/*
 * Called once per loop turn: flushing here as well keeps a transaction
 * larger than the in-flight window moving (its commit is not read until the
 * window has room).
 */
static enum sink_status
sink_stdout_service(struct sink *s, char *err, size_t errlen)
{
	return sink_stdout_end_txn(s, err, errlen);
}

static int
sink_stdout_pollfd(struct sink *s, short *events)
{
	(void) s;
	*events = 0;
	return -1;
}

static void
sink_stdout_close(struct sink *s)
{
	fflush(stdout);
	((struct sink_stdout *) s)->dirty = false;
}

static void
sink_stdout_destroy(struct sink *s)
{
	free(s);
}

static const struct sink_ops sink_stdout_ops = {
	.open = sink_stdout_open,
	.publish = sink_stdout_publish,
	.end_txn = sink_stdout_end_txn,
	.service = sink_stdout_service,
	.pollfd = sink_stdout_pollfd,
	.close = sink_stdout_close,
	.destroy = sink_stdout_destroy,
};

static struct sink *
sink_stdout_new(const struct agent_config *cfg, char *err, size_t errlen)
{
	struct sink_stdout *ss = calloc(1, sizeof(*ss));

	if (ss == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ss->base.ops = &sink_stdout_ops;
	ss->base.cfg = cfg;
	return &ss->base;
}

/* The fallback: standard output, when no other sink is configured. */
const struct sink_kind sink_stdout_kind = {
	.name = "stdout",
	.fallback = true,
	.create = sink_stdout_new,
};
