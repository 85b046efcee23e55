#!/usr/bin/env bash
# run-tests.sh: what `make test` runs.  Builds and installs walcast, starts
# throwaway PostgreSQL, RabbitMQ, FerretDB and S3 (SeaweedFS) servers, runs
# every suite, stops the servers, and ends with one line "N passed, N
# failed" summing them all.
#
# Suites: fuzz (a short run of each libFuzzer target from its seeds,
# agent/test/fuzz.mk; before the servers, which it does not need),
# pg_regress (the plugin), cmocka (agent unit tests), pytest (end-to-end,
# regress/e2e, but for the cluster's tests), cluster (regress/e2e/
# test_cluster_*.py against a 3-node RabbitMQ cluster that
# scripts/rabbitmq-cluster.sh starts for this suite alone, about 25 s, and
# stops after it).  A suite that cannot run at all (build
# failure, crash) counts as one failure, so the summary never hides it.
#
# SANITIZE=address,undefined (make test SANITIZE=...): the agent, its unit
# tests and the pgoutput driver are built with those sanitizers (the agent
# is then not installed: the tests run agent/walcast-agent), and every
# report is caught: ASan and UBSan stop the process at the first one
# (halt_on_error, -fno-sanitize-recover) and write it to a file under
# logs/sanitizer/, and each file counts as one failure of the "sanitizer"
# suite, whatever the test that started the process made of its exit.
#
# `run-tests.sh faults` (make test-faults) runs the fault suite instead, at
# the issue's sizes (WALCAST_FAULTS_SIZE=full: docs/reliability.md): the
# fault tests only, with the cluster's node-loss tests
# (test_cluster_failover.py) as its cluster suite, then a table of each
# run's figures.  `make test` runs the same tests at small sizes among the
# end-to-end and cluster tests.
#
# VALGRIND=1 (make test-valgrind): only PostgreSQL, whose postmaster (and
# so every backend and walsender that decodes with the plugin) runs under
# valgrind's memcheck, and only pg_regress; each process whose valgrind
# log has an error counts as one failure of the "valgrind" suite, each
# clean one as a pass.  scripts/valgrind.supp holds our suppressions (of
# PostgreSQL's own reports, never the plugin's); docs/fuzzing.md says what
# memcheck can and cannot see in a server built without USE_VALGRIND.
#
# Environment: WALCAST_TEST_PG_PORT (25532), WALCAST_TEST_AMQP_PORT (26820),
# WALCAST_TEST_MONGO_PORT (28117), WALCAST_TEST_S3_PORT (27433 and the
# next 8), WALCAST_TEST_CLUSTER_AMQP_PORT (26840:
# the cluster's nodes take it and the next two, their distribution ports
# those minus 20000, a broker of test_cluster_errors.py the fourth) move
# the test servers; PYTEST_ARGS adds
# pytest arguments, split as a shell would (e.g. -k "agent and not slow");
# SUITES (default "fuzz pg_regress
# cmocka pytest cluster", or "faults cluster" with `faults`) runs only those
# suites (make test-cluster: SUITES=cluster);
# FUZZ_SMOKE_SECONDS (20) is each fuzz target's time; WALCAST_FAULTS_SEED
# replays a fault run's seed.
set -u
cd "$(dirname "$0")/.."

# PYTEST_ARGS split with shell quoting (shlex), without eval: a quoted
# -k expression stays one argument
mapfile -t pytest_args < <(/usr/bin/python3 -c 'import os, shlex
for a in shlex.split(os.environ.get("PYTEST_ARGS", "")): print(a)')
ROOT=$(pwd)
MODE=${1:-all}
case "$MODE" in all | faults) ;; *) echo "usage: $0 [faults]" >&2; exit 1 ;; esac
# The fault suite: the checker's own test, then every fault.
FAULT_TESTS="regress/e2e/test_fault_checker.py regress/e2e/test_faults_agent.py
	regress/e2e/test_faults_servers.py
	regress/e2e/test_faults_network.py regress/e2e/test_faults_alarms.py
	regress/e2e/test_faults_slot.py"

export WALCAST_RUN_DIR=$(mktemp -d /tmp/walcast-test.XXXXXX)
chmod 755 "$WALCAST_RUN_DIR"
export WALCAST_PG_PORT=${WALCAST_TEST_PG_PORT:-25532}
export WALCAST_AMQP_PORT=${WALCAST_TEST_AMQP_PORT:-26820}
export WALCAST_AMQP_DIST_PORT=$((WALCAST_AMQP_PORT + 1))
export WALCAST_MONGO_PORT=${WALCAST_TEST_MONGO_PORT:-28117}
export WALCAST_MONGO_DEBUG_PORT=$((WALCAST_MONGO_PORT + 1))
export WALCAST_S3_PORT=${WALCAST_TEST_S3_PORT:-27433}
export WALCAST_CLUSTER_AMQP_PORT=${WALCAST_TEST_CLUSTER_AMQP_PORT:-26840}
export WALCAST_CLUSTER_DIST_PORT=$((WALCAST_CLUSTER_AMQP_PORT - 20000))
export WALCAST_CLUSTER_CTL_PORT=$((WALCAST_CLUSTER_DIST_PORT + 10000))
LOGS=$WALCAST_RUN_DIR/logs
mkdir -p "$LOGS"
VALGRIND=${VALGRIND:-}
if [ -n "$VALGRIND" ]; then
	SUITES=${SUITES:-pg_regress}
	SERVERS="pg"
	VG=$WALCAST_RUN_DIR/valgrind
	mkdir -p "$VG"
	chown postgres "$VG"
	# The wrapper pg_ctl starts instead of postgres (scripts/pg.sh), and
	# the suppressions, in the run directory: the postgres user reads them
	# there, whatever the worktree's permissions.
	cp scripts/valgrind.supp "$VG/walcast.supp"
	cat >"$VG/postgres" <<EOF
#!/bin/sh
exec valgrind --quiet --tool=memcheck --trace-children=yes \\
	--suppressions=$VG/walcast.supp --gen-suppressions=all \\
	--error-limit=no --num-callers=30 --leak-check=no --read-var-info=no \\
	--error-markers=VALGRIND-ERROR-BEGIN,VALGRIND-ERROR-END \\
	--log-file=$VG/%p.log $(pg_config --bindir)/postgres "\$@"
EOF
	chmod 755 "$VG" "$VG/postgres"
	chmod 644 "$VG/walcast.supp"
	export WALCAST_PG_WRAPPER=$VG/postgres
	# start under memcheck takes seconds, not the usual fraction of one
	export WALCAST_PG_START_TIMEOUT=300
	# jit off: LLVM's code generator under memcheck is slow and not ours;
	# autovacuum off: its workers only add minutes and logs
	export WALCAST_PG_EXTRA_CONF="jit = off
autovacuum = off"
fi
# The cluster's tests: all of them in make test, the node-loss ones (at
# full size) in make test-faults.
CLUSTER_TESTS=$(ls regress/e2e/test_cluster_*.py)
if [ "$MODE" = faults ]; then
	SUITES=${SUITES:-faults cluster}
	CLUSTER_TESTS=regress/e2e/test_cluster_failover.py
	export WALCAST_FAULTS_SIZE=full WALCAST_FAULTS_RESULTS=$LOGS/faults.jsonl
fi
SUITES=${SUITES:-fuzz pg_regress cmocka pytest cluster}
SERVERS=${SERVERS:-pg rabbitmq ferretdb s3}
export SANITIZE=${SANITIZE:-}
if [ -n "$SANITIZE" ]; then
	mkdir -p "$LOGS/sanitizer"
	# Every process of the suites (agent, unit tests, pgoutput driver)
	# inherits these; the servers are not built with sanitizers and ignore
	# them.  detect_leaks: a leak at exit is a report like any other.
	export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:log_path=$LOGS/sanitizer/asan"
	export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$LOGS/sanitizer/ubsan"
	export LSAN_OPTIONS="log_path=$LOGS/sanitizer/lsan"
fi

total_pass=0
total_fail=0
summary=()

cleanup() {
	scripts/rabbitmq-cluster.sh stop >/dev/null 2>&1 || true
	scripts/servers.sh down >/dev/null 2>&1 || true
	if [ "$total_fail" -eq 0 ]; then
		rm -rf "$WALCAST_RUN_DIR"
	else
		echo "logs kept in $LOGS"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# record SUITE PASSED FAILED RC: add a suite's counts; a non-zero exit with
# no failure counted is itself a failure.
record() {
	local suite=$1 p=$2 f=$3 rc=$4
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	summary+=("$(printf '  %-12s %5d ok %5d not ok' "$suite" "$p" "$f")")
}

count() { grep -E -c -- "$1" "$2" 2>/dev/null || true; }

# pytest_counts LOG RC SUITE: record a pytest run from its closing line
# (with or without its "=====" frame).
pytest_counts() {
	local last p f rc=$2
	last=$(grep -E '(passed|failed|error|errors|no tests ran).* in [0-9.]+s' "$1" | tail -n 1)
	p=$(echo "$last" | grep -o -E '[0-9]+ passed' | grep -o -E '[0-9]+' || echo 0)
	f=$(echo "$last" | grep -o -E '[0-9]+ (failed|error|errors)' | grep -o -E '[0-9]+' | awk '{s+=$1} END {print s+0}')
	[ "$rc" -eq 5 ] && rc=1 # pytest: no tests collected is a failure here
	record "$3" "${p:-0}" "${f:-0}" "$rc"
}

# want SUITE: whether SUITES names it.
want() { case " $SUITES " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

echo "== build and install${SANITIZE:+ (agent with -fsanitize=$SANITIZE, not installed)}"
if [ -n "$VALGRIND" ]; then
	build() { make plugin && make -C pg_decoder with_llvm=no install; }
elif [ -n "$SANITIZE" ]; then
	build() { make plugin && make -C pg_decoder with_llvm=no install && make -C agent all; }
else
	build() { make install; }
fi
built=yes
if ! build >"$LOGS/build.log" 2>&1; then
	tail -n 30 "$LOGS/build.log"
	record build 0 1 1
	built=no
fi

# The fuzz smoke needs no server: before them.
if [ "$built" = yes ] && want fuzz; then
	echo "== fuzz smoke (libFuzzer, ${FUZZ_SMOKE_SECONDS:-20} s per target)"
	# its own sanitizers, always on: not the SANITIZE build's log files
	ASAN_OPTIONS= UBSAN_OPTIONS= LSAN_OPTIONS= make -C agent -j2 fuzz-build >"$LOGS/fuzz.log" 2>&1 &&
		ASAN_OPTIONS= UBSAN_OPTIONS= LSAN_OPTIONS= make -s -C agent fuzz-smoke >>"$LOGS/fuzz.log" 2>&1
	rc=$?
	grep -E '^fuzz [a-z_]+ (ok|FAILED)' "$LOGS/fuzz.log" || tail -n 30 "$LOGS/fuzz.log"
	record fuzz "$(count '^fuzz [a-z_]+ ok' "$LOGS/fuzz.log")" \
		"$(count '^fuzz [a-z_]+ FAILED' "$LOGS/fuzz.log")" $rc
fi

echo "== servers"
if [ "$built" != yes ]; then
	: # nothing to test without a build
elif ! scripts/servers.sh up $SERVERS; then
	record servers 0 1 1
else
	. "$WALCAST_RUN_DIR/env"

	if want pg_regress; then
		echo "== pg_regress (plugin)"
		make -C pg_decoder with_llvm=no installcheck >"$LOGS/pg_regress.log" 2>&1
		rc=$?
		cat "$LOGS/pg_regress.log" | grep -E '\.\.\. |tests? (passed|failed)|^ok |^not ok ' || true
		[ -f pg_decoder/regression.diffs ] && head -n 60 pg_decoder/regression.diffs && cp pg_decoder/regression.diffs "$LOGS/"
		record pg_regress "$(count '(\.\.\. ok|^ok )' "$LOGS/pg_regress.log")" \
			"$(count '(\.\.\. FAILED|\.\.\. failed|^not ok )' "$LOGS/pg_regress.log")" $rc
	fi

	if want cmocka; then
		echo "== agent unit tests (cmocka)"
		make -C agent check >"$LOGS/unit.log" 2>&1
		rc=$?
		grep -E '^\[ *(PASSED|FAILED|  OK|RUN) *\]|error' "$LOGS/unit.log" | grep -v '^\[ RUN' | tail -n 40 || true
		p=$(grep -E '^\[  PASSED  \] [0-9]+ test' "$LOGS/unit.log" | awk '{s+=$4} END {print s+0}')
		f=$(grep -E '^\[  FAILED  \] [0-9]+ test' "$LOGS/unit.log" | awk '{s+=$4} END {print s+0}')
		record cmocka "$p" "$f" $rc
	fi

	if want pytest; then
		echo "== end-to-end (pytest)"
		/usr/bin/python3 -m pytest regress/e2e --ignore-glob='*/test_cluster_*' -p no:cacheprovider -q -rfE \
			"${pytest_args[@]}" 2>&1 | tee "$LOGS/e2e.log"
		rc=${PIPESTATUS[0]}
		pytest_counts "$LOGS/e2e.log" "$rc" pytest
	fi

	if want faults; then
		echo "== fault suite (pytest, WALCAST_FAULTS_SIZE=full)"
		export WALCAST_FAULTS_SIZE=full WALCAST_FAULTS_RESULTS=$LOGS/faults.jsonl
		# shellcheck disable=SC2086
		/usr/bin/python3 -m pytest $FAULT_TESTS -p no:cacheprovider -q -rfE -s "${pytest_args[@]}" 2>&1 | tee "$LOGS/faults.log"
		rc=${PIPESTATUS[0]}
		pytest_counts "$LOGS/faults.log" "$rc" faults
	fi

	if want cluster; then
		echo "== cluster (3-node RabbitMQ on ports $WALCAST_CLUSTER_AMQP_PORT-$((WALCAST_CLUSTER_AMQP_PORT + 2)), pytest)"
		t0=$SECONDS
		if ! scripts/rabbitmq-cluster.sh start >"$LOGS/cluster.log" 2>&1; then
			tail -n 5 "$LOGS/cluster.log"
			record cluster 0 1 1
		else
			echo "cluster started in $((SECONDS - t0)) s"
			# shellcheck disable=SC2086
			/usr/bin/python3 -m pytest $CLUSTER_TESTS -p no:cacheprovider -q -rfE ${WALCAST_FAULTS_RESULTS:+-s} \
				"${pytest_args[@]}" 2>&1 | tee "$LOGS/cluster-e2e.log"
			rc=${PIPESTATUS[0]}
			# PYTEST_ARGS that select none of these tests (-k mongo) are
			# not a failure of this suite
			[ "$rc" -eq 5 ] && [ ${#pytest_args[@]} -gt 0 ] && rc=0
			pytest_counts "$LOGS/cluster-e2e.log" "$rc" cluster
			scripts/rabbitmq-cluster.sh stop >>"$LOGS/cluster.log" 2>&1
		fi
	fi

	if [ -f "$LOGS/faults.jsonl" ]; then
		echo "== fault figures"
		/usr/bin/python3 regress/e2e/fault_table.py "$LOGS/faults.jsonl"
	fi
fi

if [ -n "$VALGRIND" ]; then
	echo "== valgrind reports"
	# stopped first: each process writes its last errors as it exits
	scripts/servers.sh down >/dev/null 2>&1
	procs=0
	bad=0
	for log in "$VG"/*.log; do
		[ -f "$log" ] || continue
		procs=$((procs + 1))
		if grep 'VALGRIND-ERROR-BEGIN' "$log" >/dev/null; then
			bad=$((bad + 1))
			echo "-- $log"
			sed -n '/VALGRIND-ERROR-BEGIN/,/VALGRIND-ERROR-END/p' "$log" | head -n 60
		fi
	done
	echo "$procs processes ran under valgrind, $bad with errors"
	rc=0
	[ "$procs" -eq 0 ] && rc=1 # nothing ran under valgrind: the wrapper failed
	record valgrind $((procs - bad)) "$bad" $rc
fi

if [ -n "$SANITIZE" ]; then
	echo "== sanitizer reports"
	reports=$(find "$LOGS/sanitizer" -type f | sort)
	n=0
	for r in $reports; do
		n=$((n + 1))
		echo "-- $r"
		head -n 30 "$r"
	done
	[ "$n" -eq 0 ] && echo "none"
	record sanitizer 0 "$n" 0
fi

echo "== summary"
printf '%s\n' "${summary[@]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
