#!/usr/bin/env bash
# servers.sh: start or stop walcast's throwaway servers together.
#
# Usage: scripts/servers.sh up|down|env [pg] [rabbitmq] [ferretdb] [s3]
#   With no server named, all four.  `up` writes $WALCAST_RUN_DIR/env, a
#   file of shell exports (PGHOST, PGPORT, PGUSER, AMQP_URI,
#   MONGO_URI, WALCAST_S3_ENDPOINT and the S3 credentials' access key and
#   secret file, never the secret) that tests, benchmarks and the demo
#   source.
set -eu
here=$(dirname "$0")
. "$here/lib.sh"

action=${1:-}
shift || true
which=${*:-pg rabbitmq ferretdb s3}

write_env() {
	ensure_run_dir
	cat >"$WALCAST_RUN_DIR/env" <<ENV
export WALCAST_RUN_DIR=$WALCAST_RUN_DIR
export PGHOST=$WALCAST_HOST
export PGPORT=$WALCAST_PG_PORT
export PGUSER=postgres
export PGDATABASE=postgres
export WALCAST_PG_PORT=$WALCAST_PG_PORT
export WALCAST_AMQP_PORT=$WALCAST_AMQP_PORT
export WALCAST_AMQP_DIST_PORT=$WALCAST_AMQP_DIST_PORT
export WALCAST_AMQP_MGMT_PORT=$WALCAST_AMQP_MGMT_PORT
export AMQP_URI=amqp://guest:guest@$WALCAST_HOST:$WALCAST_AMQP_PORT/%2f
export WALCAST_MONGO_PORT=$WALCAST_MONGO_PORT
export WALCAST_MONGO_DEBUG_PORT=$WALCAST_MONGO_DEBUG_PORT
export MONGO_URI=mongodb://$WALCAST_HOST:$WALCAST_MONGO_PORT/
export WALCAST_S3_PORT=$WALCAST_S3_PORT
export WALCAST_S3_ENDPOINT=http://$WALCAST_HOST:$WALCAST_S3_PORT
export WALCAST_S3_ACCESS_KEY=$WALCAST_S3_ACCESS_KEY
export AWS_ACCESS_KEY_ID=$WALCAST_S3_ACCESS_KEY
export WALCAST_S3_SECRET_FILE=$WALCAST_RUN_DIR/s3/secret
ENV
}

case "$action" in
up)
	for s in $which; do "$here/$s.sh" start; done
	write_env
	;;
down)
	# Reverse order; keep going when one fails so nothing is left behind.
	rc=0
	for s in $(echo "$which" | tr ' ' '\n' | tac); do "$here/$s.sh" stop || rc=1; done
	exit $rc
	;;
env) write_env; cat "$WALCAST_RUN_DIR/env" ;;
*) echo "usage: $0 up|down|env [pg] [rabbitmq] [ferretdb] [s3]" >&2; exit 1 ;;
esac
