# lib.sh: helpers shared by the server scripts (sourced, not run).
#
# Every server walcast's tests, demo and benchmarks use is a throwaway
# instance under one run directory ($WALCAST_RUN_DIR, default
# /tmp/walcast-servers) on loopback ports that can be changed through the
# environment.  Nothing here touches system-wide state.

: "${WALCAST_RUN_DIR:=/tmp/walcast-servers}"
: "${WALCAST_PG_PORT:=55432}"
: "${WALCAST_AMQP_PORT:=56720}"
: "${WALCAST_AMQP_DIST_PORT:=$((WALCAST_AMQP_PORT + 1))}"
: "${WALCAST_AMQP_MGMT_PORT:=$((WALCAST_AMQP_PORT + 2))}"
: "${WALCAST_CLUSTER_AMQP_PORT:=56740}"
: "${WALCAST_CLUSTER_DIST_PORT:=$((WALCAST_CLUSTER_AMQP_PORT - 20000))}"
: "${WALCAST_CLUSTER_CTL_PORT:=$((WALCAST_CLUSTER_DIST_PORT + 10000))}"
: "${WALCAST_MONGO_PORT:=57017}"
: "${WALCAST_MONGO_DEBUG_PORT:=$((WALCAST_MONGO_PORT + 1))}"
: "${WALCAST_TOOLS_DIR:=/usr/local/lib/walcast-tools}"

WALCAST_HOST=127.0.0.1

die() {
	echo "$(basename "$0"): error: $*" >&2
	exit 1
}

note() {
	[ -n "${WALCAST_QUIET:-}" ] || echo "$(basename "$0"): $*"
}

# port_open PORT: true when something accepts TCP connections on PORT.
port_open() {
	(exec 3<>"/dev/tcp/$WALCAST_HOST/$1") 2>/dev/null
}

# require_free_port PORT WHAT: one clear line when a port is taken.
require_free_port() {
	if port_open "$1"; then
		die "port $1 on $WALCAST_HOST (for $2) is already in use; pick another with the environment variable $3"
	fi
}

# wait_until SECONDS DESCRIPTION COMMAND...: poll COMMAND every 0.2 s.
wait_until() {
	local limit=$1 what=$2 i=0
	shift 2
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ "$i" -ge $((limit * 5)) ]; then
			return 1
		fi
		sleep 0.2
	done
	return 0
}

# pid_alive FILE: true when FILE names a running process.
pid_alive() {
	[ -f "$1" ] && kill -0 "$(head -n 1 "$1")" 2>/dev/null
}

# stop_pid FILE SECONDS: SIGTERM, wait, then SIGKILL.
stop_pid() {
	local f=$1 limit=$2 pid
	pid_alive "$f" || { rm -f "$f"; return 0; }
	pid=$(head -n 1 "$f")
	kill -TERM "$pid" 2>/dev/null || true
	if ! wait_until "$limit" "stop" sh -c "! kill -0 $pid"; then
		kill -KILL "$pid" 2>/dev/null || true
		sleep 0.2
	fi
	rm -f "$f"
}

# ensure_run_dir: the run directory, traversable by the postgres user.
ensure_run_dir() {
	mkdir -p "$WALCAST_RUN_DIR" || die "cannot create $WALCAST_RUN_DIR"
	chmod 755 "$WALCAST_RUN_DIR"
}
