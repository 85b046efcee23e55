#!/usr/bin/env bash
# rabbitmq.sh: a throwaway RabbitMQ broker for walcast, on loopback.
#
# Usage: scripts/rabbitmq.sh start|stop|status|restart|kill
#   WALCAST_RUN_DIR         parent directory (default /tmp/walcast-servers)
#   WALCAST_AMQP_PORT       AMQP port (default 26720)
#   WALCAST_AMQP_DIST_PORT  Erlang distribution port (default 26721)
#   WALCAST_AMQP_MGMT=1     also enable the management UI/API on
#                           WALCAST_AMQP_MGMT_PORT (default 26722)
#
# The packaged /usr/sbin wrappers switch user and cookie; this runs the
# broker's own start script directly with a private HOME, node name and
# cookie, so it never meets a system-wide broker.  Default user guest/guest
# (loopback only).
set -eu
. "$(dirname "$0")/lib.sh"

RMQ=/usr/lib/rabbitmq/bin
DIR=$WALCAST_RUN_DIR/rabbitmq
NODE=walcast-$WALCAST_AMQP_PORT@localhost
PIDFILE=$DIR/rabbitmq.pid

[ -x "$RMQ/rabbitmq-server" ] || die "RabbitMQ is not installed (run scripts/install-deps.sh)"

env_setup() {
	export HOME=$DIR
	export RABBITMQ_NODENAME=$NODE
	export RABBITMQ_NODE_IP_ADDRESS=$WALCAST_HOST
	export RABBITMQ_NODE_PORT=$WALCAST_AMQP_PORT
	export RABBITMQ_DIST_PORT=$WALCAST_AMQP_DIST_PORT
	export RABBITMQ_MNESIA_BASE=$DIR/mnesia
	export RABBITMQ_LOG_BASE=$DIR/log
	export RABBITMQ_CONFIG_FILE=$DIR/rabbitmq
	export RABBITMQ_ENABLED_PLUGINS_FILE=$DIR/enabled_plugins
	export RABBITMQ_PID_FILE=$PIDFILE
	export ERL_EPMD_ADDRESS=$WALCAST_HOST
	export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

ctl() {
	"$RMQ/rabbitmqctl" -n "$NODE" "$@"
}

running() {
	pid_alive "$PIDFILE"
}

prepare() {
	ensure_run_dir
	mkdir -p "$DIR/mnesia" "$DIR/log"
	if [ ! -f "$DIR/.erlang.cookie" ]; then
		random_hex >"$DIR/.erlang.cookie"
		chmod 400 "$DIR/.erlang.cookie"
	fi
	local plugins="[]."
	if [ -n "${WALCAST_AMQP_MGMT:-}" ]; then
		plugins="[rabbitmq_management]."
	fi
	echo "$plugins" >"$DIR/enabled_plugins"
	{
		echo "listeners.tcp.default = $WALCAST_AMQP_PORT"
		echo "loopback_users.guest = true"
		if [ -n "${WALCAST_AMQP_MGMT:-}" ]; then
			echo "management.tcp.ip = $WALCAST_HOST"
			echo "management.tcp.port = $WALCAST_AMQP_MGMT_PORT"
		fi
	} >"$DIR/rabbitmq.conf"
}

start() {
	env_setup
	if running; then
		note "RabbitMQ already running on port $WALCAST_AMQP_PORT"
		return 0
	fi
	require_free_port "$WALCAST_AMQP_PORT" "RabbitMQ AMQP" WALCAST_AMQP_PORT
	require_free_port "$WALCAST_AMQP_DIST_PORT" "RabbitMQ distribution" WALCAST_AMQP_DIST_PORT
	[ -z "${WALCAST_AMQP_MGMT:-}" ] || require_free_port "$WALCAST_AMQP_MGMT_PORT" "RabbitMQ management" WALCAST_AMQP_MGMT_PORT
	prepare
	setsid "$RMQ/rabbitmq-server" >"$DIR/server.out" 2>&1 </dev/null &
	local launcher=$!
	# Ready = the AMQP port accepts TCP (the node answers pings earlier),
	# then the boot steps are complete.
	local i=0
	while ! port_open "$WALCAST_AMQP_PORT"; do
		if ! kill -0 "$launcher" 2>/dev/null; then
			die "RabbitMQ failed to start: $(grep -m1 -i -E 'error|failed' "$DIR/server.out" || tail -n 1 "$DIR/server.out")"
		fi
		i=$((i + 1))
		[ "$i" -lt 300 ] || die "RabbitMQ did not open port $WALCAST_AMQP_PORT within 60 s (see $DIR/server.out)"
		sleep 0.2
	done
	ctl await_startup >/dev/null 2>&1 || die "RabbitMQ did not finish starting (see $DIR/log)"
	note "RabbitMQ ready on $WALCAST_HOST:$WALCAST_AMQP_PORT (node $NODE)"
}

stop() {
	env_setup
	if running; then
		# Remember the pid first: `rabbitmqctl stop` returns while the node
		# is still shutting down, and the node removes its pid file early.
		local pid
		pid=$(head -n 1 "$PIDFILE")
		ctl stop "$PIDFILE" >/dev/null 2>&1 || true
		echo "$pid" >"$PIDFILE"
		stop_pid "$PIDFILE" 20
		# A restart must find both ports free.
		wait_until 10 "ports closed" sh -c "! (exec 3<>/dev/tcp/$WALCAST_HOST/$WALCAST_AMQP_PORT) 2>/dev/null && ! (exec 3<>/dev/tcp/$WALCAST_HOST/$WALCAST_AMQP_DIST_PORT) 2>/dev/null" || true
		note "RabbitMQ stopped"
	fi
	# epmd outlives the broker; stop it once no Erlang node is left, so
	# that a shared one in use by another node is left alone.
	if ! pgrep -x beam.smp >/dev/null 2>&1; then
		pkill -x epmd 2>/dev/null || true
	fi
}

case "${1:-}" in
start) start ;;
stop) stop ;;
restart) stop; start ;;
kill)
	env_setup
	if running; then kill -KILL "$(head -n 1 "$PIDFILE")" 2>/dev/null || true; rm -f "$PIDFILE"; fi
	;;
status) env_setup; running && port_open "$WALCAST_AMQP_PORT" ;;
*) echo "usage: $0 start|stop|status|restart|kill" >&2; exit 1 ;;
esac
