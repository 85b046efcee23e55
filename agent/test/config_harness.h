/*
 * config_harness.h
 *		What the configuration tests share (test_config.c and the sinks'
 *		test_sink_*.c): load a configuration from an argv, a config file
 *		every test may point at with -c, expected errors, stdout captured
 *		for --help and --print-config, and a clean environment.
 *
 * Functions are static inline so that a test file need not use them all.
 */
#ifndef WALCAST_TEST_CONFIG_HARNESS_H
#define WALCAST_TEST_CONFIG_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config_int.h"

static char conf_path[64];

/* Write the config file every test may point at with -c. */
static inline void
write_conf(const char *text)
{
	FILE	   *f = fopen(conf_path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static inline enum config_result
load_argv(struct agent_config *cfg, char *err, int argc, const char **argv)
{
	char	   *args[64];

	/* config_load (getopt) may permute argv: hand it a mutable copy. */
	for (int i = 0; i < argc; i++)
		args[i] = (char *) argv[i];
	args[argc] = NULL;
	return config_load(cfg, argc, args, err, 512);
}

#define LOAD(cfg, err, ...) \
	load_argv((cfg), (err), \
			  (int) (sizeof((const char *[]) {"walcast-agent", __VA_ARGS__}) / sizeof(const char *)), \
			  (const char *[]) {"walcast-agent", __VA_ARGS__})

static inline void
clear_env(void)
{
	for (int i = 0; i < config_count(); i++)
	{
		char		name[CONFIG_NAME_MAX + 8];

		config_env_name(config_option_at(i), name, sizeof(name));
		unsetenv(name);
	}
}

static inline int
setup(void **state)
{
	int			fd;

	(void) state;
	clear_env();
	strcpy(conf_path, "/tmp/walcast-test-XXXXXX");
	fd = mkstemp(conf_path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static inline int
teardown(void **state)
{
	(void) state;
	unlink(conf_path);
	clear_env();
	return 0;
}

/* Expect an error with exactly this message. */
static inline void
expect_error_argv(const char *want, int argc, const char **argv)
{
	struct agent_config cfg;
	char		err[512] = "";

	assert_int_equal(load_argv(&cfg, err, argc, argv), CONFIG_ERROR);
	assert_string_equal(err, want);
	config_free(&cfg);
}

#define EXPECT_ERROR(want, ...) \
	expect_error_argv((want), \
					  (int) (sizeof((const char *[]) {"walcast-agent", __VA_ARGS__}) / sizeof(const char *)), \
					  (const char *[]) {"walcast-agent", __VA_ARGS__})

/* Run config_load with stdout captured into out (for --help etc.). */
static inline enum config_result
load_captured(char *out, size_t outlen, int argc, const char **argv)
{
	struct agent_config cfg;
	char		err[512];
	enum config_result r;
	FILE	   *tmp = tmpfile();
	int			saved;
	size_t		n;

	fflush(stdout);
	saved = dup(fileno(stdout));
	dup2(fileno(tmp), fileno(stdout));
	r = load_argv(&cfg, err, argc, argv);
	fflush(stdout);
	dup2(saved, fileno(stdout));
	close(saved);
	rewind(tmp);
	n = fread(out, 1, outlen - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	config_free(&cfg);
	return r;
}

#define LOAD_CAPTURED(out, ...) \
	load_captured((out), sizeof(out), \
				  (int) (sizeof((const char *[]) {"walcast-agent", __VA_ARGS__}) / sizeof(const char *)), \
				  (const char *[]) {"walcast-agent", __VA_ARGS__})

static inline void
expect_file_error(const char *text, const char *want_suffix)
{
	char		want[600];

	write_conf(text);
	snprintf(want, sizeof(want), "%s:%s", conf_path, want_suffix);
	EXPECT_ERROR(want, "-c", conf_path);
}

#endif							/* WALCAST_TEST_CONFIG_HARNESS_H */
