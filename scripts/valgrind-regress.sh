#!/usr/bin/env bash
# valgrind-regress.sh: what `make test-valgrind` runs.  The plugin's
# pg_regress suite against a throwaway PostgreSQL whose postmaster, and so
# every backend and walsender that decodes with the plugin, runs under
# valgrind's memcheck (docs/fuzzing.md).
#
# The cluster is scripts/pg.sh's, started through a wrapper
# (WALCAST_PG_WRAPPER) that execs postgres under valgrind with
# --trace-children=yes, a log file per process and our own suppressions
# (scripts/valgrind.supp: what memcheck says of PostgreSQL itself, not of
# the plugin).  Debian's server is not built with USE_VALGRIND, so
# memcheck sees malloc'd blocks, not palloc chunks inside memory contexts:
# it catches reads of uninitialised memory and of freed or unallocated
# malloc memory, not overruns inside a context's block.
#
# Ends with one line "N passed, N failed": pg_regress's tests, plus one
# failure per process whose log has an error.  Logs are kept on failure.
#
# Environment: WALCAST_TEST_PG_PORT (55532) moves the server;
# VALGRIND_TESTS (default: the Makefile's REGRESS) runs only those tests.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)

export WALCAST_RUN_DIR=$(mktemp -d /tmp/walcast-valgrind.XXXXXX)
chmod 755 "$WALCAST_RUN_DIR"
export WALCAST_PG_PORT=${WALCAST_TEST_PG_PORT:-55532}
LOGS=$WALCAST_RUN_DIR/logs
VG=$WALCAST_RUN_DIR/valgrind
mkdir -p "$LOGS" "$VG"
chown postgres "$VG" 2>/dev/null || true

passed=0
failed=0
cleanup() {
	scripts/pg.sh stop >/dev/null 2>&1 || true
	if [ "$failed" -eq 0 ]; then
		rm -rf "$WALCAST_RUN_DIR"
	else
		echo "logs kept in $WALCAST_RUN_DIR"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The wrapper and suppressions live in the run directory, which the
# postgres user can read (the worktree may not be).
cp scripts/valgrind.supp "$VG/walcast.supp"
cat >"$VG/postgres" <<EOF
#!/bin/sh
exec valgrind --quiet --tool=memcheck --trace-children=yes \\
	--suppressions=$VG/walcast.supp --gen-suppressions=all \\
	--error-limit=no --num-callers=30 --leak-check=no --read-var-info=no \\
	--error-markers=VALGRIND-ERROR-BEGIN,VALGRIND-ERROR-END \\
	--log-file=$VG/%p.log \\
	$(pg_config --bindir)/postgres "\$@"
EOF
chmod 755 "$VG/postgres" "$VG" && chmod 644 "$VG/walcast.supp"

echo "== build and install the plugin"
if ! make plugin >"$LOGS/build.log" 2>&1 ||
	! make -C pg_decoder with_llvm=no install >>"$LOGS/build.log" 2>&1; then
	tail -n 30 "$LOGS/build.log"
	failed=1
	echo "0 passed, 1 failed"
	exit 1
fi

echo "== PostgreSQL under valgrind (start takes a while)"
# jit off: LLVM's code generator under memcheck is slow and not ours.
# autovacuum off: its workers would only add minutes and logs.
export WALCAST_PG_WRAPPER=$VG/postgres
export WALCAST_PG_START_TIMEOUT=300
export WALCAST_PG_EXTRA_CONF="jit = off
autovacuum = off
max_connections = 20"
if ! scripts/pg.sh start; then
	failed=1
	echo "0 passed, 1 failed"
	exit 1
fi
. scripts/lib.sh
export PGHOST=$WALCAST_HOST PGPORT=$WALCAST_PG_PORT PGUSER=postgres

echo "== pg_regress (plugin) under valgrind"
tests=${VALGRIND_TESTS:-}
make -C pg_decoder with_llvm=no installcheck ${tests:+REGRESS="$tests"} >"$LOGS/pg_regress.log" 2>&1
rc=$?
grep -E '\.\.\. |^ok |^not ok |tests? (passed|failed)' "$LOGS/pg_regress.log" || true
[ -f pg_decoder/regression.diffs ] && head -n 60 pg_decoder/regression.diffs && cp pg_decoder/regression.diffs "$LOGS/"
p=$(grep -E -c '(\.\.\. ok|^ok )' "$LOGS/pg_regress.log" || true)
f=$(grep -E -c '(\.\.\. FAILED|\.\.\. failed|^not ok )' "$LOGS/pg_regress.log" || true)
[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
passed=$((passed + p))
failed=$((failed + f))

# Stop first: every process writes its last errors when it exits.
scripts/pg.sh stop >/dev/null 2>&1

echo "== valgrind reports"
procs=$(find "$VG" -name '*.log' | wc -l)
bad=0
for log in "$VG"/*.log; do
	[ -f "$log" ] || continue
	if grep -q 'VALGRIND-ERROR-BEGIN' "$log"; then
		bad=$((bad + 1))
		echo "-- $log"
		sed -n '/VALGRIND-ERROR-BEGIN/,/VALGRIND-ERROR-END/p' "$log" | head -n 60
	fi
done
echo "$procs processes ran under valgrind, $bad with errors"
failed=$((failed + bad))
passed=$((passed + procs - bad))

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
