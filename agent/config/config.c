/*
 * config.c
 *		The option table and the one parser it drives (after pgbouncer's
 *		table and Redis's single config error reporter).
 *
 * Every setting is a row below: its long option name (which also gives the
 * config-file key and the environment variable), type, field, default,
 * range, help text and whether SIGHUP reloads it.  Defaults are written as
 * text and go through the same parser as any other source, so --print-config
 * output and defaults cannot drift apart.
 *
 * The config file reader lives in config_file.c; secrets masking in
 * config_mask.c.
 */
#define _POSIX_C_SOURCE 200809L	/* strdup, strcasecmp */

#include "config_int.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <amqp.h>
#include <libpq-fe.h>
#include <mongoc/mongoc.h>

#include "log.h"
#include "route.h"

#define KB ((int64_t) 1024)
#define MB (KB * 1024)
#define GB (MB * 1024)

static bool config_check_conninfo(const char *v, char *msg, size_t len);
static bool config_check_amqp_uri(const char *v, char *msg, size_t len);
static bool config_check_routing_key(const char *v, char *msg, size_t len);
static bool config_check_mongo_uri(const char *v, char *msg, size_t len);
static bool config_check_mongo_collection(const char *v, char *msg, size_t len);
static bool config_check_mongo_wc(const char *v, char *msg, size_t len);
static bool config_check_table_list(const char *v, char *msg, size_t len);

static const struct config_enum_value config_envelopes[] = {
	{"native", ENVELOPE_NATIVE}, {"debezium", ENVELOPE_DEBEZIUM},
	{"flat", ENVELOPE_FLAT}, {NULL, 0}
};
static const struct config_enum_value config_batches[] = {
	{"change", CONFIG_BATCH_CHANGE}, {"transaction", CONFIG_BATCH_TRANSACTION},
	{NULL, 0}
};
static const struct config_enum_value config_on_returns[] = {
	{"fail", CONFIG_ON_RETURN_FAIL}, {"drop", CONFIG_ON_RETURN_DROP},
	{"alternate", CONFIG_ON_RETURN_ALTERNATE}, {NULL, 0}
};

static const struct config_enum_value config_mongo_numerics[] = {
	{"decimal128", CONFIG_MONGO_NUMERIC_DECIMAL128},
	{"string", CONFIG_MONGO_NUMERIC_STRING},
	{"double", CONFIG_MONGO_NUMERIC_DOUBLE}, {NULL, 0}
};
static const struct config_enum_value config_mongo_nested[] = {
	{"array", CONFIG_MONGO_NATIVE}, {"string", CONFIG_MONGO_STRING}, {NULL, 0}
};
static const struct config_enum_value config_mongo_nonfinite[] = {
	{"double", CONFIG_MONGO_NATIVE}, {"string", CONFIG_MONGO_STRING}, {NULL, 0}
};
static const struct config_enum_value config_snapshots[] = {
	{"initial", CONFIG_SNAPSHOT_INITIAL}, {"never", CONFIG_SNAPSHOT_NEVER},
	{"always", CONFIG_SNAPSHOT_ALWAYS}, {"only", CONFIG_SNAPSHOT_ONLY},
	{NULL, 0}
};
static const struct config_enum_value config_mongo_no_keys[] = {
	{"skip", CONFIG_MONGO_NO_KEY_SKIP}, {"fail", CONFIG_MONGO_NO_KEY_FAIL},
	{NULL, 0}
};

#define F(field) offsetof(struct agent_config, field)

/* Order is the order of --help and --print-config. */
const struct config_option config_options[] = {
	{"dbname", 'd', CONFIG_SECRET, F(dbname), "", 0, 0, NULL, config_check_conninfo,
		"CONNINFO", "PostgreSQL connection string or URI; empty uses the PG* environment (replication=database is added)",
	0, "PostgreSQL"},
	{"slot", 'S', CONFIG_STRING, F(slot), "walcast", 0, 0, NULL, NULL,
		"NAME", "logical replication slot to stream", CONFIG_NONEMPTY, NULL},
	{"create-slot", 0, CONFIG_FLAG, F(create_slot), "false", 0, 0, NULL, NULL,
		NULL, "create the slot (plugin walcast) before streaming", 0, NULL},
	{"if-not-exists", 0, CONFIG_FLAG, F(if_not_exists), "false", 0, 0, NULL, NULL,
		NULL, "with --create-slot: use the slot if it already exists", 0, NULL},
	{"option", 'o', CONFIG_LIST, F(plugin_options), NULL, 0, 0, NULL, NULL,
		"NAME=VALUE", "plugin option passed to START_REPLICATION (repeatable)", 0, NULL},
	{"status-interval", 's', CONFIG_INT, F(status_interval), "10", 1, 3600, NULL, NULL,
		"SECS", "seconds between standby status messages to the server", CONFIG_RELOAD, NULL},
	{"config", 'c', CONFIG_STRING, F(config_file), NULL, 0, 0, NULL, NULL,
		"FILE", "read settings from FILE (key = value)", CONFIG_NOFILE | CONFIG_NULLABLE, NULL},

	{"amqp-uri", 0, CONFIG_SECRET, F(amqp_uri), NULL, 0, 0, NULL, config_check_amqp_uri,
		"URI", "amqp:// or amqps:// URI of the broker; unset: stdout as JSON lines, or no RabbitMQ with --mongo-uri",
	CONFIG_NULLABLE, "RabbitMQ"},
	{"amqp-cacert", 0, CONFIG_STRING, F(amqp_cacert), NULL, 0, 0, NULL, NULL,
		"FILE", "CA certificates (PEM) to verify the broker (amqps)", CONFIG_NULLABLE, NULL},
	{"amqp-cert", 0, CONFIG_STRING, F(amqp_cert), NULL, 0, 0, NULL, NULL,
		"FILE", "client certificate (PEM) for amqps", CONFIG_NULLABLE, NULL},
	{"amqp-key", 0, CONFIG_STRING, F(amqp_key), NULL, 0, 0, NULL, NULL,
		"FILE", "client private key (PEM) for amqps", CONFIG_NULLABLE, NULL},
	{"amqp-verify-peer", 0, CONFIG_BOOL, F(amqp_verify_peer), "true", 0, 0, NULL, NULL,
		"BOOL", "verify the broker's certificate (amqps)", 0, NULL},
	{"amqp-verify-hostname", 0, CONFIG_BOOL, F(amqp_verify_hostname), "true", 0, 0, NULL, NULL,
		"BOOL", "verify the broker's host name against its certificate (amqps)", 0, NULL},
	{"amqp-heartbeat", 0, CONFIG_INT, F(amqp_heartbeat), "30", 0, 3600, NULL, NULL,
		"SECS", "AMQP heartbeat; 0 disables", 0, NULL},
	{"exchange", 0, CONFIG_STRING, F(exchange), "walcast", 0, 0, NULL, NULL,
		"NAME", "durable topic exchange to publish to", CONFIG_NONEMPTY, NULL},
	{"exchange-passive", 0, CONFIG_FLAG, F(exchange_passive), "false", 0, 0, NULL, NULL,
		NULL, "check that the exchange exists instead of declaring it", 0, NULL},
	{"routing-key", 0, CONFIG_STRING, F(routing_key), ROUTE_DEFAULT_TEMPLATE, 0, 0, NULL, config_check_routing_key,
		"TEMPLATE", "routing key template: {schema} {table} {op} {xid}", 0, NULL},
	{"queue", 0, CONFIG_STRING, F(queue), NULL, 0, 0, NULL, NULL,
		"NAME", "also declare this durable queue and bind it to the exchange", CONFIG_NULLABLE, NULL},
	{"queue-binding-key", 0, CONFIG_STRING, F(queue_binding_key), "#", 0, 0, NULL, NULL,
		"KEY", "binding key of --queue", 0, NULL},
	{"envelope", 0, CONFIG_ENUM, F(envelope), "native", 0, 0, config_envelopes, NULL,
		"KIND", "message body: native, debezium or flat", 0, NULL},
	{"batch", 0, CONFIG_ENUM, F(batch), "change", 0, 0, config_batches, NULL,
		"MODE", "one message per change, or per transaction (capped)", 0, NULL},
	{"batch-max-events", 0, CONFIG_INT, F(batch_max_events), "1000", 1, 1000000, NULL, NULL,
		"N", "most events in one batched message", 0, NULL},
	{"batch-max-bytes", 0, CONFIG_SIZE, F(batch_max_bytes), "1MB", KB, 128 * MB, NULL, NULL,
		"SIZE", "largest batched message body", 0, NULL},
	{"on-return", 0, CONFIG_ENUM, F(on_return), "fail", 0, 0, config_on_returns, NULL,
		"POLICY", "unroutable message: fail, drop (warn and count) or alternate", 0, NULL},
	{"alternate-exchange", 0, CONFIG_STRING, F(alternate_exchange), NULL, 0, 0, NULL, NULL,
		"NAME", "exchange for unroutable messages with --on-return=alternate", CONFIG_NULLABLE, NULL},

	{"mongo-uri", 0, CONFIG_SECRET, F(mongo_uri), NULL, 0, 0, NULL, config_check_mongo_uri,
		"URI", "mongodb:// URI of the MongoDB mirror; unset = no mirror",
	CONFIG_NULLABLE, "MongoDB mirror"},
	{"mongo-database", 0, CONFIG_STRING, F(mongo_database), "walcast", 0, 0, NULL, NULL,
		"NAME", "database of the mirror's collections", CONFIG_NONEMPTY, NULL},
	{"mongo-collection", 0, CONFIG_STRING, F(mongo_collection), "{table}", 0, 0, NULL, config_check_mongo_collection,
		"TEMPLATE", "collection name template: {schema} {table}", CONFIG_NONEMPTY, NULL},
	{"mongo-collection-map", 0, CONFIG_LIST, F(mongo_collection_map), NULL, 0, 0, NULL, NULL,
		"SCHEMA.TABLE=NAME", "collection of one table, instead of the template (repeatable)", 0, NULL},
	{"mongo-write-concern", 0, CONFIG_STRING, F(mongo_write_concern), "w=majority,j=true", 0, 0, NULL, config_check_mongo_wc,
		"WC", "write concern: w=N|majority|TAG, j=BOOL, wtimeout=MS (comma-separated)", CONFIG_NONEMPTY, NULL},
	{"mongo-numeric", 0, CONFIG_ENUM, F(mongo_numeric), "decimal128", 0, 0, config_mongo_numerics, NULL,
		"KIND", "numeric columns as decimal128, string or double", 0, NULL},
	{"mongo-nested-arrays", 0, CONFIG_ENUM, F(mongo_nested_arrays), "array", 0, 0, config_mongo_nested, NULL,
		"KIND", "a value holding arrays of arrays: array, or string (its JSON text)", 0, NULL},
	{"mongo-nonfinite", 0, CONFIG_ENUM, F(mongo_nonfinite), "double", 0, 0, config_mongo_nonfinite, NULL,
		"KIND", "float NaN/Infinity as double, or string", 0, NULL},
	{"mongo-entry-id", 0, CONFIG_BOOL, F(mongo_entry_id), "false", 0, 0, NULL, NULL,
		"BOOL", "also store the key in an entry_id field", 0, NULL},
	{"mongo-no-key", 0, CONFIG_ENUM, F(mongo_no_key), "skip", 0, 0, config_mongo_no_keys, NULL,
		"POLICY", "changes of tables without a key: skip (warn, count) or fail", 0, NULL},
	{"mongo-tls-ca-file", 0, CONFIG_STRING, F(mongo_tls_ca_file), NULL, 0, 0, NULL, NULL,
		"FILE", "CA certificates (PEM) to verify the server; turns TLS on", CONFIG_NULLABLE, NULL},
	{"mongo-tls-cert-key-file", 0, CONFIG_STRING, F(mongo_tls_cert_key_file), NULL, 0, 0, NULL, NULL,
		"FILE", "client certificate and key (one PEM); turns TLS on", CONFIG_NULLABLE, NULL},
	{"mongo-bulk-max", 0, CONFIG_INT, F(mongo_bulk_max), "200", 1, 100000, NULL, NULL,
		"N", "most writes in one bulk request (FerretDB on PostgreSQL hangs past about 48)", 0, NULL},

	{"snapshot", 0, CONFIG_ENUM, F(snapshot), "initial", 0, 0, config_snapshots, NULL,
		"MODE", "initial load: initial (when the agent creates the slot), never, always, only (load and exit)",
	0, "Initial load"},
	{"snapshot-chunk-rows", 0, CONFIG_INT, F(snapshot_chunk_rows), "10000", 1, 1000000, NULL, NULL,
		"N", "rows fetched per round trip during the load", 0, NULL},
	{"state-dir", 0, CONFIG_STRING, F(state_dir), ".", 0, 0, NULL, NULL,
		"DIR", "directory of the load's state file <slot>.snapshot", CONFIG_NONEMPTY, NULL},
	{"reload-table", 0, CONFIG_STRING, F(reload_table), NULL, 0, 0, NULL, config_check_table_list,
		"SCHEMA.TABLE[,...]", "reload these tables as reads beside a streaming agent, then exit (no slot used)",
	CONFIG_NULLABLE | CONFIG_NOFILE | CONFIG_NOENV, NULL},

	{"max-inflight-events", 0, CONFIG_INT, F(max_inflight_events), "10000", 1, 10000000, NULL, NULL,
		"N", "unconfirmed events before reading pauses", CONFIG_RELOAD, "Flow control"},
	{"max-inflight-bytes", 0, CONFIG_SIZE, F(max_inflight_bytes), "64MB", MB, 4 * GB, NULL, NULL,
		"SIZE", "unconfirmed bytes before reading pauses", CONFIG_RELOAD, NULL},
	{"shutdown-timeout", 0, CONFIG_INT, F(shutdown_timeout), "30", 0, 3600, NULL, NULL,
		"SECS", "on SIGTERM, wait this long for outstanding confirms", CONFIG_RELOAD, NULL},
	{"stats-interval", 0, CONFIG_INT, F(stats_interval), "60", 0, 86400, NULL, NULL,
		"SECS", "seconds between stats: log lines; 0 disables", CONFIG_RELOAD, NULL},
	{"reconnect-max-delay", 0, CONFIG_INT, F(reconnect_max_delay), "30", 1, 3600, NULL, NULL,
		"SECS", "cap of the reconnect backoff", CONFIG_RELOAD, NULL},

	{"log-file", 0, CONFIG_STRING, F(log_file), NULL, 0, 0, NULL, NULL,
		"FILE", "append log lines to FILE instead of stderr (reopened on SIGHUP)",
	CONFIG_NULLABLE | CONFIG_RELOAD, "Logging"},
	{"verbose", 'v', CONFIG_COUNTER, F(verbose), "0", 0, 2, NULL, NULL,
		NULL, "more output (repeatable); in a file or environment: 0..2", CONFIG_RELOAD, NULL},

	{"print-config", 0, CONFIG_ACTION, 0, NULL, 0, 0, NULL, NULL,
		NULL, "print the effective settings (secrets masked) and exit",
	CONFIG_NOFILE | CONFIG_NOENV, "Other"},
	{"version", 'V', CONFIG_ACTION, 0, NULL, 0, 0, NULL, NULL,
		NULL, "print the version and exit", CONFIG_NOFILE | CONFIG_NOENV, NULL},
	{"help", 0, CONFIG_ACTION, 0, NULL, 0, 0, NULL, NULL,
		NULL, "show this help and exit", CONFIG_NOFILE | CONFIG_NOENV, NULL},
};

#define NOPTIONS ((int) (sizeof(config_options) / sizeof(config_options[0])))
const int	config_noptions = NOPTIONS;

/* enum fields are written through int * (see config_field_int). */
_Static_assert(sizeof(enum envelope_kind) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_batch) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_on_return) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_mongo_numeric) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_mongo_fallback) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_mongo_no_key) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_snapshot) == sizeof(int), "enum size");

struct config_state
{
	enum config_source source[NOPTIONS];
	int			line[NOPTIONS];	/* config file line, for messages */
	int			argc;			/* copy of argv, so config_reload can */
	char	  **argv;			/* re-apply the command line on top */
};

/* ---- field access ---- */

static void *
config_field(struct agent_config *cfg, const struct config_option *opt)
{
	return (char *) cfg + opt->offset;
}

#define FIELD(cfg, opt, type) ((type *) config_field((cfg), (opt)))

int
config_option_index(const struct config_option *opt)
{
	return (int) (opt - config_options);
}

static void
config_list_clear(struct config_plugin_options *l)
{
	for (int i = 0; i < l->count; i++)
	{
		free(l->items[i].name);
		free(l->items[i].value);
	}
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

/* ---- value parsers: each fills msg (without the label) on failure ---- */

bool
config_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "on", "yes", "1", NULL};
	static const char *const no[] = {"false", "off", "no", "0", NULL};

	for (int i = 0; yes[i] != NULL; i++)
	{
		if (strcasecmp(s, yes[i]) == 0)
		{
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0)
		{
			*out = false;
			return true;
		}
	}
	return false;
}

static void
config_format_size(int64_t v, char *buf, size_t len)
{
	if (v != 0 && v % GB == 0)
		snprintf(buf, len, "%" PRId64 "GB", v / GB);
	else if (v != 0 && v % MB == 0)
		snprintf(buf, len, "%" PRId64 "MB", v / MB);
	else if (v != 0 && v % KB == 0)
		snprintf(buf, len, "%" PRId64 "kB", v / KB);
	else
		snprintf(buf, len, "%" PRId64 "B", v);
}

static void
config_format_range(const struct config_option *opt, char *buf, size_t len)
{
	char		lo[32];
	char		hi[32];

	if (opt->type == CONFIG_SIZE)
	{
		config_format_size(opt->min, lo, sizeof(lo));
		config_format_size(opt->max, hi, sizeof(hi));
	}
	else
	{
		snprintf(lo, sizeof(lo), "%" PRId64, opt->min);
		snprintf(hi, sizeof(hi), "%" PRId64, opt->max);
	}
	snprintf(buf, len, "%s..%s", lo, hi);
}

/* Decimal integer, then for sizes an optional unit (PostgreSQL's spelling). */
static bool
config_parse_number(const struct config_option *opt, const char *s,
					int64_t *out, char *msg, size_t len)
{
	static const struct
	{
		const char *unit;
		int64_t		mult;
	}			units[] = {
		{"", 1}, {"B", 1}, {"kB", KB}, {"k", KB}, {"MB", MB}, {"M", MB},
		{"GB", GB}, {"G", GB}, {NULL, 0}
	};
	char		range[80];		/* two 32-byte bounds and ".." */
	char	   *end;
	long long	v;

	config_format_range(opt, range, sizeof(range));
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || (!isdigit((unsigned char) s[0]) && s[0] != '-'))
		goto bad;
	if (opt->type == CONFIG_SIZE)
	{
		int			i;

		while (*end == ' ' || *end == '\t')
			end++;
		for (i = 0; units[i].unit != NULL; i++)
			if (strcasecmp(end, units[i].unit) == 0)
				break;
		if (units[i].unit == NULL || v < 0)
			goto bad;
		if (errno == 0 && v > INT64_MAX / units[i].mult)
			errno = ERANGE;
		v *= errno == 0 ? units[i].mult : 1;
	}
	else if (*end != '\0')
		goto bad;
	if (errno == ERANGE || v < opt->min || v > opt->max)
	{
		snprintf(msg, len, "%s is out of range (%s)", s, range);
		return false;
	}
	*out = v;
	return true;
bad:
	snprintf(msg, len, "\"%s\" is not %s (%s)", s,
			 opt->type == CONFIG_SIZE ? "a size" : "an integer", range);
	return false;
}

static bool
config_parse_enum(const struct config_option *opt, const char *s, int *out,
				  char *msg, size_t len)
{
	size_t		used;

	for (int i = 0; opt->values[i].name != NULL; i++)
	{
		if (strcmp(s, opt->values[i].name) == 0)
		{
			*out = opt->values[i].value;
			return true;
		}
	}
	used = (size_t) snprintf(msg, len, "\"%s\" is not one of ", s);
	for (int i = 0; opt->values[i].name != NULL && used < len; i++)
		used += (size_t) snprintf(msg + used, len - used, "%s%s",
								  i > 0 ? ", " : "", opt->values[i].name);
	return false;
}

const char *
config_enum_name(const struct config_option *opt, int value)
{
	for (int i = 0; opt->values[i].name != NULL; i++)
		if (opt->values[i].value == value)
			return opt->values[i].name;
	return "?";
}

/* One NAME=VALUE of a list option, appended; duplicates are an error. */
static bool
config_list_add(struct config_plugin_options *l, const char *s,
				char *msg, size_t len)
{
	const char *eq = strchr(s, '=');
	struct config_plugin_option *items;
	size_t		namelen;

	if (eq == NULL || eq == s)
	{
		snprintf(msg, len, "\"%s\" is not NAME=VALUE", s);
		return false;
	}
	namelen = (size_t) (eq - s);
	for (int i = 0; i < l->count; i++)
	{
		if (strlen(l->items[i].name) == namelen &&
			strncmp(l->items[i].name, s, namelen) == 0)
		{
			snprintf(msg, len, "\"%.*s\" given twice", (int) namelen, s);
			return false;
		}
	}
	items = realloc(l->items, (size_t) (l->count + 1) * sizeof(*items));
	if (items == NULL)
		goto oom;
	l->items = items;
	items[l->count].name = strndup(s, namelen);
	items[l->count].value = strdup(eq + 1);
	if (items[l->count].name == NULL || items[l->count].value == NULL)
	{
		free(items[l->count].name);
		free(items[l->count].value);
		goto oom;
	}
	l->count++;
	return true;
oom:
	snprintf(msg, len, "out of memory");
	return false;
}

/*
 * A list value from a file line or CLI flag is one NAME=VALUE; from the
 * environment, entries separated by blanks.  An empty value clears the list.
 */
static bool
config_set_list(struct config_plugin_options *l, const char *s, bool split,
				char *msg, size_t len)
{
	char	   *copy;
	char	   *save = NULL;
	bool		ok = true;

	if (!split)
		return s[0] == '\0' || config_list_add(l, s, msg, len);
	if ((copy = strdup(s)) == NULL)
	{
		snprintf(msg, len, "out of memory");
		return false;
	}
	for (char *tok = strtok_r(copy, " \t\n", &save); tok != NULL && ok;
		 tok = strtok_r(NULL, " \t\n", &save))
		ok = config_list_add(l, tok, msg, len);
	free(copy);
	return ok;
}

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

static bool
config_check_amqp_uri(const char *v, char *msg, size_t len)
{
	struct amqp_connection_info info;
	char	   *copy = strdup(v);
	bool		ok;

	if (copy == NULL)
	{
		snprintf(msg, len, "out of memory");
		return false;
	}
	ok = amqp_parse_url(copy, &info) == AMQP_STATUS_OK;
	free(copy);
	if (!ok)
		snprintf(msg, len, "not a valid amqp:// or amqps:// URI");
	return ok;
}

static bool
config_check_routing_key(const char *v, char *msg, size_t len)
{
	struct route_template *t = route_compile(v, msg, len);

	route_free(t);
	return t != NULL;
}

static bool
config_check_mongo_uri(const char *v, char *msg, size_t len)
{
	bson_error_t error;
	mongoc_uri_t *uri = mongoc_uri_new_with_error(v, &error);

	/* The driver's message may quote the URI, password included: drop it. */
	if (uri == NULL)
	{
		snprintf(msg, len, "not a valid mongodb:// URI");
		return false;
	}
	mongoc_uri_destroy(uri);
	return true;
}

/* {schema} and {table} only: anything else would be a typo. */
static bool
config_check_mongo_collection(const char *v, char *msg, size_t len)
{
	for (const char *p = strchr(v, '{'); p != NULL; p = strchr(p + 1, '{'))
		if (strncmp(p, "{schema}", 8) != 0 && strncmp(p, "{table}", 7) != 0)
		{
			snprintf(msg, len, "unknown placeholder at \"%.20s\" (use {schema} and {table})", p);
			return false;
		}
	if (strchr(v, '$') != NULL)
	{
		snprintf(msg, len, "a collection name cannot contain '$'");
		return false;
	}
	return true;
}

/*
 * schema.table names, comma-separated, as the agent's log and message ids
 * spell them (unquoted): each needs a dot with a name on both sides.
 */
static bool
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

static bool
config_check_mongo_wc(const char *v, char *msg, size_t len)
{
	struct config_write_concern wc;

	return config_parse_write_concern(v, &wc, msg, len);
}

/*
 * "w=majority,j=true,wtimeout=5000"; a bare item is w (majority, a number
 * or a tag name).  Parsed here, not by the driver, so that a typo is a
 * configuration error at startup rather than a server error later.
 */
bool
config_parse_write_concern(const char *v, struct config_write_concern *wc,
						   char *msg, size_t len)
{
	char	   *copy = strdup(v);
	char	   *save = NULL;
	bool		ok = true;

	memset(wc, 0, sizeof(*wc));
	wc->w = -1;
	wc->wtimeout_ms = 0;
	if (copy == NULL)
	{
		snprintf(msg, len, "out of memory");
		return false;
	}
	for (char *item = strtok_r(copy, ",", &save); item != NULL && ok;
		 item = strtok_r(NULL, ",", &save))
	{
		char	   *eq = strchr(item, '=');
		const char *key = eq ? item : "w";
		const char *val = eq ? eq + 1 : item;
		char	   *end;
		long		n;

		if (eq)
			*eq = '\0';
		if (strcmp(key, "w") == 0)
		{
			n = strtol(val, &end, 10);
			if (*val != '\0' && *end == '\0')
			{
				ok = n >= 0 && n <= 1000;
				wc->w = (int) n;
			}
			else if (strcmp(val, "majority") == 0)
				wc->w = -1;
			else if (*val != '\0' && strlen(val) < sizeof(wc->tag))
			{
				wc->w = -2;
				strcpy(wc->tag, val);
			}
			else
				ok = false;
		}
		else if (strcmp(key, "j") == 0)
		{
			ok = config_parse_bool(val, &wc->journal);
			wc->journal_set = true;
		}
		else if (strcmp(key, "wtimeout") == 0)
		{
			n = strtol(val, &end, 10);
			ok = *val != '\0' && *end == '\0' && n >= 0 && n <= 3600000;
			wc->wtimeout_ms = (int) n;
		}
		else
			ok = false;
		if (!ok)
			snprintf(msg, len, "\"%s\" is not a write concern item (w=N|majority|TAG, j=BOOL, wtimeout=MS)",
					 eq ? (*eq = '=', item) : item);
	}
	free(copy);
	return ok;
}

/* ---- setting one option from one source ---- */

/*
 * Parse value into opt's field.  label names the option and its source
 * ("file:12: status_interval", "WALCAST_STATUS_INTERVAL", "--status-interval")
 * and prefixes any error.
 */
bool
config_set(struct agent_config *cfg, const struct config_option *opt,
		   const char *value, enum config_source src, int line,
		   const char *label, char *err, size_t errlen)
{
	int			idx = config_option_index(opt);
	char		msg[512] = "";
	int64_t		num;
	int			e;
	bool		b;
	bool		ok = true;

	switch (opt->type)
	{
		case CONFIG_STRING:
		case CONFIG_SECRET:
			{
				char	  **field = FIELD(cfg, opt, char *);
				char	   *copy = NULL;

				if (value[0] == '\0' && (opt->flags & CONFIG_NONEMPTY))
				{
					snprintf(msg, sizeof(msg), "must not be empty");
					ok = false;
				}
				else if (value[0] != '\0' && opt->check != NULL)
					ok = opt->check(value, msg, sizeof(msg));
				if (ok && (value[0] != '\0' || !(opt->flags & CONFIG_NULLABLE)) &&
					(copy = strdup(value)) == NULL)
				{
					snprintf(msg, sizeof(msg), "out of memory");
					ok = false;
				}
				if (ok)
				{
					free(*field);
					*field = copy;
				}
				break;
			}
		case CONFIG_FLAG:
			if (src == CONFIG_SRC_CLI)
			{
				*FIELD(cfg, opt, bool) = true;
				break;
			}
			/* FALLTHROUGH */
		case CONFIG_BOOL:
			if ((ok = config_parse_bool(value, &b)))
				*FIELD(cfg, opt, bool) = b;
			else
				snprintf(msg, sizeof(msg),
						 "\"%s\" is not a boolean (true/false, on/off, yes/no, 1/0)",
						 value);
			break;
		case CONFIG_COUNTER:
			if (src == CONFIG_SRC_CLI)
			{
				int		   *field = FIELD(cfg, opt, int);

				/* -v -v: count occurrences on the command line, capped. */
				*field = cfg->state->source[idx] == CONFIG_SRC_CLI ? *field + 1 : 1;
				if (*field > opt->max)
					*field = (int) opt->max;
				break;
			}
			/* FALLTHROUGH */
		case CONFIG_INT:
			if ((ok = config_parse_number(opt, value, &num, msg, sizeof(msg))))
				*FIELD(cfg, opt, int) = (int) num;
			break;
		case CONFIG_SIZE:
			if ((ok = config_parse_number(opt, value, &num, msg, sizeof(msg))))
				*FIELD(cfg, opt, size_t) = (size_t) num;
			break;
		case CONFIG_ENUM:
			if ((ok = config_parse_enum(opt, value, &e, msg, sizeof(msg))))
				*FIELD(cfg, opt, int) = e;
			break;
		case CONFIG_LIST:
			{
				struct config_plugin_options *l =
					FIELD(cfg, opt, struct config_plugin_options);

				/* A higher-precedence source replaces the list, not extends it. */
				if (cfg->state->source[idx] != src)
					config_list_clear(l);
				ok = config_set_list(l, value, src == CONFIG_SRC_ENV,
									 msg, sizeof(msg));
				break;
			}
		case CONFIG_ACTION:
			break;
	}
	if (!ok)
	{
		snprintf(err, errlen, "%s: %s", label, msg);
		return false;
	}
	cfg->state->source[idx] = src;
	cfg->state->line[idx] = line;
	return true;
}

/* "status_interval" for "status-interval"; buf holds CONFIG_NAME_MAX. */
void
config_key_name(const struct config_option *opt, char *buf, size_t len)
{
	size_t		i;

	for (i = 0; opt->name[i] != '\0' && i + 1 < len; i++)
		buf[i] = opt->name[i] == '-' ? '_' : opt->name[i];
	buf[i] = '\0';
}

static void
config_env_name(const struct config_option *opt, char *buf, size_t len)
{
	char		key[CONFIG_NAME_MAX];

	config_key_name(opt, key, sizeof(key));
	snprintf(buf, len, "WALCAST_%s", key);
	for (char *p = buf; *p; p++)
		*p = (char) toupper((unsigned char) *p);
}

static bool
config_apply_env(struct agent_config *cfg, const struct config_option *opt,
				 char *err, size_t errlen)
{
	char		name[CONFIG_NAME_MAX + 8];
	const char *value;

	if (opt->flags & CONFIG_NOENV)
		return true;
	config_env_name(opt, name, sizeof(name));
	value = getenv(name);
	return value == NULL ||
		config_set(cfg, opt, value, CONFIG_SRC_ENV, 0, name, err, errlen);
}

/* ---- cross-option rules, run on the merged result ---- */

static bool
config_validate(const struct agent_config *cfg, char *err, size_t errlen)
{
	char		a[32];
	char		b[32];

	if (cfg->on_return == CONFIG_ON_RETURN_ALTERNATE && cfg->alternate_exchange == NULL)
	{
		snprintf(err, errlen, "on_return = alternate requires alternate_exchange");
		return false;
	}
	if (cfg->if_not_exists && !cfg->create_slot)
	{
		snprintf(err, errlen, "if_not_exists requires create_slot");
		return false;
	}
	for (int i = 0; i < cfg->mongo_collection_map.count; i++)
	{
		const struct config_plugin_option *m = &cfg->mongo_collection_map.items[i];
		const char *dot = strchr(m->name, '.');

		/* Names as the plugin writes them: unquoted, schema always given. */
		if (dot == NULL || dot == m->name || dot[1] == '\0' || m->value[0] == '\0' ||
			strchr(m->value, '$') != NULL)
		{
			snprintf(err, errlen,
					 "mongo_collection_map: \"%s=%s\" is not SCHEMA.TABLE=COLLECTION (a collection name cannot be empty or contain '$')",
					 m->name, m->value);
			return false;
		}
	}
	if (cfg->mongo_uri == NULL && (cfg->mongo_tls_ca_file || cfg->mongo_tls_cert_key_file))
	{
		snprintf(err, errlen, "mongo_tls_ca_file and mongo_tls_cert_key_file need mongo_uri");
		return false;
	}
	if ((cfg->amqp_cert == NULL) != (cfg->amqp_key == NULL))
	{
		snprintf(err, errlen, "amqp_cert and amqp_key must be set together");
		return false;
	}
	/* The in-flight window must hold at least one full batch. */
	if (cfg->batch_max_events > cfg->max_inflight_events)
	{
		snprintf(err, errlen, "batch_max_events (%d) exceeds max_inflight_events (%d)",
				 cfg->batch_max_events, cfg->max_inflight_events);
		return false;
	}
	if (cfg->batch_max_bytes > cfg->max_inflight_bytes)
	{
		config_format_size((int64_t) cfg->batch_max_bytes, a, sizeof(a));
		config_format_size((int64_t) cfg->max_inflight_bytes, b, sizeof(b));
		snprintf(err, errlen, "batch_max_bytes (%s) exceeds max_inflight_bytes (%s)", a, b);
		return false;
	}

	return true;
}

/* ---- the command line ---- */

struct config_cli_arg
{
	const struct config_option *opt;
	const char *value;
};

/* Collect argv without applying it: the config file path must come first. */
static bool
config_scan_cli(int argc, char **argv, struct config_cli_arg *args, int *nargs,
				char *err, size_t errlen)
{
	struct option longopts[NOPTIONS + 1];
	char		shortopts[2 * NOPTIONS + 2];
	size_t		ns = 0;
	int			c;

	shortopts[ns++] = ':';		/* report a missing value as ':' */
	for (int i = 0; i < NOPTIONS; i++)
	{
		const struct config_option *opt = &config_options[i];
		bool		arg = opt->type != CONFIG_FLAG && opt->type != CONFIG_COUNTER &&
			opt->type != CONFIG_ACTION;

		longopts[i].name = opt->name;
		longopts[i].has_arg = arg ? required_argument : no_argument;
		longopts[i].flag = NULL;
		longopts[i].val = 256 + i;
		if (opt->short_flag)
		{
			shortopts[ns++] = opt->short_flag;
			if (arg)
				shortopts[ns++] = ':';
		}
	}
	shortopts[ns] = '\0';
	memset(&longopts[NOPTIONS], 0, sizeof(longopts[0]));

	/* optind = 0 makes glibc start over, so config_load can run again. */
	optind = 0;
	opterr = 0;
	*nargs = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1)
	{
		int			i;

		if (c == '?' || c == ':')
		{
			const char *arg = argv[optind - 1];

			if (c == ':')
				snprintf(err, errlen, "option \"%s\" requires a value (try --help)", arg);
			else if (optopt >= 256)
				snprintf(err, errlen, "option \"--%s\" takes no value (try --help)",
						 config_options[optopt - 256].name);
			else if (optopt != 0)
				snprintf(err, errlen, "unknown option \"-%c\" (try --help)", optopt);
			else
				snprintf(err, errlen, "unknown option \"%s\" (try --help)", arg);
			return false;
		}
		if (c >= 256)
			i = c - 256;
		else
			for (i = 0; config_options[i].short_flag != c; i++)
				;
		args[*nargs].opt = &config_options[i];
		args[*nargs].value = optarg ? optarg : "";
		(*nargs)++;
	}
	if (optind < argc)
	{
		snprintf(err, errlen, "unexpected argument \"%s\" (try --help)", argv[optind]);
		return false;
	}
	return true;
}

static const struct config_option *
config_find(const char *name)
{
	for (int i = 0; i < NOPTIONS; i++)
		if (strcmp(config_options[i].name, name) == 0)
			return &config_options[i];
	return NULL;
}

/*
 * Defaults, file, environment, command line, cross-option rules.  *action
 * reports --help / --version / --print-config (the last one seen wins).
 */
static bool
config_build(struct agent_config *cfg, int argc, char **argv,
			 const struct config_option **action, char *err, size_t errlen)
{
	struct config_cli_arg *args;
	const struct config_option *cfgopt = config_find("config");
	int			nargs = 0;
	bool		ok = false;

	memset(cfg, 0, sizeof(*cfg));
	*action = NULL;
	if ((cfg->state = calloc(1, sizeof(*cfg->state))) == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return false;
	}
	for (int i = 0; i < NOPTIONS; i++)
	{
		const struct config_option *opt = &config_options[i];
		char		label[CONFIG_NAME_MAX + 16];

		snprintf(label, sizeof(label), "default %s", opt->name);
		if (opt->def != NULL &&
			!config_set(cfg, opt, opt->def, CONFIG_SRC_DEFAULT, 0, label, err, errlen))
			return false;
	}

	if ((args = calloc((size_t) argc + 1, sizeof(*args))) == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return false;
	}
	if (!config_scan_cli(argc, argv, args, &nargs, err, errlen))
		goto done;
	for (int i = 0; i < nargs; i++)
		if (args[i].opt->type == CONFIG_ACTION)
			*action = args[i].opt;
	if (*action != NULL && strcmp((*action)->name, "print-config") != 0)
	{
		ok = true;				/* --help and --version need no settings */
		goto done;
	}

	/* The config file path: command line, else environment. */
	if (!config_apply_env(cfg, cfgopt, err, errlen))
		goto done;
	for (int i = 0; i < nargs; i++)
		if (args[i].opt == cfgopt &&
			!config_set(cfg, cfgopt, args[i].value, CONFIG_SRC_CLI, 0, "--config", err, errlen))
			goto done;
	if (cfg->config_file != NULL && !config_read_file(cfg, cfg->config_file, err, errlen))
		goto done;

	for (int i = 0; i < NOPTIONS; i++)
		if (&config_options[i] != cfgopt && !config_apply_env(cfg, &config_options[i], err, errlen))
			goto done;
	for (int i = 0; i < nargs; i++)
	{
		char		label[CONFIG_NAME_MAX + 4];

		if (args[i].opt == cfgopt || args[i].opt->type == CONFIG_ACTION)
			continue;
		snprintf(label, sizeof(label), "--%s", args[i].opt->name);
		if (!config_set(cfg, args[i].opt, args[i].value, CONFIG_SRC_CLI, 0, label, err, errlen))
			goto done;
	}
	ok = config_validate(cfg, err, errlen);
done:
	free(args);
	return ok;
}

/* ---- printing ---- */

/* The value as config-file text (unquoted, unmasked); malloc'd. */
char *
config_format_value(const struct agent_config *cfg, const struct config_option *opt)
{
	const void *f = (const char *) cfg + opt->offset;
	char		buf[64];

	switch (opt->type)
	{
		case CONFIG_STRING:
		case CONFIG_SECRET:
			return strdup(*(char *const *) f ? *(char *const *) f : "");
		case CONFIG_FLAG:
		case CONFIG_BOOL:
			return strdup(*(const bool *) f ? "true" : "false");
		case CONFIG_INT:
		case CONFIG_COUNTER:
			snprintf(buf, sizeof(buf), "%d", *(const int *) f);
			return strdup(buf);
		case CONFIG_SIZE:
			config_format_size((int64_t) *(const size_t *) f, buf, sizeof(buf));
			return strdup(buf);
		case CONFIG_ENUM:
			return strdup(config_enum_name(opt, *(const int *) f));
		case CONFIG_LIST:
			{
				const struct config_plugin_options *l = f;
				size_t		n = 1;
				char	   *s;

				for (int i = 0; i < l->count; i++)
					n += strlen(l->items[i].name) + strlen(l->items[i].value) + 2;
				if ((s = malloc(n)) == NULL)
					return NULL;
				s[0] = '\0';
				for (int i = 0; i < l->count; i++)
				{
					strcat(s, i > 0 ? " " : "");
					strcat(s, l->items[i].name);
					strcat(s, "=");
					strcat(s, l->items[i].value);
				}
				return s;
			}
		case CONFIG_ACTION:
			break;
	}
	return strdup("");
}

/* Quote a value for a config file when it would not read back as is. */
static void
config_print_value(FILE *out, const char *v)
{
	size_t		n = strlen(v);

	if (n > 0 && strpbrk(v, "#\"'\\") == NULL &&
		!isspace((unsigned char) v[0]) && !isspace((unsigned char) v[n - 1]))
	{
		fputs(v, out);
		return;
	}
	fputc('"', out);
	for (; *v; v++)
	{
		if (*v == '"' || *v == '\\')
			fputc('\\', out);
		fputc(*v, out);
	}
	fputc('"', out);
}

static void
config_print_source(FILE *out, const struct agent_config *cfg, int idx)
{
	const struct config_option *opt = &config_options[idx];
	char		name[CONFIG_NAME_MAX + 8];

	switch (cfg->state->source[idx])
	{
		case CONFIG_SRC_DEFAULT:
			break;
		case CONFIG_SRC_FILE:
			fprintf(out, "  # %s:%d", cfg->config_file, cfg->state->line[idx]);
			break;
		case CONFIG_SRC_ENV:
			config_env_name(opt, name, sizeof(name));
			fprintf(out, "  # %s", name);
			break;
		case CONFIG_SRC_CLI:
			fprintf(out, "  # --%s", opt->name);
			break;
	}
}

/* key = value lines, re-readable as a config file; secrets masked. */
void
config_print(FILE *out, const struct agent_config *cfg)
{
	fprintf(out, "# walcast-agent %s effective configuration\n", WALCAST_VERSION);
	for (int i = 0; i < NOPTIONS; i++)
	{
		const struct config_option *opt = &config_options[i];
		char		key[CONFIG_NAME_MAX];
		char	   *v;

		if (opt->type == CONFIG_ACTION)
			continue;
		config_key_name(opt, key, sizeof(key));
		if (opt->type == CONFIG_LIST)
		{
			const struct config_plugin_options *l = (const void *) ((const char *) cfg + opt->offset);

			for (int j = 0; j < l->count; j++)
			{
				fprintf(out, "%s = ", key);
				fprintf(out, "%s=", l->items[j].name);
				config_print_value(out, l->items[j].value);
				config_print_source(out, cfg, i);
				fputc('\n', out);
			}
			continue;
		}
		v = config_format_value(cfg, opt);
		if (v != NULL && opt->type == CONFIG_SECRET && v[0] != '\0')
		{
			char	   *masked = config_mask_secret_uri(v);

			free(v);
			v = masked;
		}
		/* The file cannot name itself: show it as a comment. */
		fprintf(out, "%s%s = ", opt->flags & CONFIG_NOFILE ? "# " : "", key);
		config_print_value(out, v ? v : "");
		config_print_source(out, cfg, i);
		fputc('\n', out);
		free(v);
	}
}

void
config_print_help(FILE *out)
{
	fprintf(out,
			"walcast-agent streams a PostgreSQL logical replication slot decoded by the\n"
			"walcast plugin to RabbitMQ, confirming WAL only after the broker confirmed.\n\n"
			"Usage:\n  walcast-agent [OPTION]...\n");
	for (int i = 0; i < NOPTIONS; i++)
	{
		const struct config_option *opt = &config_options[i];
		char		left[64];
		int			n;

		if (opt->group != NULL)
			fprintf(out, "\n%s:\n", opt->group);
		if (opt->short_flag)
			n = snprintf(left, sizeof(left), "-%c, --%s", opt->short_flag, opt->name);
		else
			n = snprintf(left, sizeof(left), "    --%s", opt->name);
		if (opt->metavar != NULL && n > 0 && (size_t) n < sizeof(left))
			snprintf(left + n, sizeof(left) - (size_t) n, "=%s", opt->metavar);
		fprintf(out, "  %-32s %s", left, opt->help);
		if (opt->def != NULL && opt->def[0] != '\0' && opt->type != CONFIG_FLAG &&
			opt->type != CONFIG_COUNTER)
			fprintf(out, " (default: %s)", opt->def);
		if (opt->flags & CONFIG_RELOAD)
			fprintf(out, " [SIGHUP]");
		fputc('\n', out);
	}
	fprintf(out,
			"\nEvery option but --config, --help, --version and --print-config can be set in\n"
			"the config file (key = long name with '_' for '-', e.g. status_interval = 5)\n"
			"and in the environment (WALCAST_ + key in upper case, e.g.\n"
			"WALCAST_STATUS_INTERVAL=5); WALCAST_CONFIG names the config file.\n"
			"Precedence: defaults < config file < environment < command line.\n"
			"[SIGHUP] marks settings that SIGHUP reloads from the file and environment.\n\n"
			"Exit status: 0 stop requested, 1 usage or configuration error,\n"
			"2 unrecoverable runtime error, 3 another walcast-agent is loading the slot.\n");
}

/* ---- public entry points ---- */

enum config_result
config_load(struct agent_config *cfg, int argc, char **argv,
			char *err, size_t errlen)
{
	const struct config_option *action;

	if (!config_build(cfg, argc, argv, &action, err, errlen))
		return CONFIG_ERROR;

	/* Keep argv for config_reload (getopt may have permuted the original). */
	cfg->state->argv = calloc((size_t) argc + 1, sizeof(char *));
	if (cfg->state->argv == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return CONFIG_ERROR;
	}
	for (cfg->state->argc = 0; cfg->state->argc < argc; cfg->state->argc++)
		if ((cfg->state->argv[cfg->state->argc] = strdup(argv[cfg->state->argc])) == NULL)
		{
			snprintf(err, errlen, "out of memory");
			return CONFIG_ERROR;
		}

	if (action == NULL)
		return CONFIG_OK;
	if (strcmp(action->name, "help") == 0)
		config_print_help(stdout);
	else if (strcmp(action->name, "version") == 0)
		printf("walcast-agent %s\n", WALCAST_VERSION);
	else
		config_print(stdout, cfg);
	fflush(stdout);
	return CONFIG_DONE;
}

static size_t
config_field_size(const struct config_option *opt)
{
	switch (opt->type)
	{
		case CONFIG_STRING:
		case CONFIG_SECRET:
			return sizeof(char *);
		case CONFIG_FLAG:
		case CONFIG_BOOL:
			return sizeof(bool);
		case CONFIG_SIZE:
			return sizeof(size_t);
		case CONFIG_LIST:
			return sizeof(struct config_plugin_options);
		case CONFIG_ACTION:
			return 0;
		default:
			return sizeof(int);
	}
}

/* Move a reloadable setting from the freshly built config into cfg. */
static void
config_take(struct agent_config *cfg, struct agent_config *fresh,
			const struct config_option *opt)
{
	int			idx = config_option_index(opt);

	switch (opt->type)
	{
		case CONFIG_STRING:
		case CONFIG_SECRET:
			{
				char	  **dst = FIELD(cfg, opt, char *);
				char	  **src = FIELD(fresh, opt, char *);
				char	   *tmp = *dst;

				*dst = *src;
				*src = tmp;		/* freed with fresh */
				break;
			}
		default:
			memcpy(config_field(cfg, opt), config_field(fresh, opt),
				   config_field_size(opt));
			break;
	}
	cfg->state->source[idx] = fresh->state->source[idx];
	cfg->state->line[idx] = fresh->state->line[idx];
}

bool
config_reload(struct agent_config *cfg, char *err, size_t errlen)
{
	struct agent_config fresh;
	struct agent_config merged;
	const struct config_option *action;
	bool		ok;

	ok = config_build(&fresh, cfg->state->argc, cfg->state->argv, &action, err, errlen);
	if (ok)
	{
		/* Check the rules on what would be in force: old + reloaded values. */
		merged = *cfg;
		for (int i = 0; i < NOPTIONS; i++)
			if (config_options[i].flags & CONFIG_RELOAD)
				memcpy(config_field(&merged, &config_options[i]),
					   config_field(&fresh, &config_options[i]),
					   config_field_size(&config_options[i]));
		ok = config_validate(&merged, err, errlen);
	}
	if (ok)
	{
		for (int i = 0; i < NOPTIONS; i++)
		{
			const struct config_option *opt = &config_options[i];
			char	   *was;
			char	   *now;

			if (opt->flags & CONFIG_RELOAD)
			{
				config_take(cfg, &fresh, opt);
				continue;
			}
			if (opt->type == CONFIG_ACTION)
				continue;
			was = config_format_value(cfg, opt);
			now = config_format_value(&fresh, opt);
			if (was != NULL && now != NULL && strcmp(was, now) != 0)
				log_warning("config reload: a change of %s needs a restart; keeping the running value",
							opt->name);
			free(was);
			free(now);
		}
	}
	config_free(&fresh);
	return ok;
}

void
config_free(struct agent_config *cfg)
{
	for (int i = 0; i < NOPTIONS; i++)
	{
		const struct config_option *opt = &config_options[i];

		if (opt->type == CONFIG_STRING || opt->type == CONFIG_SECRET)
		{
			free(*FIELD(cfg, opt, char *));
			*FIELD(cfg, opt, char *) = NULL;
		}
		else if (opt->type == CONFIG_LIST)
			config_list_clear(FIELD(cfg, opt, struct config_plugin_options));
	}
	if (cfg->state != NULL)
	{
		for (int i = 0; i < cfg->state->argc; i++)
			free(cfg->state->argv[i]);
		free(cfg->state->argv);
		free(cfg->state);
		cfg->state = NULL;
	}
}
