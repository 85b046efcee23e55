/*
 * sink_amqp_config.c
 *		The RabbitMQ sink's settings: its rows, validators and rules, and
 *		the masker of its URI (config_table.h).  The URI is checked and
 *		masked by rabbitmq-c's own amqp_parse_url, so what is shown and
 *		refused is what the sink would connect with.
 */
#define _POSIX_C_SOURCE 200809L	/* strdup */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_table.h"
#include "partition.h"
#include "route.h"
#include "sink_amqp.h"
#include "strbuf.h"

#define SINK_AMQP_MASK "****"

static bool sink_amqp_check_uri(const char *v, char *msg, size_t len);
static bool sink_amqp_check_routing_key(const char *v, char *msg, size_t len);
static bool sink_amqp_check_max_age(const char *v, char *msg, size_t len);


static const struct config_enum_value sink_amqp_batches[] = {
	{"change", SINK_AMQP_BATCH_CHANGE}, {"transaction", SINK_AMQP_BATCH_TRANSACTION},
	{"window", SINK_AMQP_BATCH_WINDOW}, {NULL, 0}
};
static const struct config_enum_value sink_amqp_queue_types[] = {
	{"classic", SINK_AMQP_QUEUE_CLASSIC}, {"quorum", SINK_AMQP_QUEUE_QUORUM},
	{"stream", SINK_AMQP_QUEUE_STREAM}, {NULL, 0}
};
static const struct config_enum_value sink_amqp_on_returns[] = {
	{"fail", SINK_AMQP_ON_RETURN_FAIL}, {"drop", SINK_AMQP_ON_RETURN_DROP},
	{"alternate", SINK_AMQP_ON_RETURN_ALTERNATE}, {NULL, 0}
};

/* enum fields are written through int * (config_value.c). */
_Static_assert(sizeof(enum sink_amqp_batch_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum sink_amqp_on_return) == sizeof(int), "enum size");
_Static_assert(sizeof(enum sink_amqp_queue_type) == sizeof(int), "enum size");

#define F(field) offsetof(struct sink_amqp_settings, field)

static const struct config_option sink_amqp_options[] = {
	{"amqp-uri", 0, CONFIG_SECRET, F(amqp_uri), NULL, 0, 0, NULL, sink_amqp_check_uri,
		"URI", "amqp:// or amqps:// URI of the broker; several (repeated, or comma-separated): the first reachable, then the next on failure; unset = no RabbitMQ (events go to stdout when no other sink is set)",
	CONFIG_NULLABLE | CONFIG_MULTI, "RabbitMQ", sink_amqp_mask_uri, NULL},
	{"amqp-cacert", 0, CONFIG_STRING, F(amqp_cacert), NULL, 0, 0, NULL, NULL,
		"FILE", "CA certificates (PEM) to verify the broker (amqps)", CONFIG_NULLABLE, NULL, NULL, NULL},
	{"amqp-cert", 0, CONFIG_STRING, F(amqp_cert), NULL, 0, 0, NULL, NULL,
		"FILE", "client certificate (PEM) for amqps", CONFIG_NULLABLE, NULL, NULL, NULL},
	{"amqp-key", 0, CONFIG_STRING, F(amqp_key), NULL, 0, 0, NULL, NULL,
		"FILE", "client private key (PEM) for amqps", CONFIG_NULLABLE, NULL, NULL, NULL},
	{"amqp-verify-peer", 0, CONFIG_BOOL, F(amqp_verify_peer), "true", 0, 0, NULL, NULL,
		"BOOL", "verify the broker's certificate (amqps)", 0, NULL, NULL, NULL},
	{"amqp-verify-hostname", 0, CONFIG_BOOL, F(amqp_verify_hostname), "true", 0, 0, NULL, NULL,
		"BOOL", "verify the broker's host name against its certificate (amqps)", 0, NULL, NULL, NULL},
	{"amqp-heartbeat", 0, CONFIG_INT, F(amqp_heartbeat), "30", 0, 3600, NULL, NULL,
		"SECS", "AMQP heartbeat; 0 disables", 0, NULL, NULL, NULL},
	{"exchange", 0, CONFIG_STRING, F(exchange), "walcast", 0, 0, NULL, NULL,
		"NAME", "durable topic exchange to publish to (direct with --partitions)", CONFIG_NONEMPTY, NULL, NULL, NULL},
	{"exchange-passive", 0, CONFIG_FLAG, F(exchange_passive), "false", 0, 0, NULL, NULL,
		NULL, "check that the exchange exists instead of declaring it", 0, NULL, NULL, NULL},
	{"routing-key", 0, CONFIG_STRING, F(routing_key), ROUTE_DEFAULT_TEMPLATE, 0, 0, NULL, sink_amqp_check_routing_key,
		"TEMPLATE", "routing key template: {schema} {table} {op} {xid} {partition}", 0, NULL, NULL, NULL},
	{"queue", 0, CONFIG_STRING, F(queue), NULL, 0, 0, NULL, NULL,
		"NAME", "also declare this durable queue and bind it to the exchange", CONFIG_NULLABLE, NULL, NULL, NULL},
	{"queue-binding-key", 0, CONFIG_STRING, F(queue_binding_key), "#", 0, 0, NULL, NULL,
		"KEY", "binding key of --queue", 0, NULL, NULL, NULL},
	{"queue-type", 0, CONFIG_ENUM, F(queue_type), "classic", 0, 0, sink_amqp_queue_types, NULL,
		"TYPE", "type of the declared queue(s): classic, quorum (replicated) or stream", 0, NULL, NULL, NULL},
	{"queue-max-length-bytes", 0, CONFIG_SIZE, F(queue_max_length_bytes), "0", 0, 1024 * 1024 * CONFIG_GB, NULL, NULL,
		"SIZE", "stream retention: x-max-length-bytes; 0 = the broker's default", 0, NULL, NULL, NULL},
	{"queue-max-age", 0, CONFIG_STRING, F(queue_max_age), NULL, 0, 0, NULL, sink_amqp_check_max_age,
		"AGE", "stream retention: x-max-age (7D, 12h, 30m: Y M D h m s)", CONFIG_NULLABLE, NULL, NULL, NULL},
	{"partitions", 0, CONFIG_INT, F(partitions), NULL, 1, PARTITION_MAX, NULL, NULL,
		"N", "declare N queues <queue>-0.. on a direct exchange and route each change by its key's hash; unset = off", CONFIG_NULLABLE, NULL, NULL, NULL},
	{"batch", 0, CONFIG_ENUM, F(batch), "change", 0, 0, sink_amqp_batches, NULL,
		"MODE", "one message per change, per transaction, or per window of consecutive transactions (capped)", 0, NULL, NULL, NULL},
	{"batch-max-events", 0, CONFIG_INT, F(batch_max_events), "1000", 1, 1000000, NULL, NULL,
		"N", "most events in one batched message", 0, NULL, NULL, NULL},
	{"batch-max-bytes", 0, CONFIG_SIZE, F(batch_max_bytes), "1MB", CONFIG_KB, 128 * CONFIG_MB, NULL, NULL,
		"SIZE", "largest batched message body", 0, NULL, NULL, NULL},
	{"batch-linger-ms", 0, CONFIG_INT, F(batch_linger_ms), "5", 0, 60000, NULL, NULL,
		"MS", "--batch window: longest a message stays open after its first event (0: closed at each commit)", 0, NULL, NULL, NULL},
	{"on-return", 0, CONFIG_ENUM, F(on_return), "fail", 0, 0, sink_amqp_on_returns, NULL,
		"POLICY", "unroutable message: fail, drop (warn and count) or alternate", 0, NULL, NULL, NULL},
	{"alternate-exchange", 0, CONFIG_STRING, F(alternate_exchange), NULL, 0, 0, NULL, NULL,
		"NAME", "exchange for unroutable messages with --on-return=alternate", CONFIG_NULLABLE, NULL, NULL, NULL},
};

static bool
sink_amqp_check_uri(const char *v, char *msg, size_t len)
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

/* RabbitMQ's x-max-age: a positive number and one unit of Y M D h m s. */
static bool
sink_amqp_check_max_age(const char *v, char *msg, size_t len)
{
	size_t		digits = strspn(v, "0123456789");

	if (digits == 0 || v[digits] == '\0' || strchr("YMDhms", v[digits]) == NULL ||
		v[digits + 1] != '\0' || strspn(v, "0") == digits)
	{
		snprintf(msg, len,
				 "\"%s\" is not an age: a number and one unit of Y, M, D, h, m, s (e.g. 7D)", v);
		return false;
	}
	return true;
}

static bool
sink_amqp_check_routing_key(const char *v, char *msg, size_t len)
{
	struct route_template *t = route_compile(v, msg, len);

	route_free(t);
	return t != NULL;
}

/*
 * Percent-encode ASCII but RFC 3986 unreserved characters.  Bytes from
 * 0x80 stay as they are: rabbitmq-c's amqp_parse_url takes them raw but
 * refuses them percent-encoded (its decoder stops at CHAR_MAX), so an
 * encoded one would show a URI the agent could not have used (found by
 * test/fuzz_uri).
 */
static void
sink_amqp_mask_pct(struct strbuf *b, const char *s, char keep)
{
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;
		char		hex[4];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~' ||
			c >= 0x80 || (keep != '\0' && c == keep))
			strbuf_add(b, s, 1);
		else
		{
			snprintf(hex, sizeof(hex), "%%%02X", c);
			strbuf_puts(b, hex);
		}
	}
}

/* Rebuilt from amqp_parse_url's fields, so the URI shown is the one used. */
char *
sink_amqp_mask_uri(const char *uri)
{
	struct amqp_connection_info info;
	struct strbuf b = {0};
	char	   *copy = strdup(uri);
	char		port[16];

	if (copy == NULL)
		return NULL;
	if (amqp_parse_url(copy, &info) != AMQP_STATUS_OK)
	{
		free(copy);
		return strdup(SINK_AMQP_MASK);
	}
	strbuf_puts(&b, info.ssl ? "amqps://" : "amqp://");
	sink_amqp_mask_pct(&b, info.user, '\0');
	strbuf_puts(&b, ":" SINK_AMQP_MASK "@");
	/*
	 * The host is encoded like the user: rabbitmq-c decodes it, so "h%40x"
	 * is the host "h@x", which written back raw would read as a user.  An
	 * IPv6 literal needs its brackets back, with its colons kept, and is
	 * decoded inside them too: "[::%2F1]" is a host holding a '/', which
	 * written raw would end the authority.  An empty host ("[]") keeps
	 * its brackets too: without them the default host is read (all three
	 * found by test/fuzz_uri).
	 */
	if (strchr(info.host, ':') != NULL || info.host[0] == '\0')
	{
		strbuf_puts(&b, "[");
		sink_amqp_mask_pct(&b, info.host, ':');
		strbuf_puts(&b, "]");
	}
	else
		sink_amqp_mask_pct(&b, info.host, '\0');
	snprintf(port, sizeof(port), ":%d/", info.port);
	strbuf_puts(&b, port);
	sink_amqp_mask_pct(&b, info.vhost, '\0');
	free(copy);
	return strbuf_finish(&b);
}

/* ---- cross-option rules ---- */

const char *
sink_amqp_route_template(const struct sink_amqp_settings *set)
{
	const char *t = set->routing_key != NULL ? set->routing_key : ROUTE_DEFAULT_TEMPLATE;

	if (set->partitions > 0 && strcmp(t, ROUTE_DEFAULT_TEMPLATE) == 0)
		return SINK_AMQP_PARTITION_TEMPLATE;
	return t;
}

/*
 * The routing key in force against partitions: with them, every
 * partition's queue is bound by one key, so the template may hold
 * {partition} and literal text only; without them {partition} means
 * nothing.
 */
static bool
sink_amqp_validate_route(const struct sink_amqp_settings *set, char *err,
						 size_t errlen)
{
	char		msg[256];
	struct route_template *t = route_compile(sink_amqp_route_template(set),
											 msg, sizeof(msg));
	unsigned	uses;

	if (t == NULL)
	{
		snprintf(err, errlen, "routing_key: %s", msg);
		return false;
	}
	uses = route_uses(t);
	route_free(t);
	if (set->partitions == 0 && (uses & ROUTE_USES_PARTITION))
	{
		snprintf(err, errlen, "routing_key: {partition} needs partitions");
		return false;
	}
	if (set->partitions > 0 && (uses != ROUTE_USES_PARTITION))
	{
		snprintf(err, errlen,
				 "routing_key \"%s\" with partitions: use {partition} and literal text only (each partition's queue is bound by one key)",
				 set->routing_key);
		return false;
	}
	return true;
}

/* The queues the agent declares: their type, retention and partitions. */
static bool
sink_amqp_validate_queues(const struct sink_amqp_settings *set, char *err,
						  size_t errlen)
{
	bool		queue = set->queue != NULL && set->queue[0] != '\0';
	char		suffix[16];

	if (set->queue_type != SINK_AMQP_QUEUE_CLASSIC && !queue)
	{
		snprintf(err, errlen,
				 "queue_type = %s needs queue: it is the type of the queue(s) the agent declares",
				 set->queue_type == SINK_AMQP_QUEUE_QUORUM ? "quorum" : "stream");
		return false;
	}
	if ((set->queue_max_length_bytes > 0 || set->queue_max_age != NULL) &&
		set->queue_type != SINK_AMQP_QUEUE_STREAM)
	{
		snprintf(err, errlen,
				 "%s is a stream's retention: it needs queue_type = stream",
				 set->queue_max_age != NULL ? "queue_max_age" : "queue_max_length_bytes");
		return false;
	}
	if (set->partitions == 0)
		return true;
	if (!queue)
	{
		snprintf(err, errlen,
				 "partitions needs queue: the partitions are the queues <queue>-0 .. <queue>-%d",
				 set->partitions - 1);
		return false;
	}
	/* AMQP names are short strings: "<queue>-<N-1>" must fit */
	snprintf(suffix, sizeof(suffix), "-%d", set->partitions - 1);
	if (strlen(set->queue) + strlen(suffix) > SINK_AMQP_SHORTSTR_MAX)
	{
		snprintf(err, errlen, "queue: \"%.40s...\" is too long for %d partitions (\"<queue>%s\" must fit in %d bytes)",
				 set->queue, set->partitions, suffix, SINK_AMQP_SHORTSTR_MAX);
		return false;
	}
	if (set->queue_binding_key != NULL && strcmp(set->queue_binding_key, "#") != 0)
	{
		snprintf(err, errlen,
				 "queue_binding_key does not apply with partitions: each partition's queue is bound by its routing key");
		return false;
	}
	return true;
}

static bool
sink_amqp_validate(const struct agent_config *cfg, char *err, size_t errlen)
{
	const struct sink_amqp_settings *set = sink_amqp_settings(cfg);
	char		a[32];
	char		b[32];

	if (set->on_return == SINK_AMQP_ON_RETURN_ALTERNATE && set->alternate_exchange == NULL)
	{
		snprintf(err, errlen, "on_return = alternate requires alternate_exchange");
		return false;
	}
	if ((set->amqp_cert == NULL) != (set->amqp_key == NULL))
	{
		snprintf(err, errlen, "amqp_cert and amqp_key must be set together");
		return false;
	}
	if (!sink_amqp_validate_queues(set, err, errlen) ||
		!sink_amqp_validate_route(set, err, errlen))
		return false;
	/* The in-flight window must hold at least one full batch. */
	if (set->batch_max_events > cfg->max_inflight_events)
	{
		snprintf(err, errlen, "batch_max_events (%d) exceeds max_inflight_events (%d)",
				 set->batch_max_events, cfg->max_inflight_events);
		return false;
	}
	if (set->batch_max_bytes > cfg->max_inflight_bytes)
	{
		config_format_size((int64_t) set->batch_max_bytes, a, sizeof(a));
		config_format_size((int64_t) cfg->max_inflight_bytes, b, sizeof(b));
		snprintf(err, errlen, "batch_max_bytes (%s) exceeds max_inflight_bytes (%s)", a, b);
		return false;
	}
	return true;
}

const struct config_section sink_amqp_config = {
	"amqp", CONFIG_ROWS(sink_amqp_options), sizeof(struct sink_amqp_settings),
	sink_amqp_validate
};

const struct sink_amqp_settings *
sink_amqp_settings(const struct agent_config *cfg)
{
	return config_block(cfg, &sink_amqp_config);
}
