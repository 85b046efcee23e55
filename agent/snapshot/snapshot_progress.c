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
snapshot_progress_init(struct snapshot_progress *p, bool tty, int ntables)
{
	p->tty = tty;
	p->ntables = ntables;
	p->tables_done = 0;
	p->rows_done = 0;
	p->start_ms = p->last_ms = progress_now_ms();
	p->table = NULL;
	p->estimated = 0;
	p->done = 0;
}

void
snapshot_progress_table(struct snapshot_progress *p, const char *table,
						int64_t estimated)
{
	p->table = table;
	p->estimated = estimated;
	p->done = 0;
	p->table_start_ms = progress_now_ms();
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
}

double
snapshot_progress_rate(const struct snapshot_progress *p, double *secs)
{
	*secs = (double) (progress_now_ms() - p->start_ms) / 1000.0;
	return *secs > 0 ? (double) p->rows_done / *secs : 0;
}
