"""walcast-agent's HTTP endpoint end to end (--http-listen, agent/obs/).

The agent runs against the test servers with a real consumer (pika); its
/metrics are read with prometheus_client's own text parser and checked
against the workload the test ran, /readyz against a RabbitMQ that is
stopped and started again, /status as an operator's JSON, and the output
of a real run through `promtool check metrics`.  Nothing here asserts how
fast anything happens: waits only bound how long a failing test takes.
"""
import json
import os
import socket
import subprocess
import time

import pytest

from agent_helpers import (Agent, Broker, broker, execute, http_get, http_port,  # noqa: F401
                           lsn_int, metric, plugin_args, prepare_db, run_agent, scrape,
                           slot_info, wait_metrics, wait_status)
from conftest import server
from mongo_helpers import Mirror

SLOT = "wc_http"
LISTEN = ["--http-listen", "127.0.0.1:0"]
PROMTOOL = os.path.join(os.environ.get("WALCAST_TOOLS_DIR", "/usr/local/lib/walcast-tools"),
                        "bin", "promtool")


def agent_args(dsn, *extra):
    return ["-d", dsn, "-S", SLOT, "-s", "1", "--reconnect-max-delay", "2"] + LISTEN + list(extra)


@pytest.fixture
def db(fresh_db):
    return prepare_db(fresh_db, SLOT, "create table items (id int primary key, name text)")


def started(args):
    agent = Agent(args)
    agent.wait_log("streaming from replication slot")
    return agent, http_port(agent)


def test_metrics_follow_the_workload_and_lag_returns_to_zero(db, broker):
    """After N inserts the insert counter is N (and the rest of the
    figures agree with the consumer and the slot); idle and caught up,
    the lag in seconds is back to about 0."""
    n = 25
    agent, port = started(agent_args(db, *broker.agent_args()))
    try:
        samples = scrape(port)
        assert metric(samples, "walcast_build_info", version="0.1.0", plugin="walcast") == 1
        assert metric(samples, "walcast_events_total", sink="amqp", op="insert") == 0

        for i in range(n):
            execute(db, "insert into items values (%d, 'row %d')" % (i, i))
        execute(db, "update items set name = 'x' where id < 3", "delete from items where id = 0")
        assert len(broker.collect(n + 4)) == n + 4
        last_commit = time.monotonic()

        samples = wait_metrics(port, lambda s: metric(s, "walcast_inflight_events", sink="amqp") == 0
                               and metric(s, "walcast_events_total", sink="amqp", op="delete") == 1,
                               agent=agent)
        assert metric(samples, "walcast_events_total", sink="amqp", op="insert") == n
        assert metric(samples, "walcast_events_total", sink="amqp", op="update") == 3
        assert metric(samples, "walcast_events_total", sink="amqp", op="read") == 0
        assert metric(samples, "walcast_messages_total", sink="amqp") == n + 4
        assert metric(samples, "walcast_confirms_total", sink="amqp") == n + 4
        assert metric(samples, "walcast_nacks_total", sink="amqp") == 0
        assert metric(samples, "walcast_transactions_total") == n + 2
        assert metric(samples, "walcast_sink_connected", sink="amqp") == 1
        assert metric(samples, "walcast_sink_blocked", sink="amqp") == 0
        assert metric(samples, "walcast_reconnects_total", target="postgres") == 0
        assert metric(samples, "walcast_bytes_total", sink="amqp") > 0
        assert metric(samples, "walcast_ready") == 1
        assert metric(samples, "process_resident_memory_bytes") > 0
        assert metric(samples, "process_start_time_seconds") > 1_600_000_000

        # the confirmed position is the one the slot has
        samples = wait_metrics(port, lambda s: metric(s, "walcast_confirmed_lsn")
                               == slot_info(db, SLOT)[2], agent=agent)
        assert metric(samples, "walcast_received_lsn") >= metric(samples, "walcast_confirmed_lsn") > 0

        # Idle for 3 s after the last commit: a lag measured from the last
        # commit would now be above 3; the agent's is about 0.
        time.sleep(max(0.0, last_commit + 3 - time.monotonic()))
        samples = wait_metrics(port, lambda s: s.get(("walcast_lag_seconds", frozenset({("stage", "confirmed")})), 9) < 1
                               and metric(s, "walcast_lag_seconds", stage="received") < 1, agent=agent)
        assert metric(samples, "walcast_lag_seconds", stage="confirmed") >= 0

        assert http_get(port, "/healthz") == (200, '{"healthy":true}')
        assert http_get(port, "/readyz") == (200, '{"ready":true}')
        doc = json.loads(http_get(port, "/status")[1])
        assert (doc["slot"], doc["plugin"], doc["state"], doc["ready"]) == (SLOT, "walcast", "streaming", True)
        assert doc["version"] == "0.1.0"
        assert lsn_int(doc["positions"]["confirmed"]) == metric(samples, "walcast_confirmed_lsn")
        assert lsn_int(doc["positions"]["received"]) > 0
        assert doc["positions"]["server_wal_end"] is not None
        assert [(s["name"], s["state"], s["events"]["insert"]) for s in doc["sinks"]] == [("amqp", "connected", n)]
        assert doc["slot_health"]["found"] is True
        assert doc["slot_health"]["wal_status"] == "reserved"
        assert http_get(port, "/nowhere")[0] == 404
        assert agent.stop() == 0, agent.log()
    finally:
        agent.close()


def wait_ready(port, agent, status, timeout):
    """Ask /readyz until it answers status; returns the body."""
    deadline = time.monotonic() + timeout
    while True:
        code, body = http_get(port, "/readyz")
        if code == status:
            return body
        assert time.monotonic() < deadline, agent.log()
        time.sleep(0.2)


def test_readyz_follows_rabbitmq(db, broker):
    """/readyz answers 503 with a reason while RabbitMQ is down, and 200
    again once it is back and the agent streams."""
    agent, port = started(agent_args(db, *broker.agent_args()))
    stopped = False
    try:
        assert http_get(port, "/readyz") == (200, '{"ready":true}')
        server("rabbitmq", "stop")
        stopped = True
        body = wait_ready(port, agent, 503, 60)
        assert "\n" not in body.strip()
        assert json.loads(body) == {"ready": False, "reason": "sink_disconnected"}
        samples = scrape(port)
        assert metric(samples, "walcast_ready") == 0
        assert metric(samples, "walcast_sink_connected", sink="amqp") == 0
        assert json.loads(http_get(port, "/status")[1])["sinks"][0]["state"] == "failed"

        server("rabbitmq", "start")
        stopped = False
        assert wait_ready(port, agent, 200, 120) == '{"ready":true}'
        samples = scrape(port)
        assert metric(samples, "walcast_reconnects_total", target="amqp") >= 1
        assert metric(samples, "walcast_reconnects_total", target="postgres") == 0
        assert metric(samples, "walcast_sink_connected", sink="amqp") == 1
        # and it streams again
        execute(db, "insert into items values (1, 'after')")
        assert len(broker.collect(1)) >= 1
        assert agent.stop() == 0, agent.log()
    finally:
        if stopped:
            server("rabbitmq", "start")
        agent.close()


def test_initial_load_progress(fresh_db, broker):
    """The load's rows per table, tables done and total, and read events."""
    execute(fresh_db, "create table a (id int primary key)", "create table b (id int primary key)",
            "insert into a select generate_series(1, 37)", "insert into b select generate_series(1, 5)")
    agent, port = started(agent_args(fresh_db, "--create-slot", "--snapshot-chunk-rows", "10",
                                     *broker.agent_args()))
    try:
        samples = wait_metrics(port, lambda s: metric(s, "walcast_load_tables_done") == 2, agent=agent)
        assert metric(samples, "walcast_load_tables") == 2
        assert metric(samples, "walcast_load_rows_total", table="public.a") == 37
        assert metric(samples, "walcast_load_rows_total", table="public.b") == 5
        assert metric(samples, "walcast_events_total", sink="amqp", op="read") == 42
        doc = json.loads(http_get(port, "/status")[1])
        assert doc["load"]["tables_total"] == 2 and doc["load"]["tables_done"] == 2
        assert [(t["table"], t["rows"], t["done"]) for t in doc["load"]["tables"]] == [
            ("public.a", 37, True), ("public.b", 5, True)]
        assert len(broker.collect(42)) == 42
        assert agent.stop() == 0, agent.log()
    finally:
        agent.close()


def test_mirror_skipped_no_key(fresh_db, mongo_uri):
    """walcast_mirror_skipped_no_key_total counts the changes the mirror
    left out because their table has no key."""
    db = prepare_db(fresh_db, SLOT, "create table nokey (a int, b text)",
                    "create table withkey (id int primary key)")
    mirror = Mirror(mongo_uri)
    agent = Agent(agent_args(db, *mirror.agent_args()))
    try:
        agent.wait_log("streaming from replication slot")
        port = http_port(agent)
        execute(db, "insert into nokey values (1, 'x'), (2, 'y'), (3, 'z')",
                "insert into withkey values (1)")
        samples = wait_metrics(port, lambda s: metric(s, "walcast_events_total", sink="mongo", op="insert") == 4
                               and metric(s, "walcast_inflight_events", sink="mongo") == 0, agent=agent)
        assert metric(samples, "walcast_mirror_skipped_no_key_total") == 3
        assert agent.stop() == 0, agent.log()
    finally:
        agent.close()
        mirror.drop()


def test_endpoint_shows_no_secret(fresh_db, amqp_uri, tmp_path):
    """Neither /metrics nor /status shows a password, a connection string
    or a row value, whatever the configuration holds."""
    password = "Pw-secret-7781"
    db = prepare_db(fresh_db, SLOT, "create table items (id int primary key, name text)")
    b = Broker(amqp_uri)
    # trust authentication ignores the password: it is there to be hidden
    dsn = db + " password=" + password
    agent, port = started(agent_args(dsn, "--amqp-uri", amqp_uri, "--exchange", b.exchange,
                                     "--file-path", str(tmp_path / "events.jsonl")))
    try:
        execute(db, "insert into items values (1, 'rowvalue-9931')")
        wait_metrics(port, lambda s: metric(s, "walcast_confirms_total", sink="file") == 1, agent=agent)
        texts = [http_get(port, path)[1] for path in ("/metrics", "/status", "/readyz", "/healthz")]
        user_pass = amqp_uri.split("//", 1)[1].split("@", 1)[0]
        for text in texts:
            for secret in (password, user_pass, amqp_uri, db, "dbname=", "host=", "port=",
                           "rowvalue-9931", str(os.environ["PGPORT"])):
                assert secret not in text, (secret, text)
        assert agent.stop() == 0, agent.log()
    finally:
        agent.close()
        b.delete()


def test_port_in_use_is_a_startup_error():
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    try:
        rc, _, err = run_agent(["-d", "host=127.0.0.1 port=1 dbname=x", "-S", SLOT,
                                "--http-listen", "127.0.0.1:%d" % port])
    finally:
        busy.close()
    assert rc == 1, err
    assert "could not listen on 127.0.0.1:%d: Address already in use" % port in err, err


@pytest.mark.parametrize("value, message", [
    ("300.1.2.3:9187", '--http-listen: "300.1.2.3:9187": "300.1.2.3" is not a numeric IPv4 or IPv6 address'),
    ("metrics.example:9187", '"metrics.example" is not a numeric IPv4 or IPv6 address (or localhost)'),
    ("localhost:99999", '--http-listen: "localhost:99999" is not [ADDR:]PORT'),
    (":9187", '--http-listen: ":9187" is not [ADDR:]PORT'),
    # a valid address this machine does not have (TEST-NET-1)
    ("192.0.2.1:9187", "could not listen on 192.0.2.1:9187: Cannot assign requested address"),
])
def test_bad_address_is_a_startup_error(value, message):
    rc, _, err = run_agent(["-d", "host=127.0.0.1 port=1 dbname=x", "-S", SLOT, "--http-listen", value])
    assert rc == 1, err
    assert message in err, err
    assert "Traceback" not in err and "connected to PostgreSQL" not in err


def test_promtool_checks_the_real_output(fresh_db, broker, mongo_uri):
    """promtool (built from the Go module proxy by scripts/install-deps.sh)
    finds nothing to say about the metrics of a run with every kind of
    sample: two sinks, a load, slot checks and heartbeats."""
    assert os.access(PROMTOOL, os.X_OK), \
        "%s is missing: scripts/install-deps.sh builds it (make deps)" % PROMTOOL
    execute(fresh_db, "create table a (id int primary key, v text)", "create table nokey (v text)",
            "insert into a select g, 'v' from generate_series(1, 20) g")
    mirror = Mirror(mongo_uri)
    agent, port = started(agent_args(fresh_db, "--create-slot", "--heartbeat-interval", "1",
                                     "--slot-check-interval", "1", *broker.agent_args(),
                                     *mirror.agent_args()))
    try:
        execute(fresh_db, "insert into a values (100, 'x')", "insert into nokey values ('y')",
                "update a set v = 'z' where id = 1", "delete from a where id = 2", "truncate nokey")
        wait_metrics(port, lambda s: metric(s, "walcast_heartbeats_total") >= 1
                     and metric(s, "walcast_slot_retained_wal_bytes") is not None
                     and metric(s, "walcast_events_total", sink="mongo", op="truncate") == 1, agent=agent)
        status, text = http_get(port, "/metrics")
        assert status == 200
        p = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True,
                           timeout=60)
        assert p.returncode == 0, p.stdout + p.stderr + "\n" + text
        assert (p.stdout + p.stderr).strip() == "", p.stdout + p.stderr
        assert agent.stop() == 0, agent.log()
    finally:
        agent.close()
        mirror.drop()
