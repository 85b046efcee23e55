/*
 * sink_amqp_conn.c
 *		Connecting the RabbitMQ sink: the brokers of amqp_uri in turn, and
 *		for one of them the URI, TLS, login with the capabilities the agent
 *		relies on, the confirm-mode channel, then the declarations
 *		(sink_amqp_declare.c).
 *
 * Several URIs are the nodes of one cluster (docs/partitioning.md,
 * "Failover"): the agent publishes to one at a time, the first that takes
 * the connection, from the node in use last; when that node fails (its
 * connection lost, a refusal while publishing), the next connection starts
 * with the next node, round robin, and run.c's backoff separates full
 * rounds.  Nothing is kept across the switch: what the old node did not
 * confirm is replayed from the slot with the same message ids.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>

#include "log.h"
#include "sink_amqp.h"
#include "strbuf.h"

/* Seconds allowed for the TCP/TLS connect and for each synchronous RPC. */
#define SINK_AMQP_TIMEOUT 30

void
sink_amqp_reply_error(amqp_rpc_reply_t r, const char *what, char *err,
					  size_t errlen)
{
	switch (r.reply_type)
	{
		case AMQP_RESPONSE_NORMAL:
			snprintf(err, errlen, "%s: no error", what);
			break;
		case AMQP_RESPONSE_NONE:
			snprintf(err, errlen, "%s: no reply from the broker", what);
			break;
		case AMQP_RESPONSE_LIBRARY_EXCEPTION:
			snprintf(err, errlen, "%s: %s", what,
					 amqp_error_string2(r.library_error));
			break;
		case AMQP_RESPONSE_SERVER_EXCEPTION:
			if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD)
			{
				amqp_connection_close_t *m = r.reply.decoded;

				snprintf(err, errlen, "%s: %.*s", what,
						 (int) m->reply_text.len, (char *) m->reply_text.bytes);
			}
			else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD)
			{
				amqp_channel_close_t *m = r.reply.decoded;

				snprintf(err, errlen, "%s: %.*s", what,
						 (int) m->reply_text.len, (char *) m->reply_text.bytes);
			}
			else
				snprintf(err, errlen, "%s: unexpected method 0x%08X", what,
						 (unsigned) r.reply.id);
			break;
	}
}

static bool
sink_amqp_is_access_refused(amqp_rpc_reply_t r)
{
	return r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
		r.reply.id == AMQP_CONNECTION_CLOSE_METHOD &&
		((amqp_connection_close_t *) r.reply.decoded)->reply_code ==
		AMQP_ACCESS_REFUSED;
}

static enum sink_status
sink_amqp_tls(struct sink_amqp *as, amqp_socket_t *sock, char *err,
			  size_t errlen)
{
	const struct sink_amqp_settings *set = as->set;

	if (set->amqp_cacert &&
		amqp_ssl_socket_set_cacert(sock, set->amqp_cacert) != AMQP_STATUS_OK)
	{
		snprintf(err, errlen, "amqp_cacert: could not load CA certificates from \"%s\"",
				 set->amqp_cacert);
		return SINK_FATAL;
	}
	if (set->amqp_cert || set->amqp_key)
	{
		if (!set->amqp_cert || !set->amqp_key)
		{
			snprintf(err, errlen, "amqp_cert and amqp_key must be given together");
			return SINK_FATAL;
		}
		if (amqp_ssl_socket_set_key(sock, set->amqp_cert, set->amqp_key) !=
			AMQP_STATUS_OK)
		{
			snprintf(err, errlen,
					 "amqp_cert/amqp_key: could not load the client certificate \"%s\" or key \"%s\"",
					 set->amqp_cert, set->amqp_key);
			return SINK_FATAL;
		}
	}
	amqp_ssl_socket_set_verify_peer(sock, set->amqp_verify_peer);
	amqp_ssl_socket_set_verify_hostname(sock, set->amqp_verify_hostname);
	return SINK_OK;
}

/*
 * Client properties: ask for connection.blocked (the broker then tells us
 * when a memory or disk alarm stops publishing, instead of silently not
 * reading our socket) and authentication_failure_close (a wrong password
 * becomes an ACCESS_REFUSED we can name, not a dropped socket).
 * rabbitmq-c merges these capabilities with its own defaults.
 */
static amqp_rpc_reply_t
sink_amqp_login(struct sink_amqp *as, const char *vhost, const char *user,
				const char *password)
{
	const struct sink_amqp_settings *set = as->set;
	amqp_table_entry_t caps[3];
	amqp_table_entry_t props[3];
	amqp_table_t props_table;
	char		name[200];

	caps[0].key = amqp_cstring_bytes("connection.blocked");
	caps[0].value.kind = AMQP_FIELD_KIND_BOOLEAN;
	caps[0].value.value.boolean = 1;
	caps[1].key = amqp_cstring_bytes("authentication_failure_close");
	caps[1].value.kind = AMQP_FIELD_KIND_BOOLEAN;
	caps[1].value.value.boolean = 1;
	caps[2].key = amqp_cstring_bytes("basic.nack");
	caps[2].value.kind = AMQP_FIELD_KIND_BOOLEAN;
	caps[2].value.value.boolean = 1;

	snprintf(name, sizeof(name), "walcast-agent slot %s",
			 as->base.cfg->slot ? as->base.cfg->slot : "?");
	props[0].key = amqp_cstring_bytes("product");
	props[0].value.kind = AMQP_FIELD_KIND_UTF8;
	props[0].value.value.bytes = amqp_cstring_bytes("walcast-agent");
	props[1].key = amqp_cstring_bytes("capabilities");
	props[1].value.kind = AMQP_FIELD_KIND_TABLE;
	props[1].value.value.table.num_entries = 3;
	props[1].value.value.table.entries = caps;
	props[2].key = amqp_cstring_bytes("connection_name");
	props[2].value.kind = AMQP_FIELD_KIND_UTF8;
	props[2].value.value.bytes = amqp_cstring_bytes(name);
	props_table.num_entries = 3;
	props_table.entries = props;

	return amqp_login_with_properties(as->conn, vhost, 0, AMQP_DEFAULT_FRAME_SIZE,
									  set->amqp_heartbeat, &props_table,
									  AMQP_SASL_METHOD_PLAIN, user, password);
}

/* One broker: its URI, a socket, login, channel, confirms, declarations. */
static enum sink_status
sink_amqp_connect_one(struct sink_amqp *as, const char *uri, char *err,
					  size_t errlen)
{
	const struct sink_amqp_settings *set = as->set;
	struct amqp_connection_info ci;
	amqp_socket_t *sock;
	struct timeval tv = {SINK_AMQP_TIMEOUT, 0};
	amqp_rpc_reply_t r;
	char	   *url;
	const char *vhost;
	enum sink_status rc;
	int			status;

	url = strdup(uri);
	if (url == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return SINK_FATAL;
	}
	amqp_default_connection_info(&ci);
	if (amqp_parse_url(url, &ci) != AMQP_STATUS_OK)
	{
		free(url);
		snprintf(err, errlen, "amqp_uri: not a valid amqp:// or amqps:// URI");
		return SINK_FATAL;
	}

	/*
	 * rabbitmq-c reads "amqp://host:port/" (a bare trailing slash) as the
	 * empty vhost "", which no broker has; pika and RabbitMQ's own tools
	 * read it as the default vhost "/".  Follow them (documented).
	 */
	vhost = ci.vhost[0] == '\0' ? "/" : ci.vhost;

	free(as->host);
	as->host = strdup(ci.host);
	as->port = ci.port;
	as->conn = amqp_new_connection();
	if (as->conn == NULL || as->host == NULL)
	{
		free(url);
		snprintf(err, errlen, "out of memory");
		return SINK_FATAL;
	}
	sock = ci.ssl ? amqp_ssl_socket_new(as->conn) : amqp_tcp_socket_new(as->conn);
	if (sock == NULL)
	{
		free(url);
		snprintf(err, errlen, "could not create the %s socket",
				 ci.ssl ? "TLS" : "TCP");
		return SINK_FATAL;
	}
	if (ci.ssl && (rc = sink_amqp_tls(as, sock, err, errlen)) != SINK_OK)
	{
		free(url);
		return rc;
	}

	status = amqp_socket_open_noblock(sock, ci.host, ci.port, &tv);
	if (status != AMQP_STATUS_OK)
	{
		snprintf(err, errlen, "could not connect to RabbitMQ at %s:%d: %s",
				 as->host, as->port, amqp_error_string2(status));
		free(url);
		return SINK_UNREACHABLE;
	}
	/* A broker that stops answering must not hang a declare forever. */
	amqp_set_rpc_timeout(as->conn, &tv);

	r = sink_amqp_login(as, vhost, ci.user, ci.password);
	if (r.reply_type != AMQP_RESPONSE_NORMAL)
	{
		char		what[400];

		if (sink_amqp_is_access_refused(r))
			snprintf(what, sizeof(what),
					 "RabbitMQ at %s:%d refused the login of user \"%s\" to vhost \"%s\" (wrong user or password, or no access)",
					 as->host, as->port, ci.user, vhost);
		else
			snprintf(what, sizeof(what),
					 "could not log in to RabbitMQ at %s:%d (user \"%s\", vhost \"%s\")",
					 as->host, as->port, ci.user, vhost);
		free(url);
		if (sink_amqp_is_access_refused(r))
			snprintf(err, errlen, "%s", what);
		else
			sink_amqp_reply_error(r, what, err, errlen);
		return SINK_UNREACHABLE;
	}

	/*
	 * ci's strings point into url, and vhost may be one of them: url is
	 * freed on the way out, after the last line that names the vhost
	 * (freed here before, the log line below read freed memory:
	 * AddressSanitizer under make test SANITIZE=address).
	 */
	amqp_channel_open(as->conn, SINK_AMQP_CHANNEL);
	r = amqp_get_rpc_reply(as->conn);
	if (r.reply_type != AMQP_RESPONSE_NORMAL)
	{
		sink_amqp_reply_error(r, "could not open a RabbitMQ channel", err, errlen);
		rc = SINK_RETRY;
		goto done;
	}

	/*
	 * Publisher confirms: from here on the broker acks every message by
	 * delivery tag 1, 2, 3... once it has taken responsibility for it
	 * (persisted to disk for persistent messages on durable queues).
	 */
	amqp_confirm_select(as->conn, SINK_AMQP_CHANNEL);
	r = amqp_get_rpc_reply(as->conn);
	if (r.reply_type != AMQP_RESPONSE_NORMAL)
	{
		sink_amqp_reply_error(r, "could not enable publisher confirms", err,
							  errlen);
		rc = SINK_RETRY;
		goto done;
	}
	as->healthy = true;
	if ((rc = sink_amqp_declare(as, err, errlen)) != SINK_OK)
		goto done;

	log_info("connected to RabbitMQ at %s:%d, vhost \"%s\", exchange \"%s\"%s",
			 as->host, as->port, vhost, set->exchange,
			 ci.ssl ? " (TLS)" : "");
	rc = SINK_OK;
done:
	free(url);
	return rc;
}

/* One broker's failure in the list of every broker's: "URI: error". */
static void
sink_amqp_add_failure(struct strbuf *b, const char *uri, const char *why)
{
	char	   *masked = sink_amqp_mask_uri(uri);

	strbuf_puts(b, b->len > 0 ? "; " : "");
	strbuf_puts(b, masked != NULL ? masked : "****");
	strbuf_puts(b, ": ");
	strbuf_puts(b, why);
	free(masked);
}

enum sink_status
sink_amqp_connect(struct sink_amqp *as, char *err, size_t errlen)
{
	struct strbuf failures = {0};
	enum sink_status rc = SINK_UNREACHABLE;

	for (int k = 0; k < as->nuris; k++)
	{
		int			i = (as->node + k) % as->nuris;
		char		why[1024];

		rc = sink_amqp_connect_one(as, as->uris[i], why, sizeof(why));
		if (rc == SINK_OK)
		{
			as->node = i;
			as->ever_connected = true;
			free(failures.data);
			return SINK_OK;
		}
		sink_amqp_disconnect(as, false);
		/*
		 * A broker that takes the connection but refuses the rest speaks
		 * for the whole cluster (a declaration, a certificate file).
		 */
		if (rc != SINK_UNREACHABLE && rc != SINK_RETRY)
		{
			snprintf(err, errlen, "%s", why);
			free(failures.data);
			return rc;
		}
		if (as->nuris > 1)
			log_warning("%s%s", why, k + 1 < as->nuris ?
						": trying the next RabbitMQ broker" : "");
		sink_amqp_add_failure(&failures, as->uris[i], why);
	}

	/*
	 * None took it.  Before any ever did, that is a configuration error
	 * (wrong hosts, ports or password: exit 1, every broker named, its
	 * password masked); afterwards, an outage to ride out.
	 */
	snprintf(err, errlen, "%s: %s",
			 as->nuris > 1 ? "no RabbitMQ broker could be reached" :
			 "RabbitMQ could not be reached",
			 failures.failed || failures.data == NULL ? "out of memory" : failures.data);
	free(failures.data);
	return as->ever_connected ? SINK_UNREACHABLE : SINK_CONFIG;
}

void
sink_amqp_node_failed(struct sink_amqp *as)
{
	if (as->nuris > 1)
		as->node = (as->node + 1) % as->nuris;
}

void
sink_amqp_node_name(const struct sink_amqp *as, char *buf, size_t len)
{
	const char *host = as->host != NULL ? as->host : "";

	if (strchr(host, ':') != NULL)
		snprintf(buf, len, "[%s]:%d", host, as->port);
	else
		snprintf(buf, len, "%s:%d", host, as->port);
}

void
sink_amqp_disconnect(struct sink_amqp *as, bool graceful)
{
	if (as->conn == NULL)
		return;
	if (graceful && as->healthy)
	{
		amqp_channel_close(as->conn, SINK_AMQP_CHANNEL, AMQP_REPLY_SUCCESS);
		amqp_connection_close(as->conn, AMQP_REPLY_SUCCESS);
	}
	amqp_destroy_connection(as->conn);
	as->conn = NULL;
	as->healthy = false;
}
