/*
 * sink_s3.h
 *		The object-storage sink (docs/object-storage.md): the full load and
 *		every change written as objects in S3-compatible storage, per table,
 *		in the layout AWS DMS writes (PREFIX/SCHEMA/TABLE/LOAD00000001.csv,
 *		then change objects whose first column is Op).
 *
 * The file group:
 *		sink_s3.c			the sink's ops: units, confirms, the window
 *		sink_s3_object.c	the open objects: names, gzip, multipart, LOAD
 *		sink_s3_round.c		rounds: closing, storing, the round marker
 *		sink_s3_int.h		what those three share
 *		sink_s3_config.c	its settings, the s3:// URI and the credentials
 *		sink_s3_http.c		requests, through libcurl (SigV4 signing is
 *							curl's CURLOPT_AWS_SIGV4; XML replies: libxml2)
 *		sink_s3_row.c		one event as a CSV row or a JSON line
 */
#ifndef WALCAST_SINK_S3_H
#define WALCAST_SINK_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config_table.h"
#include "event.h"
#include "strbuf.h"

enum sink_s3_format
{
	SINK_S3_CSV,
	SINK_S3_JSONL
};

enum sink_s3_compression
{
	SINK_S3_GZIP,
	SINK_S3_NONE
};

/* Its settings block (config_block); names are the setting keys. */
struct sink_s3_settings
{
	char	   *s3_uri;			/* NULL = the sink is not enabled */
	char	   *s3_endpoint;	/* NULL: AWS's regional endpoint */
	char	   *s3_region;
	bool		s3_path_style;
	char	   *s3_profile;		/* of the shared credentials file */
	char	   *s3_tls_ca_file;
	bool		s3_tls_verify;
	int			s3_format;		/* enum sink_s3_format */
	int			s3_compression; /* enum sink_s3_compression */
	size_t		s3_max_object_bytes;
	int			s3_max_object_age;	/* seconds */
	char	   *s3_timestamp_column;	/* NULL: none */
	bool		s3_create_bucket;
	int			s3_timeout;		/* seconds, per request */
};

extern const struct config_section sink_s3_config;

static inline const struct sink_s3_settings *
sink_s3_settings(const struct agent_config *cfg)
{
	return config_block(cfg, &sink_s3_config);
}

/* The bucket and key prefix of an s3:// URI (prefix: "" or ending in '/'). */
extern bool sink_s3_parse_uri(const char *uri, char **bucket, char **prefix,
							  char *msg, size_t len);

/*
 * Credentials from the standard AWS sources, in their order: the
 * environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN), then the shared credentials file
 * (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials) under the profile
 * (--s3-profile, AWS_PROFILE, "default").  Never logged.
 */
struct sink_s3_credentials
{
	char	   *key_id;
	char	   *secret;
	char	   *token;			/* NULL: none */
};

extern bool sink_s3_credentials_load(const struct sink_s3_settings *set,
									 struct sink_s3_credentials *cred,
									 char *err, size_t errlen);
extern void sink_s3_credentials_free(struct sink_s3_credentials *cred);

/* ---- requests (sink_s3_http.c) ---- */

struct sink_s3_http;

enum sink_s3_result
{
	SINK_S3_OK,
	SINK_S3_NOT_FOUND,			/* 404 (no such key, no such bucket) */
	SINK_S3_DENIED,				/* 401/403: credentials, signature, policy */
	SINK_S3_FAILED				/* the network, 5xx, anything else */
};

extern struct sink_s3_http *sink_s3_http_new(const struct sink_s3_settings *set,
											 const char *bucket,
											 const struct sink_s3_credentials *cred,
											 char *err, size_t errlen);
extern void sink_s3_http_free(struct sink_s3_http *h);

/* Whether the bucket exists and these credentials may list it. */
extern enum sink_s3_result sink_s3_check_bucket(struct sink_s3_http *h,
											   char *err, size_t errlen);
extern enum sink_s3_result sink_s3_create_bucket(struct sink_s3_http *h,
												 char *err, size_t errlen);

/* One whole object; stored once the reply was 200 with an ETag. */
extern enum sink_s3_result sink_s3_put(struct sink_s3_http *h, const char *key,
									   const char *body, size_t len,
									   const char *content_type,
									   char *err, size_t errlen);

/* An object's body into out (NOT_FOUND when there is none). */
extern enum sink_s3_result sink_s3_get(struct sink_s3_http *h, const char *key,
									   struct strbuf *out, char *err,
									   size_t errlen);

/* The keys under prefix, each passed to fn (ListObjectsV2, every page). */
extern enum sink_s3_result sink_s3_list(struct sink_s3_http *h,
										const char *prefix,
										void (*fn) (void *arg, const char *key),
										void *arg, char *err, size_t errlen);
extern enum sink_s3_result sink_s3_delete(struct sink_s3_http *h,
										  const char *key, char *err,
										  size_t errlen);

/*
 * Multipart uploads: nothing is visible until complete() answered 200;
 * an upload never completed is aborted (or expires by the bucket's
 * lifecycle rule: docs/object-storage.md).
 */
struct sink_s3_multipart
{
	char	   *upload_id;		/* NULL: none started */
	char	  **etags;			/* of parts 1..nparts */
	int			nparts;
	int			cap;
};

extern enum sink_s3_result sink_s3_mp_start(struct sink_s3_http *h,
											const char *key,
											const char *content_type,
											struct sink_s3_multipart *mp,
											char *err, size_t errlen);
extern enum sink_s3_result sink_s3_mp_part(struct sink_s3_http *h,
										   const char *key,
										   struct sink_s3_multipart *mp,
										   const char *body, size_t len,
										   char *err, size_t errlen);
extern enum sink_s3_result sink_s3_mp_complete(struct sink_s3_http *h,
											   const char *key,
											   struct sink_s3_multipart *mp,
											   char *err, size_t errlen);
/* Abort (best effort) and forget the upload. */
extern void sink_s3_mp_abort(struct sink_s3_http *h, const char *key,
							 struct sink_s3_multipart *mp);

/* ---- rows (sink_s3_row.c) ---- */

/*
 * The columns of a table as its records name them (the keys of "types",
 * in column order), joined by '\0' in names with a final "\0"; two
 * headers are equal when their bytes are.
 */
struct sink_s3_columns
{
	char	   *names;
	size_t		len;
	int			n;
};

/* ev's columns (a row change or read); false when it names none. */
extern bool sink_s3_columns_of(const struct event *ev,
							   struct sink_s3_columns *cols);
extern void sink_s3_columns_free(struct sink_s3_columns *cols);

/* The CSV header row: Op[,timestamp column],columns... */
extern void sink_s3_csv_header(const struct sink_s3_columns *cols,
							   const char *ts_column, struct strbuf *out);

/*
 * ev as CSV under cols: Op (I, U, D; T for a TRUNCATE, with every column
 * NULL; I for a load's rows, as DMS's IncludeOpForFullLoad), the commit
 * time when ts_column is set, then each column: NULL as an empty field, a
 * string always quoted (so "" is the empty string), numbers and booleans
 * as written, json and arrays as their JSON text.  An UPDATE that changed
 * the key ("pk") is two rows: D with the old key, then U.  *unchanged
 * counts columns an UPDATE left out (unchanged TOAST values, written as
 * NULL).
 */
extern bool sink_s3_csv_row(const struct event *ev,
							const struct sink_s3_columns *cols,
							const char *ts_column, struct strbuf *out,
							int *unchanged);

#endif							/* WALCAST_SINK_S3_H */
