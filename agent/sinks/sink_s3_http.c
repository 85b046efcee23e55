/*
 * sink_s3_http.c
 *		The object-storage sink's requests: libcurl does the HTTP, TLS and
 *		the AWS Signature Version 4 (CURLOPT_AWS_SIGV4); libxml2 reads the
 *		XML replies (upload ids, listings, error codes).
 *
 * One easy handle, reused, so that requests share a kept-alive
 * connection.  Every request is blocking with a timeout (--s3-timeout):
 * the sink sends at the close of a round, and a store that does not
 * answer ends the session, whose changes the slot sends again.
 *
 * The payload is signed as UNSIGNED-PAYLOAD, as AWS's own SDKs do over
 * TLS: TLS (or loopback) protects the body.
 *
 * Error messages name the request, the key and the store's error code and
 * message; never the credentials, which only curl sees.
 */
#define _POSIX_C_SOURCE 200809L	/* strdup */

#include <ctype.h>
#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink_s3.h"

/* Seconds an abort of an unfinished upload may take (sink_s3_mp_abort). */
#define SINK_S3_ABORT_TIMEOUT 2L

struct sink_s3_http
{
	CURL	   *curl;
	char	   *base;			/* scheme://host[:port] with the bucket's
								 * host name when not path-style */
	char	   *bucket_path;	/* "/BUCKET" path-style, else "" */
	char	   *sigv4;			/* "aws:amz:REGION:s3" */
	struct curl_slist *token;	/* x-amz-security-token, or NULL */
	long		timeout;		/* --s3-timeout */
	char		curl_err[CURL_ERROR_SIZE];
};

/* A reply: its status, body and ETag. */
struct sink_s3_reply
{
	long		status;
	struct strbuf body;
	char		etag[256];
};

static size_t
sink_s3_on_body(char *ptr, size_t size, size_t n, void *arg)
{
	struct strbuf *b = arg;

	strbuf_add(b, ptr, size * n);
	return b->failed ? 0 : size * n;
}

static size_t
sink_s3_on_header(char *ptr, size_t size, size_t n, void *arg)
{
	struct sink_s3_reply *r = arg;
	size_t		len = size * n;

	if (len > 5 && strncasecmp(ptr, "etag:", 5) == 0)
	{
		const char *v = ptr + 5;
		size_t		vl = len - 5;

		while (vl > 0 && isspace((unsigned char) *v))
			v++, vl--;
		while (vl > 0 && isspace((unsigned char) v[vl - 1]))
			vl--;
		if (vl < sizeof(r->etag))
		{
			memcpy(r->etag, v, vl);
			r->etag[vl] = '\0';
		}
	}
	return len;
}

struct sink_s3_http *
sink_s3_http_new(const struct sink_s3_settings *set, const char *bucket,
				 const struct sink_s3_credentials *cred, char *err,
				 size_t errlen)
{
	struct sink_s3_http *h = calloc(1, sizeof(*h));
	struct strbuf b = {0};
	CURLU	   *u = NULL;
	char	   *host = NULL;
	char	   *url = NULL;

	if (h == NULL || (h->curl = curl_easy_init()) == NULL || (u = curl_url()) == NULL)
		goto oom;
	if (set->s3_endpoint != NULL)
		strbuf_puts(&b, set->s3_endpoint);
	else
	{
		strbuf_puts(&b, "https://s3.");
		strbuf_puts(&b, set->s3_region);
		strbuf_puts(&b, ".amazonaws.com");
	}
	if (b.failed || curl_url_set(u, CURLUPART_URL, b.data, 0) != CURLUE_OK)
	{
		snprintf(err, errlen, "object storage: the endpoint is not a URL");
		goto fail;
	}
	free(b.data);
	b = (struct strbuf) {0};
	if (!set->s3_path_style)
	{
		/* Virtual-hosted style: BUCKET.HOST */
		if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
			goto oom;
		strbuf_puts(&b, bucket);
		strbuf_puts(&b, ".");
		strbuf_puts(&b, host);
		if (b.failed || curl_url_set(u, CURLUPART_HOST, b.data, 0) != CURLUE_OK)
		{
			snprintf(err, errlen, "object storage: bucket \"%s\" cannot be a host name; set --s3-path-style=true", bucket);
			goto fail;
		}
		free(b.data);
		b = (struct strbuf) {0};
	}
	if (curl_url_set(u, CURLUPART_PATH, "", 0) != CURLUE_OK ||
		curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK)
		goto oom;
	/* without the path's "/" */
	h->base = strdup(url);
	if (h->base != NULL && h->base[0] != '\0' && h->base[strlen(h->base) - 1] == '/')
		h->base[strlen(h->base) - 1] = '\0';
	if (set->s3_path_style)
	{
		char	   *esc = curl_easy_escape(h->curl, bucket, 0);

		strbuf_puts(&b, "/");
		strbuf_puts(&b, esc != NULL ? esc : "");
		curl_free(esc);
		h->bucket_path = strbuf_finish(&b);
		b = (struct strbuf) {0};
	}
	else
		h->bucket_path = strdup("");
	strbuf_puts(&b, "aws:amz:");
	strbuf_puts(&b, set->s3_region);
	strbuf_puts(&b, ":s3");
	h->sigv4 = strbuf_finish(&b);
	if (h->base == NULL || h->bucket_path == NULL || h->sigv4 == NULL)
		goto oom;
	if (cred->token != NULL)
	{
		struct strbuf t = {0};

		strbuf_puts(&t, "x-amz-security-token: ");
		strbuf_puts(&t, cred->token);
		if (t.failed || (h->token = curl_slist_append(NULL, t.data)) == NULL)
		{
			free(t.data);
			goto oom;
		}
		memset(t.data, 0, t.len);
		free(t.data);
	}

	curl_easy_setopt(h->curl, CURLOPT_AWS_SIGV4, h->sigv4);
	curl_easy_setopt(h->curl, CURLOPT_USERNAME, cred->key_id);
	curl_easy_setopt(h->curl, CURLOPT_PASSWORD, cred->secret);
	h->timeout = (long) set->s3_timeout;
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, h->timeout);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT, (long) (set->s3_timeout < 10 ? set->s3_timeout : 10));
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->curl_err);
	curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYPEER, set->s3_tls_verify ? 1L : 0L);
	curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYHOST, set->s3_tls_verify ? 2L : 0L);
	if (set->s3_tls_ca_file != NULL)
		curl_easy_setopt(h->curl, CURLOPT_CAINFO, set->s3_tls_ca_file);
	/* Plain http only where the endpoint says so; never downgraded. */
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "walcast-agent");
	curl_free(host);
	curl_free(url);
	curl_url_cleanup(u);
	return h;

oom:
	snprintf(err, errlen, "out of memory");
fail:
	free(b.data);
	curl_free(host);
	curl_free(url);
	curl_url_cleanup(u);
	sink_s3_http_free(h);
	return NULL;
}

void
sink_s3_http_free(struct sink_s3_http *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->token);
	free(h->base);
	free(h->bucket_path);
	free(h->sigv4);
	free(h);
}

/* base + bucket path + "/" + key, each key segment percent-encoded. */
static char *
sink_s3_url(struct sink_s3_http *h, const char *key, const char *query)
{
	struct strbuf b = {0};

	strbuf_puts(&b, h->base);
	strbuf_puts(&b, h->bucket_path);
	strbuf_puts(&b, "/");
	while (key != NULL && *key != '\0')
	{
		size_t		n = strcspn(key, "/");
		char	   *esc = curl_easy_escape(h->curl, key, (int) n);

		if (esc == NULL)
			b.failed = true;
		else
			strbuf_puts(&b, esc);
		curl_free(esc);
		key += n;
		if (*key == '/')
		{
			strbuf_puts(&b, "/");
			key++;
		}
	}
	if (query != NULL)
	{
		strbuf_puts(&b, "?");
		strbuf_puts(&b, query);
	}
	return strbuf_finish(&b);
}

/* The text of the first element named name under node, or NULL (xmlFree). */
static xmlChar *
sink_s3_xml_find(xmlNode *node, const char *name)
{
	for (xmlNode *n = node; n != NULL; n = n->next)
	{
		xmlChar    *v;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (xmlStrcmp(n->name, (const xmlChar *) name) == 0)
			return xmlNodeGetContent(n);
		if ((v = sink_s3_xml_find(n->children, name)) != NULL)
			return v;
	}
	return NULL;
}

static xmlDoc *
sink_s3_xml(const struct strbuf *body)
{
	if (body->data == NULL || body->len == 0)
		return NULL;
	return xmlReadMemory(body->data, (int) body->len, NULL, NULL,
						 XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

/* The store's <Code> and <Message>, for an error message. */
static void
sink_s3_describe(const struct sink_s3_reply *r, char *buf, size_t len)
{
	xmlDoc	   *doc = sink_s3_xml(&r->body);
	xmlChar    *code = doc ? sink_s3_xml_find(xmlDocGetRootElement(doc), "Code") : NULL;
	xmlChar    *msg = doc ? sink_s3_xml_find(xmlDocGetRootElement(doc), "Message") : NULL;

	snprintf(buf, len, "HTTP %ld%s%s%s%s", r->status,
			 code ? " " : "", code ? (const char *) code : "",
			 msg ? ": " : "", msg ? (const char *) msg : "");
	xmlFree(code);
	xmlFree(msg);
	if (doc)
		xmlFreeDoc(doc);
}

/*
 * One request: method on key (NULL: the bucket) with query, body (NULL:
 * none), into r.  Returns its result; err says what failed.
 */
static enum sink_s3_result
sink_s3_request(struct sink_s3_http *h, const char *method, const char *key,
				const char *query, const char *body, size_t len,
				const char *content_type, struct sink_s3_reply *r,
				const char *what, char *err, size_t errlen)
{
	char	   *url = sink_s3_url(h, key, query);
	struct curl_slist *hdrs = NULL;
	struct curl_slist *tail;
	CURLcode	rc;
	char		why[512];

	memset(r, 0, sizeof(*r));
	if (url == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return SINK_S3_FAILED;
	}
	/* The token's item is ours; the list's later items are this request's. */
	tail = h->token;
	if (content_type != NULL)
	{
		char		ct[128];

		snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
		hdrs = curl_slist_append(NULL, ct);
	}
	if (tail != NULL)
		hdrs = curl_slist_append(hdrs, tail->data);

	/*
	 * curl 7.88 signs for s3 without this header, which S3 requires;
	 * given, curl signs with its value.
	 */
	hdrs = curl_slist_append(hdrs, "x-amz-content-sha256: UNSIGNED-PAYLOAD");

	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, sink_s3_on_body);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, sink_s3_on_header);
	curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, r);
	if (body != NULL)
	{
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len);
	}
	else if (strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0)
	{
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) 0);
	}
	else
		curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST,
					 strcmp(method, "GET") == 0 ? NULL : method);
	h->curl_err[0] = '\0';
	rc = curl_easy_perform(h->curl);
	curl_slist_free_all(hdrs);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, NULL);
	curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, NULL);
	free(url);
	if (rc != CURLE_OK)
	{
		snprintf(err, errlen, "object storage: %s: %s", what,
				 h->curl_err[0] ? h->curl_err : curl_easy_strerror(rc));
		return SINK_S3_FAILED;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->body.failed)
	{
		snprintf(err, errlen, "out of memory");
		return SINK_S3_FAILED;
	}
	if (r->status >= 200 && r->status < 300)
		return SINK_S3_OK;
	sink_s3_describe(r, why, sizeof(why));
	snprintf(err, errlen, "object storage: %s: %s", what, why);
	if (r->status == 404)
		return SINK_S3_NOT_FOUND;
	return r->status == 401 || r->status == 403 ? SINK_S3_DENIED : SINK_S3_FAILED;
}

static void
sink_s3_reply_free(struct sink_s3_reply *r)
{
	free(r->body.data);
	r->body = (struct strbuf) {0};
}

enum sink_s3_result
sink_s3_check_bucket(struct sink_s3_http *h, char *err, size_t errlen)
{
	struct sink_s3_reply r;
	enum sink_s3_result res;

	/*
	 * A listing of one key, not HEAD: it needs the List permission the
	 * load uses, and a refusal comes with the store's error code.
	 */
	res = sink_s3_request(h, "GET", NULL, "list-type=2&max-keys=1", NULL, 0,
						  NULL, &r, "checking the bucket", err, errlen);
	sink_s3_reply_free(&r);
	return res;
}

enum sink_s3_result
sink_s3_create_bucket(struct sink_s3_http *h, char *err, size_t errlen)
{
	struct sink_s3_reply r;
	enum sink_s3_result res;

	res = sink_s3_request(h, "PUT", NULL, NULL, NULL, 0, NULL, &r,
						  "creating the bucket", err, errlen);
	sink_s3_reply_free(&r);
	return res;
}

enum sink_s3_result
sink_s3_put(struct sink_s3_http *h, const char *key, const char *body,
			size_t len, const char *content_type, char *err, size_t errlen)
{
	struct sink_s3_reply r;
	enum sink_s3_result res;
	char		what[1200];

	snprintf(what, sizeof(what), "storing \"%s\"", key);
	res = sink_s3_request(h, "PUT", key, NULL, body, len, content_type, &r,
						  what, err, errlen);
	/* Stored means 200 with an ETag (docs/object-storage.md). */
	if (res == SINK_S3_OK && r.etag[0] == '\0')
	{
		snprintf(err, errlen, "object storage: %s: the reply (HTTP %ld) has no ETag", what, r.status);
		res = SINK_S3_FAILED;
	}
	sink_s3_reply_free(&r);
	return res;
}

enum sink_s3_result
sink_s3_get(struct sink_s3_http *h, const char *key, struct strbuf *out,
			char *err, size_t errlen)
{
	struct sink_s3_reply r;
	enum sink_s3_result res;
	char		what[1200];

	snprintf(what, sizeof(what), "reading \"%s\"", key);
	res = sink_s3_request(h, "GET", key, NULL, NULL, 0, NULL, &r, what, err,
						  errlen);
	if (res == SINK_S3_OK)
	{
		*out = r.body;
		r.body = (struct strbuf) {0};
	}
	sink_s3_reply_free(&r);
	return res;
}

enum sink_s3_result
sink_s3_delete(struct sink_s3_http *h, const char *key, char *err,
			   size_t errlen)
{
	struct sink_s3_reply r;
	enum sink_s3_result res;
	char		what[1200];

	snprintf(what, sizeof(what), "deleting \"%s\"", key);
	res = sink_s3_request(h, "DELETE", key, NULL, NULL, 0, NULL, &r, what,
						  err, errlen);
	sink_s3_reply_free(&r);
	return res == SINK_S3_NOT_FOUND ? SINK_S3_OK : res;
}

/* "name=value" with value percent-encoded, appended to a query. */
static void
sink_s3_query_add(struct sink_s3_http *h, struct strbuf *q, const char *name,
				  const char *value)
{
	char	   *esc = curl_easy_escape(h->curl, value, 0);

	if (q->len > 0)
		strbuf_puts(q, "&");
	strbuf_puts(q, name);
	strbuf_puts(q, "=");
	if (esc == NULL)
		q->failed = true;
	else
		strbuf_puts(q, esc);
	curl_free(esc);
}

enum sink_s3_result
sink_s3_list(struct sink_s3_http *h, const char *prefix,
			 void (*fn) (void *arg, const char *key), void *arg, char *err,
			 size_t errlen)
{
	char	   *token = NULL;
	enum sink_s3_result res = SINK_S3_OK;

	do
	{
		/* Query parameters in the canonical (sorted) order SigV4 wants. */
		struct strbuf q = {0};
		struct sink_s3_reply r;
		xmlDoc	   *doc;
		xmlChar    *trunc;

		if (token != NULL)
			sink_s3_query_add(h, &q, "continuation-token", token);
		sink_s3_query_add(h, &q, "list-type", "2");
		sink_s3_query_add(h, &q, "prefix", prefix);
		free(token);
		token = NULL;
		if (q.failed)
		{
			free(q.data);
			snprintf(err, errlen, "out of memory");
			return SINK_S3_FAILED;
		}
		res = sink_s3_request(h, "GET", NULL, q.data, NULL, 0, NULL, &r,
							  "listing objects", err, errlen);
		free(q.data);
		if (res != SINK_S3_OK || (doc = sink_s3_xml(&r.body)) == NULL)
		{
			if (res == SINK_S3_OK)
			{
				snprintf(err, errlen, "object storage: listing objects: the reply is not XML");
				res = SINK_S3_FAILED;
			}
			sink_s3_reply_free(&r);
			break;
		}
		for (xmlNode *n = xmlDocGetRootElement(doc)->children; n != NULL; n = n->next)
			if (n->type == XML_ELEMENT_NODE &&
				xmlStrcmp(n->name, (const xmlChar *) "Contents") == 0)
			{
				xmlChar    *key = sink_s3_xml_find(n->children, "Key");

				if (key != NULL)
					fn(arg, (const char *) key);
				xmlFree(key);
			}
		trunc = sink_s3_xml_find(xmlDocGetRootElement(doc), "IsTruncated");
		if (trunc != NULL && xmlStrcmp(trunc, (const xmlChar *) "true") == 0)
		{
			xmlChar    *next = sink_s3_xml_find(xmlDocGetRootElement(doc), "NextContinuationToken");

			token = next != NULL ? strdup((const char *) next) : NULL;
			xmlFree(next);
		}
		xmlFree(trunc);
		xmlFreeDoc(doc);
		sink_s3_reply_free(&r);
	} while (token != NULL);
	return res;
}

/* ---- multipart ---- */

enum sink_s3_result
sink_s3_mp_start(struct sink_s3_http *h, const char *key,
				 const char *content_type, struct sink_s3_multipart *mp,
				 char *err, size_t errlen)
{
	struct sink_s3_reply r;
	enum sink_s3_result res;
	xmlDoc	   *doc;
	xmlChar    *id = NULL;
	char		what[1200];

	snprintf(what, sizeof(what), "starting the multipart upload of \"%s\"", key);
	/* "uploads=", not "uploads": curl 7.88 signs the query as written */
	res = sink_s3_request(h, "POST", key, "uploads=", NULL, 0, content_type, &r,
						  what, err, errlen);
	if (res == SINK_S3_OK)
	{
		doc = sink_s3_xml(&r.body);
		id = doc ? sink_s3_xml_find(xmlDocGetRootElement(doc), "UploadId") : NULL;
		mp->upload_id = id != NULL ? strdup((const char *) id) : NULL;
		xmlFree(id);
		if (doc)
			xmlFreeDoc(doc);
		if (mp->upload_id == NULL)
		{
			snprintf(err, errlen, "object storage: %s: the reply has no UploadId", what);
			res = SINK_S3_FAILED;
		}
	}
	sink_s3_reply_free(&r);
	return res;
}

enum sink_s3_result
sink_s3_mp_part(struct sink_s3_http *h, const char *key,
				struct sink_s3_multipart *mp, const char *body, size_t len,
				char *err, size_t errlen)
{
	struct sink_s3_reply r;
	enum sink_s3_result res;
	struct strbuf q = {0};
	char		num[16];
	char		what[1200];

	if (mp->nparts == mp->cap)
	{
		int			cap = mp->cap ? mp->cap * 2 : 16;
		char	  **p = realloc(mp->etags, (size_t) cap * sizeof(*p));

		if (p == NULL)
		{
			snprintf(err, errlen, "out of memory");
			return SINK_S3_FAILED;
		}
		mp->etags = p;
		mp->cap = cap;
	}
	snprintf(num, sizeof(num), "%d", mp->nparts + 1);
	sink_s3_query_add(h, &q, "partNumber", num);
	sink_s3_query_add(h, &q, "uploadId", mp->upload_id);
	if (q.failed)
	{
		free(q.data);
		snprintf(err, errlen, "out of memory");
		return SINK_S3_FAILED;
	}
	snprintf(what, sizeof(what), "uploading part %s of \"%s\"", num, key);
	res = sink_s3_request(h, "PUT", key, q.data, body, len, NULL, &r, what,
						  err, errlen);
	free(q.data);
	if (res == SINK_S3_OK && r.etag[0] == '\0')
	{
		snprintf(err, errlen, "object storage: %s: the reply has no ETag", what);
		res = SINK_S3_FAILED;
	}
	if (res == SINK_S3_OK)
	{
		if ((mp->etags[mp->nparts] = strdup(r.etag)) == NULL)
		{
			snprintf(err, errlen, "out of memory");
			res = SINK_S3_FAILED;
		}
		else
			mp->nparts++;
	}
	sink_s3_reply_free(&r);
	return res;
}

static void
sink_s3_mp_forget(struct sink_s3_multipart *mp)
{
	for (int i = 0; i < mp->nparts; i++)
		free(mp->etags[i]);
	free(mp->etags);
	free(mp->upload_id);
	memset(mp, 0, sizeof(*mp));
}

enum sink_s3_result
sink_s3_mp_complete(struct sink_s3_http *h, const char *key,
					struct sink_s3_multipart *mp, char *err, size_t errlen)
{
	struct sink_s3_reply r;
	enum sink_s3_result res;
	struct strbuf q = {0};
	char		what[1200];

	/* The parts list is XML: built with libxml2, which escapes the ETags. */
	xmlDoc	   *doc = xmlNewDoc((const xmlChar *) "1.0");
	xmlNode    *root = xmlNewNode(NULL, (const xmlChar *) "CompleteMultipartUpload");
	xmlChar    *text = NULL;
	int			textlen = 0;

	xmlDocSetRootElement(doc, root);
	for (int i = 0; i < mp->nparts; i++)
	{
		xmlNode    *part = xmlNewChild(root, NULL, (const xmlChar *) "Part", NULL);
		char		num[16];

		snprintf(num, sizeof(num), "%d", i + 1);
		xmlNewTextChild(part, NULL, (const xmlChar *) "PartNumber", (const xmlChar *) num);
		xmlNewTextChild(part, NULL, (const xmlChar *) "ETag", (const xmlChar *) mp->etags[i]);
	}
	xmlDocDumpMemory(doc, &text, &textlen);
	xmlFreeDoc(doc);
	sink_s3_query_add(h, &q, "uploadId", mp->upload_id);
	if (text == NULL || q.failed)
	{
		xmlFree(text);
		free(q.data);
		snprintf(err, errlen, "out of memory");
		return SINK_S3_FAILED;
	}
	snprintf(what, sizeof(what), "completing the multipart upload of \"%s\"", key);
	res = sink_s3_request(h, "POST", key, q.data, (const char *) text,
						  (size_t) textlen, "application/xml", &r, what, err,
						  errlen);
	free(q.data);
	xmlFree(text);

	/* A 200 can still carry an <Error> (S3 documents this for complete). */
	if (res == SINK_S3_OK)
	{
		xmlDoc	   *doc = sink_s3_xml(&r.body);
		xmlNode    *root = doc ? xmlDocGetRootElement(doc) : NULL;

		if (root == NULL || xmlStrcmp(root->name, (const xmlChar *) "CompleteMultipartUploadResult") != 0)
		{
			char		why[512];

			sink_s3_describe(&r, why, sizeof(why));
			snprintf(err, errlen, "object storage: %s: %s", what, why);
			res = SINK_S3_FAILED;
		}
		if (doc)
			xmlFreeDoc(doc);
	}
	sink_s3_reply_free(&r);
	if (res == SINK_S3_OK)
		sink_s3_mp_forget(mp);
	return res;
}

void
sink_s3_mp_abort(struct sink_s3_http *h, const char *key,
				 struct sink_s3_multipart *mp)
{
	if (mp->upload_id != NULL && h != NULL)
	{
		struct strbuf q = {0};
		struct sink_s3_reply r = {0};
		char		err[64];

		/*
		 * Best effort, briefly: this runs when a session ends, often
		 * because the store is down; what is not aborted expires by the
		 * bucket's lifecycle rule and is never visible.
		 */
		sink_s3_query_add(h, &q, "uploadId", mp->upload_id);
		curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, SINK_S3_ABORT_TIMEOUT);
		if (!q.failed)
			sink_s3_request(h, "DELETE", key, q.data, NULL, 0, NULL, &r,
							"aborting an upload", err, sizeof(err));
		curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, h->timeout);
		free(q.data);
		sink_s3_reply_free(&r);
	}
	sink_s3_mp_forget(mp);
}
