/*
 * clock.c
 *		Monotonic milliseconds for every deadline, the wall clock and the
 *		plugin's commit times for lag (clock.h).
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"

int64_t
clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
clock_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

bool
clock_parse_iso_us(const char *s, int64_t *us)
{
	struct tm	tm;
	int			n = 0;
	int64_t		frac = 0;
	int			digits = 0;
	const char *p;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL ||
		sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
			   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
		n != 19)
		return false;
	p = s + n;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (digits < 6)
			{
				frac = frac * 10 + (*p - '0');
				digits++;
			}
	if (*p != 'Z')
		return false;
	for (; digits < 6; digits++)
		frac *= 10;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*us = (int64_t) timegm(&tm) * 1000000 + frac;
	return true;
}
