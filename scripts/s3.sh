#!/usr/bin/env bash
# s3.sh: a throwaway S3-compatible object store (SeaweedFS's `weed server
# -s3`: master, volume server, filer and S3 gateway in one process) for
# walcast's object-storage sink tests, on loopback.
#
# Usage: scripts/s3.sh start|stop|status|restart|kill
#   WALCAST_RUN_DIR   parent directory (default /tmp/walcast-servers)
#   WALCAST_S3_PORT   S3 API port (default 27333); SeaweedFS's own servers
#                     take the next 8 ports (master, its gRPC, volume, its
#                     gRPC, filer, its gRPC, the S3 gRPC, metrics)
#
# One identity, access key "walcast" (every action), with a random secret
# made at the first start and kept in $WALCAST_RUN_DIR/s3/secret (mode
# 0600; never printed): anonymous requests are refused and a wrong key or
# secret gets the real SigV4 error (InvalidAccessKeyId,
# SignatureDoesNotMatch).  Buckets are not created on upload
# (-s3.autoCreateBucket=false): a PUT to a missing bucket fails with
# NoSuchBucket, as on S3.  Data and secret survive a restart (fault tests
# restart the server under a running agent); the run directory is the
# throwaway part.
#
# Nothing listens beyond 127.0.0.1, and telemetry is off: nothing may call
# out of this machine.  Every port is pinned: SeaweedFS's defaults put the
# gRPC ports at port + 10000 (inside the ephemeral range for these ports,
# see lib.sh) and open Iceberg and Lance catalogue ports (8181, 9101).
set -eu
. "$(dirname "$0")/lib.sh"

BIN=$WALCAST_TOOLS_DIR/bin/weed
DIR=$WALCAST_RUN_DIR/s3
PIDFILE=$DIR/weed.pid
SECRET=$DIR/secret
P=$WALCAST_S3_PORT

[ -x "$BIN" ] || die "SeaweedFS is not installed at $BIN (run scripts/install-deps.sh)"

# s3_curl METHOD PATH [curl arguments]: a request signed with SigV4
# (curl's --aws-sigv4), the secret passed on standard input (a config
# line), never on a command line.  Prints the HTTP status.
s3_curl() {
	local method=$1 path=$2
	shift 2
	printf 'user = "%s:%s"\n' "$WALCAST_S3_ACCESS_KEY" "$(cat "$SECRET")" |
		curl -sS -K - -o /dev/null -w '%{http_code}' --max-time 5 -X "$method" "$@" \
			--aws-sigv4 "aws:amz:us-east-1:s3" "http://$WALCAST_HOST:$P$path"
}

# s3_ready: an object can be stored (then it and its bucket go again).
# The gateway answers, and lists buckets, seconds before a write can
# pass: the filer takes a lock per object write and has no lock server
# until it stops waiting for other filers to show up (10 s on each start,
# fixed in the code), and a master that knew volumes refuses to hand out
# space for 15 s after it starts (its warm-up, for volume servers to
# report again).  So a fresh start takes about 10 s, a restart about 16.
# The write waits out the lock by itself: --max-time 20 lets it.  curl
# 7.88 signs a body without sending its hash (x-amz-content-sha256), which
# the server needs to check the signature: the header says the payload is
# unsigned.
s3_ready() {
	local probe=/walcast-ready-probe
	case $(s3_curl PUT $probe 2>/dev/null) in 200 | 409) ;; *) return 1 ;; esac
	[ "$(s3_curl PUT $probe/probe --data-binary ok --max-time 20 \
		-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" 2>/dev/null)" = 200 ] || return 1
	s3_curl DELETE $probe/probe >/dev/null 2>&1
	s3_curl DELETE $probe >/dev/null 2>&1
}

prepare() {
	ensure_run_dir
	mkdir -p "$DIR/data"
	(
		umask 077
		[ -s "$SECRET" ] || random_hex >"$SECRET"
		cat >"$DIR/identities.json" <<JSON
{"identities": [{"name": "walcast",
  "credentials": [{"accessKey": "$WALCAST_S3_ACCESS_KEY", "secretKey": "$(cat "$SECRET")"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
JSON
	)
	# Read from the working directory.  Each bucket is a collection of its
	# own, and the master grows 7 volumes for a new one by default: with a
	# fresh bucket per test, one is plenty.  A fresh master holds its first
	# volume allocation for up to 15 s (allocation_deferral) for volume
	# servers of a rebuilt cluster to report: there are none here.
	cat >"$DIR/master.toml" <<TOML
[master.volume_growth]
copy_1 = 1
allocation_deferral = "0s"
TOML
}

start() {
	if pid_alive "$PIDFILE"; then
		note "SeaweedFS S3 already running on port $P"
		return 0
	fi
	local i
	for i in 0 1 2 3 4 5 6 7 8; do
		require_free_port $((P + i)) "SeaweedFS (S3 port + $i)" WALCAST_S3_PORT
	done
	prepare
	# -master.electionTimeout=1s: a master restarted on its own state
	# waits one election timeout (default 10 s) before it leads, alone as
	# it is.  -volume.preStopSeconds=0: its default 10 s pause before the
	# volume server stops serves a cluster's failover, not one throwaway
	# node.  -volume.max=200 slots of at most 1 GB (sparse files): one per
	# bucket (master.toml).  The local sockets default to
	# /tmp/seaweedfs-*-PORT.sock: here, in the run directory.
	(cd "$DIR" && exec setsid "$BIN" server -dir="$DIR/data" -ip="$WALCAST_HOST" -ip.bind="$WALCAST_HOST" \
		-master.port=$((P + 1)) -master.port.grpc=$((P + 2)) -master.telemetry=false \
		-master.electionTimeout=1s -master.volumeSizeLimitMB=1024 \
		-volume.port=$((P + 3)) -volume.port.grpc=$((P + 4)) -volume.max=200 -volume.preStopSeconds=0 \
		-filer -filer.port=$((P + 5)) -filer.port.grpc=$((P + 6)) -filer.localSocket="$DIR/filer.sock" \
		-s3 -s3.port="$P" -s3.port.grpc=$((P + 7)) -s3.port.iceberg=0 -s3.port.lance=0 \
		-s3.config="$DIR/identities.json" -s3.autoCreateBucket=false -s3.localSocket="$DIR/s3.sock" \
		-metricsPort=$((P + 8)) >>"$DIR/weed.log" 2>&1 </dev/null) &
	echo $! >"$PIDFILE"
	local deadline=$((SECONDS + 60))
	while ! s3_ready; do
		pid_alive "$PIDFILE" || die "SeaweedFS failed to start; last lines of $DIR/weed.log:
$(tail -n 5 "$DIR/weed.log")"
		if [ "$SECONDS" -ge "$deadline" ]; then
			stop
			die "SeaweedFS S3 on port $P could not store an object within 60 s; last lines of $DIR/weed.log:
$(tail -n 5 "$DIR/weed.log")"
		fi
		sleep 0.2
	done
	note "SeaweedFS S3 ready on http://$WALCAST_HOST:$P (access key $WALCAST_S3_ACCESS_KEY, secret in $SECRET)"
}

stop() {
	if pid_alive "$PIDFILE"; then
		# Its graceful stop takes about 17 s (the filer retries a last
		# metadata flush to the volume server stopped before it): 3 s,
		# then SIGKILL.  Acknowledged writes are in its files already (a
		# restart after SIGKILL reads them back).
		stop_pid "$PIDFILE" 3
		note "SeaweedFS S3 stopped"
	fi
	# Each gRPC server also listens on /tmp/seaweedfs-NAME-grpc-PORT.sock
	# (no option moves it), which a killed server leaves behind.
	rm -f "/tmp/seaweedfs-master-grpc-$((P + 2)).sock" "/tmp/seaweedfs-volume-grpc-$((P + 4)).sock" \
		"/tmp/seaweedfs-filer-grpc-$((P + 6)).sock" "/tmp/seaweedfs-s3-grpc-$((P + 7)).sock"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
restart) stop; start ;;
kill) pid_alive "$PIDFILE" && kill -KILL "$(head -n 1 "$PIDFILE")"; rm -f "$PIDFILE" ;;
status) pid_alive "$PIDFILE" && [ "$(s3_curl GET / 2>/dev/null)" = 200 ] ;;
*) echo "usage: $0 start|stop|status|restart|kill" >&2; exit 1 ;;
esac
