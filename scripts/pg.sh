#!/usr/bin/env bash
# pg.sh: a throwaway PostgreSQL 15 cluster for walcast, on loopback.
#
# Usage: scripts/pg.sh start|stop|status|restart|kill|halt MODE
#   WALCAST_RUN_DIR  parent directory (default /tmp/walcast-servers); the
#                    cluster lives in $WALCAST_RUN_DIR/pg
#   WALCAST_PG_PORT  TCP port (default 25432)
#   WALCAST_PG_WRAPPER  run this instead of postgres (pg_ctl -p), e.g. a
#                    script that execs postgres under valgrind
#                    (scripts/run-tests.sh with VALGRIND=1)
#   WALCAST_PG_START_TIMEOUT  seconds to wait for start and stop (30)
#
# The cluster runs as the postgres system user (PostgreSQL refuses root),
# with wal_level=logical, the output-plugin allow-list including walcast,
# and trust authentication on loopback for normal and replication
# connections.  `kill` is SIGKILL to the postmaster, for fault tests;
# `halt fast|immediate` is `pg_ctl stop -m MODE` keeping the slots (`stop`
# drops inactive ones), for fault tests that start the cluster again.
set -eu
. "$(dirname "$0")/lib.sh"

PGBIN=$(pg_config --bindir 2>/dev/null) || die "pg_config not found (run scripts/install-deps.sh)"
DIR=$WALCAST_RUN_DIR/pg
DATA=$DIR/data
LOG=$DIR/postgres.log
PG_USER=postgres
TIMEOUT=${WALCAST_PG_START_TIMEOUT:-30}

as_pg() {
	if [ "$(id -un)" = "$PG_USER" ]; then
		(cd / && "$@")
	else
		(cd / && runuser -u "$PG_USER" -- "$@")
	fi
}

running() {
	[ -f "$DATA/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

ready() {
	"$PGBIN/pg_isready" -q -h "$WALCAST_HOST" -p "$WALCAST_PG_PORT" -U postgres
}

init_cluster() {
	id -u "$PG_USER" >/dev/null 2>&1 || die "system user $PG_USER does not exist (is postgresql-15 installed?)"
	ensure_run_dir
	mkdir -p "$DIR"
	chown "$PG_USER" "$DIR"
	chmod 755 "$DIR"
	as_pg "$PGBIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 ||
		die "initdb failed (see $DIR/initdb.log)"
	# The allow-list for output plugins exists from 15.19 on; older minors
	# refuse to start with an unknown parameter, so ask the server first.
	local allow=""
	if "$PGBIN/postgres" --describe-config 2>/dev/null | grep '^output_plugin_libraries' >/dev/null; then
		allow="output_plugin_libraries = 'walcast, wal2json, pgoutput, test_decoding'"
	fi
	cat >>"$DATA/postgresql.conf" <<CONF

# --- walcast throwaway cluster ---
listen_addresses = '$WALCAST_HOST'
port = $WALCAST_PG_PORT
unix_socket_directories = '$DIR'
wal_level = logical
max_replication_slots = 32
max_wal_senders = 32
max_connections = 100
# two-phase decoding tests prepare transactions
max_prepared_transactions = 10
wal_sender_timeout = 60s
# A throwaway cluster: durability against OS crashes is not needed, and the
# tests' many small transactions would otherwise wait on fsync.
# synchronous_commit stays on: with it off, a commit reaches the WAL (and so
# the walsender) only at the WAL writer's next round, up to 200 ms later,
# which would show as latency that a production setup does not have.
fsync = off
full_page_writes = off
logging_collector = off
log_min_messages = warning
$allow
${WALCAST_PG_EXTRA_CONF:-}
CONF
	cat >"$DATA/pg_hba.conf" <<HBA
local   all          all                 trust
local   replication  all                 trust
host    all          all   127.0.0.1/32  trust
host    replication  all   127.0.0.1/32  trust
host    all          all   ::1/128       trust
host    replication  all   ::1/128       trust
HBA
}

start() {
	if running; then
		note "PostgreSQL already running on port $WALCAST_PG_PORT"
		return 0
	fi
	require_free_port "$WALCAST_PG_PORT" PostgreSQL WALCAST_PG_PORT
	[ -f "$DATA/PG_VERSION" ] || init_cluster
	as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t "$TIMEOUT" \
		${WALCAST_PG_WRAPPER:+-p "$WALCAST_PG_WRAPPER"} start >/dev/null 2>&1 ||
		die "PostgreSQL failed to start: $(tail -n 1 "$LOG" 2>/dev/null)"
	wait_until "$TIMEOUT" PostgreSQL ready || die "PostgreSQL did not accept connections on port $WALCAST_PG_PORT within $TIMEOUT s"
	note "PostgreSQL ready on $WALCAST_HOST:$WALCAST_PG_PORT (data $DATA)"
}

# stop [keep]: a final stop drops the inactive slots first (a forgotten
# slot pins WAL for good); a restart keeps them, as a real one does.
stop() {
	if running; then
		[ "${1:-}" = keep ] || "$PGBIN/psql" -X -q -h "$WALCAST_HOST" -p "$WALCAST_PG_PORT" -U postgres -d postgres -c \
			"select pg_drop_replication_slot(slot_name) from pg_replication_slots where not active" \
			>/dev/null 2>&1 || true
		as_pg "$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t "$TIMEOUT" stop >/dev/null 2>&1 ||
			as_pg "$PGBIN/pg_ctl" -D "$DATA" -m immediate stop >/dev/null 2>&1 || true
		note "PostgreSQL stopped"
	fi
}

case "${1:-}" in
start) start ;;
stop) stop ;;
restart) stop keep; start ;;
kill)
	# SIGKILL to the postmaster, for fault tests; then wait for its children,
	# which exit on their own once they notice, so that a restart does not
	# find the old shared memory still attached.
	if [ -f "$DATA/postmaster.pid" ]; then
		pm=$(head -n 1 "$DATA/postmaster.pid")
		kids=$(pgrep -P "$pm" | tr '\n' ' ' || true)
		kill -KILL "$pm" 2>/dev/null || true
		for k in $kids; do
			wait_until 10 "backend $k" sh -c "! kill -0 $k" || kill -KILL "$k" 2>/dev/null || true
		done
	fi
	;;
halt)
	mode=${2:-}
	case "$mode" in fast | immediate) ;; *) die "usage: $0 halt fast|immediate" ;; esac
	running && as_pg "$PGBIN/pg_ctl" -D "$DATA" -m "$mode" -w -t 60 stop >/dev/null
	;;
status) running && ready ;;
*) echo "usage: $0 start|stop|status|restart|kill|halt MODE" >&2; exit 1 ;;
esac
