/*
 * log.h
 *		Tiny leveled logger: one line per call, ISO 8601 UTC timestamp and level,
 *		to stderr or a log file that SIGHUP reopens.
 *
 * The logger's state (destination, path, verbosity) is the one global of the
 * agent: every module logs, and threading a handle through each call would
 * buy nothing.  Writes are serialised, so the side connection's thread
 * (watch/) may log too.
 */
#ifndef WALCAST_LOG_H
#define WALCAST_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level
{
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG
};

/*
 * Log to path (appending), or to stderr when path is NULL or empty.  On
 * failure the previous destination is kept and err says why.
 */
extern bool log_open(const char *path, char *err, size_t errlen);
/* Reopen the current file (after rotation); no-op for stderr. */
extern bool log_reopen(char *err, size_t errlen);
extern void log_close(void);

/* verbose 0 logs error..info, 1 and above adds debug (the -v counter). */
extern void log_set_verbosity(int verbose);
extern bool log_enabled(enum log_level level);

extern void log_write(enum log_level level, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

#define log_error(...)	 log_write(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_write(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_info(...)	 log_write(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)	 log_write(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif							/* WALCAST_LOG_H */
