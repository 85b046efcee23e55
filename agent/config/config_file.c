/*
 * config_file.c
 *		Read a walcast-agent config file: "key = value" lines.
 *
 * Syntax (docs/agent-config.md): blank lines and lines starting with '#'
 * are ignored; keys are the long option names with '_' (or '-'); a value is
 * either the rest of the line, cut at a '#' that starts the value or follows
 * a blank, with surrounding blanks trimmed, or a quoted string: "..." with
 * \" and \\ escapes, or '...' taken literally.  Unquoted values may hold
 * '#' inside a word, so passwords like p#ss need no quotes.  Setting a key
 * twice is an error (a likely mistake) except for the repeatable "option".
 */
#define _POSIX_C_SOURCE 200809L	/* getline */

#include "config_int.h"
#include "kv.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct config_option *
config_file_option(const char *key)
{
	char		norm[CONFIG_NAME_MAX];
	char		name[CONFIG_NAME_MAX];
	size_t		i;

	for (i = 0; key[i] != '\0' && i + 1 < sizeof(norm); i++)
		norm[i] = key[i] == '-' ? '_' : key[i];
	norm[i] = '\0';
	for (int j = 0; j < config_count(); j++)
	{
		config_key_name(config_option_at(j), name, sizeof(name));
		if (strcmp(name, norm) == 0)
			return config_option_at(j);
	}
	return NULL;
}

static bool
config_file_line(struct agent_config *cfg, const char *path, int lineno,
				 char *line, int *first_line, char *err, size_t errlen)
{
	const struct config_option *opt;
	char		msg[256];
	char		label[1024];
	char	   *key;
	char	   *value;
	int			idx;

	if (!kv_split(line, &key, &value, msg, sizeof(msg)))
	{
		snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
		return false;
	}
	if (key == NULL)
		return true;
	if ((opt = config_file_option(key)) == NULL)
	{
		snprintf(err, errlen, "%s:%d: unknown setting \"%s\"", path, lineno, key);
		return false;
	}
	if (opt->flags & CONFIG_NOFILE)
	{
		snprintf(err, errlen, "%s:%d: %s cannot be set in a config file",
				 path, lineno, key);
		return false;
	}
	idx = config_option_index(opt);
	if (first_line[idx] != 0 && opt->type != CONFIG_LIST)
	{
		snprintf(err, errlen, "%s:%d: %s: duplicate setting (first set at line %d)",
				 path, lineno, key, first_line[idx]);
		return false;
	}
	if (first_line[idx] == 0)
		first_line[idx] = lineno;
	config_key_name(opt, msg, sizeof(msg));
	snprintf(label, sizeof(label), "%s:%d: %s", path, lineno, msg);
	return config_set(cfg, opt, value, CONFIG_SRC_FILE, lineno, label, err, errlen);
}

bool
config_read_file(struct agent_config *cfg, const char *path,
				 char *err, size_t errlen)
{
	FILE	   *f = fopen(path, "r");
	int		   *first_line;
	char	   *line = NULL;
	size_t		cap = 0;
	int			lineno = 0;
	bool		ok = true;

	if (f == NULL)
	{
		snprintf(err, errlen, "could not open config file \"%s\": %s",
				 path, strerror(errno));
		return false;
	}
	if ((first_line = calloc((size_t) config_count(), sizeof(int))) == NULL)
	{
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return false;
	}
	while (ok && getline(&line, &cap, f) != -1)
		ok = config_file_line(cfg, path, ++lineno, line, first_line, err, errlen);
	if (ok && ferror(f))
	{
		snprintf(err, errlen, "could not read config file \"%s\": %s",
				 path, strerror(errno));
		ok = false;
	}
	free(line);
	free(first_line);
	fclose(f);
	return ok;
}
