/*
 * kv.c
 *		One "key = value" line split in place: the syntax of the config
 *		file (config/config_file.c) and of the position file (position.c).
 *		The snapshot state file keeps a stricter reader of its own
 *		(snapshot_state.c): its values (a database name) are taken verbatim,
 *		where this one would unquote them and cut a '#' comment.
 */
#include "kv.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

bool
kv_split(char *line, char **key, char **value, char *msg, size_t len)
{
	char	   *p = line;
	char	   *keyend;
	size_t		n = strlen(line);

	*key = NULL;
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	while (isspace((unsigned char) *p))
		p++;
	if (*p == '\0' || *p == '#')
		return true;

	*key = p;
	while (isalnum((unsigned char) *p) || *p == '_' || *p == '-')
		p++;
	keyend = p;
	while (isspace((unsigned char) *p))
		p++;
	if (keyend == *key || *p != '=')
	{
		snprintf(msg, len, "syntax error (expected \"key = value\")");
		return false;
	}
	*keyend = '\0';
	for (p++; isspace((unsigned char) *p); p++)
		;

	*value = p;
	if (*p == '"' || *p == '\'')
	{
		char		quote = *p;
		char	   *r = p + 1;
		char	   *w = p;

		for (;;)
		{
			if (*r == '\0')
			{
				snprintf(msg, len, "unterminated quoted value");
				return false;
			}
			if (*r == quote)
				break;
			if (quote == '"' && *r == '\\' && (r[1] == '"' || r[1] == '\\'))
				r++;
			*w++ = *r++;
		}
		*w = '\0';
		for (r++; isspace((unsigned char) *r); r++)
			;
		if (*r != '\0' && *r != '#')
		{
			snprintf(msg, len, "unexpected text after quoted value");
			return false;
		}
		return true;
	}

	/* Unquoted: a comment starts at a '#' opening the value or after a blank. */
	for (char *c = p; *c != '\0'; c++)
	{
		if (*c == '#' && (c == p || isspace((unsigned char) c[-1])))
		{
			*c = '\0';
			break;
		}
	}
	n = strlen(p);
	while (n > 0 && isspace((unsigned char) p[n - 1]))
		p[--n] = '\0';
	return true;
}
