#!/usr/bin/env bash
# ferretdb.sh: a throwaway MongoDB-wire server (FerretDB 1.24) for walcast's
# Mongo mirror tests, on loopback.
#
# Usage: scripts/ferretdb.sh start|stop|status|restart|kill
#   WALCAST_RUN_DIR           parent directory (default /tmp/walcast-servers)
#   WALCAST_MONGO_PORT        wire-protocol port (default 28017)
#   WALCAST_MONGO_DEBUG_PORT  FerretDB's debug HTTP port (default 28018)
#   WALCAST_FERRETDB_BACKEND  pg (default) or sqlite
#
# The pg backend keeps FerretDB's data in a database "ferretdb" of the
# throwaway PostgreSQL (scripts/pg.sh, started first).  FerretDB filters by
# _id with an operator its own _id index cannot serve, so every keyed write
# scans the collection; scripts/ferretdb-id-index.sql adds an index it can
# use to every collection table (about 10 times faster at 20k documents,
# and flat as collections grow).  The SQLite backend scans too and has no
# such remedy.
#
# Telemetry is always disabled: nothing may call out of this machine.
set -eu
. "$(dirname "$0")/lib.sh"

: "${WALCAST_FERRETDB_BACKEND:=pg}"
BIN=$WALCAST_TOOLS_DIR/bin/ferretdb
DIR=$WALCAST_RUN_DIR/ferretdb
PIDFILE=$DIR/ferretdb.pid

[ -x "$BIN" ] || die "FerretDB is not installed at $BIN (run scripts/install-deps.sh)"

start() {
	if pid_alive "$PIDFILE"; then
		note "FerretDB already running on port $WALCAST_MONGO_PORT"
		return 0
	fi
	require_free_port "$WALCAST_MONGO_PORT" FerretDB WALCAST_MONGO_PORT
	require_free_port "$WALCAST_MONGO_DEBUG_PORT" "FerretDB debug" WALCAST_MONGO_DEBUG_PORT
	ensure_run_dir
	mkdir -p "$DIR/data" "$DIR/state"
	local backend
	case "$WALCAST_FERRETDB_BACKEND" in
	sqlite) backend="--handler=sqlite --sqlite-url=file:$DIR/data/" ;;
	pg)
		port_open "$WALCAST_PG_PORT" ||
			die "FerretDB's pg backend needs the PostgreSQL on port $WALCAST_PG_PORT (start scripts/pg.sh first, or WALCAST_FERRETDB_BACKEND=sqlite)"
		if [ "$(psql -X -At -h "$WALCAST_HOST" -p "$WALCAST_PG_PORT" -U postgres -d postgres \
			-c "select count(*) from pg_database where datname = 'ferretdb'")" != 1 ]; then
			psql -X -q -h "$WALCAST_HOST" -p "$WALCAST_PG_PORT" -U postgres -d postgres \
				-c "create database ferretdb" || die "cannot create database ferretdb for FerretDB"
		fi
		psql -X -q -v ON_ERROR_STOP=1 -h "$WALCAST_HOST" -p "$WALCAST_PG_PORT" -U postgres -d ferretdb \
			-f "$(dirname "$0")/ferretdb-id-index.sql" >/dev/null ||
			die "cannot install the _id index trigger in database ferretdb"
		backend="--handler=pg --postgresql-url=postgres://postgres@$WALCAST_HOST:$WALCAST_PG_PORT/ferretdb?pool_min_conns=45"
		;;
	*) die "WALCAST_FERRETDB_BACKEND must be pg or sqlite, not \"$WALCAST_FERRETDB_BACKEND\"" ;;
	esac
	# A port chosen inside the kernel's ephemeral range (the defaults lie
	# below it: lib.sh) may be held by an outgoing connection of any
	# process, which FerretDB's listener cannot bind over.  A start that
	# fails to bind is tried again every 2 s for a little over a minute.
	local attempt
	for attempt in $(seq 1 35); do
		# shellcheck disable=SC2086
		FERRETDB_TELEMETRY=disable setsid "$BIN" $backend \
			--listen-addr="$WALCAST_HOST:$WALCAST_MONGO_PORT" \
			--debug-addr="$WALCAST_HOST:$WALCAST_MONGO_DEBUG_PORT" \
			--state-dir="$DIR/state" --telemetry=disable \
			--log-level=warn >"$DIR/ferretdb.log" 2>&1 </dev/null &
		echo $! >"$PIDFILE"
		local i=0
		while ! port_open "$WALCAST_MONGO_PORT"; do
			if ! pid_alive "$PIDFILE"; then
				grep "address already in use" "$DIR/ferretdb.log" >/dev/null && [ "$attempt" -lt 35 ] && break
				die "FerretDB failed to start: $(tail -n 1 "$DIR/ferretdb.log")"
			fi
			i=$((i + 1))
			[ "$i" -lt 150 ] || die "FerretDB did not open port $WALCAST_MONGO_PORT within 30 s (see $DIR/ferretdb.log)"
			sleep 0.2
		done
		if port_open "$WALCAST_MONGO_PORT"; then
			note "FerretDB ready on $WALCAST_HOST:$WALCAST_MONGO_PORT"
			return 0
		fi
		note "FerretDB could not bind its ports (attempt $attempt): retrying in 2 s"
		sleep 2
	done
}

stop() {
	if pid_alive "$PIDFILE"; then
		stop_pid "$PIDFILE" 10
		note "FerretDB stopped"
	fi
}

case "${1:-}" in
start) start ;;
stop) stop ;;
restart) stop; start ;;
kill) pid_alive "$PIDFILE" && kill -KILL "$(head -n 1 "$PIDFILE")"; rm -f "$PIDFILE" ;;
status) pid_alive "$PIDFILE" && port_open "$WALCAST_MONGO_PORT" ;;
*) echo "usage: $0 start|stop|status|restart|kill" >&2; exit 1 ;;
esac
