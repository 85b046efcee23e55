/*
 * fuzz_uri.c
 *		libFuzzer target of what the agent does with connection strings: the
 *		maskers that print them (config_mask_conninfo, sink_amqp_mask_uri,
 *		sink_mongo_mask_uri) and the scrubber that hides their passwords
 *		from ps (config_scrub_argv).
 *
 * Input: one byte choosing the kind (PostgreSQL conninfo or URI, amqp://,
 * mongodb://), then the string (cut at a NUL).  Seeds:
 * test/fuzz_seeds/uri.
 *
 * Properties, judged by the same parser the agent connects with (libpq's
 * PQconninfoParse, rabbitmq-c's amqp_parse_url, libmongoc's URI parser):
 *  - a string that parser refuses masks to "****" whole;
 *  - a string it accepts masks to one it accepts too, with every field
 *    but the password unchanged and the password, if any, "****";
 *  - after scrubbing argv, the string's password, if the parser still
 *    finds one, is only '*' (or, for AMQP, rabbitmq-c's default guest).
 * So no password survives either, whatever the spelling.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amqp.h>
#include <libpq-fe.h>
#include <mongoc/mongoc.h>

#include "config.h"
#include "fuzz_input.h"
#include "sink_amqp.h"
#include "sink_mongo.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_URI_MASK "****"

static void
fuzz_uri_fail(const char *what, const char *in, const char *out)
{
	fprintf(stderr, "%s\n  in:  %s\n  out: %s\n", what, in, out ? out : "(null)");
	abort();
}

static bool
fuzz_uri_stars(const char *s)
{
	return s[strspn(s, "*")] == '\0';
}

/* The scrubbed copy of s as ps would show it after --OPTION s. */
static char *
fuzz_uri_scrubbed(const char *option, const char *s)
{
	char	   *copy = strdup(s);
	char	   *argv[] = {"walcast-agent", (char *) option, copy, NULL};

	config_scrub_argv(3, argv);
	return copy;
}

/* ---- PostgreSQL ---- */

static const char *
fuzz_uri_pq_get(PQconninfoOption *opts, const char *kw)
{
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, kw) == 0)
			return o->val;
	return NULL;
}

static void
fuzz_uri_pq(const char *s)
{
	char	   *masked = config_mask_conninfo(s);
	char	   *scrubbed = fuzz_uri_scrubbed("--dbname", s);
	PQconninfoOption *in = PQconninfoParse(s, NULL);
	PQconninfoOption *out;

	if (in == NULL)
	{
		if (strcmp(masked, FUZZ_URI_MASK) != 0)
			fuzz_uri_fail("conninfo: refused by libpq, not masked whole", s, masked);
	}
	else if ((out = PQconninfoParse(masked, NULL)) == NULL)
		fuzz_uri_fail("conninfo: the masked string does not parse", s, masked);
	else
	{
		for (PQconninfoOption *o = in; o->keyword != NULL; o++)
		{
			const char *v = fuzz_uri_pq_get(out, o->keyword);

			if (strcmp(o->keyword, "password") == 0)
			{
				if ((o->val == NULL) != (v == NULL) ||
					(v != NULL && strcmp(v, FUZZ_URI_MASK) != 0))
					fuzz_uri_fail("conninfo: password not masked", s, masked);
			}
			else if ((o->val == NULL) != (v == NULL) ||
					 (v != NULL && strcmp(v, o->val) != 0))
				fuzz_uri_fail("conninfo: masking changed another field", s, masked);
		}
		PQconninfoFree(out);
	}
	if ((out = PQconninfoParse(scrubbed, NULL)) != NULL)
	{
		const char *pw = fuzz_uri_pq_get(out, "password");

		if (pw != NULL && !fuzz_uri_stars(pw))
			fuzz_uri_fail("conninfo: the password survives scrubbing", s, scrubbed);
		PQconninfoFree(out);
	}
	PQconninfoFree(in);
	free(masked);
	free(scrubbed);
}

/* ---- AMQP ---- */

static void
fuzz_uri_amqp(const char *s)
{
	char	   *masked = sink_amqp_mask_uri(s);
	char	   *scrubbed = fuzz_uri_scrubbed("--amqp-uri", s);
	char	   *a = strdup(s);
	char	   *b = strdup(masked);
	char	   *c = strdup(scrubbed);
	struct amqp_connection_info in;
	struct amqp_connection_info out;

	if (amqp_parse_url(a, &in) != AMQP_STATUS_OK)
	{
		if (strcmp(masked, FUZZ_URI_MASK) != 0)
			fuzz_uri_fail("amqp: refused by rabbitmq-c, not masked whole", s, masked);
	}
	else if (amqp_parse_url(b, &out) != AMQP_STATUS_OK)
		fuzz_uri_fail("amqp: the masked URI does not parse", s, masked);
	else if (strcmp(out.password, FUZZ_URI_MASK) != 0)
		fuzz_uri_fail("amqp: password not masked", s, masked);
	else if (strcmp(in.user, out.user) != 0 || strcmp(in.host, out.host) != 0 ||
			 in.port != out.port || strcmp(in.vhost, out.vhost) != 0 ||
			 in.ssl != out.ssl)
		fuzz_uri_fail("amqp: masking changed another field", s, masked);
	if (amqp_parse_url(c, &out) == AMQP_STATUS_OK && !fuzz_uri_stars(out.password) &&
		strcmp(out.password, "guest") != 0)
		fuzz_uri_fail("amqp: the password survives scrubbing", s, scrubbed);
	free(a);
	free(b);
	free(c);
	free(masked);
	free(scrubbed);
}

/* ---- MongoDB ---- */

static void
fuzz_uri_mongo(const char *s)
{
	char	   *masked = sink_mongo_mask_uri(s);
	char	   *scrubbed = fuzz_uri_scrubbed("--mongo-uri", s);
	mongoc_uri_t *in = mongoc_uri_new_with_error(s, NULL);
	mongoc_uri_t *out;

	if (in == NULL)
	{
		if (strcmp(masked, FUZZ_URI_MASK) != 0)
			fuzz_uri_fail("mongo: refused by libmongoc, not masked whole", s, masked);
	}
	else if ((out = mongoc_uri_new_with_error(masked, NULL)) == NULL)
		fuzz_uri_fail("mongo: the masked URI does not parse", s, masked);
	else
	{
		const char *pin = mongoc_uri_get_password(in);
		const char *pout = mongoc_uri_get_password(out);
		const char *uin = mongoc_uri_get_username(in);
		const char *uout = mongoc_uri_get_username(out);

		if ((pin == NULL) != (pout == NULL) ||
			(pout != NULL && strcmp(pout, FUZZ_URI_MASK) != 0))
			fuzz_uri_fail("mongo: password not masked", s, masked);
		if ((uin == NULL) != (uout == NULL) || (uin != NULL && strcmp(uin, uout) != 0))
			fuzz_uri_fail("mongo: masking changed the user", s, masked);
		mongoc_uri_destroy(out);
	}
	if ((out = mongoc_uri_new_with_error(scrubbed, NULL)) != NULL)
	{
		const char *pw = mongoc_uri_get_password(out);

		if (pw != NULL && !fuzz_uri_stars(pw))
			fuzz_uri_fail("mongo: the password survives scrubbing", s, scrubbed);
		mongoc_uri_destroy(out);
	}
	mongoc_uri_destroy(in);
	free(masked);
	free(scrubbed);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct fuzz_input in = {data, size};
	uint8_t		kind = fuzz_input_byte(&in);
	char	   *s;
	size_t		len;

	if (!ready)
	{
		mongoc_init();
		/* libmongoc warns about odd URIs on stderr: not the target's output */
		mongoc_log_set_handler(NULL, NULL);
		ready = true;
	}
	s = fuzz_input_rest(&in, &len, true);
	if (s == NULL)
		return 0;
	switch (kind % 3)
	{
		case 0:
			fuzz_uri_pq(s);
			break;
		case 1:
			fuzz_uri_amqp(s);
			break;
		default:
			fuzz_uri_mongo(s);
			break;
	}
	free(s);
	return 0;
}
