/*
 * obs.h
 *		The agent seen from outside: the HTTP endpoint of --http-listen,
 *		serving /metrics (Prometheus text format 0.0.4), /healthz, /readyz
 *		and /status (JSON), from a copy of the agent's state.
 *
 * The endpoint runs in libmicrohttpd's own thread and never reads the
 * agent's structures.  The replication loop copies its figures into a
 * view under a mutex (obs_publish): at most every OBS_PUBLISH_MS, and
 * only when the lock is free, so that a scraper can never delay a status
 * update to PostgreSQL.  A request copies the view under the same mutex
 * and renders its copy.  The side connection's thread (watch/) publishes
 * its figures the same way (obs_publish_watch).
 *
 * Files: obs_listen.c (ADDR:PORT, the listening socket), obs_http.c (the
 * server and its routes), obs_collect.c (agent -> view), obs_view.c (the
 * view: copies, readiness, health, lag), obs_metrics.c and obs_status.c
 * (rendering), obs_process.c (/proc/self).
 */
#ifndef WALCAST_OBS_H
#define WALCAST_OBS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "config.h"

struct agent;
struct obs;
struct obs_watch_view;

/* The loop publishes at most this often (and at every change of phase). */
#define OBS_PUBLISH_MS 100

/* Where to listen: a parsed --http-listen. */
struct obs_listen_addr
{
	struct sockaddr_storage addr;
	socklen_t	len;
	char		text[80];		/* as logged: "127.0.0.1:9187", "[::1]:9187" */
};

/*
 * "[ADDR:]PORT": a bare port is 127.0.0.1's, ADDR a numeric IPv4 address,
 * a bracketed IPv6 one or localhost, PORT 0..65535 (0: any free port).
 * false with msg set.
 */
extern bool obs_listen_parse(const char *v, struct obs_listen_addr *out,
							 char *msg, size_t msglen);

/*
 * Listen on cfg->http_listen and serve; NULL with err set when the address
 * cannot be bound (a startup error: exit 1).  plugin names the slot's
 * output plugin (the decoder's), for walcast_build_info and /status.
 */
extern struct obs *obs_start(const struct agent_config *cfg,
							 const char *plugin, char *err, size_t errlen);

/* Stop serving (waits for the requests in progress) and free it; NULL ok. */
extern void obs_stop(struct obs *o);

/*
 * The loop's and the load's figures into the view (a->obs NULL: nothing).
 * force: also within OBS_PUBLISH_MS of the last one (a change of phase),
 * waiting for the lock if a request holds it (only outside the loop).
 */
extern void obs_publish(struct agent *a, bool force);

/* The side connection's figures (watch/); o NULL: nothing. */
extern void obs_publish_watch(struct obs *o, const struct obs_watch_view *w);

#endif							/* WALCAST_OBS_H */
