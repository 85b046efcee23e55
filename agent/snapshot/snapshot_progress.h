/*
 * snapshot_progress.h
 *		Progress of the initial load: per table rows done / estimated
 *		(pg_class.reltuples), rows/s and ETA; a progress bar on a terminal,
 *		periodic log lines otherwise; a summary at the end; and the same
 *		figures per table in struct agent_load, for /status and /metrics.
 */
#ifndef WALCAST_SNAPSHOT_PROGRESS_H
#define WALCAST_SNAPSHOT_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "agent.h"

struct snapshot_progress
{
	bool		tty;			/* draw a bar on stderr */
	int			ntables;
	int			tables_done;
	uint64_t	rows_done;		/* all tables, finished ones */
	int64_t		start_ms;
	int64_t		table_start_ms;
	int64_t		last_ms;		/* last bar or log line */
	const char *table;			/* current, borrowed */
	int64_t		estimated;		/* of the current table; 0 = unknown */
	uint64_t	done;			/* of the current table */
	struct agent_load *figures; /* the agent's, or NULL */
	int			index;			/* of the current table in figures */
	uint64_t	base_total;		/* its rows_total before this load */
};

/*
 * tty: stderr is a terminal and the log does not go to a file.  figures
 * (NULL: none) is set up for the n tables, in the order they will be read,
 * keeping each table's rows_total from earlier loads of this process;
 * false when out of memory (the load goes on without figures).
 */
extern bool snapshot_progress_init(struct snapshot_progress *p, bool tty,
								   const struct decoder_table *tables,
								   int ntables, struct agent_load *figures);

/* Free what figures owns (at the agent's end). */
extern void snapshot_progress_free(struct agent_load *figures);
extern void snapshot_progress_table(struct snapshot_progress *p,
									const char *table, int64_t estimated);
/* done rows of the current table; draws or logs when it is time. */
extern void snapshot_progress_rows(struct snapshot_progress *p, uint64_t done);
extern void snapshot_progress_table_done(struct snapshot_progress *p);
/* Rows per second since the start, for the summary. */
extern double snapshot_progress_rate(const struct snapshot_progress *p,
									 double *secs);

#endif							/* WALCAST_SNAPSHOT_PROGRESS_H */
