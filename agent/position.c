/*
 * position.c
 *		The durable record of the newest flush position reported to
 *		PostgreSQL (position.h): three lines, key = value.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "durable.h"
#include "kv.h"
#include "lsn.h"
#include "position.h"

static bool
position_path(struct position *p, const char *dir, const char *slot)
{
	size_t		n = strlen(dir) + strlen(slot) + 16;

	free(p->path);
	if ((p->path = malloc(n)) == NULL)
		return false;
	snprintf(p->path, n, "%s/%s.position", dir, slot);
	return true;
}

bool
position_load(struct position *p, const char *dir, const char *slot,
			  const char *system_id, char *err, size_t errlen)
{
	char		line[256];
	char		sysid[32] = "";
	uint64_t	lsn = 0;
	bool		have_lsn = false;
	FILE	   *f;

	p->found = false;
	p->saved = 0;
	snprintf(p->system_id, sizeof(p->system_id), "%s", system_id);
	if (!position_path(p, dir, slot))
	{
		snprintf(err, errlen, "out of memory");
		return false;
	}
	if ((f = fopen(p->path, "r")) == NULL)
	{
		if (errno == ENOENT)
			return true;
		snprintf(err, errlen, "could not read position file \"%s\": %s (see --state-dir)",
				 p->path, strerror(errno));
		return false;
	}
	while (fgets(line, sizeof(line), f) != NULL)
	{
		char	   *key;
		char	   *value;
		char		msg[64];

		/* a line that is not "key = value" is skipped; the keys decide */
		if (!kv_split(line, &key, &value, msg, sizeof(msg)) || key == NULL)
			continue;
		if (strcmp(key, "system_id") == 0)
			snprintf(sysid, sizeof(sysid), "%s", value);
		else if (strcmp(key, "confirmed_lsn") == 0)
			have_lsn = lsn_parse(value, &lsn);
	}
	fclose(f);
	if (!have_lsn || sysid[0] == '\0')
	{
		snprintf(err, errlen, "position file \"%s\" lacks a valid system_id or confirmed_lsn (a torn or foreign file): move it away to start without the check",
				 p->path);
		return false;
	}
	/* Another cluster's file (a restored or rebuilt server): not ours. */
	if (strcmp(sysid, system_id) != 0)
		return true;
	p->found = true;
	p->saved = lsn;
	return true;
}

bool
position_reset(struct position *p, uint64_t lsn, char *err, size_t errlen)
{
	char		text[256];
	char		at[LSN_BUFLEN];

	if (p->path == NULL)
		return true;
	lsn_format(lsn, at, sizeof(at));
	snprintf(text, sizeof(text),
			 "# walcast-agent: the newest position reported to PostgreSQL as flushed\n"
			 "system_id = %s\nconfirmed_lsn = %s\n", p->system_id, at);
	if (!durable_replace(p->path, text))
	{
		snprintf(err, errlen, "could not write position file \"%s\": %s (see --state-dir)",
				 p->path, strerror(errno));
		return false;
	}
	p->saved = lsn;
	p->found = true;
	return true;
}

bool
position_save(struct position *p, uint64_t lsn, char *err, size_t errlen)
{
	if (p->path == NULL || lsn <= p->saved)
		return true;
	return position_reset(p, lsn, err, errlen);
}

void
position_free(struct position *p)
{
	free(p->path);
	p->path = NULL;
}
