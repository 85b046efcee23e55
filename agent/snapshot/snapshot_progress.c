/*
 * snapshot_progress.c
 *		Progress output of the initial load (see snapshot_progress.h).
 *
 * On a terminal the bar is redrawn in place at most 5 times a second; in
 * a log (a file, a pipe, journald) one info line every 10 seconds and one
 * per finished table, so a long load is visible without flooding the log.
 */
#include "snapshot_progress.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define PROGRESS_TTY_MS 200
#define PROGRESS_LOG_MS 10000
#define PROGRESS_BAR_WIDTH 30

static int64_t
progress_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
snapshot_progress_free(struct agent_load *f)
{
	for (int i = 0; i < f->ntables; i++)
		free(f->names[i]);
	free(f->names);
	free(f->estimated);
	free(f->rows);
	free(f->rows_total);
	f->names = NULL;
	f->estimated = NULL;
	f->rows = f->rows_total = NULL;
	f->ntables = f->done = 0;
	f->version++;
}

/* rows_total of table name in f (an earlier load), or 0. */
static uint64_t
progress_earlier_total(const struct agent_load *f, const char *name)
{
	for (int i = 0; i < f->ntables; i++)
		if (strcmp(f->names[i], name) == 0)
			return f->rows_total[i];
	return 0;
}

/* The figures for a new load of these tables, counters carried over. */
static bool
progress_figures(struct agent_load *f, const struct decoder_table *tables,
				 int n)
{
	struct agent_load next;

	memset(&next, 0, sizeof(next));
	next.names = calloc((size_t) n + 1, sizeof(*next.names));
	next.estimated = calloc((size_t) n + 1, sizeof(*next.estimated));
	next.rows = calloc((size_t) n + 1, sizeof(*next.rows));
	next.rows_total = calloc((size_t) n + 1, sizeof(*next.rows_total));
	if (next.names == NULL || next.estimated == NULL || next.rows == NULL ||
		next.rows_total == NULL)
	{
		snapshot_progress_free(&next);
		return false;
	}
	for (int i = 0; i < n; i++, next.ntables++)
	{
		if ((next.names[i] = strdup(tables[i].name)) == NULL)
		{
			snapshot_progress_free(&next);
			return false;
		}
		next.estimated[i] = tables[i].estimated;
		next.rows_total[i] = progress_earlier_total(f, tables[i].name);
	}
	next.version = f->version + 1;
	snapshot_progress_free(f);
	*f = next;
	return true;
}

bool
snapshot_progress_init(struct snapshot_progress *p, bool tty,
					   const struct decoder_table *tables, int ntables,
					   struct agent_load *figures)
{
	p->tty = tty;
	p->ntables = ntables;
	p->tables_done = 0;
	p->rows_done = 0;
	p->start_ms = p->last_ms = progress_now_ms();
	p->table = NULL;
	p->estimated = 0;
	p->done = 0;
	p->index = -1;
	p->figures = figures;
	if (figures != NULL && !progress_figures(figures, tables, ntables))
	{
		p->figures = NULL;
		return false;
	}
	return true;
}

void
snapshot_progress_table(struct snapshot_progress *p, const char *table,
						int64_t estimated)
{
	p->table = table;
	p->estimated = estimated;
	p->done = 0;
	p->table_start_ms = progress_now_ms();
	p->index++;
	if (p->figures != NULL && p->index < p->figures->ntables)
		p->base_total = p->figures->rows_total[p->index];
}

/* The current table's rows into the figures. */
static void
progress_count(struct snapshot_progress *p)
{
	struct agent_load *f = p->figures;

	if (f == NULL || p->index < 0 || p->index >= f->ntables)
		return;
	f->rows[p->index] = p->done;
	f->rows_total[p->index] = p->base_total + p->done;
	f->version++;
}

/* Rate of the current table, and its ETA in seconds (-1 when unknown). */
static double
progress_table_rate(const struct snapshot_progress *p, int64_t now,
					double *eta)
{
	double		secs = (double) (now - p->table_start_ms) / 1000.0;
	double		rate = secs > 0 ? (double) p->done / secs : 0;

	*eta = -1;
	if (rate > 0 && p->estimated > 0 && (uint64_t) p->estimated > p->done)
		*eta = (double) ((uint64_t) p->estimated - p->done) / rate;
	else if (p->estimated > 0)
		*eta = 0;
	return rate;
}

static void
progress_draw(struct snapshot_progress *p, int64_t now, bool final)
{
	double		eta;
	double		rate = progress_table_rate(p, now, &eta);
	double		frac = 0;
	char		bar[PROGRESS_BAR_WIDTH + 1];
	int			fill;

	if (p->estimated > 0)
		frac = (double) p->done / (double) p->estimated;
	if (final || frac > 1)
		frac = 1;
	fill = (int) (frac * PROGRESS_BAR_WIDTH);
	for (int i = 0; i < PROGRESS_BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[PROGRESS_BAR_WIDTH] = '\0';
	fprintf(stderr, "\r\033[Ksnapshot %d/%d %s [%s] %" PRIu64 "/%" PRId64 " rows %.0f rows/s",
			p->tables_done + 1, p->ntables, p->table, bar, p->done,
			p->estimated > (int64_t) p->done ? p->estimated : (int64_t) p->done, rate);
	if (!final && eta >= 0)
		fprintf(stderr, " ETA %.0f s", eta);
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
}

static void
progress_log(struct snapshot_progress *p, int64_t now)
{
	double		eta;
	double		rate = progress_table_rate(p, now, &eta);
	char		etatext[32] = "unknown";

	if (eta >= 0)
		snprintf(etatext, sizeof(etatext), "%.0f s", eta);
	if (p->estimated > 0)
		log_info("snapshot: table %d/%d %s: %" PRIu64 " of ~%" PRId64 " rows (%.0f%%), %.0f rows/s, ETA %s",
				 p->tables_done + 1, p->ntables, p->table, p->done, p->estimated,
				 100.0 * (double) p->done / (double) p->estimated, rate, etatext);
	else
		log_info("snapshot: table %d/%d %s: %" PRIu64 " rows (no estimate: never analyzed), %.0f rows/s",
				 p->tables_done + 1, p->ntables, p->table, p->done, rate);
}

void
snapshot_progress_rows(struct snapshot_progress *p, uint64_t done)
{
	int64_t		now;

	p->done = done;
	progress_count(p);
	now = progress_now_ms();
	if (now - p->last_ms < (p->tty ? PROGRESS_TTY_MS : PROGRESS_LOG_MS))
		return;
	p->last_ms = now;
	if (p->tty)
		progress_draw(p, now, false);
	else
		progress_log(p, now);
}

void
snapshot_progress_table_done(struct snapshot_progress *p)
{
	int64_t		now = progress_now_ms();
	double		secs = (double) (now - p->table_start_ms) / 1000.0;

	if (p->tty)
		progress_draw(p, now, true);
	log_info("snapshot: table %d/%d %s: %" PRIu64 " rows in %.1f s (%.0f rows/s)",
			 p->tables_done + 1, p->ntables, p->table, p->done, secs,
			 secs > 0 ? (double) p->done / secs : 0);
	p->rows_done += p->done;
	p->tables_done++;
	p->last_ms = now;
	if (p->figures != NULL)
	{
		progress_count(p);
		p->figures->done = p->tables_done;
	}
}

double
snapshot_progress_rate(const struct snapshot_progress *p, double *secs)
{
	*secs = (double) (progress_now_ms() - p->start_ms) / 1000.0;
	return *secs > 0 ? (double) p->rows_done / *secs : 0;
}
