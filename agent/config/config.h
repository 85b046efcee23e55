/*
 * config.h
 *		walcast-agent configuration: one table of options drives the config
 *		file, environment and command-line parsers, --help and --print-config.
 *
 * Precedence: built-in default < config file (-c FILE) < environment
 * (WALCAST_<LONG_NAME>) < command line.  The reference is
 * docs/agent-config.md.
 */
#ifndef WALCAST_CONFIG_H
#define WALCAST_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "envelope.h"

#ifndef WALCAST_VERSION
#define WALCAST_VERSION "0.1.0"
#endif

enum config_batch
{
	CONFIG_BATCH_CHANGE,		/* one AMQP message per event */
	CONFIG_BATCH_TRANSACTION	/* a transaction's events per message, capped */
};

enum config_on_return
{
	CONFIG_ON_RETURN_FAIL,		/* an unroutable message is a fatal error */
	CONFIG_ON_RETURN_DROP,		/* count it, warn, carry on */
	CONFIG_ON_RETURN_ALTERNATE	/* republish to alternate_exchange */
};

/* How a value MongoDB (or a server speaking its protocol) cannot take is stored. */
enum config_mongo_numeric
{
	CONFIG_MONGO_NUMERIC_DECIMAL128,	/* exact; string when beyond 34 digits */
	CONFIG_MONGO_NUMERIC_STRING,	/* the exact digits as text (FerretDB) */
	CONFIG_MONGO_NUMERIC_DOUBLE /* rounded to the nearest double */
};

enum config_mongo_fallback
{
	CONFIG_MONGO_NATIVE,		/* nested arrays as arrays, NaN as a double */
	CONFIG_MONGO_STRING			/* as text (FerretDB 1.x refuses them) */
};

enum config_mongo_no_key
{
	CONFIG_MONGO_NO_KEY_SKIP,	/* count, warn once per table, carry on */
	CONFIG_MONGO_NO_KEY_FAIL	/* stop the agent */
};

/* --snapshot: when the initial load runs (docs/snapshot.md). */
enum config_snapshot
{
	CONFIG_SNAPSHOT_INITIAL,	/* when the agent creates the slot */
	CONFIG_SNAPSHOT_NEVER,		/* stream only */
	CONFIG_SNAPSHOT_ALWAYS,		/* on every start */
	CONFIG_SNAPSHOT_ONLY		/* load, then exit 0 */
};

/* One NAME=VALUE of a list option (-o, --mongo-collection-map), in order. */
struct config_plugin_option
{
	char	   *name;
	char	   *value;
};

struct config_plugin_options
{
	struct config_plugin_option *items;
	int			count;
};

struct agent_config
{
	/* PostgreSQL */
	char	   *dbname;			/* conninfo; "" = PG* environment */
	char	   *slot;
	bool		create_slot;
	bool		if_not_exists;
	struct config_plugin_options plugin_options;
	int			status_interval;	/* seconds */
	char	   *config_file;	/* NULL when none */

	/* RabbitMQ; amqp_uri NULL = events to stdout as JSON lines */
	char	   *amqp_uri;
	char	   *amqp_cacert;	/* NULL when unset, likewise below */
	char	   *amqp_cert;
	char	   *amqp_key;
	bool		amqp_verify_peer;
	bool		amqp_verify_hostname;
	int			amqp_heartbeat; /* seconds, 0 = off */
	char	   *exchange;
	bool		exchange_passive;
	char	   *routing_key;	/* template, already checked by route_compile */
	char	   *queue;			/* NULL = declare no queue */
	char	   *queue_binding_key;
	enum envelope_kind envelope;
	enum config_batch batch;
	int			batch_max_events;
	size_t		batch_max_bytes;
	enum config_on_return on_return;
	char	   *alternate_exchange; /* set whenever on_return is ALTERNATE */

	/* MongoDB mirror; mongo_uri NULL = no mirror */
	char	   *mongo_uri;
	char	   *mongo_database;
	char	   *mongo_collection;	/* template: {schema} {table} */
	struct config_plugin_options mongo_collection_map;	/* schema.table=name,
														 * before the template */
	char	   *mongo_write_concern;	/* checked by sink_mongo_parse_wc */
	enum config_mongo_numeric mongo_numeric;
	enum config_mongo_fallback mongo_nested_arrays;
	enum config_mongo_fallback mongo_nonfinite;
	bool		mongo_entry_id;
	enum config_mongo_no_key mongo_no_key;
	int			mongo_bulk_max;	/* writes per bulk request */
	char	   *mongo_tls_ca_file;
	char	   *mongo_tls_cert_key_file;

	/* initial load */
	enum config_snapshot snapshot;
	int			snapshot_chunk_rows;
	char	   *state_dir;
	char	   *reload_table;	/* "schema.table,...": reload these, exit */

	/* flow control and lifecycle */
	int			max_inflight_events;
	size_t		max_inflight_bytes;
	int			shutdown_timeout;	/* seconds */
	int			stats_interval; /* seconds, 0 = off */
	int			reconnect_max_delay;	/* seconds */

	/* logging */
	char	   *log_file;		/* NULL = stderr */
	int			verbose;		/* 0 info, >= 1 debug */

	/*
	 * Private to config.c: where each setting came from, so that
	 * config_reload leaves command-line settings alone.
	 */
	struct config_state *state;
};

enum config_result
{
	CONFIG_OK,
	CONFIG_DONE,				/* --help/--version/--print-config printed: exit 0 */
	CONFIG_ERROR				/* message in err: exit 1 */
};

/*
 * Fill cfg from defaults, config file, environment and argv (in that order of
 * precedence).  cfg needs no initialisation; call config_free afterwards in
 * every case.  On CONFIG_ERROR err holds one line such as
 * "/etc/walcast.conf:12: status_interval: "abc" is not an integer (1..3600)"
 * (main.c prefixes "walcast-agent: error: ").  Output of --help, --version
 * and --print-config goes to stdout.
 */
extern enum config_result config_load(struct agent_config *cfg, int argc,
									  char **argv, char *err, size_t errlen);

/*
 * SIGHUP: re-read the config file and environment for the reloadable
 * options only (those marked so in docs/agent-config.md; command-line
 * settings still win).  On error cfg is unchanged and err says why.  The
 * caller then re-applies what it caches (log file, verbosity, intervals).
 */
extern bool config_reload(struct agent_config *cfg, char *err, size_t errlen);

extern void config_free(struct agent_config *cfg);

/* true/false, on/off, yes/no, 1/0 in any case: every boolean setting. */
extern bool config_parse_bool(const char *s, bool *out);

/* A parsed --mongo-write-concern (config.c checks it, sink_mongo uses it). */
struct config_write_concern
{
	int			w;				/* >= 0 a number, -1 majority, -2 tag */
	char		tag[64];
	bool		journal;
	bool		journal_set;
	int			wtimeout_ms;	/* 0 = none */
};

extern bool config_parse_write_concern(const char *v,
									   struct config_write_concern *wc,
									   char *msg, size_t len);

/*
 * A copy of an amqp(s):// URI, a mongodb(+srv):// URI or PostgreSQL conninfo (key=value or
 * postgresql:// URI) with the password replaced by "****"; malloc'd, caller
 * frees.  NULL input gives NULL.  Input that cannot be parsed is replaced
 * whole by "****" rather than risk printing a secret.
 */
extern char *config_mask_secret_uri(const char *uri);

/*
 * After config_load: overwrite passwords in argv's connection strings with
 * '*', so that ps and /proc/PID/cmdline do not show them (config_scrub.c).
 */
extern void config_scrub_argv(int argc, char **argv);

#endif							/* WALCAST_CONFIG_H */
