/*
 * obs_http.c
 *		The HTTP endpoint (obs.h): libmicrohttpd in its own thread, four
 *		routes, each answered from a copy of the shared view.
 *
 *	/metrics	Prometheus text (obs_metrics.c)
 *	/healthz	200 while the main thread runs its loop, else 503
 *	/readyz		200 when streaming with every sink connected and not
 *				blocked, else 503 with {"ready":false,"reason":"..."}
 *	/status		JSON for an operator (obs_status.c)
 *
 * Only GET and HEAD; anything else is 405, an unknown path 404.  A request
 * holds the view's lock only to copy it: rendering, /proc reads and the
 * network all happen on the copy, in this thread, so the replication loop
 * never waits for a client.  The thread runs with the agent's signals
 * blocked: SIGTERM and SIGHUP must reach the main thread, whose poll()
 * they interrupt.
 */
#include "obs_int.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "clock.h"
#include "log.h"
#include "obs_listen.h"
#include "obs_metrics.h"
#include "obs_process.h"
#include "obs_status.h"

/* A slow or stalled client is dropped after this long. */
#define OBS_HTTP_TIMEOUT_S 10
/* Scrapers are few; more at once are refused by the library. */
#define OBS_HTTP_MAX_CONNECTIONS 16

#define OBS_JSON "application/json"

/* Queue body (malloc'd, taken) as the answer; NULL body: out of memory. */
static enum MHD_Result
obs_http_reply(struct MHD_Connection *c, unsigned int status,
			   const char *type, char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (body == NULL)
		return MHD_NO;			/* libmicrohttpd closes the connection */
	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (r == NULL)
	{
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
obs_http_text(struct MHD_Connection *c, unsigned int status, const char *text)
{
	char	   *body = strdup(text);

	return obs_http_reply(c, status, "text/plain; charset=utf-8", body,
						  body ? strlen(body) : 0);
}

static enum MHD_Result
obs_http_metrics(struct MHD_Connection *c, const struct obs_view *v)
{
	struct obs_process p;
	struct strbuf out = {0};
	char	   *body;

	obs_process_read(&p);
	obs_metrics_render(v, &p, clock_wall_us(), &out);
	body = strbuf_finish(&out);
	return obs_http_reply(c, MHD_HTTP_OK, OBS_METRICS_CONTENT_TYPE, body,
						  body ? out.len : 0);
}

/* /readyz and /healthz: one line of JSON, 200 or 503. */
static enum MHD_Result
obs_http_answer(struct MHD_Connection *c, const char *key, const char *reason)
{
	size_t		len = 0;
	char	   *body = obs_status_answer(key, reason, &len);

	return obs_http_reply(c, reason == NULL ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
						  OBS_JSON, body, len);
}

static enum MHD_Result
obs_http_route(struct MHD_Connection *c, const char *url,
			   const struct obs_view *v)
{
	if (strcmp(url, "/metrics") == 0)
		return obs_http_metrics(c, v);
	if (strcmp(url, "/healthz") == 0)
		return obs_http_answer(c, "healthy",
							   obs_view_healthy(v, clock_now_ms()) ? NULL : "stalled");
	if (strcmp(url, "/readyz") == 0)
		return obs_http_answer(c, "ready", obs_view_not_ready(v));
	if (strcmp(url, "/status") == 0)
	{
		size_t		len = 0;
		char	   *body = obs_status_render(v, clock_wall_us(), clock_now_ms(), &len);

		return obs_http_reply(c, MHD_HTTP_OK, OBS_JSON, body, len);
	}
	return obs_http_text(c, MHD_HTTP_NOT_FOUND,
						 "not found: /metrics, /healthz, /readyz, /status\n");
}

static enum MHD_Result
obs_http_request(void *cls, struct MHD_Connection *c, const char *url,
				 const char *method, const char *version,
				 const char *upload_data, size_t *upload_data_size,
				 void **req_cls)
{
	struct obs *o = cls;
	struct obs_view copy;
	enum MHD_Result ret;
	bool		copied;

	(void) version;
	(void) upload_data;
	(void) req_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
		strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
	{
		*upload_data_size = 0;	/* a body is not read, only refused */
		return obs_http_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	}
	memset(&copy, 0, sizeof(copy));
	pthread_mutex_lock(&o->lock);
	copied = obs_view_copy(&copy, &o->view);
	pthread_mutex_unlock(&o->lock);
	ret = copied ? obs_http_route(c, url, &copy) : MHD_NO;
	obs_view_free(&copy);
	return ret;
}

struct obs *
obs_start(const struct agent_config *cfg, const char *plugin, char *err,
		  size_t errlen)
{
	struct obs_listen_addr addr;
	struct obs *o;
	sigset_t	block;
	sigset_t	old;
	int			fd;

	if (!obs_listen_parse(cfg->http_listen, &addr, err, errlen))
		return NULL;			/* checked by config_core.c already */
	if ((fd = obs_listen_bind(&addr, err, errlen)) < 0)
		return NULL;
	if ((o = calloc(1, sizeof(*o))) == NULL)
	{
		close(fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&o->lock, NULL);
	o->view.version = WALCAST_VERSION;
	snprintf(o->view.slot, sizeof(o->view.slot), "%s", cfg->slot);
	snprintf(o->view.plugin, sizeof(o->view.plugin), "%s", plugin);
	o->view.phase = AGENT_STARTING;
	o->view.published_ms = clock_now_ms();
	o->view.watch.wal_status = OBS_WAL_UNKNOWN;

	/* The server's thread inherits this mask: the signals stay ours. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	o->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL,
								 0, NULL, NULL, obs_http_request, o,
								 MHD_OPTION_LISTEN_SOCKET, fd,
								 MHD_OPTION_CONNECTION_LIMIT,
								 (unsigned int) OBS_HTTP_MAX_CONNECTIONS,
								 MHD_OPTION_CONNECTION_TIMEOUT,
								 (unsigned int) OBS_HTTP_TIMEOUT_S,
								 MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (o->daemon == NULL)
	{
		snprintf(err, errlen, "http_listen: could not start the HTTP server on %s",
				 addr.text);
		close(fd);
		pthread_mutex_destroy(&o->lock);
		free(o);
		return NULL;
	}
	log_info("serving /metrics, /healthz, /readyz and /status on http://%s", addr.text);
	return o;
}

void
obs_stop(struct obs *o)
{
	if (o == NULL)
		return;
	MHD_stop_daemon(o->daemon);	/* closes the listening socket too */
	obs_view_free(&o->view);
	pthread_mutex_destroy(&o->lock);
	free(o);
}
