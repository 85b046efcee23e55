#!/usr/bin/env bash
# run-tests.sh: what `make test` runs.  Builds and installs walcast, starts
# throwaway PostgreSQL, RabbitMQ and FerretDB servers, runs every suite, stops
# the servers, and ends with one line "N passed, N failed" summing them all.
#
# Suites: pg_regress (the plugin), cmocka (agent unit tests), pytest
# (end-to-end, regress/e2e).  A suite that cannot run at all (build failure,
# crash) counts as one failure, so the summary never hides it.
#
# `run-tests.sh faults` (make test-faults) runs the fault suite instead, at
# the issue's sizes (WALCAST_FAULTS_SIZE=full: docs/reliability.md): the
# fault tests only, then a table of each run's figures.  `make test` runs
# the same tests at small sizes among the end-to-end tests.
#
# Environment: WALCAST_TEST_PG_PORT (55532), WALCAST_TEST_AMQP_PORT (56820),
# WALCAST_TEST_MONGO_PORT (57117) move the test servers; PYTEST_ARGS adds
# pytest arguments (e.g. "-k agent"); WALCAST_FAULTS_SEED replays a fault
# run's seed.
set -u
cd "$(dirname "$0")/.."
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
export WALCAST_PG_PORT=${WALCAST_TEST_PG_PORT:-55532}
export WALCAST_AMQP_PORT=${WALCAST_TEST_AMQP_PORT:-56820}
export WALCAST_AMQP_DIST_PORT=$((WALCAST_AMQP_PORT + 1))
export WALCAST_MONGO_PORT=${WALCAST_TEST_MONGO_PORT:-57117}
export WALCAST_MONGO_DEBUG_PORT=$((WALCAST_MONGO_PORT + 1))
LOGS=$WALCAST_RUN_DIR/logs
mkdir -p "$LOGS"

total_pass=0
total_fail=0
summary=()

cleanup() {
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

echo "== build and install"
if ! make install >"$LOGS/build.log" 2>&1; then
	tail -n 30 "$LOGS/build.log"
	record build 0 1 1
fi

echo "== servers"
if [ "$total_fail" -ne 0 ]; then
	: # nothing to test without a build
elif ! scripts/servers.sh up; then
	record servers 0 1 1
else
	. "$WALCAST_RUN_DIR/env"
fi

if [ "$total_fail" -ne 0 ] || [ "$MODE" = all ]; then
	: # the fault suite alone below
else
	echo "== fault suite (pytest, WALCAST_FAULTS_SIZE=full)"
	export WALCAST_FAULTS_SIZE=full WALCAST_FAULTS_RESULTS=$LOGS/faults.jsonl
	# shellcheck disable=SC2086
	/usr/bin/python3 -m pytest $FAULT_TESTS -p no:cacheprovider -q -rfE -s ${PYTEST_ARGS:-} 2>&1 | tee "$LOGS/faults.log"
	rc=${PIPESTATUS[0]}
	pytest_counts "$LOGS/faults.log" "$rc" faults
	[ -f "$LOGS/faults.jsonl" ] && /usr/bin/python3 regress/e2e/fault_table.py "$LOGS/faults.jsonl"
fi

if [ "$total_fail" -ne 0 ] || [ "$MODE" = faults ]; then
	: # nothing to test without a build and servers; or the faults alone
else
	echo "== pg_regress (plugin)"
	make -C pg_decoder with_llvm=no installcheck >"$LOGS/pg_regress.log" 2>&1
	rc=$?
	cat "$LOGS/pg_regress.log" | grep -E '\.\.\. |tests? (passed|failed)|^ok |^not ok ' || true
	[ -f pg_decoder/regression.diffs ] && head -n 60 pg_decoder/regression.diffs && cp pg_decoder/regression.diffs "$LOGS/"
	record pg_regress "$(count '(\.\.\. ok|^ok )' "$LOGS/pg_regress.log")" \
		"$(count '(\.\.\. FAILED|\.\.\. failed|^not ok )' "$LOGS/pg_regress.log")" $rc

	echo "== agent unit tests (cmocka)"
	make -C agent check >"$LOGS/unit.log" 2>&1
	rc=$?
	grep -E '^\[ *(PASSED|FAILED|  OK|RUN) *\]|error' "$LOGS/unit.log" | grep -v '^\[ RUN' | tail -n 40 || true
	p=$(grep -E '^\[  PASSED  \] [0-9]+ test' "$LOGS/unit.log" | awk '{s+=$4} END {print s+0}')
	f=$(grep -E '^\[  FAILED  \] [0-9]+ test' "$LOGS/unit.log" | awk '{s+=$4} END {print s+0}')
	record cmocka "$p" "$f" $rc

	echo "== end-to-end (pytest)"
	# shellcheck disable=SC2086
	/usr/bin/python3 -m pytest regress/e2e -p no:cacheprovider -q -rfE ${PYTEST_ARGS:-} 2>&1 | tee "$LOGS/e2e.log"
	rc=${PIPESTATUS[0]}
	pytest_counts "$LOGS/e2e.log" "$rc" pytest
fi

echo "== summary"
printf '%s\n' "${summary[@]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
