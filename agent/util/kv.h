/*
 * kv.h
 *		Splitting a "key = value" line (kv.c).
 */
#ifndef WALCAST_KV_H
#define WALCAST_KV_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Split line in place into key and value: blanks around both trimmed, a
 * value in single or double quotes unquoted (\" and \\ inside double
 * quotes), a '#' comment cut from an unquoted value.  *key is NULL for a
 * blank or comment line.  False, with the reason in msg, for a line that
 * is not "key = value".
 */
extern bool kv_split(char *line, char **key, char **value, char *msg, size_t len);

#endif							/* WALCAST_KV_H */
