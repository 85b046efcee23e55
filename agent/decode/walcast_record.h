/*
 * walcast_record.h
 *		The walcast record format (docs/contract.md, docs/format.md) as
 *		events.
 *
 * walcast_record_parse is the one parser of that text: decoder_walcast
 * uses it for each record of a replication message and for each row of
 * the initial load, and a decoder of another plugin that renders its
 * changes as walcast records (the same JSON the plugin would write) builds
 * its events with it too, so that every envelope and sink sees the same
 * events whatever the input.
 */
#ifndef WALCAST_WALCAST_RECORD_H
#define WALCAST_WALCAST_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

/*
 * Parse one record (exactly one JSON object, no trailing data) into *ev.
 * On success *ev owns a reference to the parsed tree (release it with
 * event_free) and borrows data as ev->raw, which must outlive the event.
 * On failure *ev holds nothing to free (event_free is still safe) and err
 * says what was wrong.
 */
extern bool walcast_record_parse(struct event *ev, const char *data,
								 size_t len, char *err, size_t errlen);

/*
 * What a record that walcast_record_parse refused still says about itself,
 * for the error that names it and for --skip-lsn: its action, LSN (0 when
 * unreadable) and relation (empty when unreadable; escapes as written,
 * truncated).
 */
struct walcast_record_id
{
	char		action;
	uint64_t	lsn;
	char		schema[64];
	char		table[64];
};

extern void walcast_record_peek(const char *data, size_t len,
								struct walcast_record_id *id);

#endif							/* WALCAST_WALCAST_RECORD_H */
