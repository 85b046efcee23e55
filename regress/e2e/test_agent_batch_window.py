"""walcast-agent with --batch window (issue 17): the events of consecutive
transactions in one AMQP message, closed by the caps, the routing key or
--batch-linger-ms, whichever first.

What a consumer (pika) receives: every transaction of a burst once, in
order, in fewer messages than transactions; a lone transaction arrives
without another one behind it; alternating routing keys close every
message; each event keeps its own id (in the record, or the envelope's
"id"); a stop sends what is held; a tiny in-flight window never stalls;
kill -9 then a restart loses nothing and keeps the order (the fault
suite's checker against a reference slot; duplicates, even under another
message id, are at-least-once); the initial load's chunks close as with
--batch transaction; the file sink beside it ignores batching; bad
values exit 1.  Partitions: test_agent_scaling.py.

No timing is asserted: waits only bound how long a failing test takes.
"""
import json

import pytest

from agent_helpers import (Agent, broker, check_messages, error_lines,  # noqa: F401
                           events_of, execute, in_background, join_ok, lsn_int,
                           prepare_db, run_agent, slot_info, wait_for)

SLOT = "wc_window"


def agent_args(dsn, broker, *extra):
    return (["-d", dsn, "-S", SLOT, "-s", "1", "--stats-interval", "1",
             "--reconnect-max-delay", "1", "--batch", "window"]
            + broker.agent_args() + list(extra))


# One client, one row per transaction, as fast as it commits.
PROCEDURES = [
    "create table items (id int primary key, v int)",
    "create table ta (id int primary key, v int)",
    "create table tb (id int primary key, v int)",
    """create procedure burst(first int, n int) language plpgsql as $$
       begin for i in first..first + n - 1 loop
         insert into items values (i, i); commit;
       end loop; end $$""",
    """create procedure alternate(n int) language plpgsql as $$
       begin for i in 1..n loop
         if i % 2 = 1 then insert into ta values (i, i); else insert into tb values (i, i); end if;
         commit;
       end loop; end $$""",
]


@pytest.fixture
def db(fresh_db):
    return prepare_db(fresh_db, SLOT, *PROCEDURES, reference=True)


def ids_of(messages, table="items"):
    return [ev["new"]["id"] for _, ev in events_of(messages) if ev.get("table") == table]


def has_id(n):
    """until= for Broker.collect: the message holding row n."""
    return lambda body: any(ev.get("new", {}).get("id") == n for ev in json.loads(body))


def stream(db, broker, statements, until, *extra):
    """The agent with extra arguments, the statements, and what arrives
    until the message until(body) accepts; then the agent stops, and
    whatever came after it (nothing, without a fault) is added."""
    agent = Agent(agent_args(db, broker, *extra))
    try:
        agent.wait_log("streaming from replication slot")
        execute(db, *statements)
        messages = broker.collect(0, timeout=120, until=until)
        assert agent.stop() == 0, agent.log()
        return broker.collect(len(messages), settle=1.0)
    finally:
        agent.close()


def check_batches(messages):
    """Every message a JSON array of its header's count, under the id of
    its first event, with one routing key for all of its events."""
    for key, props, body in messages:
        doc = json.loads(body)
        assert isinstance(doc, list) and len(doc) == props.headers["count"]
        first = doc[0]
        assert props.message_id == "%s:%d+%d" % (first["commit_lsn"], first["seq"], len(doc))
        assert {"public.%s.insert" % ev["table"] for ev in doc} == {key}


def test_burst_arrives_once_in_order_packed(db, broker):
    """2000 one-row transactions from one client: each arrives once, in
    commit order, and in fewer messages than transactions."""
    messages = stream(db, broker, ["call burst(1, 2000)"], has_id(2000), "--batch-linger-ms", "20")
    assert ids_of(messages) == list(range(1, 2001))
    check_batches(messages)
    assert len(messages) < 2000, len(messages)
    # each event keeps its own id: commit_lsn and seq, every one different
    own = {(ev["commit_lsn"], ev["seq"]) for _, ev in events_of(messages)}
    assert len(own) == 2000


def test_lone_transaction_arrives(db, broker):
    """One transaction and nothing after it: published once its linger is
    over, and confirmed to PostgreSQL after that."""
    agent = Agent(agent_args(db, broker, "--batch-linger-ms", "200"))
    try:
        agent.wait_log("streaming from replication slot")
        execute(db, "insert into items values (1, 1)")
        messages = broker.collect(1, timeout=10, settle=0)
        assert ids_of(messages) == [1]
        (commit,) = {ev["commit_lsn"] for _, ev in events_of(messages)}
        wait_for(lambda: slot_info(db, SLOT)[2] > lsn_int(commit), 30,
                 "the slot confirmed the lone transaction", detail=agent.log)
        assert agent.stop() == 0
    finally:
        agent.close()
    check_batches(messages)


def test_routing_key_change_closes_the_message(db, broker):
    """Consecutive transactions alternate between two tables (two routing
    keys): a message holds one key, so here one transaction each."""
    messages = stream(db, broker, ["call alternate(400)"], has_id(400), "--batch-linger-ms", "50")
    check_batches(messages)
    assert len(messages) == 400
    assert [ev["new"]["id"] for _, ev in events_of(messages)] == list(range(1, 401))


def test_stop_sends_what_is_held(db, broker):
    """A linger far longer than the test: SIGTERM sends the held message,
    waits for its confirm, and the slot moves past it."""
    agent = Agent(agent_args(db, broker, "--batch-linger-ms", "60000"))
    try:
        agent.wait_log("streaming from replication slot")
        execute(db, "call burst(1, 5)")
        agent.wait_log(r" txns=5 ")
        assert agent.stop() == 0
        log = agent.log()
    finally:
        agent.close()
    messages = broker.collect(1, timeout=30)
    assert ids_of(messages) == [1, 2, 3, 4, 5]
    assert len(messages) == 1, log
    (commit,) = {ev["commit_lsn"] for _, ev in events_of(messages)[-1:]}
    assert slot_info(db, SLOT)[2] > lsn_int(commit)


def test_tiny_inflight_window_never_stalls(db, broker):
    """--max-inflight-events 3 with a linger of a minute: held events fill
    the window, and the loop has the sink send them instead of waiting for
    confirms of what was never sent.  A transaction larger than the caps
    is cut at them; the last one alone fills the window."""
    messages = stream(db, broker, ["call burst(1, 200)",
                                   "insert into items select g, g from generate_series(201, 207) g",
                                   "call burst(208, 50)",
                                   "insert into items select g, g from generate_series(258, 260) g"],
                      has_id(260), "--batch-linger-ms", "60000",
                      "--max-inflight-events", "3", "--batch-max-events", "3")
    assert ids_of(messages) == list(range(1, 261))
    check_batches(messages)
    assert max(p.headers["count"] for _, p, _ in messages) <= 3
    # the 7-row transaction: cut at the caps, 3, 3 and 1; its last part
    # ends it, so the next transaction may join that message
    parts = [[i for i in ids if 201 <= i <= 207]
             for ids in ([ev["new"]["id"] for ev in json.loads(b)] for _, _, b in messages)]
    assert [p for p in parts if p] == [[201, 202, 203], [204, 205, 206], [207]]


def test_kill9_then_restart_loses_nothing(db, broker):
    """kill -9 while transactions stream, then a restart with the same
    arguments: nothing lost, nothing unexpected, every table and key in
    commit order.  Duplicates are at-least-once; a replay may cut other
    batches, so a change may come again under another message id."""
    args = agent_args(db, broker, "--batch-linger-ms", "10")
    execute(db, """create procedure paced(n int) language plpgsql as $$
                   begin for i in 1..n loop
                     insert into items values (i, i); commit;
                     if i % 50 = 0 then perform pg_sleep(0.02); end if;
                   end loop; end $$""")
    agent = Agent(args)
    try:
        agent.wait_log("streaming from replication slot")
        start = slot_info(db, SLOT)[2]
        thread, errors = in_background(execute, db, "call paced(3000)")
        wait_for(lambda: slot_info(db, SLOT)[2] > start, 60, "a first confirm", detail=agent.log)
        agent.kill9()
    finally:
        agent.close()
    agent = Agent(args)
    try:
        join_ok(thread, errors)
        messages = broker.collect(0, timeout=180, until=has_id(3000))
        assert agent.stop() == 0
        messages = broker.collect(len(messages), settle=1.0)
    finally:
        agent.close()
    report = check_messages(db, messages)
    assert report.changes == 3000
    assert (report.lost, report.unexpected, report.dup_changed,
            report.reordered_table, report.reordered_key) == (0, 0, 0, 0, 0), report
    assert sorted(set(ids_of(messages))) == list(range(1, 3001))


def test_debezium_bodies_carry_each_event_id(db, broker):
    """The debezium envelope has no id of its own: in a window message each
    event carries "id", the message id it would have alone."""
    messages = stream(db, broker, ["call burst(1, 20)"],
                      lambda b: any(e["after"]["id"] == 20 for e in json.loads(b)),
                      "--envelope", "debezium", "--batch-linger-ms", "50")
    docs = [ev for _, ev in events_of(messages)]
    assert [d["after"]["id"] for d in docs] == list(range(1, 21))
    assert len({d["id"] for d in docs}) == 20
    for _, props, body in messages:
        doc = json.loads(body)
        assert props.message_id == "%s+%d" % (doc[0]["id"], len(doc))
        # commit LSN and sequence: the id's form for every transactional event
        assert all(d["id"].endswith(":1") for d in doc)


def test_file_sink_beside_ignores_batching(db, broker, tmp_path):
    """With the file sink too: a line per event there, window messages on
    RabbitMQ."""
    path = tmp_path / "events.jsonl"
    messages = stream(db, broker, ["call burst(1, 300)"], has_id(300), "--file-path", str(path))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [ev["new"]["id"] for ev in lines] == list(range(1, 301))
    assert ids_of(messages) == list(range(1, 301))
    assert len(messages) < 300


def test_initial_load_closes_each_chunk(fresh_db, broker, tmp_path):
    """The initial load's rows carry no id of their own in the native
    envelope: their chunks close as with --batch transaction, under
    replay-stable ids."""
    execute(fresh_db, "create table items (id int primary key, v int)",
            "insert into items select g, g from generate_series(1, 25) g")
    rc, _, err = run_agent(["-d", fresh_db, "-S", SLOT, "--create-slot", "--state-dir", str(tmp_path),
                            "--snapshot", "only", "--snapshot-chunk-rows", "10", "--batch", "window",
                            "--batch-linger-ms", "60000"] + broker.agent_args(), timeout=120)
    assert rc == 0, err
    messages = broker.collect(3, timeout=60)
    assert [p.headers["count"] for _, p, _ in messages] == [10, 10, 5]
    ids = [p.message_id for _, p, _ in messages]
    assert [i.rsplit(":", 1)[1] for i in ids] == ["1+10", "11+10", "21+5"]
    assert all(i.startswith("snapshot:") and ":public.items:" in i for i in ids)
    assert ids_of(messages) == list(range(1, 26))


@pytest.mark.parametrize("value,why", [("-1", "out of range"), ("60001", "out of range"),
                                       ("soon", "is not an integer")])
def test_bad_linger_is_refused(value, why):
    rc, _, err = run_agent(["-S", "x", "--batch", "window", "--batch-linger-ms", value])
    assert rc == 1
    (line,) = error_lines(err)
    assert "--batch-linger-ms: " in line and why in line and "(0..60000)" in line
