/*
 * pgoutput_config.c
 *		The pgoutput decoder's settings: its rows and the rules between
 *		them and --plugin (see pgoutput_config.h).
 *
 * Publication names are taken as stored in pg_publication: no quoting, no
 * case folding, as table names are everywhere else in the agent.  The
 * decoder quotes each one for pgoutput's publication_names (which folds
 * unquoted names to lower case, as SQL does).
 */
#include "pgoutput_config.h"

#include <stdio.h>
#include <string.h>

#include "decoder_pgoutput.h"

/* PostgreSQL's NAMEDATALEN - 1: the longest name the catalogue stores. */
#define PGOUTPUT_CONFIG_MAX_NAME 63

static bool pgoutput_config_check_names(const char *v, char *msg, size_t len);
static bool pgoutput_config_check_create(const char *v, char *msg, size_t len);
static bool pgoutput_config_validate(const struct agent_config *cfg,
									 char *err, size_t errlen);

#define F(field) offsetof(struct pgoutput_settings, field)

static const struct config_option pgoutput_config_options[] = {
	{"publication", 0, CONFIG_STRING, F(publication), NULL, 0, 0, NULL, pgoutput_config_check_names,
		"NAME[,NAME...]", "with --plugin pgoutput (required): the publication(s) the slot reads",
	CONFIG_NULLABLE, "pgoutput input (--plugin pgoutput)", NULL, NULL},
	{"create-publication", 0, CONFIG_STRING, F(create_publication), NULL, 0, 0, NULL, pgoutput_config_check_create,
		"TABLES", "create --publication when missing: all (FOR ALL TABLES) or SCHEMA.TABLE[,...] (FOR TABLE)",
	CONFIG_NULLABLE, NULL, NULL, NULL},
};

const struct config_section pgoutput_config_section = {
	"pgoutput", CONFIG_ROWS(pgoutput_config_options),
	sizeof(struct pgoutput_settings), pgoutput_config_validate
};

const struct pgoutput_settings *
pgoutput_config_get(const struct agent_config *cfg)
{
	return config_block(cfg, &pgoutput_config_section);
}

bool
pgoutput_config_name(const char *list, int n, char *buf, size_t len)
{
	const char *p = list;

	for (int i = 0; i < n; i++)
	{
		if ((p = strchr(p, ',')) == NULL)
			return false;
		p++;
	}
	snprintf(buf, len, "%.*s", (int) strcspn(p, ","), p);
	return true;
}

static bool
pgoutput_config_check_names(const char *v, char *msg, size_t len)
{
	for (const char *p = v;;)
	{
		size_t		n = strcspn(p, ",");

		if (n == 0)
		{
			snprintf(msg, len, "an empty publication name");
			return false;
		}
		if (n > PGOUTPUT_CONFIG_MAX_NAME)
		{
			snprintf(msg, len, "\"%.*s\" is longer than %d bytes", (int) n, p,
					 PGOUTPUT_CONFIG_MAX_NAME);
			return false;
		}
		if (p[n] == '\0')
			return true;
		p += n + 1;
	}
}

static bool
pgoutput_config_check_create(const char *v, char *msg, size_t len)
{
	return strcmp(v, "all") == 0 || config_check_table_list(v, msg, len);
}

/* --publication goes with --plugin pgoutput, both ways. */
static bool
pgoutput_config_validate(const struct agent_config *cfg, char *err,
						 size_t errlen)
{
	const struct pgoutput_settings *s = pgoutput_config_get(cfg);
	bool		pgoutput = decoder_choose(cfg) == &decoder_pgoutput_ops;

	if (pgoutput && s->publication == NULL)
	{
		snprintf(err, errlen,
				 "publication: --plugin pgoutput reads the changes a publication publishes: name it with --publication NAME (and create it with --create-publication all|SCHEMA.TABLE,... if it does not exist)");
		return false;
	}
	if (!pgoutput && (s->publication != NULL || s->create_publication != NULL))
	{
		snprintf(err, errlen, "%s: only with --plugin pgoutput",
				 s->publication != NULL ? "publication" : "create_publication");
		return false;
	}
	if (s->create_publication != NULL && strchr(s->publication, ',') != NULL)
	{
		snprintf(err, errlen,
				 "create_publication: creates one publication; --publication names several (\"%s\")",
				 s->publication);
		return false;
	}
	return true;
}
