/*
 * decoder_list.h
 *		The decoders, one line each: DECODER(name) names the decoder whose
 *		ops are decoder_<name>_ops (decode/decoder_<name>.c).  The first is
 *		the default.  Included by decoder.c with DECODER defined, as
 *		PostgreSQL's rmgrlist.h is.
 *
 * Adding a decoder: its file group in decode/ and one line here
 * (docs/architecture.md, "How to add a decoder").
 */
DECODER(walcast)
DECODER(pgoutput)
