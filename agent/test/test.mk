# agent/test/test.mk: cmocka unit tests of the agent's pure modules (records,
# envelopes, routing, configuration, logging, the initial load's state file
# and decision table).
#
# Self-contained: usable standalone (make -C agent -f test/test.mk check) or
# included from agent/Makefile (include test/test.mk); paths are relative to
# agent/.  Each test program is built from its test source and the module
# sources listed in TEST_MODULES, so it needs nothing else from the agent's
# build.  "check" runs every program; cmocka prints one
# "[  PASSED  ] N test(s)." and, on failure, one "[  FAILED  ] N test(s), ..."
# line per program.  Programs run from agent/ (test_config reads
# walcast-agent.conf.example).

TEST_MODULES = event.c envelope.c route.c config.c config_file.c config_mask.c config_scrub.c log.c strbuf.c \
	snapshot_state.c snapshot_plan.c
TEST_PROGS = test/test_event test/test_route test/test_envelope test/test_config test/test_log \
	test/test_scrub test/test_snapshot_state test/test_snapshot_plan

TEST_CFLAGS = -std=c11 -Wall -Wextra -Werror -g -I. \
	$(shell pkg-config --cflags jansson cmocka libpq librabbitmq libmongoc-1.0)
TEST_LIBS = $(shell pkg-config --libs jansson cmocka libpq librabbitmq libmongoc-1.0)

.PHONY: check check-unit clean-unit

check: check-unit

check-unit: $(TEST_PROGS)
	@rc=0; for t in $(TEST_PROGS); do echo "== $$t"; ./$$t || rc=1; done; exit $$rc

test/test_%: test/test_%.c $(TEST_MODULES) $(wildcard *.h) test/test.mk
	$(CC) $(TEST_CFLAGS) -o $@ $< $(TEST_MODULES) $(TEST_LIBS)

clean-unit:
	rm -f $(TEST_PROGS)
