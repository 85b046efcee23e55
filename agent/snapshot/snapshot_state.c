/*
 * snapshot_state.c
 *		The initial load's state file (see snapshot_state.h).
 *
 * Written like PostgreSQL writes its small state files (durable_rename in
 * fd.c): a temporary file is written and fsync'd, renamed over the old
 * one, and the directory fsync'd, so a crash leaves either the old or the
 * new file, never a torn one, and a rename the agent went on from is on
 * disk.  Read strictly: a file that does not parse stops the agent rather
 * than being taken for "no load recorded", which would skip a load.
 */
#define _POSIX_C_SOURCE 200809L	/* strdup, fsync */
#include "durable.h"
#include "snapshot_state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lsn.h"

/* The file is a few hundred bytes; anything this large is not ours. */
#define STATE_FILE_MAX 16384

static const char *const state_names[] = {"none", "creating", "loading", "done"};

#define STATE_NSTATUS ((int) (sizeof(state_names) / sizeof(state_names[0])))

/* The keys, as bits, to find duplicates and missing ones. */
enum
{
	KEY_STATUS = 1 << 0,
	KEY_SYSTEM_ID = 1 << 1,
	KEY_DATABASE = 1 << 2,
	KEY_SLOT = 1 << 3,
	KEY_CREATE_LSN = 1 << 4,
	KEY_CONSISTENT_POINT = 1 << 5,
	KEY_CREATED_SLOT = 1 << 6,
	KEY_TABLES = 1 << 7,
	KEY_ROWS = 1 << 8
};

/* What every status needs besides itself; rows and tables are counters. */
#define KEYS_COMMON (KEY_STATUS | KEY_SYSTEM_ID | KEY_DATABASE | KEY_SLOT | KEY_CREATED_SLOT)

const char *
snapshot_state_name(enum snapshot_state_status status)
{
	return (int) status >= 0 && (int) status < STATE_NSTATUS ?
		state_names[status] : "?";
}

char *
snapshot_state_path(const char *dir, const char *slot)
{
	size_t		n = strlen(dir) + strlen(slot) + 16;
	char	   *path = malloc(n);

	if (path != NULL)
		snprintf(path, n, "%s/%s.snapshot", dir, slot);
	return path;
}

static bool
state_copy(char *dst, size_t len, const char *val)
{
	return val[0] != '\0' && (size_t) snprintf(dst, len, "%s", val) < len;
}

static bool
state_number(const char *val, uint64_t *out)
{
	char	   *end;

	if (val[0] < '0' || val[0] > '9')
		return false;
	errno = 0;
	*out = strtoull(val, &end, 10);
	return errno == 0 && *end == '\0';
}

static const struct
{
	const char *name;
	int			bit;
}			state_keys[] = {
	{"status", KEY_STATUS},
	{"system_id", KEY_SYSTEM_ID},
	{"database", KEY_DATABASE},
	{"slot", KEY_SLOT},
	{"create_lsn", KEY_CREATE_LSN},
	{"consistent_point", KEY_CONSISTENT_POINT},
	{"created_slot", KEY_CREATED_SLOT},
	{"tables", KEY_TABLES},
	{"rows", KEY_ROWS},
};

/* The bit of a known key; 0 for an unknown one (a newer agent's). */
static int
state_key(const char *key)
{
	for (size_t i = 0; i < sizeof(state_keys) / sizeof(state_keys[0]); i++)
		if (strcmp(key, state_keys[i].name) == 0)
			return state_keys[i].bit;
	return 0;
}

/* One known key's value into *st. */
static bool
state_set(struct snapshot_state *st, int key, const char *val)
{
	uint64_t	n;

	switch (key)
	{
		case KEY_STATUS:
			for (int i = 1; i < STATE_NSTATUS; i++)
				if (strcmp(val, state_names[i]) == 0)
				{
					st->status = (enum snapshot_state_status) i;
					return true;
				}
			return false;
		case KEY_SYSTEM_ID:
			return state_copy(st->system_id, sizeof(st->system_id), val);
		case KEY_DATABASE:
			return state_copy(st->database, sizeof(st->database), val);
		case KEY_SLOT:
			return state_copy(st->slot, sizeof(st->slot), val);
		case KEY_CREATE_LSN:
			return lsn_parse(val, &st->create_lsn);
		case KEY_CONSISTENT_POINT:
			return lsn_parse(val, &st->consistent_point);
		case KEY_CREATED_SLOT:
			st->created_slot = strcmp(val, "true") == 0;
			return st->created_slot || strcmp(val, "false") == 0;
		case KEY_ROWS:
			return state_number(val, &st->rows);
		case KEY_TABLES:
			if (!state_number(val, &n) || n > INT64_MAX)
				return false;
			st->tables = (int64_t) n;
			return true;
	}
	return true;
}

bool
snapshot_state_parse(const char *text, const char *name,
					 struct snapshot_state *st, char *err, size_t errlen)
{
	char		line[512];
	const char *p = text;
	int			lineno = 0;
	int			seen = 0;
	int			need;

	memset(st, 0, sizeof(*st));
	while (*p != '\0')
	{
		size_t		n = strcspn(p, "\n");
		char	   *eq;
		int			bit;

		lineno++;
		if (n >= sizeof(line))
		{
			snprintf(err, errlen, "snapshot state file \"%s\", line %d: line too long",
					 name, lineno);
			return false;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + (p[n] == '\n' ? 1 : 0);
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		eq = strstr(line, " = ");
		if (eq == NULL)
			goto bad;
		*eq = '\0';
		bit = state_key(line);
		if (!state_set(st, bit, eq + 3))
		{
			*eq = ' ';
			goto bad;
		}
		if (seen & bit)
		{
			snprintf(err, errlen, "snapshot state file \"%s\", line %d: \"%s\" appears twice",
					 name, lineno, line);
			return false;
		}
		seen |= bit;
	}

	need = KEYS_COMMON;
	if (st->status == SNAPSHOT_STATE_CREATING)
		need |= KEY_CREATE_LSN;
	else if (st->status != SNAPSHOT_STATE_NONE)
		need |= KEY_CONSISTENT_POINT;
	if ((seen & need) != need)
	{
		/* a torn or hand-made file: what it describes is unknown */
		snprintf(err, errlen, "snapshot state file \"%s\" is incomplete (delete it only if you know the load it describes is finished or abandoned)",
				 name);
		return false;
	}
	return true;

bad:
	snprintf(err, errlen, "snapshot state file \"%s\", line %d: cannot parse \"%s\"",
			 name, lineno, line);
	return false;
}

bool
snapshot_state_format(const struct snapshot_state *st, char *buf,
					  size_t buflen)
{
	char		create[LSN_BUFLEN];
	char		cp[LSN_BUFLEN];
	int			n;

	lsn_format(st->create_lsn, create, sizeof(create));
	lsn_format(st->consistent_point, cp, sizeof(cp));
	n = snprintf(buf, buflen,
				 "# walcast-agent initial load state (docs/snapshot.md); do not edit\n"
				 "status = %s\nsystem_id = %s\ndatabase = %s\nslot = %s\n"
				 "create_lsn = %s\nconsistent_point = %s\ncreated_slot = %s\n"
				 "tables = %" PRId64 "\nrows = %" PRIu64 "\n",
				 snapshot_state_name(st->status), st->system_id, st->database,
				 st->slot, create, cp, st->created_slot ? "true" : "false",
				 st->tables, st->rows);
	return n >= 0 && (size_t) n < buflen;
}

bool
snapshot_state_read(const char *path, struct snapshot_state *st, char *err,
					size_t errlen)
{
	char	   *text = malloc(STATE_FILE_MAX + 1);
	FILE	   *f;
	size_t		n;
	bool		ok;

	memset(st, 0, sizeof(*st));
	if (text == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return false;
	}
	f = fopen(path, "r");
	if (f == NULL)
	{
		free(text);
		if (errno == ENOENT)
			return true;
		snprintf(err, errlen, "could not read snapshot state file \"%s\": %s",
				 path, strerror(errno));
		return false;
	}
	n = fread(text, 1, STATE_FILE_MAX + 1, f);
	ok = !ferror(f);
	fclose(f);
	if (!ok || n > STATE_FILE_MAX)
	{
		snprintf(err, errlen, "could not read snapshot state file \"%s\": %s",
				 path, ok ? "larger than a state file can be" : "read error");
		free(text);
		return false;
	}
	text[n] = '\0';
	if (strlen(text) != n)
	{
		snprintf(err, errlen, "snapshot state file \"%s\" contains a NUL byte (a torn or foreign file)",
				 path);
		free(text);
		return false;
	}
	ok = snapshot_state_parse(text, path, st, err, errlen);
	free(text);
	return ok;
}

bool
snapshot_state_write(const char *path, const struct snapshot_state *st,
					 char *err, size_t errlen)
{
	char		text[1024];

	if (!snapshot_state_format(st, text, sizeof(text)))
	{
		snprintf(err, errlen, "out of memory");
		return false;
	}
	if (!durable_replace(path, text))
	{
		snprintf(err, errlen, "could not write snapshot state file \"%s\": %s (see --state-dir)",
				 path, strerror(errno));
		return false;
	}
	return true;
}
