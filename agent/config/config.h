/*
 * config.h
 *		walcast-agent configuration: option tables drive the config file,
 *		environment and command-line parsers, --help and --print-config.
 *
 * Precedence: built-in default < config file (-c FILE) < environment
 * (WALCAST_<LONG_NAME>) < command line.  The reference is
 * docs/agent-config.md.
 *
 * The core's settings (PostgreSQL, events, the initial load, flow control,
 * logging) are fields of struct agent_config; every sink owns its settings
 * block and the rows that fill it (config_table.h), next to the sink in
 * sinks/.  Nothing here knows a sink.
 */
#ifndef WALCAST_CONFIG_H
#define WALCAST_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "envelope.h"

#ifndef WALCAST_VERSION
#define WALCAST_VERSION "0.1.0"
#endif

/* --snapshot: when the initial load runs (docs/snapshot.md). */
enum config_snapshot
{
	CONFIG_SNAPSHOT_INITIAL,	/* when the agent creates the slot */
	CONFIG_SNAPSHOT_NEVER,		/* stream only */
	CONFIG_SNAPSHOT_ALWAYS,		/* on every start */
	CONFIG_SNAPSHOT_ONLY		/* load, then exit 0 */
};

/* One NAME=VALUE of a list option (-o, a sink's maps), in order. */
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
	int			plugin;			/* the decoder: its place in decoder_list.h */
	bool		create_slot;
	bool		if_not_exists;
	struct config_plugin_options plugin_options;
	int			status_interval;	/* seconds */
	int			receive_timeout;	/* seconds, 0 = off */
	bool		accept_slot_gap;	/* stream past a gap in the slot's history */
	char	   *config_file;	/* NULL when none */

	/* events */
	enum envelope_kind envelope;

	/* initial load */
	enum config_snapshot snapshot;
	int			snapshot_chunk_rows;
	char	   *state_dir;
	char	   *reload_table;	/* "schema.table,...": reload these, exit */
	char	   *skip_lsn;		/* "X/X": leave out the record at this LSN */

	/* flow control and lifecycle */
	int			max_inflight_events;
	size_t		max_inflight_bytes;
	int			shutdown_timeout;	/* seconds */
	int			stats_interval; /* seconds, 0 = off */
	int			reconnect_max_delay;	/* seconds */

	/* monitoring (obs/) and the side connection (watch/) */
	char	   *http_listen;	/* "ADDR:PORT", NULL = no HTTP endpoint */
	int			slot_check_interval;	/* seconds, 0 = off */
	size_t		slot_retained_warn; /* bytes, 0 = no warning */
	int			heartbeat_interval; /* seconds, 0 = off */
	bool		publish_heartbeats;

	/* logging */
	char	   *log_file;		/* NULL = stderr */
	int			verbose;		/* 0 info, >= 1 debug */

	/*
	 * The settings blocks of the sections that have their own (each
	 * sink's: config_block), indexed like the sections.
	 */
	void	  **blocks;

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

/*
 * A copy of PostgreSQL conninfo (key=value or postgresql:// URI) with the
 * password replaced by "****"; malloc'd, caller frees.  NULL input gives
 * NULL.  Input that cannot be parsed is replaced whole by "****" rather
 * than risk printing a secret.  (Each secret setting has its own masker:
 * config_table.h, struct config_option.mask.)
 */
extern char *config_mask_conninfo(const char *conninfo);

/*
 * After config_load: overwrite passwords in argv's connection strings with
 * '*', so that ps and /proc/PID/cmdline do not show them (config_scrub.c).
 */
extern void config_scrub_argv(int argc, char **argv);

#endif							/* WALCAST_CONFIG_H */
