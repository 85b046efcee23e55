"""walcast-agent's side connection end to end (agent/watch/): heartbeats
that move an idle slot, with both inputs, and the slot's alarms.

The slot's database gets no writes of its own; another database does.
The agent's heartbeats (pg_logical_emit_message in the slot's database)
must come back through the slot, be recognised and acknowledged (the
slot's confirmed_flush_lsn passes them) and reach no sink unless
--publish-heartbeats.  Waits only bound how long a failing test takes.
"""
import json
import threading
import time
import uuid

import pytest

from agent_helpers import (Agent, broker, execute, http_get, http_port, lsn_int,  # noqa: F401
                           metric, plugin_args, prepare_db, scrape, slot_info,
                           wait_metrics, wait_status)
from conftest import connect, drop_db

SLOT = "wc_heartbeat"
INTERVAL = 2


@pytest.fixture
def other_db(pg_dsn):
    """A second database of the same cluster, the only one written to."""
    name = "t_" + uuid.uuid4().hex[:12]
    admin = connect(pg_dsn)
    admin.cursor().execute(f"create database {name}")
    admin.close()
    dsn = pg_dsn.replace("dbname=postgres", f"dbname={name}")
    execute(dsn, "create table busy (id serial primary key, v text)")
    yield dsn
    drop_db(pg_dsn, name)


class Writer:
    """Writes into a database until stopped, from a thread."""

    def __init__(self, dsn):
        self.dsn = dsn
        self.stopped = threading.Event()
        self.errors = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            conn = connect(self.dsn)
            cur = conn.cursor()
            while not self.stopped.is_set():
                cur.execute("insert into busy (v) select 'x' from generate_series(1, 50)")
                time.sleep(0.1)
            conn.close()
        except Exception as e:  # reported by stop()
            self.errors.append(e)

    def stop(self):
        self.stopped.set()
        self.thread.join(timeout=60)
        assert not self.errors, self.errors


def agent_args(dsn, plugin, *extra):
    return (["-d", dsn, "-S", SLOT, "-s", "1", "--http-listen", "127.0.0.1:0",
             "--heartbeat-interval", str(INTERVAL)] + plugin_args(plugin) + list(extra))


@pytest.mark.parametrize("plugin", ["walcast", "pgoutput"])
def test_heartbeats_move_an_idle_slot(fresh_db, other_db, broker, plugin):
    db = prepare_db(fresh_db, SLOT, "create table quiet (id int primary key)", plugin=plugin)
    start = lsn_int(slot_info(db, SLOT)[1])
    writer = Writer(other_db)
    agent = Agent(agent_args(db, plugin, *broker.agent_args()))
    try:
        agent.wait_log("streaming from replication slot")
        port = http_port(agent)
        # two of this agent's heartbeats came back through the slot
        doc = wait_status(port, lambda d: d["heartbeats"]["received"] >= 2)
        beat = lsn_int(doc["heartbeats"]["last_lsn"])
        assert beat > start
        assert doc["heartbeats"]["enabled"] is True and doc["heartbeats"]["interval"] == INTERVAL
        # the slot confirmed past the last one emitted
        deadline = time.monotonic() + 60
        while lsn_int(slot_info(db, SLOT)[1]) < beat:
            assert time.monotonic() < deadline, (slot_info(db, SLOT), doc, agent.log())
            time.sleep(0.2)
        samples = scrape(port)
        assert metric(samples, "walcast_heartbeats_total") >= 2
        assert metric(samples, "walcast_heartbeat_errors_total") == 0
        # recognised, not published: no event, nothing in the queue
        assert metric(samples, "walcast_events_total", sink="amqp", op="message") == 0
        assert metric(samples, "walcast_messages_total", sink="amqp") == 0
        assert broker.collect(0, timeout=10, settle=2) == []
        writer.stop()
        assert agent.stop() == 0, agent.log()
    finally:
        writer.stopped.set()
        agent.close()


@pytest.mark.parametrize("plugin", ["walcast", "pgoutput"])
def test_publish_heartbeats(fresh_db, broker, plugin):
    db = prepare_db(fresh_db, SLOT, "create table quiet (id int primary key)", plugin=plugin)
    agent = Agent(agent_args(db, plugin, "--publish-heartbeats", *broker.agent_args()))
    try:
        agent.wait_log("streaming from replication slot")
        messages = broker.collect(1, settle=0)
        assert messages, agent.log()
        key, props, body = messages[0]
        record = json.loads(body)
        assert (key, record["action"], record["prefix"], record["content"]) == \
            ("_.walcast.heartbeat.message", "M", "walcast.heartbeat", SLOT)
        assert record["transactional"] is False
        port = http_port(agent)
        samples = scrape(port)
        assert metric(samples, "walcast_events_total", sink="amqp", op="message") >= 1
        assert agent.stop() == 0, agent.log()
    finally:
        agent.close()


def test_no_privilege_one_warning_and_heartbeats_off(fresh_db, pg_dsn, broker):
    """A role that may not run pg_logical_emit_message: one warning naming
    the grant, heartbeats off, the agent streams on."""
    role = "wc_nohb_" + uuid.uuid4().hex[:8]
    db = prepare_db(fresh_db, SLOT, "create table t (id int primary key)",
                    f"create role {role} login replication",
                    "revoke execute on function pg_logical_emit_message(boolean, text, text) from public",
                    f"grant select on t to {role}")
    dsn = db.replace("user=postgres", "user=" + role)
    agent = Agent(agent_args(dsn, "walcast", "--heartbeat-interval", "1", *broker.agent_args()))
    try:
        agent.wait_log("streaming from replication slot")
        agent.wait_log("heartbeats are off: role")
        port = http_port(agent)
        # more intervals pass: still one warning, still streaming
        execute(db, "insert into t values (1)")
        assert len(broker.collect(1, settle=3)) == 1
        log = agent.log()
        assert log.count("heartbeats are off") == 1, log
        assert ('GRANT EXECUTE ON FUNCTION pg_catalog.pg_logical_emit_message(boolean, text, text) TO "%s"'
                % role) in log
        assert " error: " not in log, log
        doc = json.loads(http_get(port, "/status")[1])
        assert doc["heartbeats"]["enabled"] is False and doc["heartbeats"]["emitted"] == 0
        samples = scrape(port)
        assert metric(samples, "walcast_heartbeat_errors_total") == 1
        assert metric(samples, "walcast_heartbeats_total") == 0
        assert agent.stop() == 0, agent.log()
    finally:
        agent.close()
        execute(db, f"drop owned by {role}")
        drop_db_role(pg_dsn, role)


def drop_db_role(pg_dsn, role):
    execute(pg_dsn, f"drop role if exists {role}")


def test_retained_wal_warning(fresh_db, other_db):
    """A slot held back past --slot-retained-warn: one warning, the metric
    above the limit; back below once released: one info line."""
    db = prepare_db(fresh_db, SLOT, "create table t (id int primary key)")
    agent = Agent(["-d", db, "-S", SLOT, "-s", "1", "--http-listen", "127.0.0.1:0",
                   "--slot-check-interval", "1", "--slot-retained-warn", "1MB",
                   "--heartbeat-interval", "1"])
    held = connect(db, autocommit=False)
    try:
        agent.wait_log("streaming from replication slot")
        port = http_port(agent)
        # an open transaction with an xid pins restart_lsn; then WAL grows
        held.cursor().execute("insert into t values (1)")
        execute(other_db, "insert into busy (v) select repeat('x', 100) from generate_series(1, 20000)",
                "select pg_switch_wal()")
        agent.wait_log(r'replication slot "%s" retains \d+ bytes \([0-9.]+ MB\) of WAL, more than '
                       r'slot_retained_warn \(1048576 bytes \(1.0 MB\)\)' % SLOT)
        samples = wait_metrics(port, lambda s: (metric(s, "walcast_slot_retained_wal_bytes") or 0) > 1024 * 1024,
                               agent=agent)
        assert metric(samples, "walcast_slot_wal_status", status="reserved") == 1
        # more checks while it stays above: still one warning
        before = metric(samples, "walcast_slot_check_errors_total")
        doc = wait_status(port, lambda d: d["heartbeats"]["emitted"] >= 3)
        assert doc["slot_health"]["retained_wal_bytes"] > 1024 * 1024
        assert agent.log().count("more than slot_retained_warn") == 1, agent.log()
        assert before == 0

        held.rollback()
        agent.wait_log(r'replication slot "%s" retains \d+ bytes of WAL, back below slot_retained_warn' % SLOT,
                       timeout=120)
        assert agent.log().count("more than slot_retained_warn") == 1, agent.log()
        assert agent.stop() == 0, agent.log()
    finally:
        held.close()
        agent.close()
