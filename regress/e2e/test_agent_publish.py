"""walcast-agent end to end: what a consumer receives from RabbitMQ.

Every operation, every envelope, routing keys, properties and headers,
message ids, per-transaction batching, and the stdout sink.
"""
import json
import signal

import pytest

from agent_helpers import (Agent, Broker, broker, create_slot, events_of,  # noqa: F401
                           execute, lsn_int, prepare_db, slot_info)

SLOT = "wc_agent_e2e"


def agent_args(dsn, *extra):
    return ["-d", dsn, "-S", SLOT, "-s", "1", "--stats-interval", "1",
            "--reconnect-max-delay", "2"] + list(extra)


@pytest.fixture
def db(fresh_db):
    return prepare_db(fresh_db, SLOT,
                      "create table items (id int primary key, name text, qty int)",
                      "create table notes (a int, b int, body text, primary key (a, b))")


WORKLOAD = [
    "insert into items values (1, 'apple', 3), (2, 'pear', 5)",
    "update items set qty = 4 where id = 1",
    "delete from items where id = 2",
    "insert into notes values (1, 2, 'composite key')",
    "select pg_logical_emit_message(true, 'app', 'in a transaction')",
    "select pg_logical_emit_message(false, 'app', 'outside')",
    "truncate items",
]


def run_workload(dsn, broker, count, *extra):
    agent = Agent(agent_args(dsn, *broker.agent_args(), *extra))
    try:
        agent.wait_log("streaming from replication slot")
        execute(dsn, *WORKLOAD)
        messages = broker.collect(count)
        assert agent.stop() == 0, agent.log()
        return messages, agent.log()
    finally:
        agent.close()


def test_every_operation_native(db, broker):
    messages, log = run_workload(db, broker, 8)
    assert len(messages) == 8, log
    # one statement per transaction: commit order is the order of WORKLOAD
    assert [m[0] for m in messages] == [
        "public.items.insert", "public.items.insert", "public.items.update",
        "public.items.delete", "public.notes.insert", "_.app.message",
        "_.app.message", "public.items.truncate"]
    bodies = [json.loads(b) for _, _, b in messages]
    assert [b["action"] for b in bodies] == ["I", "I", "U", "D", "I", "M", "M", "T"]
    ins = [b for b in bodies if b["action"] == "I" and b["table"] == "items"]
    assert [r["new"] for r in ins] == [{"id": 1, "name": "apple", "qty": 3},
                                       {"id": 2, "name": "pear", "qty": 5}]
    upd = next(b for b in bodies if b["action"] == "U")
    assert upd["new"]["qty"] == 4
    dele = next(b for b in bodies if b["action"] == "D")
    assert dele["old"] == {"id": 2}
    assert [b["content"] for b in bodies if b["action"] == "M"] == ["in a transaction", "outside"]


def test_properties_headers_and_message_ids(db, broker):
    messages, _ = run_workload(db, broker, 8)
    ids = [p.message_id for _, p, _ in messages]
    assert len(set(ids)) == len(ids)
    for key, props, body in messages:
        ev = json.loads(body)
        assert props.delivery_mode == 2
        assert props.content_type == "application/json"
        assert props.timestamp and props.timestamp > 1_600_000_000
        h = props.headers
        assert h["lsn"] == ev["lsn"]
        if ev.get("transactional", True):
            # commit LSN + sequence: identical on every replay
            assert props.message_id == "%s:%d" % (ev["commit_lsn"], ev["seq"])
            assert h["xid"] == ev["xid"]
        else:
            assert props.message_id == ev["lsn"]
            assert "xid" not in h
        if ev["action"] in "IUDT":
            assert h["schema"] == ev["schema"] == "public"
            assert h["table"] == ev["table"]
            op = {"I": "insert", "U": "update", "D": "delete", "T": "truncate"}[ev["action"]]
            assert h["op"] == op
            assert key == "public.%s.%s" % (ev["table"], op)
        else:
            assert h["op"] == "message"


def test_routing_key_template(db, amqp_uri):
    broker = Broker(amqp_uri, binding="cdc.items")
    try:
        # only items' changes are bound: the rest is dropped by policy
        messages, log = run_workload(db, broker, 5, "--routing-key", "cdc.{table}",
                                     "--on-return", "drop")
        assert {m[0] for m in messages} == {"cdc.items"}
        assert sorted(json.loads(b)["action"] for _, _, b in messages) == ["D", "I", "I", "T", "U"]
        assert "on_return=drop" in log
        assert "returned=3" in log
    finally:
        broker.delete()


def test_debezium_envelope(db, broker):
    messages, _ = run_workload(db, broker, 8, "--envelope", "debezium")
    docs = [json.loads(b) for _, _, b in messages]
    ops = [d["op"] for d in docs]
    assert sorted(ops) == sorted(["c", "c", "u", "d", "c", "m", "m", "t"])
    create = next(d for d in docs if d["op"] == "c" and d["source"]["table"] == "items")
    assert create["before"] is None and create["after"]["name"] == "apple"
    assert create["source"]["schema"] == "public"
    assert isinstance(create["source"]["txId"], int)
    assert isinstance(create["source"]["lsn"], int)
    upd = next(d for d in docs if d["op"] == "u")
    assert upd["after"] == {"id": 1, "name": "apple", "qty": 4}
    dele = next(d for d in docs if d["op"] == "d")
    assert dele["after"] is None and dele["before"]["id"] == 2


def test_flat_envelope(db, broker):
    messages, _ = run_workload(db, broker, 8, "--envelope", "flat")
    docs = [json.loads(b) for _, _, b in messages]
    rows = [d for d in docs if d.get("type") == "items" and d["__op"] != "truncate"]
    assert [(d["entry_id"], d["__op"]) for d in rows] == [
        (1, "insert"), (2, "insert"), (1, "update"), (2, "delete")]
    assert rows[0]["name"] == "apple" and rows[0]["qty"] == 3
    assert rows[3]["__deleted"] is True
    note = next(d for d in docs if d.get("type") == "notes")
    assert note["entry_id"] == {"a": 1, "b": 2}


def test_transaction_batching(db, broker):
    """25 inserts in one transaction, batches of at most 10 events: three
    JSON-array messages of 10, 10 and 5 events, ids "<first id>+<count>"."""
    agent = Agent(agent_args(db, *broker.agent_args(), "--batch", "transaction",
                             "--batch-max-events", "10"))
    try:
        agent.wait_log("streaming from replication slot")
        execute(db, "insert into items select g, 'n' || g, g from generate_series(1, 25) g",
                "insert into notes values (1, 1, 'x')")
        messages = broker.collect(4)
        assert agent.stop() == 0
    finally:
        agent.close()
    assert len(messages) == 4
    counts = [p.headers["count"] for _, p, _ in messages]
    assert counts == [10, 10, 5, 1]
    for _, props, body in messages:
        doc = json.loads(body)
        assert isinstance(doc, list) and len(doc) == props.headers["count"]
        first = doc[0]
        assert props.message_id == "%s:%d+%d" % (first["commit_lsn"], first["seq"], len(doc))
    ids = [ev["new"]["id"] for _, ev in events_of(messages) if ev["table"] == "items"]
    assert ids == list(range(1, 26))
    assert messages[0][0] == "public.items.insert"
    assert messages[3][0] == "public.notes.insert"


def test_batches_identical_on_replay(db, amqp_uri):
    """Two slots at the same position stand for a replay: the same batches
    with the same message ids and bodies come out of both."""
    create_slot(db, SLOT + "_b")
    execute(db, "insert into items select g, 'n' || g, g from generate_series(1, 40) g",
            "update items set qty = qty + 1 where id <= 15",
            "insert into notes select 1, g, 'x' from generate_series(1, 3) g")
    seen = []
    for slot in (SLOT, SLOT + "_b"):
        broker = Broker(amqp_uri)
        try:
            args = ["-d", db, "-S", slot, "-s", "1", *broker.agent_args(),
                    "--batch", "transaction", "--batch-max-events", "7",
                    "--batch-max-bytes", "2000"]
            agent = Agent(args)
            try:
                messages = broker.collect(10)
                assert agent.stop() == 0
            finally:
                agent.close()
            seen.append([(p.message_id, body) for _, p, body in messages])
        finally:
            broker.delete()
    assert len(seen[0]) >= 10
    assert seen[0] == seen[1]
    for _, body in seen[0]:
        assert len(body) <= 2000 or len(json.loads(body)) == 1


def test_stdout_sink_and_confirmed_position(db):
    """No --amqp-uri: JSON lines on stdout; the slot advances past them."""
    agent = Agent(agent_args(db))
    try:
        agent.wait_log("streaming from replication slot")
        execute(db, "insert into items values (7, 'x', 1)", "delete from items where id = 7")
        agent.wait_log(r"stats: events=2 ")
        assert agent.stop() == 0
        lines = [json.loads(line) for line in agent.out_lines()]
    finally:
        agent.close()
    assert [l["action"] for l in lines] == ["I", "D"]
    _, _, confirmed = slot_info(db, SLOT)
    assert confirmed > lsn_int(lines[-1]["commit_lsn"])


def test_transactions_larger_than_the_window(db, broker):
    """A window of 5 unconfirmed events and 60-row transactions: reading
    pauses inside transactions and resumes on confirms, nothing stalls."""
    agent = Agent(agent_args(db, *broker.agent_args(), "--max-inflight-events", "5",
                             "--batch-max-events", "5"))
    try:
        agent.wait_log("streaming from replication slot")
        execute(db, "insert into items select g, 'n', g from generate_series(1, 60) g",
                "insert into items select g, 'n', g from generate_series(61, 120) g")
        messages = broker.collect(120)
        assert agent.stop() == 0
    finally:
        agent.close()
    assert [json.loads(b)["new"]["id"] for _, _, b in messages] == list(range(1, 121))


def test_sighup_reopens_log_and_reloads(db, tmp_path):
    """SIGHUP after the log file was moved away (rotation): the agent writes
    to a new file at the configured path, and applies a reloadable setting
    changed in the config file."""
    log = tmp_path / "agent.log"
    conf = tmp_path / "agent.conf"
    conf.write_text("stats_interval = 0\n")
    agent = Agent(["-d", db, "-S", SLOT, "-s", "1", "-c", str(conf), "--log-file", str(log)],
                  log_file=str(log))
    try:
        agent.wait_log("streaming from replication slot")
        log.rename(tmp_path / "agent.log.1")
        conf.write_text("stats_interval = 1\n")
        agent.proc.send_signal(signal.SIGHUP)
        execute(db, "insert into items values (500, 'x', 1)")
        agent.wait_log("configuration reloaded")
        agent.wait_log(r"stats: events=1 ")
        assert agent.stop() == 0
    finally:
        agent.close()
    assert "stats:" not in (tmp_path / "agent.log.1").read_text()
