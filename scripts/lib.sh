# lib.sh: helpers shared by the server scripts (sourced, not run).
#
# Every server walcast's tests, demo and benchmarks use is a throwaway
# instance under one run directory ($WALCAST_RUN_DIR, default
# /tmp/walcast-servers) on loopback ports that can be changed through the
# environment.  Nothing here touches system-wide state.
#
# The default ports lie below 32768, outside Linux's ephemeral range
# (net.ipv4.ip_local_port_range, 32768-60999 by default): a port inside it
# can be held at any moment as the local end of some outgoing connection,
# and a server restarted on it then fails with EADDRINUSE.  This happened to
# the test broker's restart in a CI run.  require_free_port warns when a
# chosen port falls in the range.

: "${WALCAST_RUN_DIR:=/tmp/walcast-servers}"
: "${WALCAST_PG_PORT:=25432}"
: "${WALCAST_AMQP_PORT:=26720}"
: "${WALCAST_AMQP_DIST_PORT:=$((WALCAST_AMQP_PORT + 1))}"
: "${WALCAST_AMQP_MGMT_PORT:=$((WALCAST_AMQP_PORT + 2))}"
: "${WALCAST_CLUSTER_AMQP_PORT:=26740}"
: "${WALCAST_CLUSTER_DIST_PORT:=$((WALCAST_CLUSTER_AMQP_PORT - 20000))}"
: "${WALCAST_CLUSTER_CTL_PORT:=$((WALCAST_CLUSTER_DIST_PORT + 10000))}"
: "${WALCAST_MONGO_PORT:=28017}"
: "${WALCAST_MONGO_DEBUG_PORT:=$((WALCAST_MONGO_PORT + 1))}"
: "${WALCAST_S3_PORT:=27333}"
: "${WALCAST_S3_ACCESS_KEY:=walcast}"
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

# port_busy PORT: true when a socket holds PORT as its local port that a
# new listener with SO_REUSEADDR could not share: a listener, or an
# outgoing connection that the kernel gave this port from its ephemeral
# range.  Sockets a stopped server closed itself are not: TIME-WAIT, and
# FIN-WAIT/CLOSING/LAST-ACK, which its accepted connections stay in while
# a client has not closed its end yet (an idle connection, such as the
# agent's side connection between two slot checks, notices only when it
# next reads) and which its SO_REUSEADDR lets the next listener share.
# Without ss, only a listener is seen.
port_busy() {
	if command -v ss >/dev/null 2>&1; then
		ss -tanH "( sport = :$1 )" | grep -v -E '^(TIME-WAIT|FIN-WAIT-1|FIN-WAIT-2|CLOSING|LAST-ACK)' |
			grep . >/dev/null
	else
		port_open "$1"
	fi
}

# require_free_port PORT WHAT VAR: wait up to 10 s for PORT to be free (an
# outgoing connection may hold it for a moment), then one clear line naming
# the variable that moves it.  Warns when PORT lies in the ephemeral range
# (see the top of this file).
require_free_port() {
	local i=0 lo hi
	while port_busy "$1"; do
		i=$((i + 1))
		if [ "$i" -ge 50 ]; then
			die "port $1 on $WALCAST_HOST (for $2) is in use ($(ss -tanH "( sport = :$1 )" 2>/dev/null | head -n 1 | tr -s ' ')); pick another with the environment variable $3"
		fi
		sleep 0.2
	done
	if read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null &&
		[ "$1" -ge "$lo" ] && [ "$1" -le "$hi" ]; then
		note "warning: port $1 (for $2, $3) lies in the ephemeral range $lo-$hi; an outgoing connection can take it and a restart then fails"
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

# random_hex: 48 random hex digits (a cookie, a secret).
random_hex() {
	head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'
}

# ensure_run_dir: the run directory, traversable by the postgres user.
ensure_run_dir() {
	mkdir -p "$WALCAST_RUN_DIR" || die "cannot create $WALCAST_RUN_DIR"
	chmod 755 "$WALCAST_RUN_DIR"
}
