# agent/test/fuzz.mk: libFuzzer target of the record parser and of what
# reads its tree (envelopes, the mirror's mapping): test/fuzz_record.c.
#
# Included by agent/Makefile.  `make fuzz` (from the top) runs it for
# FUZZ_SECONDS (default 60) under AddressSanitizer and UBSan, starting from
# the committed seeds (test/fuzz_seeds/record: issue 12's values); what it
# learns goes to a scratch corpus in FUZZ_WORK, never into the tree.  Not
# part of `make check`: it is time-bounded, not a pass/fail list.  Needs
# clang-14 and libclang-rt-14-dev (scripts/install-deps.sh).

FUZZ_CC ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_WORK ?= /tmp/walcast-fuzz-record
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_SRCS = test/fuzz_record.c decode/walcast_record.c decode/event.c util/lsn.c \
	format/envelope.c sinks/sink_mongo_doc.c sinks/sink_mongo_bson.c \
	vendor/yyjson/yyjson.c

.PHONY: fuzz clean-fuzz

test/fuzz_record: $(FUZZ_SRCS) $(HDRS) test/fuzz.mk
	$(FUZZ_CC) $(FUZZ_FLAGS) -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L \
		$(addprefix -I,$(DIRS) $(VENDOR)) -I$(shell $(PG_CONFIG) --includedir) \
		$(shell $(PKG_CONFIG) --cflags libmongoc-1.0) -o $@ $(FUZZ_SRCS) \
		$(shell $(PKG_CONFIG) --libs libmongoc-1.0) -lm

fuzz: test/fuzz_record
	mkdir -p $(FUZZ_WORK)
	./test/fuzz_record -max_total_time=$(FUZZ_SECONDS) -max_len=16384 \
		-timeout=10 -print_final_stats=1 -artifact_prefix=$(FUZZ_WORK)/ \
		$(FUZZ_WORK) test/fuzz_seeds/record

clean-fuzz:
	rm -f test/fuzz_record
