/*
 * config_mask.c
 *		Hide passwords in connection strings before they are printed or
 *		logged.
 *
 * Both formats are parsed by their own library (amqp_parse_url for amqp://,
 * PQconninfoParse for conninfo and postgresql:// URIs), never by hand, so
 * masking agrees with what the agent actually connects with.  mongodb://
 * URIs are validated by libmongoc, which has no way to print a URI back
 * from its parts; their password (the user-info after the first ':') and
 * the values of the options that carry secrets are then masked in the
 * text.  Anything that does not parse is replaced whole: better an
 * unhelpful "****" than a leaked secret.
 */
#define _POSIX_C_SOURCE 200809L	/* strdup */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <amqp.h>
#include <libpq-fe.h>
#include <mongoc/mongoc.h>

#include "strbuf.h"

#define CONFIG_MASK "****"

/* Percent-encode all but RFC 3986 unreserved characters. */
static void
config_mask_pct(struct strbuf *b, const char *s)
{
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;
		char		hex[4];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~')
			strbuf_add(b, s, 1);
		else
		{
			snprintf(hex, sizeof(hex), "%%%02X", c);
			strbuf_puts(b, hex);
		}
	}
}

/* Rebuilt from amqp_parse_url's fields, so the URI shown is the one used. */
static char *
config_mask_amqp(const char *uri)
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
		return strdup(CONFIG_MASK);
	}
	strbuf_puts(&b, info.ssl ? "amqps://" : "amqp://");
	config_mask_pct(&b, info.user);
	strbuf_puts(&b, ":" CONFIG_MASK "@");
	/* An IPv6 literal needs its brackets back. */
	if (strchr(info.host, ':') != NULL)
	{
		strbuf_puts(&b, "[");
		strbuf_puts(&b, info.host);
		strbuf_puts(&b, "]");
	}
	else
		strbuf_puts(&b, info.host);
	snprintf(port, sizeof(port), ":%d/", info.port);
	strbuf_puts(&b, port);
	config_mask_pct(&b, info.vhost);
	free(copy);
	return strbuf_finish(&b);
}

/* keyword='value' with libpq's quoting rules (backslash escapes ' and \). */
static void
config_mask_conninfo_pair(struct strbuf *b, const char *kw, const char *v)
{
	if (b->len > 0)
		strbuf_puts(b, " ");
	strbuf_puts(b, kw);
	strbuf_puts(b, "='");
	for (; *v; v++)
	{
		if (*v == '\'' || *v == '\\')
			strbuf_puts(b, "\\");
		strbuf_add(b, v, 1);
	}
	strbuf_puts(b, "'");
}

static char *
config_mask_conninfo(const char *conninfo)
{
	char	   *errmsg = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &errmsg);
	struct strbuf b = {0};
	bool		secret = false;

	if (opts == NULL)
	{
		PQfreemem(errmsg);
		return strdup(CONFIG_MASK);
	}
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
		if (o->val != NULL && strcmp(o->keyword, "password") == 0)
			secret = true;
	if (!secret)
	{
		/* Nothing to hide: keep the user's own spelling. */
		PQconninfoFree(opts);
		return strdup(conninfo);
	}
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
		if (o->val != NULL)
			config_mask_conninfo_pair(&b, o->keyword,
									  strcmp(o->keyword, "password") == 0 ? CONFIG_MASK : o->val);
	PQconninfoFree(opts);
	if (b.data == NULL && !b.failed)
		return strdup("");
	return strbuf_finish(&b);
}

/* URI options whose value is a secret (the rest are shown). */
static bool
config_mask_mongo_secret_option(const char *name, size_t len)
{
	static const char *const secret[] = {
		"tlsCertificateKeyFilePassword", "sslClientCertificateKeyPassword",
		"authMechanismProperties", NULL
	};

	for (int i = 0; secret[i] != NULL; i++)
		if (strlen(secret[i]) == len && strncasecmp(secret[i], name, len) == 0)
			return true;
	return false;
}

static char *
config_mask_mongo(const char *uri)
{
	struct strbuf b = {0};
	mongoc_uri_t *parsed = mongoc_uri_new_with_error(uri, NULL);
	const char *p = strstr(uri, "://") + 3;
	const char *hosts_end = p + strcspn(p, "/?");
	const char *at = NULL;
	const char *q;

	if (parsed == NULL)
		return strdup(CONFIG_MASK);
	mongoc_uri_destroy(parsed);
	/* User-info ends at the last '@' before the path: '@' in it is %40. */
	for (q = p; q < hosts_end; q++)
		if (*q == '@')
			at = q;
	strbuf_add(&b, uri, (size_t) (p - uri));
	if (at != NULL)
	{
		size_t		userlen = strcspn(p, ":@");

		strbuf_add(&b, p, userlen);
		if (p[userlen] == ':')
			strbuf_puts(&b, ":" CONFIG_MASK);
		p = at;
	}
	strbuf_add(&b, p, strcspn(p, "?"));
	p += strcspn(p, "?");
	/* Options: name=value pairs separated by '&'. */
	while (*p != '\0')
	{
		size_t		n = strcspn(p + 1, "&") + 1;
		const char *eq = memchr(p + 1, '=', n - 1);

		if (eq != NULL && config_mask_mongo_secret_option(p + 1, (size_t) (eq - p - 1)))
		{
			strbuf_add(&b, p, (size_t) (eq - p) + 1);
			strbuf_puts(&b, CONFIG_MASK);
		}
		else
			strbuf_add(&b, p, n);
		p += n;
	}
	return strbuf_finish(&b);
}

char *
config_mask_secret_uri(const char *uri)
{
	if (uri == NULL)
		return NULL;
	if (strncmp(uri, "mongodb://", 10) == 0 || strncmp(uri, "mongodb+srv://", 14) == 0)
		return config_mask_mongo(uri);
	if (strncmp(uri, "amqp://", 7) == 0 || strncmp(uri, "amqps://", 8) == 0)
		return config_mask_amqp(uri);
	return config_mask_conninfo(uri);
}
