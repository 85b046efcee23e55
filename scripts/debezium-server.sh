#!/usr/bin/env bash
# debezium-server.sh: Debezium Server, the peer that `make bench-peers`
# measures walcast against (bench/peers_bench.py).  Benchmark only: nothing
# of walcast's product or tests needs it, and `make bench` runs without it.
#
# Usage: scripts/debezium-server.sh install|path|java|check
#   install  fetch io.debezium:debezium-server-dist:$VERSION:tar.gz from
#            Maven Central with mvn (once: a second run finds it unpacked),
#            unpack it into $WALCAST_PEERS_DIR, and make sure lib/ holds the
#            PostgreSQL connector and the RabbitMQ sink (fetched the same
#            way when the distribution lacks them); prints the directory
#   path     the unpacked distribution's directory (fails when not there)
#   java     the java binary it runs with: a JDK 21 or newer, from
#            $JAVA_HOME, else the newest of /usr/lib/jvm/*
#   check    what install needs (JDK 21+, mvn), without fetching anything
#
#   WALCAST_PEERS_DIR     where it lives (default ~/.cache/walcast-peers)
#   WALCAST_DEBEZIUM_VERSION  (default 3.6.1.Final)
#   WALCAST_JDK_DIRS      where JDKs are looked for after JAVA_HOME
#                         (default /usr/lib/jvm)
#
# A missing prerequisite (JDK 21+, mvn) or a Maven repository that cannot
# be reached is not an error of walcast's: this script then prints one line
# "skipped: REASON" on stdout and exits 3, which bench/run.sh turns into a
# skipped (not failed) benchmark.
set -eu
. "$(dirname "$0")/lib.sh"

VERSION=${WALCAST_DEBEZIUM_VERSION:-3.6.1.Final}
PEERS=${WALCAST_PEERS_DIR:-$HOME/.cache/walcast-peers}
HOME_DIR=$PEERS/debezium-server-$VERSION
JDK_DIRS=${WALCAST_JDK_DIRS:-/usr/lib/jvm}
DIST=io.debezium:debezium-server-dist:$VERSION:tar.gz
# Jars lib/ must hold, by Maven artifact id (the sink and the connector a
# run uses).
NEEDED="debezium-server-rabbitmq debezium-connector-postgres"

skip() {
	echo "skipped: $*"
	exit 3
}

# java_major JAVA: the feature release of a java binary (17, 21, 25).
java_major() {
	"$1" -XshowSettings:properties -version 2>&1 |
		sed -n 's/^ *java\.specification\.version = \([0-9][0-9]*\).*/\1/p' | head -n 1
}

# find_java: a java of release 21 or newer, JAVA_HOME first; the newest
# under $WALCAST_JDK_DIRS otherwise.  Prints its path, or nothing.
find_java() {
	local best="" best_v=0 j v
	if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
		v=$(java_major "$JAVA_HOME/bin/java")
		if [ "${v:-0}" -ge 21 ]; then
			echo "$JAVA_HOME/bin/java"
			return
		fi
	fi
	for j in "$JDK_DIRS"/*/bin/java; do
		[ -x "$j" ] || continue
		# the same JDK appears under several names (symlinks)
		case "$(readlink -f "$j")" in "$best") continue ;; esac
		v=$(java_major "$j")
		if [ "${v:-0}" -ge 21 ] && [ "$v" -gt "$best_v" ]; then
			best=$(readlink -f "$j")
			best_v=$v
		fi
	done
	[ -n "$best" ] && echo "$best"
	return 0
}

# require_java: prints the java to use; skips (exit 3, one line) without
# one.  Not to be called in $(...): the exit would only leave the subshell.
require_java() {
	local j
	j=$(find_java)
	[ -n "$j" ] || skip "Debezium Server $VERSION needs Java 21 or newer; none found (JAVA_HOME=${JAVA_HOME:-unset}, in $JDK_DIRS: $(ls "$JDK_DIRS" 2>/dev/null | tr '\n' ' '))"
	echo "$j"
}

require_mvn() {
	command -v mvn >/dev/null 2>&1 || skip "Debezium Server is fetched with Maven (mvn), which is not installed"
}

# fetch ARTIFACT DIR: mvn dependency:get into the local repository, then
# dependency:copy into DIR; skip (one line) when Maven cannot get it.
fetch() {
	local log why
	log=$(mktemp)
	if ! mvn -q -B -Dstyle.color=never dependency:get -Dtransitive=false -Dartifact="$1" >"$log" 2>&1 ||
		! mvn -q -B -Dstyle.color=never dependency:copy -Dartifact="$1" -DoutputDirectory="$2" >>"$log" 2>&1; then
		why=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^\[ERROR\] [^ ]' | head -n 1 | cut -c9-240)
		rm -f "$log"
		rm -rf "${FETCH_TMP:-}"
		skip "cannot fetch $1 with mvn (is Maven Central reachable?): ${why:-no message}"
	fi
	rm -f "$log"
}

# lib_has ARTIFACT: lib/ holds ARTIFACT-<version>.jar
lib_has() {
	ls "$HOME_DIR/lib/$1"-[0-9]*.jar >/dev/null 2>&1
}

install() {
	[ -n "$(find_java)" ] || require_java
	if [ ! -f "$HOME_DIR/.complete" ]; then
		require_mvn
		local tmp a
		mkdir -p "$PEERS"
		tmp=$(mktemp -d "$PEERS/fetch.XXXXXX")
		FETCH_TMP=$tmp
		fetch "$DIST" "$tmp"
		tar -xzf "$tmp"/debezium-server-dist-"$VERSION".tar.gz -C "$tmp" ||
			die "cannot unpack $tmp/debezium-server-dist-$VERSION.tar.gz"
		rm -rf "$HOME_DIR"
		mv "$tmp/debezium-server" "$HOME_DIR"
		rm -rf "$tmp"
		FETCH_TMP=
		for a in $NEEDED; do
			lib_has "$a" || fetch "io.debezium:$a:$VERSION:jar" "$HOME_DIR/lib"
		done
		touch "$HOME_DIR/.complete"
	fi
	for a in $NEEDED; do
		lib_has "$a" || die "$HOME_DIR/lib has no $a jar"
	done
	echo "$HOME_DIR"
}

case "${1:-}" in
install) install ;;
path)
	[ -f "$HOME_DIR/.complete" ] || die "Debezium Server $VERSION is not installed in $HOME_DIR (run $0 install)"
	echo "$HOME_DIR"
	;;
java) require_java ;;
check)
	[ -n "$(find_java)" ] || require_java
	[ -f "$HOME_DIR/.complete" ] || require_mvn
	;;
*) echo "usage: $0 install|path|java|check" >&2; exit 1 ;;
esac
