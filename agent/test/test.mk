# agent/test/test.mk: cmocka unit tests of the agent's modules (records,
# decoders, envelopes, routing, configuration, sinks, logging, the initial
# load's state file and decision table).
#
# Included by agent/Makefile (make -C agent check).  Each test program is
# its test source linked against libwalcast-agent.a, the agent without
# main(), so it takes only the modules it uses.  "check-unit" runs every
# program; cmocka prints one "[  PASSED  ] N test(s)." and, on failure,
# one "[  FAILED  ] N test(s), ..." line per program.  Programs run from
# agent/ (test_config reads walcast-agent.conf.example).

TEST_PROGS = test/test_event test/test_decoder test/test_route test/test_partition test/test_envelope test/test_config \
	test/test_config_docs test/test_sink_amqp test/test_sink_amqp_batch test/test_sink_mongo test/test_sink_mongo_doc test/test_sink_file test/test_sink_s3 test/test_log \
	test/test_scrub test/test_snapshot_state test/test_snapshot_plan test/test_walcast_filter \
	test/test_decoder_pgoutput test/test_position test/test_obs test/test_watch

TEST_CFLAGS = -std=c11 -Wall -Wextra -Werror -g $(SAN_FLAGS) $(addprefix -I,$(DIRS) $(VENDOR)) \
	-I$(shell $(PG_CONFIG) --includedir) \
	$(shell $(PKG_CONFIG) --cflags $(PKGS) cmocka)
TEST_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS) cmocka) -pthread

.PHONY: check-unit clean-unit

check-unit: $(TEST_PROGS)
	@rc=0; for t in $(TEST_PROGS); do echo "== $$t"; ./$$t || rc=1; done; exit $$rc

test/test_%: test/test_%.c $(LIB) $(HDRS) test/test.mk $(BUILD_FLAGS_STAMP)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(LIB) $(TEST_LIBS)

clean-unit:
	rm -f $(TEST_PROGS)
