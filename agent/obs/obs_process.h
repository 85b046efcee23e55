/*
 * obs_process.h
 *		The process's own figures for /metrics, read from /proc/self as
 *		Prometheus's client libraries do: resident memory, CPU time (user
 *		+ system) and start time.
 */
#ifndef WALCAST_OBS_PROCESS_H
#define WALCAST_OBS_PROCESS_H

#include <stdbool.h>
#include <stdint.h>

struct obs_process
{
	bool		known;			/* /proc could be read */
	uint64_t	rss_bytes;
	double		cpu_seconds;
	double		start_time;		/* Unix seconds */
};

/* Read /proc/self/stat, /proc/self/statm and /proc/stat; known = false on failure. */
extern void obs_process_read(struct obs_process *p);

/*
 * The text of /proc/self/stat: CPU seconds (utime + stime) and the start
 * time in seconds since boot, with ticks clock ticks per second.  The
 * command name in parentheses may hold spaces and parentheses: fields are
 * counted from the last ')'.  false when the text is not one.
 */
extern bool obs_process_parse_stat(const char *stat, long ticks,
								   double *cpu_seconds, double *since_boot);

#endif							/* WALCAST_OBS_PROCESS_H */
