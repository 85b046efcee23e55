# agent/test/pgoutput.mk: the pgoutput decoder (decode/pgoutput_*.c): cmocka
# unit tests, and the driver program the end-to-end equivalence test feeds
# (regress/e2e/test_pgoutput_*.py).
#
# Self-contained like test/core.mk, paths relative to agent/:
#   make -C agent -f test/pgoutput.mk check     unit tests
#   make -C agent -f test/pgoutput.mk driver    test/pgoutput_feed
#   make -C agent -f test/pgoutput.mk clean-pgoutput
# yyjson (vendor/yyjson, unmodified) is built without -Werror: its warnings
# are not ours to fix.

PG_CONFIG ?= pg_config
PKG_CONFIG ?= pkg-config
include sanitize.mk

PGO_CPPFLAGS = -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Idecode -Iutil \
	-Ivendor/yyjson -I$(shell $(PG_CONFIG) --includedir)
PGO_CFLAGS = -std=c11 -Wall -Wextra -Werror -g -O1
# unit tests run under AddressSanitizer and UBSan: a parser reading a byte
# it was not given fails its test instead of passing by luck
PGO_SAN = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
PGO_CMOCKA_CFLAGS = $(shell $(PKG_CONFIG) --cflags cmocka)
PGO_CMOCKA_LIBS = $(shell $(PKG_CONFIG) --libs cmocka)
PGO_PQ_LIBS = -L$(shell $(PG_CONFIG) --libdir) -lpq

PGO_HDRS = $(wildcard decode/pgoutput_*.h) vendor/yyjson/yyjson.h
PGO_PURE = decode/pgoutput_proto.c decode/pgoutput_catalog.c \
	decode/pgoutput_value.c decode/pgoutput_record.c
PGO_PQ = decode/pgoutput_catalog_pq.c decode/pgoutput_session.c
PGO_YYJSON_OBJ = test/pgoutput_yyjson.o

PGO_TEST_PROGS = test/test_pgoutput_proto test/test_pgoutput_value \
	test/test_pgoutput_record
PGO_DRIVER = test/pgoutput_feed

.PHONY: check check-pgoutput driver clean-pgoutput

check: check-pgoutput

check-pgoutput: $(PGO_TEST_PROGS)
	@rc=0; for t in $(PGO_TEST_PROGS); do echo "== $$t"; ./$$t || rc=1; done; exit $$rc

driver: $(PGO_DRIVER)

$(PGO_YYJSON_OBJ): vendor/yyjson/yyjson.c vendor/yyjson/yyjson.h
	$(CC) -std=c11 -O2 -g -c -o $@ vendor/yyjson/yyjson.c

test/test_pgoutput_proto: test/test_pgoutput_proto.c decode/pgoutput_proto.c $(PGO_HDRS) test/pgoutput_fixture.h test/pgoutput.mk
	$(CC) $(PGO_CPPFLAGS) $(PGO_CFLAGS) $(PGO_SAN) $(PGO_CMOCKA_CFLAGS) -o $@ \
		test/test_pgoutput_proto.c decode/pgoutput_proto.c $(PGO_CMOCKA_LIBS)

test/test_pgoutput_value test/test_pgoutput_record: test/%: test/%.c $(PGO_PURE) $(PGO_HDRS) $(PGO_YYJSON_OBJ) test/pgoutput_fixture.h test/pgoutput.mk
	$(CC) $(PGO_CPPFLAGS) $(PGO_CFLAGS) $(PGO_SAN) $(PGO_CMOCKA_CFLAGS) -o $@ \
		$< $(PGO_PURE) $(PGO_YYJSON_OBJ) $(PGO_CMOCKA_LIBS)

# the end-to-end tests' driver: with the agent's sanitizers under SANITIZE
$(PGO_DRIVER): test/pgoutput_feed.c util/lsn.c $(PGO_PURE) $(PGO_PQ) $(PGO_HDRS) $(PGO_YYJSON_OBJ) test/pgoutput.mk $(BUILD_FLAGS_STAMP)
	$(CC) $(PGO_CPPFLAGS) $(PGO_CFLAGS) $(SAN_FLAGS) -o $@ \
		test/pgoutput_feed.c util/lsn.c $(PGO_PURE) $(PGO_PQ) $(PGO_YYJSON_OBJ) $(PGO_PQ_LIBS)

clean-pgoutput:
	rm -f $(PGO_TEST_PROGS) $(PGO_DRIVER) $(PGO_YYJSON_OBJ)
