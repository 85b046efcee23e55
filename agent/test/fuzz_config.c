/*
 * fuzz_config.c
 *		libFuzzer target of the configuration engine as a config file
 *		reaches it (config/config_file.c, config_value.c, every section's
 *		validators and cross-option rules, the maskers of --print-config).
 *
 * Input: the whole config file, read by config_load through -c from a
 * memory file.  Seeds (test/fuzz_seeds/config) are the shipped example
 * and files using every kind of value.
 *
 * Properties beyond the sanitizers': a file that loads prints
 * (--print-config, masking every secret) and reloads unchanged (SIGHUP
 * with the same file succeeds).
 */
#define _GNU_SOURCE				/* memfd_create */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <mongoc/mongoc.h>

#include "config_int.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int	fuzz_config_fd = -1;
static char fuzz_config_path[64];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_config cfg;
	char		err[1024];
	char	   *argv[] = {"walcast-agent", "-c", fuzz_config_path, NULL};

	if (fuzz_config_fd < 0)
	{
		if ((fuzz_config_fd = memfd_create("walcast-fuzz.conf", 0)) < 0)
			abort();
		snprintf(fuzz_config_path, sizeof(fuzz_config_path), "/proc/self/fd/%d",
				 fuzz_config_fd);
		/* libmongoc logs every URI it refuses: not the target's output */
		mongoc_log_set_handler(NULL, NULL);
		/* the file alone: no WALCAST_* setting from the environment */
		for (int i = 0; i < config_count(); i++)
		{
			char		name[CONFIG_NAME_MAX + 8];

			config_env_name(config_option_at(i), name, sizeof(name));
			unsetenv(name);
		}
	}
	if (ftruncate(fuzz_config_fd, 0) != 0 ||
		pwrite(fuzz_config_fd, data, size, 0) != (ssize_t) size)
		abort();
	if (config_load(&cfg, 3, argv, err, sizeof(err)) == CONFIG_OK)
	{
		char	   *out = NULL;
		size_t		outlen = 0;
		FILE	   *f = open_memstream(&out, &outlen);

		config_print(f, &cfg);
		fclose(f);
		free(out);
		if (!config_reload(&cfg, err, sizeof(err)))
		{
			fprintf(stderr, "a file that loaded does not reload: %s\n", err);
			abort();
		}
	}
	config_free(&cfg);
	return 0;
}
