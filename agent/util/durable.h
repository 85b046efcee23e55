/*
 * durable.h
 *		Replacing a small file so that a crash leaves either the old text
 *		or the new one, never a torn mix: write a temporary file, fsync it,
 *		rename it over the old one, fsync the directory.
 */
#ifndef WALCAST_DURABLE_H
#define WALCAST_DURABLE_H

#include <stdbool.h>

/* Replace path's content with text; false with errno set. */
extern bool durable_replace(const char *path, const char *text);

#endif							/* WALCAST_DURABLE_H */
