#!/usr/bin/env bash
# run.sh: what the `make bench-*` targets run.  Starts the
# throwaway servers a benchmark needs in /tmp/walcast-bench (ports from
# WALCAST_BENCH_PG_PORT etc., defaults below), runs it, keeps its report in
# bench/results/, and stops the servers.  Benchmarks are not tests: they
# assert nothing about time; they print tables of ratios from one run.
#
# Usage: bench/run.sh plugin|agent|queues|mongo|snapshot|lake|peers [extra arguments for the driver]
#   queues also starts the 3-node cluster (scripts/rabbitmq-cluster.sh) on
#   WALCAST_BENCH_CLUSTER_AMQP_PORT (26940) and the next two ports.
#   peers installs Debezium Server first (scripts/debezium-server.sh, once,
#   into ~/.cache/walcast-peers), whose HTTP port is
#   WALCAST_BENCH_DEBEZIUM_HTTP_PORT (26980); without a JDK 21+, mvn or a
#   reachable Maven repository it prints one line "skipped: ..." and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-}
shift || true
export WALCAST_RUN_DIR=${WALCAST_BENCH_DIR:-/tmp/walcast-bench}
export WALCAST_PG_PORT=${WALCAST_BENCH_PG_PORT:-25632}
export WALCAST_AMQP_PORT=${WALCAST_BENCH_AMQP_PORT:-26920}
export WALCAST_AMQP_DIST_PORT=$((WALCAST_AMQP_PORT + 1))
export WALCAST_MONGO_PORT=${WALCAST_BENCH_MONGO_PORT:-28217}
export WALCAST_MONGO_DEBUG_PORT=$((WALCAST_MONGO_PORT + 1))
export WALCAST_S3_PORT=${WALCAST_BENCH_S3_PORT:-27533}
export WALCAST_CLUSTER_AMQP_PORT=${WALCAST_BENCH_CLUSTER_AMQP_PORT:-26940}
export WALCAST_CLUSTER_DIST_PORT=$((WALCAST_CLUSTER_AMQP_PORT - 20000))
export WALCAST_CLUSTER_CTL_PORT=$((WALCAST_CLUSTER_DIST_PORT + 10000))
cluster=

case "$what" in
plugin) servers="pg" driver=bench/plugin_bench.py ;;
agent) servers="pg rabbitmq" driver=bench/agent_bench.py; make -s -C bench all ;;
# partition queues' leaders spread over the nodes, as docs/scaling.md advises
queues) servers="pg rabbitmq" cluster=yes driver=bench/queue_bench.py; make -s -C bench all
	export WALCAST_CLUSTER_LEADER_LOCATOR=balanced ;;
mongo) servers="pg rabbitmq ferretdb" driver=bench/mongo_bench.py; make -s -C bench all ;;
snapshot) servers="pg rabbitmq ferretdb" driver=bench/snapshot_bench.py ;;
lake) servers="pg rabbitmq s3" driver=bench/lake_bench.py ;;
peers) servers="pg rabbitmq" driver=bench/peers_bench.py
	# Before any server starts: a peer that cannot be had skips the
	# benchmark (exit 3 and one line from the script), it does not fail it.
	rc=0
	dbz_home=$(scripts/debezium-server.sh install) || rc=$?
	if [ "$rc" -eq 3 ]; then
		echo "$dbz_home"
		exit 0
	fi
	[ "$rc" -eq 0 ] || exit "$rc"
	export WALCAST_DEBEZIUM_HOME=$dbz_home
	WALCAST_DEBEZIUM_JAVA=$(scripts/debezium-server.sh java)
	export WALCAST_DEBEZIUM_JAVA
	export WALCAST_DEBEZIUM_HTTP_PORT=${WALCAST_BENCH_DEBEZIUM_HTTP_PORT:-26980}
	make -s -C bench all ;;
*) echo "usage: $0 plugin|agent|queues|mongo|snapshot|lake|peers [driver arguments]" >&2; exit 1 ;;
esac

trap 'scripts/rabbitmq-cluster.sh stop >/dev/null 2>&1 || true; scripts/servers.sh down $servers >/dev/null 2>&1 || true' EXIT
scripts/rabbitmq-cluster.sh stop >/dev/null 2>&1 || true
scripts/servers.sh down $servers >/dev/null 2>&1 || true
rm -rf "$WALCAST_RUN_DIR"
scripts/servers.sh up $servers
. "$WALCAST_RUN_DIR/env"
if [ -n "$cluster" ]; then
	scripts/rabbitmq-cluster.sh start
	. "$WALCAST_RUN_DIR/cluster/env"
fi
mkdir -p bench/results
out=bench/results/$what-$(date -u +%Y%m%dT%H%M%SZ).md
/usr/bin/python3 "$driver" "$@" | tee "$out"
echo "report: $out"
