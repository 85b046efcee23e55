/*
 * envelope.h
 *		Render a parsed plugin record in the shape published to the broker.
 *
 * native: the plugin's record bytes unchanged.  debezium: Debezium's JSON
 * event without schemas.  flat: the row itself plus "type" and "entry_id".
 * The exact shapes are documented in docs/agent-config.md.
 */
#ifndef WALCAST_ENVELOPE_H
#define WALCAST_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

enum envelope_kind
{
	ENVELOPE_NATIVE,
	ENVELOPE_DEBEZIUM,
	ENVELOPE_FLAT
};

extern bool envelope_kind_parse(const char *s, enum envelope_kind *out);
extern const char *envelope_kind_name(enum envelope_kind k);

/*
 * Returns malloc'd bytes (not NUL-terminated in general; the caller frees)
 * and their length in *len, or NULL with err filled.  Only EVENT_INSERT,
 * EVENT_UPDATE, EVENT_DELETE, EVENT_TRUNCATE and EVENT_MESSAGE can be
 * rendered; begin/commit/other records are not published.
 */
extern char *envelope_render(enum envelope_kind kind, const struct event *ev,
							 size_t *len, char *err, size_t errlen);

/*
 * envelope_render with the event's own id (event_message_id) in the body:
 * debezium's "id" and flat's "__id", last (a flat row's column "__id" is
 * then refused like the other fields' names); native records carry
 * commit_lsn and seq already.  For messages holding several events whose
 * boundaries a replay may cut elsewhere (--batch window): consumers
 * deduplicate per event.
 */
extern char *envelope_render_id(enum envelope_kind kind,
								const struct event *ev, const char *id,
								size_t *len, char *err, size_t errlen);

/*
 * envelope_render with the clock given: now_ms (milliseconds since the
 * epoch) becomes Debezium's top-level "ts_ms".  For tests and for callers
 * that render several events at one instant.
 */
extern char *envelope_render_at(enum envelope_kind kind, const struct event *ev,
								int64_t now_ms, size_t *len, char *err,
								size_t errlen);

/*
 * Days since 1970-01-01 of a proleptic Gregorian date, any year (also used
 * by the MongoDB mirror for BSON dates).
 */
extern int64_t envelope_days_from_civil(int64_t y, int m, int d);

#endif							/* WALCAST_ENVELOPE_H */
