#!/usr/bin/env bash
# demo.sh: what `make demo` runs.  Starts a throwaway PostgreSQL and RabbitMQ,
# builds and installs walcast, creates a demo table, runs walcast-agent,
# makes a few changes and shows the events arriving at a RabbitMQ consumer
# (Debian's pika).  Stops everything it started, whatever happens.
#
# Environment: WALCAST_DEMO_DIR (default /tmp/walcast-demo) and the port
# variables of scripts/lib.sh.
set -eu
cd "$(dirname "$0")/.."
export WALCAST_RUN_DIR=${WALCAST_DEMO_DIR:-/tmp/walcast-demo}
export WALCAST_QUIET=
AGENT_PID=

cleanup() {
	if [ -n "$AGENT_PID" ] && kill -0 "$AGENT_PID" 2>/dev/null; then
		kill -TERM "$AGENT_PID" 2>/dev/null || true
		wait "$AGENT_PID" 2>/dev/null || true
	fi
	scripts/servers.sh down pg rabbitmq >/dev/null 2>&1 || true
	echo "demo: servers stopped"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n== %s\n' "$*"; }

step "build and install walcast"
make --no-print-directory install >"/tmp/walcast-demo-build.log" 2>&1 ||
	{ tail -n 20 /tmp/walcast-demo-build.log; echo "demo: build failed (log /tmp/walcast-demo-build.log)" >&2; exit 1; }
echo "plugin: $(pg_config --pkglibdir)/walcast.so, agent: /usr/local/bin/walcast-agent"

step "start PostgreSQL and RabbitMQ"
# A clean start every time: the demo's slot and table are created below.
scripts/servers.sh down pg rabbitmq >/dev/null 2>&1 || true
rm -rf "$WALCAST_RUN_DIR"
scripts/servers.sh up pg rabbitmq
. "$WALCAST_RUN_DIR/env"

step "create the demo table, with two rows already in it"
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
-- The extension renders existing rows for the agent's initial load with the
-- plugin's own code (streaming alone does not need it).
create extension walcast;
create table products (
    id         bigserial primary key,
    name       text not null,
    price      numeric(10,2),
    tags       text[],
    attrs      jsonb,
    updated_at timestamptz default now()
);
insert into products (name, price, tags, attrs) values
    ('bread', 2.10, '{bakery}', '{"grain": "rye"}'),
    ('milk', 1.15, '{dairy}', null);
SQL
echo "table public.products created with 2 rows"

step "run walcast-agent (slot walcast_demo, exchange walcast, queue walcast-demo)"
# --create-slot with the default --snapshot=initial: the two existing rows
# are loaded first (routing key ...read), consistent with the stream.
LOG=$WALCAST_RUN_DIR/agent.log
# The broker URI carries a password: pass it in the environment, where
# other local users cannot read it (a command line they can).
WALCAST_AMQP_URI=$AMQP_URI walcast-agent -d "host=$PGHOST port=$PGPORT user=postgres dbname=postgres" \
	-S walcast_demo --create-slot --if-not-exists --queue walcast-demo \
	--state-dir "$WALCAST_RUN_DIR" \
	--stats-interval 0 >"$LOG" 2>&1 &
AGENT_PID=$!
# The slot exists once the agent has created it; changes from then on flow.
for _ in $(seq 1 100); do
	[ "$(psql -X -Atc "select count(*) from pg_replication_slots where slot_name = 'walcast_demo' and active")" = 1 ] && break
	kill -0 "$AGENT_PID" 2>/dev/null || { cat "$LOG"; echo "demo: the agent exited" >&2; exit 1; }
	sleep 0.1
done
echo "agent running (pid $AGENT_PID, log $LOG)"

step "make changes"
psql -X -e -q -v ON_ERROR_STOP=1 <<'SQL'
insert into products (name, price, tags, attrs) values
    ('tea', 3.50, '{drink,hot}', '{"origin": "Assam"}'),
    ('coffee', 4.20, '{drink}', '{"roast": "dark"}');
update products set price = 3.75 where name = 'tea';
delete from products where name = 'coffee';
truncate products;
SQL

step "events received by a RabbitMQ consumer (routing key, message id, body)"
/usr/bin/python3 scripts/demo_consumer.py "$AMQP_URI" walcast-demo 7 30

step "stop the agent (SIGTERM: waits for confirms, reports the final position)"
kill -TERM "$AGENT_PID"
rc=0
wait "$AGENT_PID" || rc=$?
AGENT_PID=
echo "agent exited with status $rc"
psql -X -Atc "select 'slot walcast_demo confirmed up to ' || confirmed_flush_lsn from pg_replication_slots where slot_name = 'walcast_demo'"
psql -X -q -c "select pg_drop_replication_slot('walcast_demo')" >/dev/null
[ "$rc" -eq 0 ] || exit 1
echo
echo "demo: done"
