/*
 * route.h
 *		Routing-key templates such as "{schema}.{table}.{op}".
 *
 * A template is compiled once at startup, so a typo is a configuration error
 * rather than a surprise per event, and rendered for each event into a
 * caller buffer.
 */
#ifndef WALCAST_ROUTE_H
#define WALCAST_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "event.h"

/* AMQP shortstr: a routing key is at most 255 bytes. */
#define ROUTE_KEY_MAX 255
/* A buffer that holds any routing key route_render can accept. */
#define ROUTE_KEY_BUFLEN (ROUTE_KEY_MAX + 1)

#define ROUTE_DEFAULT_TEMPLATE "{schema}.{table}.{op}"

struct route_template;

extern struct route_template *route_compile(const char *tmpl, char *err,
											size_t errlen);

/*
 * Render the key for ev into buf (NUL-terminated).  Returns false when the
 * key would exceed ROUTE_KEY_MAX bytes or does not fit in len.
 */
extern bool route_render(const struct route_template *t, const struct event *ev,
						 char *buf, size_t len);
extern void route_free(struct route_template *t);

#endif							/* WALCAST_ROUTE_H */
