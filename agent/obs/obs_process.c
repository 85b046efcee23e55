/*
 * obs_process.c
 *		Resident memory, CPU time and start time of this process, from
 *		/proc (obs_process.h).  Read by the HTTP thread at each scrape:
 *		nothing of the loop's.
 */
#include "obs_process.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool
obs_process_parse_stat(const char *stat, long ticks, double *cpu_seconds,
					   double *since_boot)
{
	const char *p = strrchr(stat, ')');
	unsigned long long utime;
	unsigned long long stime;
	unsigned long long start;

	if (p == NULL || ticks <= 0)
		return false;

	/*
	 * After ") ": state (field 3), then fields 4..13, utime (14), stime
	 * (15), fields 16..21, starttime (22).
	 */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu",
			   &utime, &stime, &start) != 3)
		return false;
	*cpu_seconds = (double) (utime + stime) / (double) ticks;
	*since_boot = (double) start / (double) ticks;
	return true;
}

/* The whole (small) file into buf; false when it cannot be read. */
static bool
obs_process_slurp(const char *path, char *buf, size_t len)
{
	FILE	   *f = fopen(path, "r");
	size_t		n;

	if (f == NULL)
		return false;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return n > 0;
}

/* The boot time, "btime N" in /proc/stat. */
static bool
obs_process_boot_time(double *btime)
{
	FILE	   *f = fopen("/proc/stat", "r");
	char		line[256];
	bool		found = false;
	unsigned long long v;

	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "btime %llu", &v) == 1)
			found = true;
	fclose(f);
	if (found)
		*btime = (double) v;
	return found;
}

void
obs_process_read(struct obs_process *p)
{
	char		buf[1024];
	unsigned long long pages;
	double		since_boot;
	double		btime;
	long		ticks = sysconf(_SC_CLK_TCK);
	long		page = sysconf(_SC_PAGESIZE);

	memset(p, 0, sizeof(*p));
	if (!obs_process_slurp("/proc/self/stat", buf, sizeof(buf)) ||
		!obs_process_parse_stat(buf, ticks, &p->cpu_seconds, &since_boot) ||
		!obs_process_boot_time(&btime) ||
		!obs_process_slurp("/proc/self/statm", buf, sizeof(buf)) ||
		sscanf(buf, "%*u %llu", &pages) != 1 || page <= 0)
		return;
	p->rss_bytes = (uint64_t) pages * (uint64_t) page;
	p->start_time = btime + since_boot;
	p->known = true;
}
