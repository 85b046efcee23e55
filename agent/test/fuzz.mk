# agent/test/fuzz.mk: the libFuzzer targets (docs/fuzzing.md), one file
# each, all built by these rules:
#   test/fuzz_record.c          the record parser, envelopes, mirror mapping,
#                               the object-storage sink's CSV rows
#   test/fuzz_pgoutput.c        pgoutput messages: protocol parser and the
#                               record writer over a fixed catalogue
#   test/fuzz_pgoutput_value.c  the value converter (text -> plugin JSON)
#   test/fuzz_config.c          the config file parser and every validator
#   test/fuzz_template.c        routing-key and collection templates
#   test/fuzz_uri.c             conninfo, AMQP and Mongo URIs: parse, mask,
#                               scrub from argv
#
# Included by agent/Makefile.  Every agent source (not main.c) is compiled
# once more with clang, -fsanitize=fuzzer-no-link,address,undefined, into
# FUZZ_OBJDIR (outside the plain build's objects, so the two never mix),
# and each target links what it uses from that archive.
#
#   make fuzz          each target for FUZZ_SECONDS (default 60), from its
#                      committed seeds (test/fuzz_seeds/NAME), learning
#                      into a scratch corpus FUZZ_WORK/NAME (outside the
#                      tree); a crash stops the run and leaves its input in
#                      FUZZ_WORK/NAME/crash-*
#   make fuzz-smoke    the same for FUZZ_SMOKE_SECONDS (default 20) per
#                      target, with a scratch corpus that is thrown away;
#                      prints "fuzz NAME ok" or "fuzz NAME FAILED" per
#                      target (what scripts/run-tests.sh counts)
#   make fuzz-build    the targets only
#
# Needs clang-14 and libclang-rt-14-dev (scripts/install-deps.sh).

FUZZ_CC ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_WORK ?= /tmp/walcast-fuzz
FUZZ_TARGETS = record pgoutput pgoutput_value config template uri
FUZZ_PROGS = $(addprefix test/fuzz_,$(FUZZ_TARGETS))
FUZZ_OBJDIR = test/fuzz_obj
FUZZ_LIB = $(FUZZ_OBJDIR)/libwalcast-fuzz.a
FUZZ_LIB_SRCS = $(patsubst ./%,%,$(filter-out ./main.c,$(SRCS)))
FUZZ_OBJS = $(addprefix $(FUZZ_OBJDIR)/,$(FUZZ_LIB_SRCS:.c=.o)) \
	$(FUZZ_OBJDIR)/vendor/yyjson/yyjson.o
FUZZ_SAN = -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all
FUZZ_CPPFLAGS = -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L \
	$(addprefix -I,$(DIRS) $(VENDOR)) -I$(shell $(PG_CONFIG) --includedir) \
	$(shell $(PKG_CONFIG) --cflags $(PKGS))
# -max_len: a record, a message or a config file of up to 64 kB;
# -timeout: one input running 10 s is a hang, reported as a crash.
FUZZ_RUN_FLAGS = -max_len=65536 -timeout=10 -rss_limit_mb=1536 -print_final_stats=1

.PHONY: fuzz fuzz-build fuzz-smoke clean-fuzz

fuzz-build: $(FUZZ_PROGS)

$(FUZZ_OBJDIR)/%.o: %.c $(HDRS) test/fuzz.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(FUZZ_CPPFLAGS) -Wall -Wextra -Werror -c -o $@ $<

# Vendored, unmodified: instrumented (so that the fuzzer sees inside the
# JSON reader) but without the agent's warning flags.
$(FUZZ_OBJDIR)/vendor/yyjson/yyjson.o: vendor/yyjson/yyjson.c vendor/yyjson/yyjson.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -std=c11 -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_OBJS)
	rm -f $@
	$(AR) rcs $@ $(FUZZ_OBJS)

test/fuzz_%: test/fuzz_%.c $(FUZZ_LIB) test/pgoutput_fixture.h test/fuzz.mk
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $(FUZZ_CPPFLAGS) -Wall -Wextra -Werror \
		-o $@ $< $(FUZZ_LIB) $(LDLIBS) -lm

# fuzz_run NAME SECONDS CORPUS: one target from its seeds; exit status of
# libFuzzer (0: nothing found in the time).
fuzz_run = mkdir -p $(3) && ./test/fuzz_$(1) $(FUZZ_RUN_FLAGS) -max_total_time=$(2) \
	-artifact_prefix=$(3)/ $(3) test/fuzz_seeds/$(1)

fuzz: $(FUZZ_PROGS)
	@rc=0; for t in $(FUZZ_TARGETS); do \
		echo "== fuzz $$t ($(FUZZ_SECONDS) s)"; \
		$(call fuzz_run,$$t,$(FUZZ_SECONDS),$(FUZZ_WORK)/$$t) || rc=1; \
	done; exit $$rc

# The smoke: a throwaway corpus per target; the log of each run is kept
# beside it for whoever reads a failure.
fuzz-smoke: $(FUZZ_PROGS)
	@rc=0; work=$$(mktemp -d /tmp/walcast-fuzz-smoke.XXXXXX); \
	for t in $(FUZZ_TARGETS); do \
		if ($(call fuzz_run,$$t,$(FUZZ_SMOKE_SECONDS),$$work/$$t)) >$$work/$$t.log 2>&1; then \
			echo "fuzz $$t ok ($$(grep -E -o 'stat::number_of_executed_units: [0-9]+' $$work/$$t.log | grep -E -o '[0-9]+') runs)"; \
		else \
			echo "fuzz $$t FAILED (log and input in $$work)"; tail -n 40 $$work/$$t.log; rc=1; \
		fi; \
	done; \
	[ $$rc -eq 0 ] && rm -rf $$work; exit $$rc

clean-fuzz:
	rm -rf $(FUZZ_PROGS) $(FUZZ_OBJDIR)
