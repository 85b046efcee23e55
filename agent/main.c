/*
 * main.c
 *		walcast-agent: stream a logical replication slot to every
 *		configured sink (sinks/sink_list.h), acknowledging WAL only once
 *		every sink confirmed.
 *
 * The only place that exits.  Exit codes: 0 stop requested (SIGTERM,
 * SIGINT, or --help/--version/--print-config), 1 usage or configuration
 * error (also an --http-listen address that cannot be bound, none of the
 * RabbitMQ brokers reached at the first start, a declaration RabbitMQ
 * refuses: the sink's SINK_CONFIG), 2
 * unrecoverable runtime error, 3 another walcast-agent is loading the
 * slot, 4 the slot lost changes (docs/agent-operations.md).
 *
 * Besides the replication loop, two threads may run: the HTTP endpoint's
 * (obs/) and the side connection's (watch/); both start before the first
 * session and stop after the last.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "log.h"
#include "obs.h"
#include "watch.h"

/*
 * The only globals: signal handlers can do nothing but set a flag
 * (async-signal-safe), and the loop polls them.
 */
static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;

static void
main_on_stop(int sig)
{
	(void) sig;
	stop_requested = 1;
}

static void
main_on_hup(int sig)
{
	(void) sig;
	reload_requested = 1;
}

static bool
main_signals(char *err, size_t errlen)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: poll() must return so the loop sees the flag. */
	sa.sa_handler = main_on_stop;
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
		goto fail;
	sa.sa_handler = main_on_hup;
	if (sigaction(SIGHUP, &sa, NULL) != 0)
		goto fail;
	/* A broken socket must be an error return, not a silent death. */
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		goto fail;
	return true;

fail:
	snprintf(err, errlen, "could not install signal handlers");
	return false;
}

/*
 * What the core needs beyond what config.c checks: a valid slot name, and
 * plugin options the decoder can work with (for every enabled sink).
 */
static bool
main_check(const struct agent_config *cfg, char *err, size_t errlen)
{
	struct event_needs needs;
	const char *p;

	if (cfg->slot == NULL || cfg->slot[0] == '\0')
	{
		snprintf(err, errlen, "slot: a replication slot name is required (-S/--slot NAME)");
		return false;
	}
	/* PostgreSQL's own rule (ReplicationSlotValidateName). */
	for (p = cfg->slot; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
		{
			snprintf(err, errlen,
					 "slot: \"%s\" is not a valid replication slot name (lower case letters, digits and underscores)",
					 cfg->slot);
			return false;
		}
	if (strlen(cfg->slot) > 63)
	{
		snprintf(err, errlen, "slot: \"%s\" is longer than 63 bytes", cfg->slot);
		return false;
	}
	sink_needs(cfg, &needs);
	return decoder_check(cfg, &needs, err, errlen);
}

/*
 * The HTTP endpoint (when --http-listen is set) and the side connection's
 * thread (slot checks, heartbeats).  A port in use or an address this
 * machine does not have is a configuration error: false, exit 1.
 */
static bool
main_start_threads(struct agent *a, struct watch **watch, char *err,
				   size_t errlen)
{
	if (a->cfg.http_listen != NULL &&
		(a->obs = obs_start(&a->cfg, decoder_choose(&a->cfg)->plugin, err,
							errlen)) == NULL)
		return false;
	if (!watch_start(&a->cfg, a->obs, watch, err, errlen))
	{
		obs_stop(a->obs);
		a->obs = NULL;
		return false;
	}
	return true;
}

int
main(int argc, char **argv)
{
	struct agent a;
	struct watch *watch = NULL;
	char		err[1024];
	char		sinks[256];
	int			rc;

	memset(&a, 0, sizeof(a));
	switch (config_load(&a.cfg, argc, argv, err, sizeof(err)))
	{
		case CONFIG_OK:
			/* config.c keeps its own copy; hide passwords from ps. */
			config_scrub_argv(argc, argv);
			break;
		case CONFIG_DONE:
			config_free(&a.cfg);
			return AGENT_EXIT_STOP;
		case CONFIG_ERROR:
			fprintf(stderr, "walcast-agent: error: %s\n", err);
			config_free(&a.cfg);
			return AGENT_EXIT_CONFIG;
	}
	if (!main_check(&a.cfg, err, sizeof(err)))
	{
		fprintf(stderr, "walcast-agent: error: %s\n", err);
		config_free(&a.cfg);
		return AGENT_EXIT_CONFIG;
	}
	log_set_verbosity(a.cfg.verbose);
	if (!log_open(a.cfg.log_file, err, sizeof(err)))
	{
		fprintf(stderr, "walcast-agent: error: log_file: %s\n", err);
		config_free(&a.cfg);
		return AGENT_EXIT_CONFIG;
	}
	if (!main_signals(err, sizeof(err)))
	{
		log_error("%s", err);
		config_free(&a.cfg);
		return AGENT_EXIT_RUNTIME;
	}
	a.stop_requested = &stop_requested;
	a.reload_requested = &reload_requested;

	sink_describe(&a.cfg, sinks, sizeof(sinks));
	log_info("walcast-agent %s starting: slot \"%s\", sink %s", WALCAST_VERSION,
			 a.cfg.slot, sinks);
	/* checked by config_core.c */
	if (a.cfg.skip_lsn != NULL && lsn_parse(a.cfg.skip_lsn, &a.skip_lsn))
		log_info("--skip-lsn: the record at %s will be left out if the slot sends it",
				 a.cfg.skip_lsn);
	if (!main_start_threads(&a, &watch, err, sizeof(err)))
	{
		log_error("%s", err);
		config_free(&a.cfg);
		log_close();
		return AGENT_EXIT_CONFIG;
	}
	rc = agent_run(&a);
	if (a.skip_lsn != 0 && !a.skip_met)
		log_warning("--skip-lsn %s matched no record in this run: nothing was left out",
					a.cfg.skip_lsn);
	if (rc == AGENT_EXIT_RUNTIME)
		log_info("exiting with code 2 (unrecoverable error)");
	else if (rc == AGENT_EXIT_BUSY)
		log_info("exiting with code 3 (another walcast-agent is loading the slot)");
	else if (rc == AGENT_EXIT_SLOT_LOST)
		log_info("exiting with code 4 (the slot lost changes: see docs/agent-operations.md, \"Slot lost\")");

	watch_stop(watch);
	obs_stop(a.obs);
	config_free(&a.cfg);
	log_close();
	return rc;
}
