/*
 * decoder_harness.h
 *		What the decoder tests share (test_decoder.c, test_decoder_pgoutput.c):
 *		does decoder_check take one plugin option ("-o NAME=VALUE") for a
 *		sink's needs, on top of the arguments that choose the decoder?
 */
#ifndef WALCAST_TEST_DECODER_HARNESS_H
#define WALCAST_TEST_DECODER_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "decoder.h"

/*
 * args: the argv before "-o option", program name included.  want: the
 * refusal decoder_check must give, or NULL when it must accept.
 */
static inline void
expect_option(const char *const *args, int nargs,
			  const struct event_needs *needs, const char *option,
			  const char *want)
{
	struct agent_config cfg;
	char	   *argv[32];
	char		err[512] = "";

	assert_true(nargs + 2 < 32);
	/* config_load (getopt) may permute argv: hand it a mutable copy */
	for (int i = 0; i < nargs; i++)
		argv[i] = (char *) args[i];
	argv[nargs] = "-o";
	argv[nargs + 1] = (char *) option;
	argv[nargs + 2] = NULL;
	assert_int_equal(config_load(&cfg, nargs + 2, argv, err, sizeof(err)), CONFIG_OK);
	if (decoder_check(&cfg, needs, err, sizeof(err)))
	{
		if (want != NULL)
			fail_msg("-o %s accepted; wanted: %s", option, want);
	}
	else if (want == NULL)
		fail_msg("-o %s refused: %s", option, err);
	else
		assert_string_equal(err, want);
	config_free(&cfg);
}

#define expect_refused(needs, option, want) \
	expect_option(decoder_args, (int) (sizeof(decoder_args) / sizeof(decoder_args[0])), \
				  (needs), (option), (want))
#define expect_accepted(needs, option) \
	expect_option(decoder_args, (int) (sizeof(decoder_args) / sizeof(decoder_args[0])), \
				  (needs), (option), NULL)

#endif							/* WALCAST_TEST_DECODER_HARNESS_H */
