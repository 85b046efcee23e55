"""walcast-agent on RabbitMQ's scaling features, on the single test broker
(issue 16; the 3-node cluster's tests are test_cluster_*.py):

- queue types: --queue-type quorum and stream declare what they say
  (rabbitmqctl reads them back) and deliver to a real consumer; a broker
  that holds the queue with another type stops the agent, exit 1, in its
  own words;
- partitions: with --partitions 4 every change arrives in exactly one
  queue <queue>-i, the one the documented hash names (computed here in
  Python from docs/partitioning.md, not from the agent), each key's
  changes in commit order; a TRUNCATE in every partition; batches never
  span partitions; load rows go where inserts of the same key go;
- failover: several --amqp-uri, the first a closed port, connect to the
  next; the node in use failing moves the agent to the next with nothing
  lost or reordered; none reachable: exit 1 naming each (masked) URI;
- bad input: exit 1 with a clear message.

No timing is asserted: waits only bound how long a failing test takes.
"""
import json
import re
import uuid

import pika
import pytest

from agent_helpers import (REFERENCE_SLOT, Agent, CuttableProxy, assert_delivered,
                           check_messages, error_lines, execute, http_port, lsn_int,
                           metric, prepare_db, rabbitmqctl, run_agent, wait_metrics)
from conftest import ROOT, connect
from mongo_helpers import wait_confirmed

SLOT = "wc_scaling"
N = 4


# ---- the partition hash, from docs/partitioning.md ----

def fnv1a(data):
    h = 2166136261
    for byte in data:
        h ^= byte
        h = (h * 16777619) & 0xFFFFFFFF
    return h


def value_text(v):
    """A key value's text as the record writes it: bodies are parsed with
    parse_int/parse_float=str, so numbers are their digits as sent, and a
    string is its characters."""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    assert isinstance(v, str), v
    return v


def partition_of(ev, n):
    """ev: a record parsed with numbers as text.  None for a TRUNCATE."""
    if ev["action"] == "T":
        return None
    if ev["action"] == "M":
        return fnv1a(ev["prefix"].encode()) % n
    data = ev["schema"].encode() + b"\0" + ev["table"].encode() + b"\0"
    row = ev["old"] if ev["action"] == "D" else ev["new"]
    for column in ev.get("pk") or []:
        data += value_text(row[column]).encode() + b"\0"
    return fnv1a(data) % n


def test_partition_hash_vectors():
    """The contract's vectors and docs/partitioning.md's records, so that
    this file's hash is the documented one before it judges the agent's."""
    assert fnv1a(b"") == 0x811C9DC5
    assert fnv1a(b"a") == 0xE40C292C
    assert fnv1a(b"foobar") == 0xBF9CF968
    with open(ROOT + "/docs/partitioning.md", encoding="utf-8") as f:
        docs = f.read()
    rows = re.findall(r"^\| `(\w+)` \| `(\w+)` \| (.+?) \| `(0x[0-9a-f]{8})` \| (\d) \|$", docs, re.M)
    assert len(rows) >= 3, "docs/partitioning.md lists its record vectors"
    for schema, table, values, hexhash, part in rows:
        keys = re.findall(r"`([^`]*)`", values)
        data = schema.encode() + b"\0" + table.encode() + b"\0"
        data += b"".join(k.encode() + b"\0" for k in keys)
        assert fnv1a(data) == int(hexhash, 16), (schema, table, keys)
        assert fnv1a(data) % 4 == int(part)


# ---- helpers ----

def agent_args(dsn, amqp_uri, *extra):
    return ["-d", dsn, "-S", SLOT, "-s", "1", "--stats-interval", "0",
            "--reconnect-max-delay", "2", "--amqp-uri", amqp_uri] + list(extra)


def names():
    tag = uuid.uuid4().hex[:8]
    return "wc_x_" + tag, "wc_q_" + tag


def channel(amqp_uri):
    conn = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    return conn, conn.channel()


def drain(amqp_uri, queue):
    """Every message in a (classic or quorum) queue, in queue order:
    (routing key, properties, body)."""
    conn, ch = channel(amqp_uri)
    out = []
    try:
        while True:
            method, props, body = ch.basic_get(queue, auto_ack=True)
            if method is None:
                return out
            out.append((method.routing_key, props, body))
    finally:
        conn.close()


def read_stream(amqp_uri, queue, count, timeout=60):
    """A stream from its first offset, as a stream consumer reads it:
    prefetch, manual acks, x-stream-offset=first."""
    conn, ch = channel(amqp_uri)
    out = []
    try:
        ch.basic_qos(prefetch_count=100)
        for method, props, body in ch.consume(queue, arguments={"x-stream-offset": "first"},
                                              inactivity_timeout=timeout):
            if method is None:
                break
            out.append((method.routing_key, props, body))
            ch.basic_ack(method.delivery_tag)
            if len(out) >= count:
                break
        ch.cancel()
    finally:
        conn.close()
    return out


def delete_layout(amqp_uri, exchange, queues):
    conn, ch = channel(amqp_uri)
    for q in queues:
        ch.queue_delete(q)
    ch.exchange_delete(exchange)
    conn.close()


def current_lsn(dsn):
    conn = connect(dsn)
    cur = conn.cursor()
    cur.execute("select pg_current_wal_lsn()::text")
    lsn = cur.fetchone()[0]
    conn.close()
    return lsn


def until_confirmed(dsn, agent, *statements):
    """Run statements, then wait until the agent confirmed all of them:
    every message is then in its queue."""
    execute(dsn, *statements)
    wait_confirmed(dsn, SLOT, current_lsn(dsn), agent)


def ctl_json(*args):
    """rabbitmqctl list_... as dicts, arguments ([key, type, value]...) as
    {key: value}."""
    rows = json.loads(rabbitmqctl(*args, "--formatter", "json").stdout)
    for r in rows:
        if "arguments" in r:
            r["arguments"] = {k: v for k, _, v in r["arguments"]}
    return rows


def as_text(body):
    return json.loads(body, parse_int=str, parse_float=str)


def one_error(stderr, pattern):
    errs = error_lines(stderr)
    assert len(errs) == 1, stderr
    assert re.search(pattern, errs[0]), errs[0]
    return errs[0]


@pytest.fixture
def db(fresh_db):
    return prepare_db(fresh_db, SLOT,
                      "create table items (id int primary key, v int)",
                      "create table codes (code text primary key, v int)",
                      "create table pairs (a int, b text, v int, primary key (a, b))",
                      "create table nokey (v int)")


# ---- queue types ----

def test_queue_type_quorum_declares_and_delivers(db, amqp_uri):
    exchange, queue = names()
    agent = Agent(agent_args(db, amqp_uri, "--exchange", exchange, "--queue", queue,
                             "--queue-type", "quorum"))
    try:
        agent.wait_log("streaming from replication slot")
        until_confirmed(db, agent, "insert into items values (1, 1), (2, 2)",
                        "update items set v = 3 where id = 1")
        declared = {q["name"]: q for q in ctl_json("list_queues", "name", "type", "durable")}
        assert declared[queue]["type"] == "quorum"
        assert declared[queue]["durable"] is True
        got = [json.loads(b) for _, _, b in drain(amqp_uri, queue)]
        assert [(e["action"], e["new"]) for e in got] == [
            ("I", {"id": 1, "v": 1}), ("I", {"id": 2, "v": 2}), ("U", {"id": 1, "v": 3})]
        assert agent.stop() == 0
    finally:
        agent.close()
        delete_layout(amqp_uri, exchange, [queue])


def test_queue_type_stream_declares_retention_and_delivers(db, amqp_uri):
    exchange, queue = names()
    agent = Agent(agent_args(db, amqp_uri, "--exchange", exchange, "--queue", queue,
                             "--queue-type", "stream", "--queue-max-age", "7D",
                             "--queue-max-length-bytes", "1GB"))
    try:
        agent.wait_log("streaming from replication slot")
        until_confirmed(db, agent, "insert into items select g, g from generate_series(1, 20) g")
        declared = {q["name"]: q for q in ctl_json("list_queues", "name", "type", "arguments")}
        assert declared[queue]["type"] == "stream"
        args = declared[queue]["arguments"]
        assert args["x-queue-type"] == "stream"
        assert args["x-max-age"] == "7D"
        assert args["x-max-length-bytes"] == 1024 ** 3
        # a stream keeps its history: two readers from the start both get all
        for _ in range(2):
            got = [json.loads(b)["new"]["id"] for _, _, b in read_stream(amqp_uri, queue, 20)]
            assert got == list(range(1, 21))
        assert agent.stop() == 0
    finally:
        agent.close()
        delete_layout(amqp_uri, exchange, [queue])


def test_queue_type_refused_by_the_broker_exits_1(db, amqp_uri):
    """A queue that exists as classic cannot be declared quorum: the broker
    refuses, the agent names its words and exits 1."""
    exchange, queue = names()
    conn, ch = channel(amqp_uri)
    ch.queue_declare(queue, durable=True)
    conn.close()
    try:
        rc, _, err = run_agent(agent_args(db, amqp_uri, "--exchange", exchange, "--queue", queue,
                                          "--queue-type", "quorum"))
        assert rc == 1, err
        line = one_error(err, r'declaring quorum queue "%s" failed: PRECONDITION_FAILED' % queue)
        assert "x-queue-type" in line
    finally:
        delete_layout(amqp_uri, exchange, [queue])


# ---- partitions ----

WORKLOAD = (
    ["insert into items select g, 0 from generate_series(1, 40) g",
     "insert into codes select 'caf\u00e9 ' || g || E' \"q\"', 0 from generate_series(1, 20) g",
     "insert into pairs select g % 5, 'k' || g, 0 from generate_series(1, 20) g",
     "insert into nokey select g from generate_series(1, 5) g"]
    + ["update items set v = v + 1 where id %% 3 = %d" % (r % 3) for r in range(6)]
    + ["update codes set v = v + 1", "update pairs set v = v + 1 where a < 3",
       "delete from items where id > 35",
       "update items set id = 1001 where id = 1",
       "select pg_logical_emit_message(true, 'app.audit', 'in')",
       "select pg_logical_emit_message(false, 'app.other', 'out')",
       "truncate nokey"])
# I 40 + 20 + 20 + 5, U 6 * 40 / 3 + 20 + 12, D 5, U 1, M 2 (and the T,
# in every partition)
CHANGES = 85 + 112 + 5 + 1 + 2


def run_partitioned(db, amqp_uri, statements, *extra):
    """The agent with --partitions N until statements (one transaction
    each) are confirmed: every partition's messages, {i: [...]}."""
    exchange, queue = names()
    queues = ["%s-%d" % (queue, i) for i in range(N)]
    agent = Agent(agent_args(db, amqp_uri, "--exchange", exchange, "--queue", queue,
                             "--partitions", str(N), *extra))
    try:
        agent.wait_log("streaming from replication slot")
        until_confirmed(db, agent, *statements)
        assert agent.stop() == 0
        return {i: drain(amqp_uri, q) for i, q in enumerate(queues)}
    finally:
        agent.close()
        delete_layout(amqp_uri, exchange, queues)


def row_key(ev):
    row = ev["old"] if ev["action"] == "D" else ev["new"]
    return ev["table"], tuple(str(row[c]) for c in ev.get("pk") or [])


def test_partitions_route_every_change_to_its_hash(db, amqp_uri):
    got = run_partitioned(db, amqp_uri, WORKLOAD)
    seen = {}
    truncates = {}
    for i, messages in got.items():
        assert messages, "partition %d received nothing" % i
        order = {}
        for key, props, body in messages:
            ev = as_text(body)
            assert key == str(i)                      # the routing key is the partition
            if ev["action"] == "T":
                truncates[i] = props.message_id
                continue
            assert partition_of(ev, N) == i, (i, ev)  # the documented hash
            assert props.message_id not in seen       # exactly one queue
            seen[props.message_id] = i
            if ev["action"] in ("I", "U", "D"):
                # each key's changes in commit order within its partition
                pos = (lsn_int(ev["commit_lsn"]), int(ev["seq"]))
                k = row_key(ev)
                assert order.get(k, (-1,)) < pos, (k, order.get(k), pos)
                order[k] = pos
    assert len(seen) == CHANGES
    # a TRUNCATE reaches every partition, ids <id>:p<i>
    assert sorted(truncates) == list(range(N))
    base = truncates[0][:-len(":p0")]
    assert truncates == {i: "%s:p%d" % (base, i) for i in range(N)}
    # the update that moved a key went to the new key's partition
    moved = [as_text(b) for i in got for _, _, b in got[i]
             if as_text(b).get("new", {}).get("id") == "1001"]
    assert len(moved) == 1


def test_partitions_key_history_in_one_queue(db, amqp_uri):
    """Every change of one key, in commit order, in one queue: the values
    an update writes grow, and the delete comes last."""
    got = run_partitioned(db, amqp_uri, ["insert into items select g, 0 from generate_series(1, 12) g"]
                          + ["update items set v = %d" % r for r in range(1, 6)]
                          + ["delete from items"])
    got = {i: [json.loads(b) for _, _, b in messages] for i, messages in got.items()}
    history = {}
    where = {}
    for i, events in got.items():
        for ev in events:
            k = (ev["new"] if ev["action"] != "D" else ev["old"])["id"]
            assert where.setdefault(k, i) == i
            history.setdefault(k, []).append((ev["action"], ev.get("new", {}).get("v")))
    assert sorted(history) == list(range(1, 13))
    for k, h in history.items():
        assert h == [("I", 0), ("U", 1), ("U", 2), ("U", 3), ("U", 4), ("U", 5), ("D", None)], (k, h)


def insert_of(table, key):
    """The record fields the hash reads, for an insert into public.<table>."""
    return {"action": "I", "schema": "public", "table": table, "pk": ["id"], "new": {"id": str(key)}}


@pytest.mark.parametrize("batch", ["transaction", "window"])
def test_partitions_batches_never_span_partitions(db, amqp_uri, batch):
    """One transaction of 60 inserts, batched: a message closes exactly
    where the next row's partition differs, so the messages are the runs
    of equal partitions in commit order, each in its partition's queue."""
    got = run_partitioned(db, amqp_uri, ["insert into items select g, 0 from generate_series(1, 60) g",
                                         "truncate nokey"], "--batch", batch)
    parts = [partition_of(insert_of("items", g), N) for g in range(1, 61)]
    runs = 1 + sum(parts[k] != parts[k - 1] for k in range(1, 60))
    ids = set()
    batches = []
    for i, messages in got.items():
        for key, props, body in messages:
            batch = as_text(body)
            assert key == str(i)
            assert props.headers["count"] == len(batch)
            assert props.message_id not in ids
            ids.add(props.message_id)
            if batch[0]["action"] == "T":
                assert len(batch) == 1 and props.message_id.endswith(":p%d+1" % i)
                continue
            rows = [int(ev["new"]["id"]) for ev in batch]
            assert all(partition_of(ev, N) == i for ev in batch)
            assert rows == list(range(rows[0], rows[0] + len(rows)))  # consecutive
            batches.append(rows)
    assert sorted(r for rows in batches for r in rows) == list(range(1, 61))
    assert len(batches) == runs
    assert len(ids) == runs + N


def test_partitions_window_across_transactions(db, amqp_uri):
    """--batch window with partitions: one-row transactions on 8 keys, so
    that consecutive transactions often share a partition.  A message
    holds one partition's events, of one or more transactions, each key's
    in commit order, every change once."""
    statements = ["insert into items values (%d, 0)" % k for k in range(1, 9)]
    statements += ["update items set v = %d where id = %d" % (r, k) for r in range(1, 26) for k in range(1, 9)]
    got = run_partitioned(db, amqp_uri, statements, "--batch", "window", "--batch-linger-ms", "20")
    history = {}
    packed = 0
    for i, messages in got.items():
        for key, props, body in messages:
            batch = as_text(body)
            assert key == str(i) and props.headers["count"] == len(batch)
            assert all(partition_of(ev, N) == i for ev in batch)
            assert props.message_id == "%s:%s+%d" % (batch[0]["commit_lsn"], batch[0]["seq"], len(batch))
            packed += len({ev["xid"] for ev in batch}) > 1
            for ev in batch:
                history.setdefault(int(ev["new"]["id"]), []).append(int(ev["new"]["v"]))
    assert sorted(history) == list(range(1, 9))
    for k, h in history.items():
        assert h == list(range(26)), (k, h)
    # statements run one after another: whether they pack is timing, so
    # it is only reported
    print("window messages holding several transactions: %d" % packed)


def test_partitions_stream_super_stream_layout(db, amqp_uri):
    """With streams: RabbitMQ's super-stream layout (an exchange marked
    x-super-stream, bindings with x-stream-partition-order), each
    partition readable from its first offset."""
    exchange, queue = names()
    queues = ["%s-%d" % (queue, i) for i in range(N)]
    agent = Agent(agent_args(db, amqp_uri, "--exchange", exchange, "--queue", queue,
                             "--partitions", str(N), "--queue-type", "stream"))
    try:
        agent.wait_log("streaming from replication slot")
        until_confirmed(db, agent, "insert into items select g, 0 from generate_series(1, 30) g")
        ex = {e["name"]: e for e in ctl_json("list_exchanges", "name", "type", "arguments")}
        assert ex[exchange]["type"] == "direct"
        assert ex[exchange]["arguments"] == {"x-super-stream": True}
        binds = [b for b in ctl_json("list_bindings", "source_name", "destination_name",
                                     "routing_key", "arguments") if b["source_name"] == exchange]
        assert sorted((b["destination_name"], b["routing_key"], b["arguments"]["x-stream-partition-order"])
                      for b in binds) == [(q, str(i), i) for i, q in enumerate(queues)]
        types = {q["name"]: q["type"] for q in ctl_json("list_queues", "name", "type")}
        assert all(types[q] == "stream" for q in queues)
        expected = {i: [] for i in range(N)}
        for g in range(1, 31):
            expected[partition_of(insert_of("items", g), N)].append(g)
        for i, q in enumerate(queues):
            if expected[i]:
                got = [json.loads(b)["new"]["id"] for _, _, b in read_stream(amqp_uri, q, len(expected[i]))]
                assert got == expected[i]
        assert agent.stop() == 0
    finally:
        agent.close()
        delete_layout(amqp_uri, exchange, queues)


def test_partitions_load_rows_go_where_inserts_go(fresh_db, amqp_uri, tmp_path):
    """The initial load's read events hash like inserts: each row's later
    update arrives in the queue its read event did."""
    execute(fresh_db, "create table items (id int primary key, v int)",
            "insert into items select g, 0 from generate_series(1, 30) g")
    exchange, queue = names()
    queues = ["%s-%d" % (queue, i) for i in range(N)]
    args = ["-d", fresh_db, "-S", SLOT, "-s", "1", "--stats-interval", "0", "--create-slot",
            "--if-not-exists", "--state-dir", str(tmp_path), "--amqp-uri", amqp_uri,
            "--exchange", exchange, "--queue", queue, "--partitions", str(N)]
    try:
        rc, _, err = run_agent(args + ["--snapshot", "only"])
        assert rc == 0, err
        agent = Agent(args)
        try:
            agent.wait_log("streaming from replication slot")
            until_confirmed(fresh_db, agent, "update items set v = 1")
            assert agent.stop() == 0
        finally:
            agent.close()
        got = {i: [json.loads(b) for _, _, b in drain(amqp_uri, q)] for i, q in enumerate(queues)}
    finally:
        delete_layout(amqp_uri, exchange, queues)
    read_in, update_in = {}, {}
    for i, events in got.items():
        for ev in events:
            {"L": read_in, "U": update_in}[ev["action"]][ev["new"]["id"]] = i
    assert sorted(read_in) == list(range(1, 31))
    assert read_in == update_in
    assert len(set(read_in.values())) > 1


# ---- failover across brokers ----

def test_failover_first_uri_closed_connects_to_the_next(db, amqp_uri):
    """The first broker is a closed port: the agent warns, connects to the
    next, says which node it is on (log and metrics), and delivers."""
    exchange, queue = names()
    closed = re.sub(r"@([^:/]+):\d+", r"@\1:1", amqp_uri)
    port = re.search(r":(\d+)/", amqp_uri).group(1)
    agent = Agent(["-d", db, "-S", SLOT, "-s", "1", "--stats-interval", "0",
                   "--http-listen", "127.0.0.1:0", "--amqp-uri", closed + "," + amqp_uri,
                   "--exchange", exchange, "--queue", queue])
    try:
        agent.wait_log("connected to RabbitMQ at 127.0.0.1:%s" % port)
        node = "127.0.0.1:%s" % port
        samples = wait_metrics(http_port(agent), lambda s: metric(
            s, "walcast_amqp_connected_node", node=node) == 1, agent=agent)
        assert [k for k in samples if k[0] == "walcast_amqp_connected_node"] == [
            ("walcast_amqp_connected_node", frozenset({("node", node)}))]
        agent.wait_log("streaming from replication slot")
        until_confirmed(db, agent, "insert into items values (1, 1)")
        assert [json.loads(b)["new"] for _, _, b in drain(amqp_uri, queue)] == [{"id": 1, "v": 1}]
        log = agent.log()
        assert re.search(r" warning: could not connect to RabbitMQ at 127\.0\.0\.1:1: .*: trying the next RabbitMQ broker", log)
        assert "connected to RabbitMQ at 127.0.0.1:1," not in log
        assert "guest:guest" not in log
        assert agent.stop() == 0
    finally:
        agent.close()
        delete_layout(amqp_uri, exchange, [queue])


def test_failover_node_failure_moves_to_the_next(db, amqp_uri):
    """Two "nodes": a proxy in front of the broker, then the broker itself.
    The agent starts on the first; when it fails (cut, and refusing new
    connections), the agent moves to the next and what was unconfirmed is
    replayed from the slot: nothing lost, nothing out of order, duplicates
    only under their own message ids."""
    exchange, queue = names()
    port = re.search(r":(\d+)/", amqp_uri).group(1)
    dsn = db
    execute(dsn, "select pg_create_logical_replication_slot('%s', 'test_decoding')" % REFERENCE_SLOT)
    proxy = CuttableProxy(("127.0.0.1", int(port)))
    agent = Agent(["-d", dsn, "-S", SLOT, "-s", "1", "--stats-interval", "0",
                   "--reconnect-max-delay", "1", "--amqp-uri", proxy.uri(amqp_uri),
                   "--amqp-uri", amqp_uri, "--exchange", exchange, "--queue", queue])
    try:
        agent.wait_log("connected to RabbitMQ at 127.0.0.1:%d" % proxy.port)
        agent.wait_log("streaming from replication slot")
        execute(dsn, *["insert into items select g, %d from generate_series(%d, %d) g"
                       % (t, t * 50 + 1, t * 50 + 50) for t in range(10)])
        proxy.refuse_for(3600)
        proxy.cut()
        agent.wait_log("connected to RabbitMQ at 127.0.0.1:%s" % port)
        until_confirmed(dsn, agent, *["insert into items select g, %d from generate_series(%d, %d) g"
                                      % (t, t * 50 + 1, t * 50 + 50) for t in range(10, 20)])
        assert agent.stop() == 0
        messages = drain(amqp_uri, queue)
    finally:
        agent.close()
        proxy.close()
        delete_layout(amqp_uri, exchange, [queue])
    assert_delivered(check_messages(dsn, messages), 1000)


def test_failover_all_unreachable_exits_1(db):
    uris = ["amqp://walcast:s3cret-one@127.0.0.1:1/", "amqp://walcast:s3cret-two@127.0.0.1:2/%2f"]
    rc, _, err = run_agent(["-d", db, "-S", SLOT, "--amqp-uri", uris[0], "--amqp-uri", uris[1]])
    assert rc == 1, err
    line = one_error(err, "no RabbitMQ broker could be reached")
    assert "amqp://walcast:****@127.0.0.1:1/: could not connect to RabbitMQ at 127.0.0.1:1" in line
    assert "amqp://walcast:****@127.0.0.1:2/%2F: could not connect to RabbitMQ at 127.0.0.1:2" in line
    assert "s3cret" not in err


# ---- bad input ----

@pytest.mark.parametrize("args, message", [
    (["--partitions", "0"], r"--partitions: 0 is out of range \(1\.\.1024\)"),
    (["--partitions", "-1"], r"--partitions: -1 is out of range \(1\.\.1024\)"),
    (["--partitions", "1025"], r"--partitions: 1025 is out of range \(1\.\.1024\)"),
    (["--partitions", "four"], r'--partitions: "four" is not an integer'),
    (["--partitions", "4"], r"partitions needs queue"),
    (["--queue-type", "bogus"], r'--queue-type: "bogus" is not one of classic, quorum, stream'),
    (["--queue", "q", "--queue-max-age", "7D"], r"queue_max_age is a stream's retention: it needs queue_type = stream"),
    (["--queue", "q", "--queue-type", "quorum", "--queue-max-length-bytes", "1GB"],
     r"queue_max_length_bytes is a stream's retention"),
    (["--routing-key", "{partition}"], r"routing_key: \{partition\} needs partitions"),
    (["--queue", "q", "--partitions", "2", "-o", "include-pk=false"],
     r"include-pk=false is not possible with partitions \(a change's partition is its key's hash\)"),
    (["--amqp-uri", "amqp://h/,,amqp://h2/"], r"--amqp-uri: value 3 of 4: is empty"),
])
def test_partition_and_queue_type_bad_input_exits_1(db, amqp_uri, args, message):
    rc, _, err = run_agent(["-d", db, "-S", SLOT, "--amqp-uri", amqp_uri] + args)
    assert rc == 1, err
    one_error(err, message)
