"""walcast-agent under load and faults: a 100k-change workload arrives
complete and in commit order per table; kill -9 of the agent, a RabbitMQ
restart, SIGTERM and a blocked broker lose nothing.  kill -9, the RabbitMQ
restart and the PostgreSQL restart run with each input (--plugin walcast
and pgoutput; pgoutput with a smaller workload: the faults are the same).

Checked with the fault suite's checker against a reference slot
(check_messages, agent_helpers.py): lost, unexpected, duplicated (with the
same message id and content only), reordered per table and per key.  The fault suite
(test_faults_*.py, docs/reliability.md) holds the sink failing on its
first write after --create-slot, among the other faults.
"""
import re
import time

import pytest

from agent_helpers import (Agent, CuttableProxy, assert_delivered, broker,  # noqa: F401
                           check_messages, connect, events_of, execute, in_background,
                           join_ok, lsn_int, plugin_args, prepare_db, rabbitmqctl, slot_info,
                           two_table_workload)
from conftest import server, short_sender_timeout  # noqa: F401

SLOT = "wc_agent_faults"
TXNS = 1000
ROWS = 50          # per table and transaction: 2 * 50 * 1000 = 100k changes
# the kill -9 test's transactions per input
KILL9_TXNS = {"walcast": TXNS, "pgoutput": 300}
PLUGINS = ["walcast", "pgoutput"]


def agent_args(dsn, broker, *extra, plugin="walcast"):
    return ["-d", dsn, "-S", SLOT, "-s", "1", "--stats-interval", "1",
            "--reconnect-max-delay", "2"] + plugin_args(plugin) + broker.agent_args() + list(extra)


@pytest.fixture
def plugin():
    """The input; the tests that run with each parametrize it."""
    return "walcast"


@pytest.fixture
def db(fresh_db, plugin):
    return prepare_db(fresh_db, SLOT,
                      "create table ta (id int primary key, v int)",
                      "create table tb (id int primary key, v int)", plugin=plugin,
                      reference=True)


def workload(dsn, txns=TXNS, rows=ROWS):
    two_table_workload(dsn, txns, rows)


def test_100k_changes_complete_and_ordered(db, broker):
    agent = Agent(agent_args(db, broker))
    try:
        agent.wait_log("streaming from replication slot")
        workload(db)
        messages = broker.collect(2 * TXNS * ROWS, timeout=600, settle=2)
        assert agent.stop() == 0
    finally:
        agent.close()
    report = check_messages(db, messages)
    assert_delivered(report, 2 * TXNS * ROWS)
    assert report.duplicated == 0, report
    assert len(messages) == 2 * TXNS * ROWS


@pytest.mark.parametrize("plugin", PLUGINS)
def test_kill9_mid_stream_then_restart(db, broker, plugin):
    txns = KILL9_TXNS[plugin]
    agent = Agent(agent_args(db, broker, plugin=plugin))
    try:
        agent.wait_log("streaming from replication slot")
        thread, errors = in_background(workload, db, txns)
        before = len(broker.collect(2 * txns * ROWS // 5, timeout=300, settle=0))
        agent.kill9()
        assert before < 2 * txns * ROWS
    finally:
        agent.close()
    # The old walsender may hold the slot a moment: the new agent retries.
    agent = Agent(agent_args(db, broker, plugin=plugin))
    try:
        join_ok(thread, errors)
        messages = broker.collect(2 * txns * ROWS, timeout=600, settle=3)
        assert agent.stop() == 0
        log = agent.log()
    finally:
        agent.close()
    report = check_messages(db, messages)
    print("kill -9:", before, "received before the kill;", report.line())
    assert_delivered(report, 2 * txns * ROWS)
    # whatever was sent twice is accounted for by the duplicate count
    assert len(messages) == 2 * txns * ROWS + report.duplicated
    assert "streaming from replication slot" in log


@pytest.mark.parametrize("plugin", PLUGINS)
def test_rabbitmq_restart_mid_stream(db, broker, plugin):
    txns = 300
    agent = Agent(agent_args(db, broker, plugin=plugin))
    try:
        agent.wait_log("streaming from replication slot")
        thread, errors = in_background(workload, db, txns)
        broker.collect(3000, timeout=300, settle=0)
        server("rabbitmq", "restart")
        join_ok(thread, errors)
        messages = broker.collect(2 * txns * ROWS, timeout=600, settle=3)
        agent.wait_log("reconnecting in")
        assert agent.stop() == 0
    finally:
        agent.close()
    report = check_messages(db, messages)
    print("rabbitmq restart:", report.line())
    assert_delivered(report, 2 * txns * ROWS)


def test_sigterm_exits_zero_with_everything_confirmed(db, broker):
    agent = Agent(agent_args(db, broker))
    try:
        agent.wait_log("streaming from replication slot")
        workload(db, 50)
        messages = broker.collect(2 * 50 * ROWS, timeout=300, settle=0)
        assert agent.stop() == 0
        log = agent.log()
    finally:
        agent.close()
    assert "stopped; confirmed position" in log
    last_commit = max(lsn_int(ev["commit_lsn"]) for _, ev in events_of(messages))
    active_pid, _, confirmed = slot_info(db, SLOT)
    # confirmed is the end of the last commit record: past its start
    assert confirmed > last_commit
    assert active_pid is None


def test_status_keeps_flowing_while_broker_blocked(db, broker, short_sender_timeout):
    agent = Agent(agent_args(db, broker))
    try:
        agent.wait_log("streaming from replication slot")
        execute(db, "insert into ta select g, g from generate_series(1, 10) g")
        assert len(broker.collect(10, settle=0)) == 10
        pid_before = slot_info(db, SLOT)[0]
        rabbitmqctl("set_vm_memory_high_watermark", "0.000001")
        try:
            execute(db, "insert into ta select g, g from generate_series(11, 110) g")
            agent.wait_log("RabbitMQ blocked publishing")
            # Let several wal_sender_timeouts pass while nothing is confirmed:
            # only the agent's status updates keep the walsender alive.
            agent.wait_log(r"stats: .*blocked=yes")
            time.sleep(10)
            assert slot_info(db, SLOT)[0] == pid_before
            assert agent.proc.poll() is None
        finally:
            rabbitmqctl("set_vm_memory_high_watermark", "0.4")
        messages = broker.collect(110, timeout=120)
        agent.wait_log("RabbitMQ unblocked publishing")
        assert agent.stop() == 0
        log = agent.log()
    finally:
        agent.close()
    ids = [ev["new"]["id"] for _, ev in events_of(messages)]
    assert ids == list(range(1, 111))
    assert "lost the replication connection" not in log
    assert "reconnecting" not in log


def current_lsn(dsn):
    conn = connect(dsn)
    cur = conn.cursor()
    cur.execute("select pg_current_wal_lsn()::text")
    lsn = lsn_int(cur.fetchone()[0])
    conn.close()
    return lsn


def test_reconnect_resumes_after_what_was_confirmed(db, broker):
    """The server never heard that the second batch was confirmed (its
    status updates were lost, then the connection): the agent resumes
    after it anyway, because it knows, and nothing is published twice."""
    host, port = re.search(r"host=(\S+) port=(\d+)", db).groups()
    proxy = CuttableProxy((host, int(port)))
    agent = Agent(agent_args(proxy.dsn(db), broker, "-v"))
    try:
        agent.wait_log("streaming from replication slot")
        execute(db, "insert into ta select g, g from generate_series(1, 100) g")
        assert len(broker.collect(100, settle=0)) == 100
        before = current_lsn(db)
        agent.wait_log(r"reported \S+ as flushed")
        proxy.mute()
        conn = connect(db, autocommit=False)
        cur = conn.cursor()
        cur.execute("insert into ta select g, g from generate_series(101, 300) g")
        cur.execute("select pg_current_wal_insert_lsn()::text")
        end = lsn_int(cur.fetchone()[0])     # before the commit record
        conn.commit()
        conn.close()
        assert len(broker.collect(300, settle=0)) == 300
        # Confirmed by RabbitMQ and reported, into the void.
        deadline = time.monotonic() + 60
        while max([lsn_int(x) for x in re.findall(r"reported (\S+) as flushed", agent.log())]) < end:
            assert time.monotonic() < deadline, agent.log()
            time.sleep(0.1)
        confirmed = lsn_int(slot_info(db, SLOT)[1])
        assert confirmed <= before < end
        proxy.cut()
        agent.wait_log("(streaming from replication slot(.|\n)*){2}")
        execute(db, "insert into ta select g, g from generate_series(301, 310) g")
        messages = broker.collect(310, timeout=120, settle=2)
        assert agent.stop() == 0
        log = agent.log()
    finally:
        agent.close()
        proxy.close()
    ids = [ev["new"]["id"] for _, ev in events_of(messages)]
    assert ids == list(range(1, 311)), log
    resumed = re.search(r"streaming from replication slot \S+, after (\S+)", log).group(1)
    assert lsn_int(resumed) >= end


@pytest.mark.parametrize("plugin", PLUGINS)
def test_postgres_restart_mid_stream(db, broker, plugin):
    # fresh_db (under db) holds no connection across the restart
    agent = Agent(agent_args(db, broker, plugin=plugin))
    try:
        agent.wait_log("streaming from replication slot")
        workload(db, 100)
        broker.collect(2000, timeout=300, settle=0)
        server("pg", "restart")
        two_table_workload(db, 200, ROWS, first=100)
        messages = broker.collect(2 * 200 * ROWS, timeout=600, settle=3)
        assert agent.stop() == 0
        log = agent.log()
    finally:
        agent.close()
    report = check_messages(db, messages)
    assert_delivered(report, 2 * 200 * ROWS)
    assert "reconnecting in" in log
    assert "sessions=2" in log
