# agent/test/core.mk: cmocka unit tests of the agent's core modules
# (ack.c: the LSN tracker, backoff.c: reconnect delays, util/clock.c:
# clocks and commit times).
#
# Included by agent/Makefile (make -C agent check).  Both modules are pure
# (no I/O, no logging), so each test links only its own module.

CORE_TEST_PROGS = test/test_ack test/test_backoff test/test_clock

CORE_TEST_CFLAGS = -std=c11 -Wall -Wextra -Werror -g $(SAN_FLAGS) -I. \
	$(shell $(PKG_CONFIG) --cflags cmocka)
CORE_TEST_LIBS = $(shell $(PKG_CONFIG) --libs cmocka)

.PHONY: check-core clean-core

check-core: $(CORE_TEST_PROGS)
	@rc=0; for t in $(CORE_TEST_PROGS); do echo "== $$t"; ./$$t || rc=1; done; exit $$rc

test/test_ack: test/test_ack.c ack.c ack.h test/core.mk $(BUILD_FLAGS_STAMP)
	$(CC) $(CORE_TEST_CFLAGS) -o $@ test/test_ack.c ack.c $(CORE_TEST_LIBS)

test/test_backoff: test/test_backoff.c backoff.c backoff.h test/core.mk $(BUILD_FLAGS_STAMP)
	$(CC) $(CORE_TEST_CFLAGS) -o $@ test/test_backoff.c backoff.c $(CORE_TEST_LIBS)

test/test_clock: test/test_clock.c util/clock.c util/clock.h test/core.mk $(BUILD_FLAGS_STAMP)
	$(CC) $(CORE_TEST_CFLAGS) -D_DEFAULT_SOURCE -Iutil -o $@ test/test_clock.c util/clock.c $(CORE_TEST_LIBS)

clean-core:
	rm -f $(CORE_TEST_PROGS)
