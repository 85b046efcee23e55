/*
 * config_mask.c
 *		Hide passwords in connection strings before they are printed or
 *		logged.
 *
 * Both formats are parsed by their own library (amqp_parse_url for amqp://,
 * PQconninfoParse for conninfo and postgresql:// URIs), never by hand, so
 * masking agrees with what the agent actually connects with.  Anything
 * that does not parse is replaced whole: better an unhelpful "****" than a
 * leaked secret.
 */
#define _POSIX_C_SOURCE 200809L	/* strdup */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amqp.h>
#include <libpq-fe.h>

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

char *
config_mask_secret_uri(const char *uri)
{
	if (uri == NULL)
		return NULL;
	if (strncmp(uri, "amqp://", 7) == 0 || strncmp(uri, "amqps://", 8) == 0)
		return config_mask_amqp(uri);
	return config_mask_conninfo(uri);
}
