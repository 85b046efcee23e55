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

#define CONFIG_MASK "****"

struct config_mask_buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		failed;
};

static void
config_mask_put(struct config_mask_buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->cap - b->len < n + 1)
	{
		size_t		cap = (b->cap ? b->cap : 64);
		char	   *p;

		while (cap - b->len < n + 1)
			cap *= 2;
		if ((p = realloc(b->data, cap)) == NULL)
		{
			b->failed = true;
			return;
		}
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void
config_mask_puts(struct config_mask_buf *b, const char *s)
{
	config_mask_put(b, s, strlen(s));
}

static char *
config_mask_result(struct config_mask_buf *b)
{
	if (b->failed)
	{
		free(b->data);
		return NULL;
	}
	return b->data;
}

/* Percent-encode all but RFC 3986 unreserved characters. */
static void
config_mask_pct(struct config_mask_buf *b, const char *s)
{
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;
		char		hex[4];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~')
			config_mask_put(b, s, 1);
		else
		{
			snprintf(hex, sizeof(hex), "%%%02X", c);
			config_mask_puts(b, hex);
		}
	}
}

/* Rebuilt from amqp_parse_url's fields, so the URI shown is the one used. */
static char *
config_mask_amqp(const char *uri)
{
	struct amqp_connection_info info;
	struct config_mask_buf b = {0};
	char	   *copy = strdup(uri);
	char		port[16];

	if (copy == NULL)
		return NULL;
	if (amqp_parse_url(copy, &info) != AMQP_STATUS_OK)
	{
		free(copy);
		return strdup(CONFIG_MASK);
	}
	config_mask_puts(&b, info.ssl ? "amqps://" : "amqp://");
	config_mask_pct(&b, info.user);
	config_mask_puts(&b, ":" CONFIG_MASK "@");
	/* An IPv6 literal needs its brackets back. */
	if (strchr(info.host, ':') != NULL)
	{
		config_mask_puts(&b, "[");
		config_mask_puts(&b, info.host);
		config_mask_puts(&b, "]");
	}
	else
		config_mask_puts(&b, info.host);
	snprintf(port, sizeof(port), ":%d/", info.port);
	config_mask_puts(&b, port);
	config_mask_pct(&b, info.vhost);
	free(copy);
	return config_mask_result(&b);
}

/* keyword='value' with libpq's quoting rules (backslash escapes ' and \). */
static void
config_mask_conninfo_pair(struct config_mask_buf *b, const char *kw, const char *v)
{
	if (b->len > 0)
		config_mask_puts(b, " ");
	config_mask_puts(b, kw);
	config_mask_puts(b, "='");
	for (; *v; v++)
	{
		if (*v == '\'' || *v == '\\')
			config_mask_puts(b, "\\");
		config_mask_put(b, v, 1);
	}
	config_mask_puts(b, "'");
}

static char *
config_mask_conninfo(const char *conninfo)
{
	char	   *errmsg = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &errmsg);
	struct config_mask_buf b = {0};
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
	return config_mask_result(&b);
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
	struct config_mask_buf b = {0};
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
	config_mask_put(&b, uri, (size_t) (p - uri));
	if (at != NULL)
	{
		size_t		userlen = strcspn(p, ":@");

		config_mask_put(&b, p, userlen);
		if (p[userlen] == ':')
			config_mask_puts(&b, ":" CONFIG_MASK);
		p = at;
	}
	config_mask_put(&b, p, strcspn(p, "?"));
	p += strcspn(p, "?");
	/* Options: name=value pairs separated by '&'. */
	while (*p != '\0')
	{
		size_t		n = strcspn(p + 1, "&") + 1;
		const char *eq = memchr(p + 1, '=', n - 1);

		if (eq != NULL && config_mask_mongo_secret_option(p + 1, (size_t) (eq - p - 1)))
		{
			config_mask_put(&b, p, (size_t) (eq - p) + 1);
			config_mask_puts(&b, CONFIG_MASK);
		}
		else
			config_mask_put(&b, p, n);
		p += n;
	}
	return config_mask_result(&b);
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
