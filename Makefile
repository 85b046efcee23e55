# walcast: top-level build, test, demo and benchmark targets.
# See README.md.  Every target that needs packages installs them first
# (scripts/install-deps.sh is quiet and quick when all is present).

PG_CONFIG ?= pg_config
# PGXS would also emit LLVM bitcode when the server was built with it.
PGXS_FLAGS = PG_CONFIG=$(PG_CONFIG) with_llvm=no

.PHONY: all plugin agent install install-service test test-faults test-cluster check fuzz test-valgrind demo bench bench-plugin bench-agent bench-queues bench-mongo bench-snapshot bench-lake bench-peers \
	servers-up servers-down deps clean

all: plugin agent

deps:
	@scripts/install-deps.sh

plugin: deps
	$(MAKE) -C pg_decoder $(PGXS_FLAGS)

agent: deps
	$(MAKE) -C agent

install: all
	$(MAKE) -C pg_decoder $(PGXS_FLAGS) install
	$(MAKE) -C agent install

# The systemd units, their system user and the sample config
# (packaging/Makefile; PREFIX and DESTDIR as for install).  Needs no build.
install-service:
	$(MAKE) -C packaging install

# make test SANITIZE=address,undefined: every suite with the agent built
# with those sanitizers, each report a failure (scripts/run-tests.sh).
test: deps
	@SANITIZE='$(SANITIZE)' scripts/run-tests.sh

# The fault suite at full size (docs/reliability.md): every fault against
# the 50k-change workload, judged by the checker; longer than `make test`,
# which runs the same tests at small sizes.
test-faults: deps
	@scripts/run-tests.sh faults

# Only the tests on the 3-node RabbitMQ cluster (scripts/rabbitmq-cluster.sh,
# docs/scaling.md); make test runs them too.
test-cluster: deps
	@SUITES=cluster SERVERS="pg rabbitmq" scripts/run-tests.sh

check: test

# Every libFuzzer target for FUZZ_SECONDS (default 60) each: not a test, a
# time-bounded search (agent/test/fuzz.mk, docs/fuzzing.md).
fuzz: deps
	$(MAKE) -C agent fuzz-build
	$(MAKE) -C agent fuzz

# The plugin's pg_regress suite with the server under valgrind's memcheck
# (scripts/run-tests.sh with VALGRIND=1, docs/fuzzing.md): long, not in make test.
test-valgrind: deps
	@VALGRIND=1 scripts/run-tests.sh

demo: deps
	@scripts/demo.sh

bench: bench-plugin bench-agent bench-mongo bench-snapshot bench-lake

bench-plugin: install
	@bench/run.sh plugin

# The agent's benchmark, then queue types, batching and partitions
# (bench/queue_bench.py, on the single broker and the 3-node cluster).
bench-agent: install
	@bench/run.sh agent
	@bench/run.sh queues

bench-queues: install
	@bench/run.sh queues

bench-mongo: install
	@bench/run.sh mongo

bench-snapshot: install
	@bench/run.sh snapshot

# The object-storage sink (bench/lake_bench.py, on SeaweedFS): the load,
# one-row transactions and peak RSS against the object size limit.
bench-lake: install
	@bench/run.sh lake

# Against Debezium Server (bench/peers_bench.py): not part of `bench`, which
# runs without Java or Maven; skipped, not failed, without them.
bench-peers: install
	@bench/run.sh peers

servers-up: deps
	@scripts/servers.sh up

servers-down:
	@scripts/servers.sh down

clean:
	-$(MAKE) -C pg_decoder $(PGXS_FLAGS) clean
	-$(MAKE) -C agent clean
