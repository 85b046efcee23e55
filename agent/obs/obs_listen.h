/*
 * obs_listen.h
 *		The endpoint's listening socket (obs_listen.c); parsing the address
 *		is obs_listen_parse (obs.h), which the configuration checks too.
 */
#ifndef WALCAST_OBS_LISTEN_H
#define WALCAST_OBS_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

#include "obs.h"

/*
 * A listening TCP socket on addr (port 0: the kernel's choice, written
 * back into addr->text); the descriptor, or -1 with err naming the address
 * and the reason ("Address already in use").
 */
extern int	obs_listen_bind(struct obs_listen_addr *addr, char *err,
							size_t errlen);

#endif							/* WALCAST_OBS_LISTEN_H */
