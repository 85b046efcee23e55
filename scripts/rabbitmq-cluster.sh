#!/usr/bin/env bash
# rabbitmq-cluster.sh: a throwaway 3-node RabbitMQ cluster on loopback, for
# the tests and benchmarks of quorum queues, streams, partitions and
# failover across nodes (docs/scaling.md).
#
# Usage: scripts/rabbitmq-cluster.sh start|stop|status|env
#        scripts/rabbitmq-cluster.sh kill|start-node|stop-node|restart NODE
#        scripts/rabbitmq-cluster.sh ctl|queues NODE ARGUMENT...
#   NODE is a, b or c.  start forms a fresh cluster (node a, then b and c
#   join it with join_cluster) and checks that 3 nodes run; kill is kill -9
#   of the node's VM; start-node starts a node again on its own data, and
#   it rejoins by itself; ctl and queues run rabbitmqctl and rabbitmq-queues
#   on that node, with its environment.  env prints the clients' exports,
#   which start also writes to $WALCAST_RUN_DIR/cluster/env:
#   AMQP_CLUSTER_URIS (the three URIs, comma-separated, a first).
#
#   WALCAST_RUN_DIR             parent directory (default /tmp/walcast-servers)
#   WALCAST_CLUSTER_AMQP_PORT   AMQP port of node a (default 26740); b and c
#                               take the next two
#   WALCAST_CLUSTER_DIST_PORT   Erlang distribution port of node a (default
#                               AMQP port - 20000); b and c the next two
#   WALCAST_CLUSTER_CTL_PORT    first distribution port of the CLI tools
#                               (default distribution port + 10000): node
#                               X's tools take the first free one of 11
#                               from this + X's index
#   WALCAST_CLUSTER_LEADER_LOCATOR  queue_leader_locator of the nodes:
#                               where a new quorum queue or stream gets its
#                               leader; unset = RabbitMQ's default,
#                               client-local (the declaring connection's
#                               node), or balanced (spread over the nodes)
#
# Each node is an unprivileged broker like scripts/rabbitmq.sh's, with its
# own HOME, node name (walcast-c<port of a>-<node>@localhost, distinct from
# any other cluster's), data and log directories, one Erlang cookie shared
# by the three, and every listener on 127.0.0.1 (the CLI tools are Erlang
# nodes too: their distribution port is pinned to loopback).  epmd: one
# already running is used and left alone; otherwise this script starts
# one on 127.0.0.1 and stops it again, by its pid, once no node is left on
# it.
set -eu
. "$(dirname "$0")/lib.sh"

RMQ=/usr/lib/rabbitmq/bin
CDIR=$WALCAST_RUN_DIR/cluster
NODES="a b c"
EPMD_PID=$CDIR/epmd.pid

[ -x "$RMQ/rabbitmq-server" ] || die "RabbitMQ is not installed (run scripts/install-deps.sh)"

# node_index NODE: 0, 1 or 2.
node_index() {
	case "$1" in
	a) echo 0 ;;
	b) echo 1 ;;
	c) echo 2 ;;
	*) die "unknown node \"$1\" (a, b or c)" ;;
	esac
}

node_name() { echo "walcast-c$WALCAST_CLUSTER_AMQP_PORT-$1@localhost"; }
amqp_port() { echo $((WALCAST_CLUSTER_AMQP_PORT + $(node_index "$1"))); }
dist_port() { echo $((WALCAST_CLUSTER_DIST_PORT + $(node_index "$1"))); }
node_dir() { echo "$CDIR/$1"; }
pid_file() { echo "$CDIR/$1/rabbitmq.pid"; }

# node_env NODE: export what the server and the CLI tools of NODE read.
node_env() {
	local d i
	d=$(node_dir "$1")
	i=$(node_index "$1")
	export HOME=$d
	export RABBITMQ_NODENAME
	RABBITMQ_NODENAME=$(node_name "$1")
	export RABBITMQ_NODE_IP_ADDRESS=$WALCAST_HOST
	export RABBITMQ_NODE_PORT
	RABBITMQ_NODE_PORT=$(amqp_port "$1")
	export RABBITMQ_DIST_PORT
	RABBITMQ_DIST_PORT=$(dist_port "$1")
	export RABBITMQ_MNESIA_BASE=$d/mnesia
	export RABBITMQ_LOG_BASE=$d/log
	export RABBITMQ_CONFIG_FILE=$d/rabbitmq
	export RABBITMQ_ENABLED_PLUGINS_FILE=$d/enabled_plugins
	export RABBITMQ_PID_FILE=$d/rabbitmq.pid
	export RABBITMQ_CONF_ENV_FILE=/dev/null
	export ERL_EPMD_ADDRESS=$WALCAST_HOST
	export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
	export RABBITMQ_CTL_DIST_PORT_MIN=$((WALCAST_CLUSTER_CTL_PORT + i))
	export RABBITMQ_CTL_DIST_PORT_MAX=$((WALCAST_CLUSTER_CTL_PORT + i + 10))
	export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

# ctl NODE ARGUMENT...: rabbitmqctl on NODE, in a subshell with its
# environment (the caller's stays as it was).
ctl() {
	local n=$1
	shift
	(node_env "$n" && exec "$RMQ/rabbitmqctl" -n "$(node_name "$n")" "$@")
}

queues() {
	local n=$1
	shift
	(node_env "$n" && exec "$RMQ/rabbitmq-queues" -n "$(node_name "$n")" "$@")
}

running() { pid_alive "$(pid_file "$1")"; }

uris() {
	local n sep=""
	for n in $NODES; do
		printf '%samqp://guest:guest@%s:%s/%%2f' "$sep" "$WALCAST_HOST" "$(amqp_port "$n")"
		sep=,
	done
}

write_env() {
	mkdir -p "$CDIR"
	local n names=""
	for n in $NODES; do names="$names $(node_name "$n")"; done
	cat >"$CDIR/env" <<ENV
export WALCAST_CLUSTER_AMQP_PORT=$WALCAST_CLUSTER_AMQP_PORT
export WALCAST_CLUSTER_DIST_PORT=$WALCAST_CLUSTER_DIST_PORT
export WALCAST_CLUSTER_CTL_PORT=$WALCAST_CLUSTER_CTL_PORT
export AMQP_CLUSTER_URIS=$(uris)
export AMQP_CLUSTER_NODES="${names# }"
ENV
}

# epmd_up: an epmd answers (any, ours or another broker's).
epmd_up() { epmd -names >/dev/null 2>&1; }

ensure_epmd() {
	epmd_up && return 0
	# Started in the foreground of its own session, so that its pid is
	# known and it can be stopped by that pid alone (a daemonised epmd
	# forks away from it).
	setsid epmd -address "$WALCAST_HOST" </dev/null >"$CDIR/epmd.log" 2>&1 &
	echo $! >"$EPMD_PID"
	wait_until 10 "epmd" epmd -names || die "epmd did not start (see $CDIR/epmd.log)"
}

# release_epmd: stop the epmd this script started once no node (of any
# broker) is registered on it; an epmd started by someone else is theirs.
release_epmd() {
	pid_alive "$EPMD_PID" || { rm -f "$EPMD_PID"; return 0; }
	if epmd -names 2>/dev/null | grep -E '^name ' >/dev/null; then
		return 0
	fi
	if [ "$(cat "/proc/$(head -n 1 "$EPMD_PID")/comm" 2>/dev/null)" = epmd ]; then
		stop_pid "$EPMD_PID" 5
	fi
	rm -f "$EPMD_PID"
}

prepare_node() {
	local n=$1 d
	d=$(node_dir "$n")
	rm -rf "$d"
	mkdir -p "$d/mnesia" "$d/log"
	cp "$CDIR/cookie" "$d/.erlang.cookie"
	chmod 400 "$d/.erlang.cookie"
	echo "[]." >"$d/enabled_plugins"
	{
		echo "listeners.tcp.default = $WALCAST_HOST:$(amqp_port "$n")"
		echo "loopback_users.guest = true"
		if [ -n "${WALCAST_CLUSTER_LEADER_LOCATOR:-}" ]; then
			echo "queue_leader_locator = $WALCAST_CLUSTER_LEADER_LOCATOR"
		fi
	} >"$d/rabbitmq.conf"
}

# launch NODE: the broker's own start script in a session of its own; the
# VM's pid lands in the node's pid file.
launch() {
	local n=$1
	(node_env "$n" && exec setsid "$RMQ/rabbitmq-server") >"$(node_dir "$n")/server.out" 2>&1 </dev/null &
	echo $! >"$(node_dir "$n")/launcher.pid"
}

# await NODE: ready = the AMQP port accepts TCP (the node answers pings
# earlier), then its boot steps are complete.
await() {
	local n=$1 port launcher
	port=$(amqp_port "$n")
	launcher=$(head -n 1 "$(node_dir "$n")/launcher.pid")
	local i=0
	while ! port_open "$port"; do
		if ! kill -0 "$launcher" 2>/dev/null; then
			die "node $n failed to start: $(grep -m1 -i -E 'error|failed' "$(node_dir "$n")/server.out" || tail -n 1 "$(node_dir "$n")/server.out")"
		fi
		i=$((i + 1))
		[ "$i" -lt 600 ] || die "node $n did not open port $port within 120 s (see $(node_dir "$n")/server.out)"
		sleep 0.2
	done
	ctl "$n" await_startup >/dev/null 2>&1 || die "node $n did not finish starting (see $(node_dir "$n")/log)"
}

# running_nodes NODE: how many nodes NODE counts as running in the cluster.
running_nodes() {
	ctl "$1" -q cluster_status --formatter json 2>/dev/null |
		/usr/bin/python3 -c 'import json, sys; print(len(json.load(sys.stdin)["running_nodes"]))' 2>/dev/null ||
		echo 0
}

check_ports() {
	local n
	for n in $NODES; do
		require_free_port "$(amqp_port "$n")" "node $n AMQP" WALCAST_CLUSTER_AMQP_PORT
		require_free_port "$(dist_port "$n")" "node $n distribution" WALCAST_CLUSTER_DIST_PORT
	done
}

start() {
	local n t0=$SECONDS
	if running a && running b && running c; then
		note "cluster already running (node a on port $(amqp_port a))"
		write_env
		return 0
	fi
	for n in $NODES; do
		running "$n" && die "node $n runs but not all three do: run \`$0 stop\` first, or \`$0 start-node NODE\`"
	done
	ensure_run_dir
	mkdir -p "$CDIR"
	check_ports
	# A start that fails half-way leaves nothing running.
	trap 'stop >/dev/null 2>&1' EXIT
	# One cookie for the three nodes (and their CLI tools).
	random_hex >"$CDIR/cookie"
	chmod 400 "$CDIR/cookie"
	for n in $NODES; do prepare_node "$n"; done
	ensure_epmd
	for n in $NODES; do launch "$n"; done
	for n in $NODES; do await "$n"; done
	# b, then c, join a: one at a time (each join resets the joining
	# node's data and restarts its application).  join_cluster prints
	# feature-flag warnings and "Failed to create a tracked connection
	# table" errors on stderr: harmless, so only the exit status counts.
	for n in b c; do
		if ! { ctl "$n" stop_app && ctl "$n" reset && ctl "$n" join_cluster "$(node_name a)" &&
			ctl "$n" start_app && ctl "$n" await_startup; } >"$(node_dir "$n")/join.out" 2>&1; then
			die "node $n did not join node a (see $(node_dir "$n")/join.out)"
		fi
	done
	local count
	count=$(running_nodes a)
	[ "$count" = 3 ] || die "the cluster has $count running nodes, not 3 (see $CDIR/*/log)"
	write_env
	trap - EXIT
	note "cluster ready in $((SECONDS - t0)) s: nodes a b c on $WALCAST_HOST:$(amqp_port a)-$(amqp_port c) ($(node_name a) ...)"
}

# start_node NODE: one node again, on its own data (after kill or
# stop-node): it rejoins the cluster by itself.
start_node() {
	local n=$1 t0=$SECONDS
	if running "$n"; then
		note "node $n already running"
		return 0
	fi
	[ -f "$(node_dir "$n")/rabbitmq.conf" ] || die "node $n was never set up: run \`$0 start\`"
	require_free_port "$(amqp_port "$n")" "node $n AMQP" WALCAST_CLUSTER_AMQP_PORT
	require_free_port "$(dist_port "$n")" "node $n distribution" WALCAST_CLUSTER_DIST_PORT
	ensure_epmd
	launch "$n"
	await "$n"
	note "node $n running again in $((SECONDS - t0)) s"
}

# stop_node NODE: SIGTERM to its VM, SIGKILL after 30 s.
stop_node() {
	local n=$1
	running "$n" || { rm -f "$(pid_file "$n")"; return 0; }
	stop_pid "$(pid_file "$n")" 30
}

kill_node() {
	local n=$1 pid
	running "$n" || die "node $n is not running"
	pid=$(head -n 1 "$(pid_file "$n")")
	kill -KILL "$pid"
	wait_until 10 "node $n gone" sh -c "! kill -0 $pid" || die "node $n (pid $pid) survived SIGKILL"
	rm -f "$(pid_file "$n")"
}

stop() {
	local n
	# In parallel: each takes 1-3 s.
	for n in $NODES; do stop_node "$n" & done
	wait
	[ -d "$CDIR" ] && release_epmd
	note "cluster stopped"
}

status() {
	local n up=0 first=""
	for n in $NODES; do
		if running "$n" && port_open "$(amqp_port "$n")"; then
			echo "node $n: running, $(node_name "$n"), AMQP $WALCAST_HOST:$(amqp_port "$n")"
			up=$((up + 1))
			first=${first:-$n}
		else
			echo "node $n: down, $(node_name "$n"), AMQP $WALCAST_HOST:$(amqp_port "$n")"
		fi
	done
	[ -n "$first" ] || return 1
	local count
	count=$(running_nodes "$first")
	echo "cluster: $count running nodes (seen from node $first)"
	[ "$up" = 3 ] && [ "$count" = 3 ]
}

one_node() {
	[ $# -ge 1 ] || die "usage: $0 $action NODE (a, b or c)"
	node_index "$1" >/dev/null
}

action=${1:-}
shift || true
case "$action" in
start) start ;;
stop) stop ;;
status) status ;;
env) write_env; cat "$CDIR/env" ;;
kill) one_node "$@"; kill_node "$1" ;;
start-node) one_node "$@"; start_node "$1" ;;
stop-node) one_node "$@"; stop_node "$1" ;;
restart) one_node "$@"; stop_node "$1"; start_node "$1" ;;
ctl) one_node "$@"; n=$1; shift; ctl "$n" "$@" ;;
queues) one_node "$@"; n=$1; shift; queues "$n" "$@" ;;
*)
	echo "usage: $0 start|stop|status|env, or kill|start-node|stop-node|restart NODE, or ctl|queues NODE ARGUMENT..." >&2
	exit 1
	;;
esac
