/*
 * sink_s3_config.c
 *		The object-storage sink's settings (config_table.h), its s3:// URI,
 *		and where its credentials come from.
 *
 * Credentials are not settings: they come from where every AWS tool reads
 * them (the environment, then the shared credentials file), so that
 * nothing secret is ever on a command line, in a config file the agent
 * prints, or in ps.  URIs are parsed by libcurl's URL parser.
 */
#define _POSIX_C_SOURCE 200809L	/* strdup, getline */

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_table.h"
#include "kv.h"
#include "sink_s3.h"

static bool sink_s3_check_uri(const char *v, char *msg, size_t len);
static bool sink_s3_check_endpoint(const char *v, char *msg, size_t len);
static bool sink_s3_check_column(const char *v, char *msg, size_t len);
static bool sink_s3_validate(const struct agent_config *cfg, char *err,
							 size_t errlen);

static const struct config_enum_value sink_s3_formats[] = {
	{"csv", SINK_S3_CSV}, {"jsonl", SINK_S3_JSONL}, {NULL, 0}
};
static const struct config_enum_value sink_s3_compressions[] = {
	{"none", SINK_S3_NONE}, {"gzip", SINK_S3_GZIP}, {NULL, 0}
};

/* enum fields are written through int * (config_value.c). */
_Static_assert(sizeof(enum sink_s3_format) == sizeof(int), "enum size");

#define F(field) offsetof(struct sink_s3_settings, field)

static const struct config_option sink_s3_options[] = {
	{"s3-uri", 0, CONFIG_STRING, F(s3_uri), NULL, 0, 0, NULL, sink_s3_check_uri,
		"s3://BUCKET/PREFIX", "write the load and every change as objects under PREFIX of BUCKET; unset = no object storage",
	CONFIG_NULLABLE, "Object storage", NULL, NULL},
	{"s3-endpoint", 0, CONFIG_STRING, F(s3_endpoint), NULL, 0, 0, NULL, sink_s3_check_endpoint,
		"URL", "an S3-compatible store (http[s]://HOST[:PORT]); unset = AWS's endpoint of the region",
	CONFIG_NULLABLE, NULL, NULL, NULL},
	{"s3-region", 0, CONFIG_STRING, F(s3_region), "us-east-1", 0, 0, NULL, NULL,
		"REGION", "the region requests are signed for", CONFIG_NONEMPTY, NULL, NULL, NULL},
	{"s3-path-style", 0, CONFIG_BOOL, F(s3_path_style), "false", 0, 0, NULL, NULL,
		"BOOL", "address the bucket in the path (ENDPOINT/BUCKET/KEY), not the host name", 0, NULL, NULL, NULL},
	{"s3-profile", 0, CONFIG_STRING, F(s3_profile), NULL, 0, 0, NULL, NULL,
		"NAME", "profile of the shared credentials file; unset = AWS_PROFILE, else default", CONFIG_NULLABLE, NULL, NULL, NULL},
	{"s3-tls-ca-file", 0, CONFIG_STRING, F(s3_tls_ca_file), NULL, 0, 0, NULL, NULL,
		"FILE", "CA certificates (PEM) to verify the store with; unset = the system's", CONFIG_NULLABLE, NULL, NULL, NULL},
	{"s3-tls-verify", 0, CONFIG_BOOL, F(s3_tls_verify), "true", 0, 0, NULL, NULL,
		"BOOL", "verify the store's certificate and host name (https)", 0, NULL, NULL, NULL},
	{"s3-format", 0, CONFIG_ENUM, F(s3_format), "csv", 0, 0, sink_s3_formats, NULL,
		"FORMAT", "csv (Op column first, as DMS) or jsonl (one record per line, in the --envelope)", 0, NULL, NULL, NULL},
	{"s3-compression", 0, CONFIG_ENUM, F(s3_compression), "none", 0, 0, sink_s3_compressions, NULL,
		"KIND", "none or gzip (objects end in .gz)", 0, NULL, NULL, NULL},
	{"s3-max-object-bytes", 0, CONFIG_SIZE, F(s3_max_object_bytes), "64MB", 64 * CONFIG_KB, 5 * CONFIG_GB, NULL, NULL,
		"SIZE", "close the open objects at the end of the transaction that brings them to this many bytes together (before compression)", 0, NULL, NULL, NULL},
	{"s3-max-object-age", 0, CONFIG_INT, F(s3_max_object_age), "60", 1, 86400, NULL, NULL,
		"SECONDS", "close the open objects this long after their first change: the lake's delay", 0, NULL, NULL, NULL},
	{"s3-timestamp-column", 0, CONFIG_STRING, F(s3_timestamp_column), NULL, 0, 0, NULL, sink_s3_check_column,
		"NAME", "a CSV column after Op holding the commit time; unset = none", CONFIG_NULLABLE, NULL, NULL, NULL},
	{"s3-create-bucket", 0, CONFIG_BOOL, F(s3_create_bucket), "false", 0, 0, NULL, NULL,
		"BOOL", "create the bucket when it does not exist (else: exit 1)", 0, NULL, NULL, NULL},
	{"s3-timeout", 0, CONFIG_INT, F(s3_timeout), "30", 1, 3600, NULL, NULL,
		"SECONDS", "give up a request after this long (the session ends, and its changes come again)", 0, NULL, NULL, NULL},
};

const struct config_section sink_s3_config = {
	"s3", CONFIG_ROWS(sink_s3_options), sizeof(struct sink_s3_settings),
	sink_s3_validate
};

/* A URL's part (CURLUPART_*), malloc'd, or NULL. */
static char *
sink_s3_url_part(CURLU *u, CURLUPart what)
{
	char	   *v = NULL;
	char	   *copy;

	if (curl_url_get(u, what, &v, 0) != CURLUE_OK)
		return NULL;
	copy = strdup(v);
	curl_free(v);
	return copy;
}

bool
sink_s3_parse_uri(const char *uri, char **bucket, char **prefix, char *msg,
				  size_t len)
{
	CURLU	   *u = curl_url();
	char	   *scheme = NULL;
	char	   *path = NULL;
	bool		ok = false;

	*bucket = *prefix = NULL;
	if (u == NULL)
	{
		snprintf(msg, len, "out of memory");
		return false;
	}
	if (curl_url_set(u, CURLUPART_URL, uri, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
		(scheme = sink_s3_url_part(u, CURLUPART_SCHEME)) == NULL ||
		strcmp(scheme, "s3") != 0 ||
		(*bucket = sink_s3_url_part(u, CURLUPART_HOST)) == NULL ||
		(path = sink_s3_url_part(u, CURLUPART_PATH)) == NULL)
		snprintf(msg, len, "not an s3://BUCKET/PREFIX URI");
	else if (strchr(uri, '?') != NULL || strchr(uri, '#') != NULL ||
			 strchr(uri, '@') != NULL)
		snprintf(msg, len, "an s3:// URI has no query, fragment or user part (credentials come from the environment)");
	else
	{
		/* "/a/b" or "/a/b/": the prefix "a/b/"; "/" or "": none. */
		const char *p = path[0] == '/' ? path + 1 : path;
		size_t		n = strlen(p);

		if ((*prefix = malloc(n + 2)) == NULL)
			snprintf(msg, len, "out of memory");
		else
		{
			memcpy(*prefix, p, n);
			if (n > 0 && p[n - 1] != '/')
				(*prefix)[n++] = '/';
			(*prefix)[n] = '\0';
			ok = true;
		}
	}
	free(scheme);
	free(path);
	curl_url_cleanup(u);
	if (!ok)
	{
		free(*bucket);
		free(*prefix);
		*bucket = *prefix = NULL;
	}
	return ok;
}

static bool
sink_s3_check_uri(const char *v, char *msg, size_t len)
{
	char	   *bucket;
	char	   *prefix;

	if (!sink_s3_parse_uri(v, &bucket, &prefix, msg, len))
		return false;
	free(bucket);
	free(prefix);
	return true;
}

static bool
sink_s3_check_endpoint(const char *v, char *msg, size_t len)
{
	CURLU	   *u = curl_url();
	char	   *scheme = NULL;
	bool		ok;

	ok = u != NULL && curl_url_set(u, CURLUPART_URL, v, 0) == CURLUE_OK &&
		(scheme = sink_s3_url_part(u, CURLUPART_SCHEME)) != NULL &&
		(strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0);
	if (ok)
	{
		char	   *user = sink_s3_url_part(u, CURLUPART_USER);

		ok = user == NULL;
		free(user);
	}
	if (!ok)
		snprintf(msg, len, "not an http:// or https:// URL without credentials");
	free(scheme);
	curl_url_cleanup(u);
	return ok;
}

/* The timestamp column must not be taken for Op or a CSV syntax error. */
static bool
sink_s3_check_column(const char *v, char *msg, size_t len)
{
	if (strcmp(v, "Op") == 0)
	{
		snprintf(msg, len, "\"Op\" is the operation's column");
		return false;
	}
	return true;
}

static bool
sink_s3_validate(const struct agent_config *cfg, char *err, size_t errlen)
{
	const struct sink_s3_settings *set = sink_s3_settings(cfg);

	if (set->s3_uri == NULL || set->s3_uri[0] == '\0')
		return true;
	if (set->s3_max_object_bytes > (size_t) cfg->max_inflight_bytes)
	{
		snprintf(err, errlen, "--s3-max-object-bytes (%zu) is more than --max-inflight-bytes (%zu): objects would close at the in-flight window instead",
				 set->s3_max_object_bytes, (size_t) cfg->max_inflight_bytes);
		return false;
	}
	return true;
}

/* ---- credentials ---- */

static char *
sink_s3_env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? strdup(v) : NULL;
}

/* The file's [profile] section into cred; false with err on a bad line. */
static bool
sink_s3_credentials_file(const char *path, const char *profile,
						 struct sink_s3_credentials *cred, char *err,
						 size_t errlen)
{
	FILE	   *f = fopen(path, "r");
	char	   *line = NULL;
	size_t		cap = 0;
	bool		in = false;
	bool		ok = true;
	int			lineno = 0;

	if (f == NULL)
		return true;			/* no file: no credentials from it */
	while (ok && getline(&line, &cap, f) > 0)
	{
		char	   *key;
		char	   *value;
		char	   *s = line + strspn(line, " \t");
		char		msg[128];

		lineno++;
		if (*s == '[')
		{
			char	   *end = strchr(s, ']');
			size_t		n = end != NULL ? (size_t) (end - s - 1) : 0;

			in = end != NULL && n == strlen(profile) &&
				strncmp(s + 1, profile, n) == 0;
			continue;
		}
		if (!in)
			continue;
		if (!kv_split(s, &key, &value, msg, sizeof(msg)))
		{
			/* The line may hold a secret: name the line, never show it. */
			snprintf(err, errlen, "%s:%d: not \"key = value\"", path, lineno);
			ok = false;
		}
		else if (key == NULL)
			continue;
		else if (strcmp(key, "aws_access_key_id") == 0 && cred->key_id == NULL)
			cred->key_id = strdup(value);
		else if (strcmp(key, "aws_secret_access_key") == 0 && cred->secret == NULL)
			cred->secret = strdup(value);
		else if (strcmp(key, "aws_session_token") == 0 && cred->token == NULL)
			cred->token = strdup(value);
	}
	free(line);
	fclose(f);
	return ok;
}

bool
sink_s3_credentials_load(const struct sink_s3_settings *set,
						 struct sink_s3_credentials *cred, char *err,
						 size_t errlen)
{
	memset(cred, 0, sizeof(*cred));
	cred->key_id = sink_s3_env("AWS_ACCESS_KEY_ID");
	cred->secret = sink_s3_env("AWS_SECRET_ACCESS_KEY");
	if (cred->key_id != NULL && cred->secret != NULL)
		cred->token = sink_s3_env("AWS_SESSION_TOKEN");
	else
	{
		const char *profile = set->s3_profile != NULL ? set->s3_profile :
			getenv("AWS_PROFILE") != NULL && getenv("AWS_PROFILE")[0] != '\0' ?
			getenv("AWS_PROFILE") : "default";
		const char *file = getenv("AWS_SHARED_CREDENTIALS_FILE");
		char		path[4096];

		sink_s3_credentials_free(cred);
		if (file == NULL || file[0] == '\0')
		{
			const char *home = getenv("HOME");

			snprintf(path, sizeof(path), "%s/.aws/credentials",
					 home != NULL ? home : "");
			file = path;
		}
		if (!sink_s3_credentials_file(file, profile, cred, err, errlen))
		{
			sink_s3_credentials_free(cred);
			return false;
		}
		if (cred->key_id == NULL || cred->secret == NULL)
		{
			snprintf(err, errlen, "object storage: no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give profile \"%s\" aws_access_key_id and aws_secret_access_key in %s",
					 profile, file);
			sink_s3_credentials_free(cred);
			return false;
		}
	}
	return true;
}

void
sink_s3_credentials_free(struct sink_s3_credentials *cred)
{
	/* Secrets leave memory as they came: wiped, not just released. */
	if (cred->secret != NULL)
		memset(cred->secret, 0, strlen(cred->secret));
	if (cred->token != NULL)
		memset(cred->token, 0, strlen(cred->token));
	free(cred->key_id);
	free(cred->secret);
	free(cred->token);
	memset(cred, 0, sizeof(*cred));
}
