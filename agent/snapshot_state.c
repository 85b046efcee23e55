/*
 * snapshot_state.c
 *		The initial load's state file (see snapshot_state.h).
 *
 * Written like PostgreSQL writes its small state files (durable_rename in
 * fd.c): a temporary file is written and fsync'd, renamed over the old
 * one, and the directory fsync'd, so a crash leaves either the old or the
 * new file, never a torn one.
 */
#include "snapshot_state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event.h"

#define STATE_LINE_MAX 512

static const char *const state_names[] = {"none", "loading", "done"};

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
state_set(struct snapshot_state *st, const char *key, const char *val)
{
	char	   *end;

	if (strcmp(key, "status") == 0)
	{
		for (int i = 1; i < 3; i++)
			if (strcmp(val, state_names[i]) == 0)
			{
				st->status = (enum snapshot_state_status) i;
				return true;
			}
		return false;
	}
	if (strcmp(key, "system_id") == 0)
		return (size_t) snprintf(st->system_id, sizeof(st->system_id), "%s", val) < sizeof(st->system_id);
	if (strcmp(key, "database") == 0)
		return (size_t) snprintf(st->database, sizeof(st->database), "%s", val) < sizeof(st->database);
	if (strcmp(key, "slot") == 0)
		return (size_t) snprintf(st->slot, sizeof(st->slot), "%s", val) < sizeof(st->slot);
	if (strcmp(key, "consistent_point") == 0)
		return lsn_parse(val, &st->consistent_point);
	if (strcmp(key, "created_slot") == 0)
	{
		st->created_slot = strcmp(val, "true") == 0;
		return st->created_slot || strcmp(val, "false") == 0;
	}
	if (strcmp(key, "rows") == 0)
	{
		errno = 0;
		st->rows = strtoull(val, &end, 10);
		return errno == 0 && end != val && *end == '\0';
	}
	if (strcmp(key, "tables") == 0)
	{
		errno = 0;
		st->tables = strtoll(val, &end, 10);
		return errno == 0 && end != val && *end == '\0';
	}
	return true;				/* unknown keys: written by a newer agent */
}

bool
snapshot_state_read(const char *path, struct snapshot_state *st, char *err,
					size_t errlen)
{
	FILE	   *f;
	char		line[STATE_LINE_MAX];
	int			lineno = 0;

	memset(st, 0, sizeof(*st));
	f = fopen(path, "r");
	if (f == NULL)
	{
		if (errno == ENOENT)
			return true;
		snprintf(err, errlen, "could not read snapshot state file \"%s\": %s",
				 path, strerror(errno));
		return false;
	}
	while (fgets(line, sizeof(line), f) != NULL)
	{
		char	   *eq;
		char	   *key = line;
		char	   *val;
		size_t		n;

		lineno++;
		n = strcspn(line, "\r\n");
		line[n] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		eq = strstr(line, " = ");
		if (eq == NULL)
			goto bad;
		*eq = '\0';
		val = eq + 3;
		if (!state_set(st, key, val))
			goto bad;
	}
	fclose(f);
	if (st->status == SNAPSHOT_STATE_NONE || st->slot[0] == '\0' ||
		st->system_id[0] == '\0')
	{
		snprintf(err, errlen, "snapshot state file \"%s\" is incomplete (delete it only if you know the load it describes is finished or abandoned)",
				 path);
		return false;
	}
	return true;

bad:
	fclose(f);
	snprintf(err, errlen, "snapshot state file \"%s\", line %d: cannot parse \"%s\"",
			 path, lineno, line);
	return false;
}

bool
snapshot_state_write(const char *path, const struct snapshot_state *st,
					 char *err, size_t errlen)
{
	size_t		n = strlen(path) + 8;
	char	   *tmp = malloc(n);
	char	   *dir = strdup(path);
	char	   *slash;
	char		cp[LSN_BUFLEN];
	FILE	   *f = NULL;
	int			fd;
	bool		ok = false;

	if (tmp == NULL || dir == NULL)
	{
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	snprintf(tmp, n, "%s.tmp", path);
	lsn_format(st->consistent_point, cp, sizeof(cp));
	f = fopen(tmp, "w");
	if (f == NULL)
		goto fail;
	fprintf(f, "# walcast-agent initial load state (docs/snapshot.md); do not edit\n"
			"status = %s\nsystem_id = %s\ndatabase = %s\nslot = %s\n"
			"consistent_point = %s\ncreated_slot = %s\ntables = %" PRId64 "\n"
			"rows = %" PRIu64 "\n",
			state_names[st->status], st->system_id, st->database, st->slot,
			cp, st->created_slot ? "true" : "false", st->tables, st->rows);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		goto fail;
	if (fclose(f) != 0)
	{
		f = NULL;
		goto fail;
	}
	f = NULL;
	if (rename(tmp, path) != 0)
		goto fail;
	slash = strrchr(dir, '/');
	if (slash != NULL)
		*slash = '\0';
	fd = open(slash != NULL ? (dir[0] ? dir : "/") : ".", O_RDONLY);
	if (fd < 0)
		goto fail;
	if (fsync(fd) != 0)
	{
		close(fd);
		goto fail;
	}
	close(fd);
	ok = true;
	goto done;

fail:
	snprintf(err, errlen, "could not write snapshot state file \"%s\": %s (see --state-dir)",
			 path, strerror(errno));
	if (f != NULL)
		fclose(f);
	if (tmp != NULL)
		unlink(tmp);
done:
	free(tmp);
	free(dir);
	return ok;
}
