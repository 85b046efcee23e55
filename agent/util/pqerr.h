/*
 * pqerr.h
 *		libpq's error messages as the agent's one-line errors.
 *
 * libpq's messages span lines ("...failed: Connection refused\n\tIs the
 * server running..."); every error the agent logs or returns is one line,
 * so the replication connection (stream/) and the initial load's
 * connection (snapshot/) both go through here.
 */
#ifndef WALCAST_PQERR_H
#define WALCAST_PQERR_H

#include <stddef.h>

#include <libpq-fe.h>

/* err = prefix + msg, on one line (NULL msg counts as empty). */
extern void pqerr_oneline(char *err, size_t errlen, const char *prefix,
						  const char *msg);

/*
 * err = "what: " + the error of res, or of conn when res carries none
 * (res may be NULL, e.g. after a failed connect).
 */
extern void pqerr_result(char *err, size_t errlen, const char *what,
						 const PGresult *res, const PGconn *conn);

#endif							/* WALCAST_PQERR_H */
