/*
 * obs_status.h
 *		The JSON bodies of the endpoint (obs_status.c), written with yyjson
 *		(never by hand): /status, a document for an operator, and the
 *		one-line answers of /readyz and /healthz.
 */
#ifndef WALCAST_OBS_STATUS_H
#define WALCAST_OBS_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "obs_view.h"

/*
 * /status of v at now_us (wall clock) and now_ms (monotonic): malloc'd
 * text and its length, NULL when out of memory.
 */
extern char *obs_status_render(const struct obs_view *v, int64_t now_us,
							   int64_t now_ms, size_t *len);

/*
 * {"<key>":true} or {"<key>":false,"reason":"<reason>"} (reason NULL:
 * true); malloc'd, NULL when out of memory.
 */
extern char *obs_status_answer(const char *key, const char *reason,
							   size_t *len);

#endif							/* WALCAST_OBS_STATUS_H */
