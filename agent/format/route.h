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
 * Render the key for ev into buf (NUL-terminated); partition is what
 * {partition} renders (< 0: none, "_").  ev may be NULL when the template
 * uses no event's value (a partition's binding key).  Returns false when
 * the key would exceed ROUTE_KEY_MAX bytes or does not fit in len.
 */
extern bool route_render(const struct route_template *t, const struct event *ev,
						 int partition, char *buf, size_t len);

/* What a template's placeholders depend on: a mask of these. */
#define ROUTE_USES_PARTITION 0x01	/* {partition} */
#define ROUTE_USES_EVENT	0x02	/* {schema}, {table}, {op} or {xid} */
extern unsigned route_uses(const struct route_template *t);
extern void route_free(struct route_template *t);

#endif							/* WALCAST_ROUTE_H */
