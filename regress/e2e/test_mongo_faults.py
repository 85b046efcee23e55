"""The mirror under load and faults: it ends equal to the source tables,
row for row, and replays rewrite nothing (docs/mongo.md, "Replay").

Sources are compared with psycopg2, documents with pymongo.  Every wait
is bounded and only limits how long a failing test takes.
"""
import datetime
import os
import threading

import pymongo
import pytest

from agent_helpers import Agent, create_slot, execute, slot_info
from conftest import connect, server, short_sender_timeout  # noqa: F401
from mongo_helpers import Mirror, emit_marker, mirror, wait_confirmed, FERRETDB  # noqa: F401

SCHEMA = [
    "create table w1 (id int primary key, v int, s text, n numeric, ts timestamptz)",
    "create table w2 (a int, b int, payload text, primary key (a, b))",
]


# About 50k changes at scale 1, the figure.  FerretDB 1.24 does not
# push a document-valued _id down to PostgreSQL, so there every write to
# the composite-key table scans its collection: on FerretDB that table gets
# a fifth of the rows and the single-key table half again as many, which
# keeps the total (about 52k changes with MONGO_FLAVOR=mongodb, 51k here).
# WALCAST_MONGO_SCALE scales both.
SCALE = float(os.environ.get("WALCAST_MONGO_SCALE", "1"))
W1_ROWS, W2_ROWS = (30000, 2000) if FERRETDB else (20000, 10000)


def workload(dsn):
    """Bulk inserts, updates, deletes, key changes, composite keys, a
    truncate, and many one-row transactions (about 50k changes at scale 1)."""
    n1 = int(W1_ROWS * SCALE)
    n2 = int(W2_ROWS * SCALE)
    n3 = int(W2_ROWS * 0.3 * SCALE)
    execute(
        dsn,
        "insert into w1 select g, g, 'r' || g, (g * 1.25)::numeric(12,3), "
        "timestamptz '2024-01-01 00:00:00.000001+00' + g * interval '1.000123 second' "
        "from generate_series(1, %d) g" % n1,
        "update w1 set v = v + 1, s = s || 'u' where id % 3 = 0",
        "delete from w1 where id % 7 = 0",
        "update w1 set id = id + 100000 where id % 11 = 0",
        "insert into w2 select g %% 100, g, repeat('p', g %% 50) from generate_series(1, %d) g" % n2,
        "update w2 set payload = 'changed' where b % 2 = 0",
        "delete from w2 where b % 5 = 0",
        "truncate w2",
        "insert into w2 select g %% 10, g, 'again' from generate_series(1, %d) g" % n3,
    )
    conn = connect(dsn)
    cur = conn.cursor()
    for i in range(int(1000 * SCALE)):
        cur.execute("update w1 set v = v * 2 where id = %s", (1 + (i * 13) % n1,))
    conn.close()


def source_rows(dsn):
    conn = connect(dsn)
    cur = conn.cursor()
    cur.execute("select id, v, s, n, ts from w1")
    w1 = {r[0]: {"id": r[0], "v": r[1], "s": r[2], "n": r[3], "ts": r[4]} for r in cur.fetchall()}
    cur.execute("select a, b, payload from w2")
    w2 = {(("a", r[0]), ("b", r[1])): {"a": r[0], "b": r[1], "payload": r[2]} for r in cur.fetchall()}
    conn.close()
    return w1, w2


def assert_mirror_equals_source(dsn, mirror):
    w1, w2 = source_rows(dsn)
    docs1 = mirror.docs("w1")
    docs2 = mirror.docs("w2")
    assert sorted(docs1) == sorted(w1)
    assert sorted(docs2) == sorted(w2)
    for key, row in w1.items():
        d = docs1[key]
        ts = d["ts"] + datetime.timedelta(microseconds=d["_walcast"]["us"]["ts"])
        assert ts == row["ts"].astimezone(datetime.timezone.utc).replace(tzinfo=None), key
        n = d["n"] if FERRETDB else d["n"].to_decimal()
        assert str(n) == str(row["n"]), key
        assert (d["_id"], d["id"], d["v"], d["s"]) == (key, row["id"], row["v"], row["s"]), key
        assert set(d) == {"_id", "id", "v", "s", "n", "ts", "_walcast"}
    for key, row in w2.items():
        d = dict(docs2[key])
        d.pop("_walcast")
        assert d == dict(row, _id={"a": row["a"], "b": row["b"]}), key


def run_to_end(dsn, slot, mirror, agent=None):
    """Start (or keep) an agent on slot, wait until it confirmed everything
    written so far, stop it."""
    own = agent is None
    if own:
        agent = Agent(["-d", dsn, "-S", slot, "-s", "1"] + mirror.agent_args())
    try:
        wait_confirmed(dsn, slot, emit_marker(dsn), agent, timeout=600)
        assert agent.stop() == 0, agent.log()
        return agent.log()
    finally:
        agent.close()


@pytest.fixture
def db(fresh_db):
    execute(fresh_db, *SCHEMA)
    create_slot(fresh_db, "wc_mongo_a")
    create_slot(fresh_db, "wc_mongo_b")
    return fresh_db


@pytest.fixture
def mirrors(mongo_uri):
    ms = [Mirror(mongo_uri), Mirror(mongo_uri)]
    yield ms
    for m in ms:
        m.drop()


def test_mixed_workload_equals_source_and_replay_is_identical(db, mirrors):
    first, other = mirrors
    workload(db)
    run_to_end(db, "wc_mongo_a", first)
    assert_mirror_equals_source(db, first)
    before = {c: first.docs(c) for c in ("w1", "w2")}

    # The same WAL once more (a second slot at the same start), into the
    # same database: every change is now older than its document.
    other.dbname, other.db = first.dbname, first.db
    run_to_end(db, "wc_mongo_b", other)
    assert {c: first.docs(c) for c in ("w1", "w2")} == before


def test_kill9_mid_workload_then_restart(db, mirrors):
    killed, clean = mirrors
    agent = Agent(["-d", db, "-S", "wc_mongo_a", "-s", "1"] + killed.agent_args())
    try:
        agent.wait_log("streaming from replication slot")
        writer = threading.Thread(target=workload, args=(db,))
        writer.start()
        # Kill once the mirror holds part of the work.
        wait_until(lambda: killed.db.w1.estimated_document_count() > 100 * SCALE * 20, agent)
        agent.kill9()
        writer.join()
    finally:
        agent.close()
    run_to_end(db, "wc_mongo_a", killed)
    assert_mirror_equals_source(db, killed)

    # Identical documents, metadata included, to an uninterrupted run.
    run_to_end(db, "wc_mongo_b", clean)
    for c in ("w1", "w2"):
        assert killed.docs(c) == clean.docs(c)


def test_mongo_restart_mid_stream_loses_nothing(db, mirrors):
    m = mirrors[0]
    agent = Agent(["-d", db, "-S", "wc_mongo_a", "-s", "1", "--reconnect-max-delay", "2"]
                  + m.agent_args())
    try:
        agent.wait_log("streaming from replication slot")
        writer = threading.Thread(target=workload, args=(db,))
        writer.start()
        wait_until(lambda: m.db.w1.estimated_document_count() > 100 * SCALE * 20, agent)
        server("ferretdb", "restart")
        writer.join()
        agent.wait_log("reconnecting in", timeout=120)
        run_to_end(db, "wc_mongo_a", m, agent=agent)
    finally:
        agent.close()
    assert_mirror_equals_source(db, m)


def wait_until(pred, agent, timeout=300):
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if pred():
                return
        except pymongo.errors.PyMongoError:  # the server may be restarting
            pass
        if agent.proc.poll() is not None:
            raise AssertionError("agent exited:\n" + agent.log())
        time.sleep(0.1)
    raise AssertionError("condition not reached:\n" + agent.log())


N_SLOW = 1000


def test_status_keeps_flowing_while_the_mirror_writes(db, mirror, short_sender_timeout):
    """1000 rows inserted, then updated in one transaction, one document
    per round trip (--mongo-bulk-max 1) on the composite-key table, which
    FerretDB scans for every update: the agent spends far longer than the
    3 s wal_sender_timeout on what it has already received, so its status
    updates must go out meanwhile, or the server ends the session and the
    mirror starts over from the slot."""
    agent = Agent(["-d", db, "-S", "wc_mongo_a", "-s", "1"]
                  + mirror.agent_args("--mongo-bulk-max", "1"))
    try:
        agent.wait_log("streaming from replication slot")
        pid = slot_info(db, "wc_mongo_a")[0]
        execute(db, "insert into w2 select g %% 100, g, 'p' from generate_series(1, %d) g" % N_SLOW,
                "update w2 set payload = 'changed'")
        wait_confirmed(db, "wc_mongo_a", emit_marker(db), agent, timeout=600)
        assert slot_info(db, "wc_mongo_a")[0] == pid
        assert agent.stop() == 0
        log = agent.log()
    finally:
        agent.close()
    assert mirror.db.w2.count_documents({"payload": "changed"}) == N_SLOW
    assert "reconnecting" not in log, log
