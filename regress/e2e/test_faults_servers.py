"""Faults of the servers around the agent, against the mixed workload and
judged by the checker (fault_harness.py, docs/reliability.md): RabbitMQ
kill -9 and restart, and stop_app/start_app (fault 2); PostgreSQL stopped
with `pg_ctl stop -m immediate` and `-m fast`, then started (fault 4); the
Mongo mirror's server (FerretDB) killed -9 and started (fault 11).

Every fault is real: the project's own server scripts kill and start the
test servers (scripts/rabbitmq.sh kill, scripts/pg.sh halt MODE,
scripts/ferretdb.sh kill)."""
import json
import re
import time

import pytest

from agent_helpers import CuttableProxy, connect, lsn_int, rabbitmqctl
from fault_checker import read_log
from fault_harness import PLUGINS, fault_run, pick, script  # noqa: F401
from fault_workload import TABLES, table_rows
from mongo_helpers import Mirror, mirror  # noqa: F401


def test_rabbitmq_kill9_and_restart(fault_run):
    run = fault_run("RabbitMQ kill -9")
    kills = pick(2, 5)
    run.start_agent()
    run.start_workload()
    run.outages([("RabbitMQ kill -9", lambda: script("rabbitmq", "kill"))] * kills,
                lambda: script("rabbitmq", "start"))
    report = run.finish()
    assert report.ok(), report
    assert run.agent.log().count("streaming from replication slot") >= 2


def rabbitmq_start_app():
    rabbitmqctl("start_app")
    rabbitmqctl("await_startup")


def test_rabbitmq_stop_app_start_app(fault_run):
    """The broker's application stops (connections closed with a
    connection.close, the node stays up), then starts again."""
    run = fault_run("RabbitMQ stop_app/start_app")
    stops = pick(1, 2)
    run.start_agent()
    run.start_workload()
    run.outages([("RabbitMQ stop_app", lambda: rabbitmqctl("stop_app"))] * stops,
                rabbitmq_start_app, down=(1, 3))
    report = run.finish()
    assert report.ok(), report
    assert run.agent.log().count("streaming from replication slot") >= 2


def pg_halt(mode):
    return ("PostgreSQL stop -m " + mode, lambda: script("pg", "halt", mode))


@pytest.mark.parametrize("plugin", PLUGINS)
def test_postgres_stop_immediate_and_fast(fault_run, plugin):
    """pg_ctl stop -m immediate (crash recovery on start), 3 times in the
    full suite, then -m fast (a clean shutdown: the walsender sends what
    it has and the agent's connection ends); with each input (pgoutput's
    catalog connection goes down too)."""
    run = fault_run("PostgreSQL stop -m immediate / fast", plugin=plugin)
    faults = [pg_halt("immediate")] * pick(1, 3) + [pg_halt("fast")]
    run.start_agent()
    run.start_workload()
    run.outages(faults, lambda: script("pg", "start"), down=(0, 3))
    report = run.finish()
    assert report.ok(), report
    assert run.workload.retries > 0, "the faults did not meet the writers"
    # (two faults close together may meet one reconnect)
    assert run.agent.log().count("streaming from replication slot") >= 2


def mirror_equals_source(run, mirror):
    """The mirror's collections hold exactly the source tables' rows."""
    src = table_rows(run.dsn)
    diffs = {}
    for t in TABLES:
        col = "big" if t == "fw_c" else "note"
        docs = mirror.docs(t)
        got = {k: (d.get("v"), d.get(col)) for k, d in docs.items()}
        want = src[t]
        missing = set(want) - set(got)
        extra = set(got) - set(want)
        changed = [k for k in set(want) & set(got) if want[k] != got[k]]
        if missing or extra or changed:
            diffs[t] = dict(missing=len(missing), extra=len(extra), changed=len(changed),
                            sample=sorted(missing | extra | set(changed))[:5])
    return sum(len(r) for r in src.values()), diffs


def test_mirror_server_kill9(fault_run, mirror):
    """FerretDB killed -9 five times during the workload (and started
    again): the mirror ends equal to the source tables, and RabbitMQ, the
    other sink of the same agent, still passes the checker."""
    # FerretDB writes far slower than RabbitMQ takes messages: a smaller
    # workload in the small suite.
    run = fault_run("FerretDB kill -9", changes=pick(3000, 50000))
    run.agent_extra = mirror.agent_args()
    kills = pick(2, 5)
    run.start_agent()
    run.start_workload()
    run.outages([("FerretDB kill -9", lambda: script("ferretdb", "kill"))] * kills,
                lambda: script("ferretdb", "start"))
    report = run.finish(timeout=1800)
    assert report.ok(), report
    rows, diffs = mirror_equals_source(run, mirror)
    print("mirror after %d FerretDB kills: %d source rows, differences %s" % (kills, rows, diffs))
    assert diffs == {}
    assert "reconnecting in" in run.agent.log()


DEFAULT_MAX_MESSAGE_SIZE = 134217728     # RabbitMQ 3.10's default


def set_max_message_size(size):
    """The broker's max_message_size, read by every new channel."""
    rabbitmqctl("eval", "application:set_env(rabbit, max_message_size, %d)." % size)


def test_oversize_row_stops_the_agent_named(fault_run):
    """A row larger than RabbitMQ's max_message_size (1 MB here) during the
    workload: the broker closes the channel, and the agent stops with an
    error naming the table and the LSN (exit 2), without confirming its
    transaction.  Once the operator raises the limit, a new agent delivers
    it and everything after it: nothing lost."""
    run = fault_run("oversize row")
    set_max_message_size(1024 * 1024)
    try:
        run.start_agent()
        run.start_workload()
        run.pause(1, run.duration / 3)
        conn = connect(run.dsn)
        cur = conn.cursor()
        # 2.5 MB of hex: one change, one message, larger than the limit
        cur.execute("insert into fw_c (id, v, big) select 4000000001, 0, string_agg(md5(x::text), '') "
                    "from generate_series(1, 80000) x returning pg_current_wal_insert_lsn()::text")
        conn.close()
        code = run.agent.wait_exit(timeout=300)
        run.fault("oversize row", lambda: None)
        log = run.agent.log()
        assert code == 2, log[-3000:]
        m = re.search(r"cannot process the record at LSN (\S+) \(([^)]*)\).*max_message_size", log)
        assert m, log[-3000:]
        print([line for line in log.splitlines() if "RabbitMQ" in line or "error" in line][-4:])
        assert "fw_c" in m.group(2)
        truth = {c.key: c for c in run.truth() if c.table == "fw_c" and c.op == "I"}
        big = truth["4000000001"]
        assert lsn_int(m.group(1)) == big.lsn
        # The slot stays before the oversize row's transaction ends.
        assert run.sampler.latest() < run.commit_end(big.xid)
    finally:
        set_max_message_size(DEFAULT_MAX_MESSAGE_SIZE)
    report = run.finish()
    assert report.ok(), report


def port_of(uri):
    return int(re.search(r":(\d+)/", uri).group(1))


def test_sink_drops_the_connection_on_a_write(fault_run, mirror, amqp_uri, mongo_uri):
    """Each sink's server drops the connection on the agent's next write
    (a crash mid-request, as FerretDB does on a value it cannot store), in
    later sessions at random points of the workload: the agent reconnects
    and continues, never exits; RabbitMQ passes the checker, the mirror
    ends equal to the source.  The first session after --create-slot, with
    and without an initial load, is test_agent_faults.py's
    test_sink_fails_on_first_write_after_create_slot."""
    run = fault_run("sink drops the connection on a write", changes=pick(3000, 50000))
    rabbit = CuttableProxy(("127.0.0.1", port_of(amqp_uri)))
    ferret = CuttableProxy(("127.0.0.1", port_of(mongo_uri)))
    try:
        run.agent_amqp_uri = rabbit.uri(amqp_uri)
        run.agent_extra = ["--mongo-uri", ferret.uri(mongo_uri)] + mirror.agent_args()[2:]
        trips = pick(2, 6)
        run.start_agent()
        run.start_workload()
        for i in range(trips):
            run.pause(0.5, run.duration * 1.2 / trips)
            proxy = (rabbit, ferret)[i % 2]
            run.fault("drop on write", proxy.arm)
            deadline = time.monotonic() + 120
            nudged = time.monotonic()
            while proxy.armed:
                assert time.monotonic() < deadline, "the agent wrote nothing to the sink"
                run.agent_alive()
                # armed after the writers finished (the pauses are random):
                # a change of our own gives the agent its next write
                if not run.workload_running() and time.monotonic() - nudged > 2:
                    run.workload.nudge()
                    nudged = time.monotonic()
                time.sleep(0.05)
        report = run.finish(timeout=1800)
    finally:
        rabbit.close()
        ferret.close()
    assert report.ok(), report
    rows, diffs = mirror_equals_source(run, mirror)
    assert diffs == {}
    assert rabbit.trips + ferret.trips == trips
    assert run.agent.log().count("streaming from replication slot") >= 2


LOAD_FIRST_ID = 5 * 10 ** 9       # past every writer's keys (fault_workload.py)


def load_reads(run):
    """(message id, row id) of every initial-load read the consumer got."""
    out = []
    for entry in read_log(run.log_path):
        doc = json.loads(entry["body"])
        for ev in doc if isinstance(doc, list) else [doc]:
            if ev.get("action") == "L":
                out.append((entry["mid"], ev["new"]["id"]))
    return out


@pytest.mark.parametrize("load", [False, True], ids=["stream", "initial_load"])
def test_sink_fails_on_first_write_after_create_slot(fault_run, amqp_uri, tmp_path, load):
    """--create-slot (without --if-not-exists), then the broker connection
    breaks on the first thing the agent publishes: in the first session's
    stream, or in its initial load (and the broker then refuses
    connections for a while: the first session reached every server, so
    this is an outage to ride out, not a configuration error).  The
    reconnect must use the slot this process created, not try to create
    it again (issue 12); the workload that follows passes the checker."""
    rows = 20000 if load else 0
    setup = (["create extension walcast",
              "insert into fw_a (id, v, note) select %d + g, 0, 'preloaded' "
              "from generate_series(1, %d) g" % (LOAD_FIRST_ID, rows)] if load else [])
    run = fault_run("sink fails on the first write after --create-slot"
                    + (" (initial load)" if load else ""), agent_slot=False, setup=setup)
    proxy = CuttableProxy(("127.0.0.1", port_of(amqp_uri)))
    try:
        run.agent_amqp_uri = proxy.uri(amqp_uri)
        run.agent_extra = ["--create-slot", "--state-dir", str(tmp_path)] + \
            ([] if load else ["--snapshot", "never"])
        # The sinks are open before the slot is created: what the agent
        # sends next is the load's first row, or (streaming) the first change.
        agent = run.start_agent(wait=False)
        agent.wait_log("connected to RabbitMQ")
        run.fault("drop on the first write", proxy.arm)
        agent.wait_log("created replication slot")
        if load:
            agent.wait_log("reconnecting in")
            proxy.refuse_for(4)
            # the load starts over under a new slot: the workload after it
            agent.wait_log("streaming from replication slot", timeout=300)
            run.start_workload()
        else:
            agent.wait_log("streaming from replication slot")
            run.start_workload()
            agent.wait_log("reconnecting in")
            agent.wait_log("(?s)streaming from replication slot.*streaming from replication slot")
        report = run.finish()
        log = run.agent.log()
    finally:
        proxy.close()
    assert report.ok(), report
    assert proxy.trips == 1
    assert "already exists" not in log
    assert log.count("created replication slot") == (2 if load else 1), log
    if load:
        # The interrupted load starts over (it had streamed nothing); its
        # complete run has every row once.
        reads = load_reads(run)
        last_cp = reads[-1][0].split(":")[1]
        final = sorted(row for mid, row in reads if mid.split(":")[1] == last_cp)
        assert final == list(range(LOAD_FIRST_ID + 1, LOAD_FIRST_ID + rows + 1))
