/*
 * watch.c
 *		The side connection's thread: its schedule, its connection, its
 *		start and stop (watch.h).
 *
 * One round per due task: a slot check every check_interval (the first
 * at once), a heartbeat every heartbeat_interval (the first after one
 * interval: the stream has a session by then).  Between rounds the
 * thread sleeps on a condition variable, so that a stop wakes it at once.
 */
#include "watch_int.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "obs.h"
#include "pqconn.h"
#include "pqerr.h"

/*
 * A query of the side connection that has not answered in this long is
 * cancelled by the server: a hung server delays only this thread, and
 * the agent's stop a little.
 */
#define WATCH_STATEMENT_TIMEOUT "5s"
/* At a stop, wait this long for a query in progress, then leave it. */
#define WATCH_STOP_WAIT_MS 2000

PGconn *
watch_conn(struct watch *w, char *err, size_t errlen)
{
	PGresult   *res;

	if (w->conn != NULL)
		return w->conn;
	w->conn = pqconn_open(w->conninfo, NULL, NULL, "walcast-agent watch");
	if (w->conn == NULL || PQstatus(w->conn) != CONNECTION_OK)
	{
		pqerr_result(err, errlen, "could not connect to PostgreSQL", NULL, w->conn);
		PQfinish(w->conn);
		w->conn = NULL;
		return NULL;
	}
	res = PQexec(w->conn, "SET statement_timeout = '" WATCH_STATEMENT_TIMEOUT "'");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		pqerr_result(err, errlen, "could not set statement_timeout", res, w->conn);
		PQclear(res);
		PQfinish(w->conn);
		w->conn = NULL;
		return NULL;
	}
	PQclear(res);
	return w->conn;
}

void
watch_conn_check(struct watch *w)
{
	if (w->conn != NULL && PQstatus(w->conn) != CONNECTION_OK)
	{
		PQfinish(w->conn);
		w->conn = NULL;
	}
}

/*
 * Wait on w->cond (w->lock held) for at most ms, or until a signal.
 * Condition variables wait on the realtime clock by default; the callers
 * loop on the monotonic one, so a jump of the wall clock only cuts a wait
 * short or makes it end at its next wake.
 */
static void
watch_wait(struct watch *w, int64_t ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000)
	{
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	(void) pthread_cond_timedwait(&w->cond, &w->lock, &until);
}

/* Sleep until deadline_ms (monotonic) or a stop; true when stopping. */
static bool
watch_sleep(struct watch *w, int64_t deadline_ms)
{
	bool		stop;

	pthread_mutex_lock(&w->lock);
	while (!w->stop)
	{
		int64_t		left = deadline_ms - clock_now_ms();

		if (left <= 0)
			break;
		watch_wait(w, left > 1000 ? 1000 : left);
	}
	stop = w->stop;
	pthread_mutex_unlock(&w->lock);
	return stop;
}

static void *
watch_main(void *arg)
{
	struct watch *w = arg;
	int64_t		now = clock_now_ms();
	int64_t		next_check = w->check_interval > 0 ? now : INT64_MAX;
	int64_t		next_beat = w->heartbeat_interval > 0 ?
		now + (int64_t) w->heartbeat_interval * 1000 : INT64_MAX;

	obs_publish_watch(w->obs, &w->view);
	while (!watch_sleep(w, next_check < next_beat ? next_check : next_beat))
	{
		now = clock_now_ms();
		if (now >= next_check)
		{
			watch_slot_check(w);
			next_check = clock_now_ms() + (int64_t) w->check_interval * 1000;
		}
		if (now >= next_beat)
		{
			watch_heartbeat(w);
			next_beat = w->view.heartbeat_on ?
				clock_now_ms() + (int64_t) w->heartbeat_interval * 1000 : INT64_MAX;
		}
		obs_publish_watch(w->obs, &w->view);
	}
	PQfinish(w->conn);
	w->conn = NULL;
	pthread_mutex_lock(&w->lock);
	w->done = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void
watch_free(struct watch *w)
{
	free(w->conninfo);
	free(w->slot);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w);
}

bool
watch_start(const struct agent_config *cfg, struct obs *obs,
			struct watch **out, char *err, size_t errlen)
{
	struct watch *w;
	sigset_t	block;
	sigset_t	old;
	int			rc;

	*out = NULL;
	if (cfg->slot_check_interval <= 0 && cfg->heartbeat_interval <= 0)
		return true;
	if ((w = calloc(1, sizeof(*w))) == NULL ||
		(w->conninfo = strdup(cfg->dbname != NULL ? cfg->dbname : "")) == NULL ||
		(w->slot = strdup(cfg->slot)) == NULL)
	{
		if (w != NULL)
			free(w->conninfo);
		free(w);
		snprintf(err, errlen, "out of memory");
		return false;
	}
	w->check_interval = cfg->slot_check_interval;
	w->retained_warn = cfg->slot_retained_warn;
	w->heartbeat_interval = cfg->heartbeat_interval;
	w->obs = obs;
	w->view.slot_check_interval = cfg->slot_check_interval;
	w->view.heartbeat_interval = cfg->heartbeat_interval;
	w->view.heartbeat_on = cfg->heartbeat_interval > 0;
	w->view.wal_status = OBS_WAL_UNKNOWN;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);

	/* The thread inherits this mask: SIGTERM and SIGHUP stay the loop's. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	rc = pthread_create(&w->thread, NULL, watch_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
	{
		snprintf(err, errlen, "could not start the slot check and heartbeat thread: %s",
				 strerror(rc));
		watch_free(w);
		return false;
	}
	*out = w;
	return true;
}

void
watch_stop(struct watch *w)
{
	int64_t		deadline = clock_now_ms() + WATCH_STOP_WAIT_MS;
	bool		done;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);

	/*
	 * A query in progress ends within statement_timeout, a connection
	 * attempt within connect_timeout: wait a moment, no longer.  A thread
	 * still busy is left to the process's exit (with what it owns).
	 */
	pthread_mutex_lock(&w->lock);
	while (!w->done && clock_now_ms() < deadline)
		watch_wait(w, 100);
	done = w->done;
	pthread_mutex_unlock(&w->lock);
	if (!done)
	{
		log_warning("the slot check and heartbeat connection did not finish its query in time: left to the exit");
		pthread_detach(w->thread);
		return;
	}
	pthread_join(w->thread, NULL);
	watch_free(w);
}
