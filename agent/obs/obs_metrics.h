/*
 * obs_metrics.h
 *		/metrics: a view rendered in the Prometheus text exposition format
 *		0.0.4 (obs_metrics.c).  The names, types and labels are a contract
 *		that docs/operations.md, the dashboards and the alert rules rely on.
 */
#ifndef WALCAST_OBS_METRICS_H
#define WALCAST_OBS_METRICS_H

#include <stdint.h>

#include "obs_process.h"
#include "obs_view.h"
#include "strbuf.h"

/* The content type of the format. */
#define OBS_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * Every metric of v at now_us (wall clock, for lag), with the process's
 * figures p, appended to out (check out->failed).
 */
extern void obs_metrics_render(const struct obs_view *v,
							   const struct obs_process *p, int64_t now_us,
							   struct strbuf *out);

/* A label value escaped as the format wants: \\, \" and \n. */
extern void obs_metrics_escape(struct strbuf *out, const char *value);

#endif							/* WALCAST_OBS_METRICS_H */
