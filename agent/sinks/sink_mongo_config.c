/*
 * sink_mongo_config.c
 *		The MongoDB mirror's settings: its rows, validators and rules, the
 *		write concern's syntax, and the masker of its URI
 *		(config_table.h).
 *
 * The URI is validated by libmongoc, which has no way to print a URI back
 * from its parts; its password (the user-info after the first ':') and
 * the values of the options that carry secrets are then masked in the
 * text.  Anything that does not parse is replaced whole.
 */
#define _POSIX_C_SOURCE 200809L	/* strdup, strtok_r */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_table.h"
#include "sink_mongo.h"
#include "strbuf.h"

#define SINK_MONGO_MASK "****"

static bool sink_mongo_check_uri(const char *v, char *msg, size_t len);
static bool sink_mongo_check_collection(const char *v, char *msg, size_t len);
static bool sink_mongo_check_wc(const char *v, char *msg, size_t len);

static const struct config_enum_value sink_mongo_numerics[] = {
	{"decimal128", SINK_MONGO_NUMERIC_DECIMAL128},
	{"string", SINK_MONGO_NUMERIC_STRING},
	{"double", SINK_MONGO_NUMERIC_DOUBLE}, {NULL, 0}
};
static const struct config_enum_value sink_mongo_nested[] = {
	{"array", SINK_MONGO_NATIVE}, {"string", SINK_MONGO_STRING}, {NULL, 0}
};
static const struct config_enum_value sink_mongo_nonfinite_values[] = {
	{"double", SINK_MONGO_NATIVE}, {"string", SINK_MONGO_STRING}, {NULL, 0}
};
static const struct config_enum_value sink_mongo_no_keys[] = {
	{"skip", SINK_MONGO_NO_KEY_SKIP}, {"fail", SINK_MONGO_NO_KEY_FAIL},
	{NULL, 0}
};

/* enum fields are written through int * (config_value.c). */
_Static_assert(sizeof(enum sink_mongo_numeric) == sizeof(int), "enum size");
_Static_assert(sizeof(enum sink_mongo_fallback) == sizeof(int), "enum size");
_Static_assert(sizeof(enum sink_mongo_no_key) == sizeof(int), "enum size");

#define F(field) offsetof(struct sink_mongo_settings, field)

static const struct config_option sink_mongo_options[] = {
	{"mongo-uri", 0, CONFIG_SECRET, F(mongo_uri), NULL, 0, 0, NULL, sink_mongo_check_uri,
		"URI", "mongodb:// URI of the MongoDB mirror; unset = no mirror",
	CONFIG_NULLABLE, "MongoDB mirror", sink_mongo_mask_uri, NULL},
	{"mongo-database", 0, CONFIG_STRING, F(mongo_database), "walcast", 0, 0, NULL, NULL,
		"NAME", "database of the mirror's collections", CONFIG_NONEMPTY, NULL, NULL, NULL},
	{"mongo-collection", 0, CONFIG_STRING, F(mongo_collection), "{table}", 0, 0, NULL, sink_mongo_check_collection,
		"TEMPLATE", "collection name template: {schema} {table}", CONFIG_NONEMPTY, NULL, NULL, NULL},
	{"mongo-collection-map", 0, CONFIG_LIST, F(mongo_collection_map), NULL, 0, 0, NULL, NULL,
		"SCHEMA.TABLE=NAME", "collection of one table, instead of the template (repeatable)", 0, NULL, NULL, NULL},
	{"mongo-write-concern", 0, CONFIG_STRING, F(mongo_write_concern), "w=majority,j=true", 0, 0, NULL, sink_mongo_check_wc,
		"WC", "write concern: w=N|majority|TAG, j=BOOL, wtimeout=MS (comma-separated)", CONFIG_NONEMPTY, NULL, NULL, NULL},
	{"mongo-numeric", 0, CONFIG_ENUM, F(mongo_numeric), "decimal128", 0, 0, sink_mongo_numerics, NULL,
		"KIND", "numeric columns as decimal128, string or double", 0, NULL, NULL, NULL},
	{"mongo-nested-arrays", 0, CONFIG_ENUM, F(mongo_nested_arrays), "array", 0, 0, sink_mongo_nested, NULL,
		"KIND", "a value holding arrays of arrays: array, or string (its JSON text)", 0, NULL, NULL, NULL},
	{"mongo-nonfinite", 0, CONFIG_ENUM, F(mongo_nonfinite), "double", 0, 0, sink_mongo_nonfinite_values, NULL,
		"KIND", "float NaN/Infinity as double, or string", 0, NULL, NULL, NULL},
	{"mongo-entry-id", 0, CONFIG_BOOL, F(mongo_entry_id), "false", 0, 0, NULL, NULL,
		"BOOL", "also store the key in an entry_id field", 0, NULL, NULL, NULL},
	{"mongo-no-key", 0, CONFIG_ENUM, F(mongo_no_key), "skip", 0, 0, sink_mongo_no_keys, NULL,
		"POLICY", "changes of tables without a key: skip (warn, count) or fail", 0, NULL, NULL, NULL},
	{"mongo-tls-ca-file", 0, CONFIG_STRING, F(mongo_tls_ca_file), NULL, 0, 0, NULL, NULL,
		"FILE", "CA certificates (PEM) to verify the server; turns TLS on", CONFIG_NULLABLE, NULL, NULL, NULL},
	{"mongo-tls-cert-key-file", 0, CONFIG_STRING, F(mongo_tls_cert_key_file), NULL, 0, 0, NULL, NULL,
		"FILE", "client certificate and key (one PEM); turns TLS on", CONFIG_NULLABLE, NULL, NULL, NULL},
	{"mongo-bulk-max", 0, CONFIG_INT, F(mongo_bulk_max), "200", 1, 100000, NULL, NULL,
		"N", "most writes in one bulk request (FerretDB on PostgreSQL hangs past about 48)", 0, NULL, NULL, NULL},
};

static bool
sink_mongo_check_uri(const char *v, char *msg, size_t len)
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
sink_mongo_check_collection(const char *v, char *msg, size_t len)
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

static bool
sink_mongo_check_wc(const char *v, char *msg, size_t len)
{
	struct sink_mongo_wc wc;

	return sink_mongo_parse_wc(v, &wc, msg, len);
}

/*
 * "w=majority,j=true,wtimeout=5000"; a bare item is w (majority, a number
 * or a tag name).  Parsed here, not by the driver, so that a typo is a
 * configuration error at startup rather than a server error later.
 */
bool
sink_mongo_parse_wc(const char *v, struct sink_mongo_wc *wc,
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

/* URI options whose value is a secret (the rest are shown). */
static bool
sink_mongo_mask_secret_option(const char *name, size_t len)
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

/*
 * The first of stops in p, as libmongoc scans the user-info and hosts: a
 * backslash escapes the next character ("u\:p@h" is the user "u\:p" with
 * no password, "u\@x:p@h" the user "u\@x"; test/fuzz_uri).  Returns the
 * end of p when none.
 */
static const char *
sink_mongo_scan(const char *p, const char *stops)
{
	for (; *p != '\0'; p++)
	{
		if (*p == '\\' && p[1] != '\0')
			p++;
		else if (strchr(stops, *p) != NULL)
			break;
	}
	return p;
}

char *
sink_mongo_mask_uri(const char *uri)
{
	struct strbuf b = {0};
	mongoc_uri_t *parsed = mongoc_uri_new_with_error(uri, NULL);
	const char *p;
	const char *hosts_end;
	const char *at = NULL;
	const char *q;

	/*
	 * Only a URI libmongoc accepts has a "://" to start from (the fuzzer
	 * found the pointer arithmetic on strstr's NULL when this came first).
	 */
	if (parsed == NULL || (p = strstr(uri, "://")) == NULL)
	{
		mongoc_uri_destroy(parsed);
		return strdup(SINK_MONGO_MASK);
	}
	mongoc_uri_destroy(parsed);
	p += 3;
	/* libmongoc reads the user and hosts up to the first '/': a '?' before
	 * it is part of the password (test/fuzz_uri) */
	hosts_end = sink_mongo_scan(p, "/");
	/*
	 * User-info ends at the first '@' before the path, as libmongoc reads
	 * it ('@' in a password is %40): "u:p@d@h" is the user u with the
	 * host "d@h", and ending at the last '@' dropped that host from the
	 * URI shown (test/fuzz_uri).
	 */
	q = sink_mongo_scan(p, "@/");
	if (q < hosts_end && *q == '@')
		at = q;
	strbuf_add(&b, uri, (size_t) (p - uri));
	if (at != NULL)
	{
		size_t		userlen = (size_t) (sink_mongo_scan(p, ":@") - p);

		strbuf_add(&b, p, userlen);
		if (p[userlen] == ':')
			strbuf_puts(&b, ":" SINK_MONGO_MASK);
		p = at;
	}
	strbuf_add(&b, p, strcspn(p, "?"));
	p += strcspn(p, "?");
	/* Options: name=value pairs separated by '&'. */
	while (*p != '\0')
	{
		size_t		n = strcspn(p + 1, "&") + 1;
		const char *eq = memchr(p + 1, '=', n - 1);

		if (eq != NULL && sink_mongo_mask_secret_option(p + 1, (size_t) (eq - p - 1)))
		{
			strbuf_add(&b, p, (size_t) (eq - p) + 1);
			strbuf_puts(&b, SINK_MONGO_MASK);
		}
		else
			strbuf_add(&b, p, n);
		p += n;
	}
	return strbuf_finish(&b);
}

/* ---- cross-option rules ---- */

static bool
sink_mongo_validate(const struct agent_config *cfg, char *err, size_t errlen)
{
	const struct sink_mongo_settings *set = sink_mongo_settings(cfg);

	for (int i = 0; i < set->mongo_collection_map.count; i++)
	{
		const struct config_plugin_option *m = &set->mongo_collection_map.items[i];
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
	if (set->mongo_uri == NULL && (set->mongo_tls_ca_file || set->mongo_tls_cert_key_file))
	{
		snprintf(err, errlen, "mongo_tls_ca_file and mongo_tls_cert_key_file need mongo_uri");
		return false;
	}
	return true;
}

const struct config_section sink_mongo_config = {
	"mongo", CONFIG_ROWS(sink_mongo_options), sizeof(struct sink_mongo_settings),
	sink_mongo_validate
};

const struct sink_mongo_settings *
sink_mongo_settings(const struct agent_config *cfg)
{
	return config_block(cfg, &sink_mongo_config);
}
