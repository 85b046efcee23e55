/*
 * lsn.h
 *		WAL positions as PostgreSQL writes them: "X/X" in hex.
 *
 * Kept apart from the events (decode/event.h) so that the replication
 * protocol, the state file and the load's plan can read and print
 * positions without the JSON library.
 */
#ifndef WALCAST_LSN_H
#define WALCAST_LSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest output of lsn_format ("FFFFFFFF/FFFFFFFF") plus the terminator. */
#define LSN_BUFLEN 18

/* PostgreSQL's textual LSN, "X/X" in hex (pg_lsn_in / LSN_FORMAT_ARGS). */
extern bool lsn_parse(const char *s, uint64_t *out);
extern void lsn_format(uint64_t lsn, char *buf, size_t len);

#endif							/* WALCAST_LSN_H */
