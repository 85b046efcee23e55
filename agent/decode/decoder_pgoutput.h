/*
 * decoder_pgoutput.h
 *		The pgoutput decoder (decoder_pgoutput.c), as decoder_list.h names
 *		it, and what its unit tests reach beyond the decoder interface.
 */
#ifndef WALCAST_DECODER_PGOUTPUT_H
#define WALCAST_DECODER_PGOUTPUT_H

#include "decoder.h"

extern const struct decoder_ops decoder_pgoutput_ops;

/*
 * d->options for a server of this version (PQserverVersion):
 * proto_version, the highest it speaks; publication_names; messages from
 * PostgreSQL 14.  False when out of memory.
 */
extern bool decoder_pgoutput_options(struct decoder *d, int server_version);

#endif							/* WALCAST_DECODER_PGOUTPUT_H */
