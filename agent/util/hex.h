/*
 * hex.h
 *		One hex digit's value, for every hex text the agent reads: LSNs,
 *		bytea's hex form (\x...) in the pgoutput decoder and the Mongo
 *		mirror, and the pgoutput test driver's raw message files.
 *
 * Header-only, so that the pgoutput group (built alone by its tests and
 * fuzz targets) needs no object from util/.
 */
#ifndef WALCAST_HEX_H
#define WALCAST_HEX_H

/* 0..15, or -1 for a character that is not a hex digit (either case). */
static inline int
hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

#endif							/* WALCAST_HEX_H */
