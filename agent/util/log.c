/*
 * log.c
 *		Leveled logging to stderr or a file, one line per call:
 *		"2026-11-21T06:30:00.123Z info: message".
 *
 * The logger's state below is the agent's only global (see log.h).  Each
 * line is formatted into one buffer and written with one fputs + fflush,
 * so lines from before and after a SIGHUP reopen never interleave and a
 * crash loses at most the line being written.  The side connection's
 * thread (watch/) logs too: a mutex orders the writes against the main
 * thread's reopen.
 */
#define _POSIX_C_SOURCE 200809L	/* strdup, gmtime_r, clock_gettime */

#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Longer messages are cut, never split across lines. */
#define LOG_LINE_MAX 4096

static struct
{
	FILE	   *file;			/* NULL = stderr */
	char	   *path;			/* NULL = stderr */
	int			verbose;
}			log_state;

static const char *const log_level_names[] = {"error", "warning", "info", "debug"};

/* Held while the destination is written to or replaced. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* The current destination replaced by f (path: its name, taken). */
static void
log_switch(FILE *f, char *path)
{
	pthread_mutex_lock(&log_lock);
	if (log_state.file != NULL)
		fclose(log_state.file);
	log_state.file = f;
	if (path != log_state.path)
	{
		free(log_state.path);
		log_state.path = path;
	}
	pthread_mutex_unlock(&log_lock);
}

static bool
log_open_file(const char *path, FILE **out, char *err, size_t errlen)
{
	FILE	   *f = fopen(path, "a");

	if (f == NULL)
	{
		snprintf(err, errlen, "could not open log file \"%s\": %s",
				 path, strerror(errno));
		return false;
	}
	*out = f;
	return true;
}

bool
log_open(const char *path, char *err, size_t errlen)
{
	FILE	   *f = NULL;
	char	   *copy = NULL;

	if (path != NULL && path[0] != '\0')
	{
		if ((copy = strdup(path)) == NULL)
		{
			snprintf(err, errlen, "out of memory");
			return false;
		}
		if (!log_open_file(path, &f, err, errlen))
		{
			free(copy);
			return false;
		}
	}
	log_switch(f, copy);
	return true;
}

bool
log_reopen(char *err, size_t errlen)
{
	FILE	   *f;

	if (log_state.path == NULL)
		return true;
	/* Open the new file before closing the old one: on failure keep logging. */
	if (!log_open_file(log_state.path, &f, err, errlen))
		return false;
	log_switch(f, log_state.path);
	return true;
}

void
log_close(void)
{
	log_switch(NULL, NULL);
}

void
log_set_verbosity(int verbose)
{
	log_state.verbose = verbose;
}

bool
log_enabled(enum log_level level)
{
	return level != LOG_LEVEL_DEBUG || log_state.verbose >= 1;
}

void
log_write(enum log_level level, const char *fmt,...)
{
	char		line[LOG_LINE_MAX];
	struct timespec now;
	struct tm	tm;
	size_t		n;
	va_list		ap;
	int			r;

	if (!log_enabled(level))
		return;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t) snprintf(line + n, sizeof(line) - n, ".%03ldZ %s: ",
						   now.tv_nsec / 1000000L, log_level_names[level]);

	va_start(ap, fmt);
	r = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (r > 0)
		n += (size_t) r < sizeof(line) - n - 1 ? (size_t) r : sizeof(line) - n - 2;
	/* One message, one line: drop a trailing newline the caller added. */
	while (n > 0 && line[n - 1] == '\n')
		n--;
	line[n++] = '\n';
	line[n] = '\0';

	pthread_mutex_lock(&log_lock);
	fputs(line, log_state.file != NULL ? log_state.file : stderr);
	fflush(log_state.file != NULL ? log_state.file : stderr);
	pthread_mutex_unlock(&log_lock);
}
