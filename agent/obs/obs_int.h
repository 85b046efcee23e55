/*
 * obs_int.h
 *		What the endpoint's files share: struct obs (obs_http.c serves it,
 *		obs_collect.c fills it).  Not for other modules.
 */
#ifndef WALCAST_OBS_INT_H
#define WALCAST_OBS_INT_H

#include <pthread.h>
#include <stdint.h>

#include "obs.h"
#include "obs_view.h"

struct obs
{
	/*
	 * The view, shared between the main thread (obs_publish), the side
	 * connection's thread (obs_publish_watch) and the server's thread (a
	 * request copies it): every access holds lock, and only to copy.
	 */
	pthread_mutex_t lock;
	struct obs_view view;

	int64_t		last_publish_ms;	/* the main thread's own: no lock */
	struct MHD_Daemon *daemon;
};

#endif							/* WALCAST_OBS_INT_H */
