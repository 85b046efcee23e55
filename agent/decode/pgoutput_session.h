/*
 * pgoutput_session.h
 *		The session settings every connection of the pgoutput decoder runs
 *		under, whatever the server's, database's or role's defaults.
 *
 * pgoutput sends each value as the text of its type's output function in
 * the walsender, under that session's settings: DateStyle, TimeZone,
 * IntervalStyle, extra_float_digits and bytea_output change the text,
 * client_encoding the bytes.  pgoutput_value.c reads one form only, so the
 * replication connection pins them in its startup packet, where they
 * outrank ALTER ROLE/DATABASE ... SET (a role default is a lower GUC
 * source than a client's startup option; the e2e tests check it on a
 * real server).  The catalogue connection and the initial load's
 * connection get the same settings, so that a row read by SELECT has the
 * text a streamed one has.
 *
 * Left alone on purpose: search_path (format_type's qualification of type
 * names and reg* output depend on it; the walcast plugin sees the
 * walsender's, so both modes see the same role defaults) and lc_monetary
 * (money's text; the plugin uses the walsender's too).
 */
#ifndef WALCAST_PGOUTPUT_SESSION_H
#define WALCAST_PGOUTPUT_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

/*
 * The value of libpq's "options" keyword: -c settings for DateStyle,
 * TimeZone, IntervalStyle, extra_float_digits, bytea_output and
 * client_encoding.
 */
extern const char *pgoutput_session_options(void);

/*
 * Keywords and values to pass to PQconnectdbParams after the user's own
 * (expand_dbname: later keywords win), so that a conninfo cannot undo
 * them: "options" and "client_encoding" (libpq sends the latter as a
 * startup parameter of its own, which would otherwise override the -c
 * one).  Fills at most max pairs, returns how many (2).
 */
extern int	pgoutput_session_params(const char **keys, const char **values,
									int max);

/*
 * Check with SHOW that every pinned setting has its value on conn (an
 * ordinary or a replication connection: walsenders answer SHOW).  False
 * with the setting, its value and the expected one in err.
 */
extern bool pgoutput_session_check(PGconn *conn, char *err, size_t errlen);

/*
 * The highest pgoutput protocol version a server speaks (PostgreSQL 13: 1,
 * 14: 2, 15: 3, 16 and later: 4), from PQserverVersion; 0 below 13.
 */
extern int	pgoutput_session_proto_version(int server_version);

/* Whether pgoutput's "messages" option exists (PostgreSQL 14+). */
extern bool pgoutput_session_has_messages(int server_version);

#endif							/* WALCAST_PGOUTPUT_SESSION_H */
