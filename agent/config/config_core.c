/*
 * config_core.c
 *		The core's settings (PostgreSQL, events, the initial load, flow
 *		control, logging), their rules, and the list of sections: the
 *		core's, with every decoder's and registered sink's in between
 *		(decode/decoder.h, sinks/sink.h).
 */
#define _POSIX_C_SOURCE 200809L	/* strdup */

#include "config_table.h"

#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "decoder.h"
#include "lsn.h"
#include "obs.h"
#include "sink.h"

static bool config_check_conninfo(const char *v, char *msg, size_t len);
static bool config_check_lsn(const char *v, char *msg, size_t len);
static bool config_check_listen(const char *v, char *msg, size_t len);

static const struct config_enum_value config_envelopes[] = {
	{"native", ENVELOPE_NATIVE}, {"debezium", ENVELOPE_DEBEZIUM},
	{"flat", ENVELOPE_FLAT}, {NULL, 0}
};
static const struct config_enum_value config_snapshots[] = {
	{"initial", CONFIG_SNAPSHOT_INITIAL}, {"never", CONFIG_SNAPSHOT_NEVER},
	{"always", CONFIG_SNAPSHOT_ALWAYS}, {"only", CONFIG_SNAPSHOT_ONLY},
	{NULL, 0}
};

/* enum fields are written through int * (config_value.c). */
_Static_assert(sizeof(enum envelope_kind) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_snapshot) == sizeof(int), "enum size");
_Static_assert(sizeof(((struct agent_config *) 0)->plugin) == sizeof(int), "enum size");

#define F(field) offsetof(struct agent_config, field)

/* First in --help and --print-config: PostgreSQL. */
static const struct config_option config_core_head[] = {
	{"dbname", 'd', CONFIG_SECRET, F(dbname), "", 0, 0, NULL, config_check_conninfo,
		"CONNINFO", "PostgreSQL connection string or URI; empty uses the PG* environment (replication=database is added)",
	0, "PostgreSQL", config_mask_conninfo, NULL},
	{"slot", 'S', CONFIG_STRING, F(slot), "walcast", 0, 0, NULL, NULL,
		"NAME", "logical replication slot to stream", CONFIG_NONEMPTY, NULL, NULL, NULL},
	{"plugin", 'P', CONFIG_ENUM, F(plugin), "walcast", 0, 0, decoder_plugin_names, NULL,
		"NAME", "output plugin the slot uses: walcast, or pgoutput (built in; needs --publication)", 0, NULL, NULL, NULL},
	{"create-slot", 0, CONFIG_FLAG, F(create_slot), "false", 0, 0, NULL, NULL,
		NULL, "create the slot (with --plugin's output plugin) before streaming", 0, NULL, NULL, NULL},
	{"if-not-exists", 0, CONFIG_FLAG, F(if_not_exists), "false", 0, 0, NULL, NULL,
		NULL, "with --create-slot: use the slot if it already exists", 0, NULL, NULL, NULL},
	{"option", 'o', CONFIG_LIST, F(plugin_options), NULL, 0, 0, NULL, NULL,
		"NAME=VALUE", "plugin option passed to START_REPLICATION (repeatable)", 0, NULL, NULL, NULL},
	{"status-interval", 's', CONFIG_INT, F(status_interval), "10", 1, 3600, NULL, NULL,
		"SECS", "seconds between standby status messages to the server", CONFIG_RELOAD, NULL, NULL, NULL},
	{"receive-timeout", 0, CONFIG_INT, F(receive_timeout), "60", 0, 3600, NULL, NULL,
		"SECS", "end the session when nothing arrives from the server for this long (a reply is asked for halfway); 0 disables", CONFIG_RELOAD, NULL, NULL, NULL},
	{"accept-slot-gap", 0, CONFIG_FLAG, F(accept_slot_gap), "false", 0, 0, NULL, NULL,
		NULL, "stream even when the slot starts after the position this agent last confirmed (the slot was recreated: the changes between are lost)", 0, NULL, NULL, NULL},
	{"config", 'c', CONFIG_STRING, F(config_file), NULL, 0, 0, NULL, NULL,
		"FILE", "read settings from FILE (key = value)", CONFIG_NOFILE | CONFIG_NULLABLE, NULL, NULL, NULL},
};

/* After the decoders' sections, before the sinks'. */
static const struct config_option config_core_events[] = {
	{"envelope", 0, CONFIG_ENUM, F(envelope), "native", 0, 0, config_envelopes, NULL,
		"KIND", "shape of every published event: native, debezium or flat", 0, "Events", NULL, NULL},
	{"skip-lsn", 0, CONFIG_STRING, F(skip_lsn), NULL, 0, 0, NULL, config_check_lsn,
		"LSN", "leave out the one record at this LSN, which the agent cannot process (it names it when it stops)",
	CONFIG_NULLABLE | CONFIG_NOFILE | CONFIG_NOENV, NULL, NULL, NULL},
};

/* After the sinks' sections. */
static const struct config_option config_core_tail[] = {
	{"snapshot", 0, CONFIG_ENUM, F(snapshot), "initial", 0, 0, config_snapshots, NULL,
		"MODE", "initial load: initial (when the agent creates the slot), never, always, only (load and exit)",
	0, "Initial load", NULL, NULL},
	{"snapshot-chunk-rows", 0, CONFIG_INT, F(snapshot_chunk_rows), "10000", 1, 1000000, NULL, NULL,
		"N", "rows fetched per round trip during the load", 0, NULL, NULL, NULL},
	{"state-dir", 0, CONFIG_STRING, F(state_dir), ".", 0, 0, NULL, NULL,
		"DIR", "directory of the agent's state files <slot>.snapshot and <slot>.position (systemd's StateDirectory= sets $STATE_DIRECTORY)",
	CONFIG_NONEMPTY, NULL, NULL, "STATE_DIRECTORY"},
	{"reload-table", 0, CONFIG_STRING, F(reload_table), NULL, 0, 0, NULL, config_check_table_list,
		"SCHEMA.TABLE[,...]", "reload these tables as reads beside a streaming agent, then exit (no slot used)",
	CONFIG_NULLABLE | CONFIG_NOFILE | CONFIG_NOENV, NULL, NULL, NULL},

	{"max-inflight-events", 0, CONFIG_INT, F(max_inflight_events), "10000", 1, 10000000, NULL, NULL,
		"N", "unconfirmed events before reading pauses", CONFIG_RELOAD, "Flow control", NULL, NULL},
	{"max-inflight-bytes", 0, CONFIG_SIZE, F(max_inflight_bytes), "64MB", CONFIG_MB, 4 * CONFIG_GB, NULL, NULL,
		"SIZE", "unconfirmed bytes before reading pauses", CONFIG_RELOAD, NULL, NULL, NULL},
	{"shutdown-timeout", 0, CONFIG_INT, F(shutdown_timeout), "30", 0, 3600, NULL, NULL,
		"SECS", "on SIGTERM, wait this long for outstanding confirms", CONFIG_RELOAD, NULL, NULL, NULL},
	{"stats-interval", 0, CONFIG_INT, F(stats_interval), "60", 0, 86400, NULL, NULL,
		"SECS", "seconds between stats: log lines; 0 disables", CONFIG_RELOAD, NULL, NULL, NULL},
	{"reconnect-max-delay", 0, CONFIG_INT, F(reconnect_max_delay), "30", 1, 3600, NULL, NULL,
		"SECS", "cap of the reconnect backoff", CONFIG_RELOAD, NULL, NULL, NULL},

	{"http-listen", 0, CONFIG_STRING, F(http_listen), NULL, 0, 0, NULL, config_check_listen,
		"ADDR:PORT", "serve /metrics, /healthz, /readyz and /status over HTTP on ADDR:PORT (a bare PORT binds 127.0.0.1; port 0 picks a free one, logged); off when unset",
	CONFIG_NULLABLE, "Monitoring and heartbeats", NULL, NULL},
	{"slot-check-interval", 0, CONFIG_INT, F(slot_check_interval), "10", 0, 86400, NULL, NULL,
		"SECS", "seconds between checks of the slot's retained WAL and wal_status, over an ordinary connection; 0 disables", 0, NULL, NULL, NULL},
	{"slot-retained-warn", 0, CONFIG_SIZE, F(slot_retained_warn), "1GB", 0, 1024 * CONFIG_GB, NULL, NULL,
		"SIZE", "log a warning when the slot retains more WAL than this (once per crossing); 0 disables", 0, NULL, NULL, NULL},
	{"heartbeat-interval", 0, CONFIG_INT, F(heartbeat_interval), "60", 0, 86400, NULL, NULL,
		"SECS", "seconds between heartbeats, pg_logical_emit_message(false, 'walcast.heartbeat', ...), which let the slot advance while the watched tables are idle (needs EXECUTE on it); 0 disables", 0, NULL, NULL, NULL},
	{"publish-heartbeats", 0, CONFIG_FLAG, F(publish_heartbeats), "false", 0, 0, NULL, NULL,
		NULL, "hand the heartbeats to the sinks as messages (they only move the slot otherwise)", 0, NULL, NULL, NULL},

	{"log-file", 0, CONFIG_STRING, F(log_file), NULL, 0, 0, NULL, NULL,
		"FILE", "append log lines to FILE instead of stderr (reopened on SIGHUP)",
	CONFIG_NULLABLE | CONFIG_RELOAD, "Logging", NULL, NULL},
	{"verbose", 'v', CONFIG_COUNTER, F(verbose), "0", 0, 2, NULL, NULL,
		NULL, "more output (repeatable); in a file or environment: 0..2", CONFIG_RELOAD, NULL, NULL, NULL},

	{"print-config", 0, CONFIG_ACTION, 0, NULL, 0, 0, NULL, NULL,
		NULL, "print the effective settings (secrets masked) and exit",
	CONFIG_NOFILE | CONFIG_NOENV, "Other", NULL, NULL},
	{"version", 'V', CONFIG_ACTION, 0, NULL, 0, 0, NULL, NULL,
		NULL, "print the version and exit", CONFIG_NOFILE | CONFIG_NOENV, NULL, NULL, NULL},
	{"help", 0, CONFIG_ACTION, 0, NULL, 0, 0, NULL, NULL,
		NULL, "show this help and exit", CONFIG_NOFILE | CONFIG_NOENV, NULL, NULL, NULL},
};

/* ---- validators of whole values ---- */

static bool
config_check_conninfo(const char *v, char *msg, size_t len)
{
	char	   *errmsg = NULL;
	PQconninfoOption *opts = PQconninfoParse(v, &errmsg);

	/* libpq's message may quote the string, password included: drop it. */
	if (opts == NULL)
	{
		PQfreemem(errmsg);
		snprintf(msg, len, "not a valid connection string");
		return false;
	}
	PQconninfoFree(opts);
	return true;
}

/*
 * schema.table names, comma-separated, as the agent's log and message ids
 * spell them (unquoted): each needs a dot with a name on both sides.
 */
bool
config_check_table_list(const char *v, char *msg, size_t len)
{
	const char *p = v;

	for (;;)
	{
		size_t		n = strcspn(p, ",");
		const char *dot = memchr(p, '.', n);

		if (dot == NULL || dot == p || dot == p + n - 1)
		{
			snprintf(msg, len, "\"%.*s\" is not a table name as schema.table", (int) n, p);
			return false;
		}
		if (p[n] == '\0')
			return true;
		p += n + 1;
	}
}

/* An LSN as PostgreSQL prints it, "X/X", and not 0/0 (no record has it). */
static bool
config_check_lsn(const char *v, char *msg, size_t len)
{
	uint64_t	lsn;

	if (!lsn_parse(v, &lsn) || lsn == 0)
	{
		snprintf(msg, len, "\"%s\" is not an LSN (X/X, as the error that named the record printed it)", v);
		return false;
	}
	return true;
}

/* [ADDR:]PORT for the HTTP endpoint, resolved as it will be bound. */
static bool
config_check_listen(const char *v, char *msg, size_t len)
{
	struct obs_listen_addr addr;

	return obs_listen_parse(v, &addr, msg, len);
}

/* ---- cross-option rules ---- */

static bool
config_core_validate(const struct agent_config *cfg, char *err, size_t errlen)
{
	if (cfg->if_not_exists && !cfg->create_slot)
	{
		snprintf(err, errlen, "if_not_exists requires create_slot");
		return false;
	}
	return true;
}

static const struct config_section config_core_head_section = {
	"core", CONFIG_ROWS(config_core_head), 0, config_core_validate
};
static const struct config_section config_core_events_section = {
	"core", CONFIG_ROWS(config_core_events), 0, NULL
};
static const struct config_section config_core_tail_section = {
	"core", CONFIG_ROWS(config_core_tail), 0, NULL
};

/* ---- the sections ---- */

/*
 * The core's PostgreSQL part, every decoder's section, the core's events,
 * every registered sink's section, the rest of the core's (--help's
 * order).
 */
int
config_section_count(void)
{
	int			n = 3;

	for (int i = 0; i < decoder_count(); i++)
		n += decoder_at(i)->config != NULL;
	for (int i = 0; i < sink_kind_count(); i++)
		n += sink_kind_at(i)->config != NULL;
	return n;
}

const struct config_section *
config_section_at(int i)
{
	if (i == 0)
		return &config_core_head_section;
	for (int k = 0; k < decoder_count(); k++)
		if (decoder_at(k)->config != NULL && --i == 0)
			return decoder_at(k)->config;
	if (--i == 0)
		return &config_core_events_section;
	for (int k = 0; k < sink_kind_count(); k++)
		if (sink_kind_at(k)->config != NULL && --i == 0)
			return sink_kind_at(k)->config;
	return i == 1 ? &config_core_tail_section : NULL;
}
