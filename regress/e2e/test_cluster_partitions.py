"""Key-partitioned routing (`--partitions 4`) on the 3-node cluster, with
four concurrent consumers, one per partition queue (docs/partitioning.md):

- the agent declares the layout: a direct exchange (with `x-super-stream`
  for streams), queues `<queue>-0` .. `<queue>-3` of the chosen type with
  3 replicas, each bound with routing key `"i"` (and
  `x-stream-partition-order` for streams);
- every change arrives in exactly one partition, the one the documented
  hash gives (FNV-1a 32 of schema, table and key texts, mod 4, computed
  here from the contract's text, with its test vectors), both from the
  record as it arrived and from what PostgreSQL committed (the reference
  slot, for the workload's tables);
- every key's changes, and every table's within a partition, arrive in
  commit order (the fault suite's checker, per partition);
- a TRUNCATE arrives in every partition (ids `<id>:p<i>`, `+<count>` after
  it in a batch), a logical
  message in the partition of its prefix, and a batched message never
  holds two partitions;
- keys of every kind hash on their text as the record writes it: text
  with non-ASCII and escapes, numeric, a float, a boolean, a uuid, a
  composite key (in the record's pk order), and a table without a key
  (all of it in its table's partition).

The workload is the fault suite's (four tables, four writers, key-changing
updates, deletes, a truncate), without faults.
"""
import json
import re
import uuid

import pika
import pytest

from agent_helpers import Agent, execute, prepare_db, wait_for
from cluster_helpers import (NODES, cluster, fnv1a32, healthy_cluster, loads_raw,  # noqa: F401
                             partition_of_key, partition_of_record)
from conftest import connect
from fault_checker import check, lsn_int, read_log, truth_from_slot
from fault_harness import ConsumerLog, pick, seed_for
from fault_workload import DDL, TABLES, Workload

N = 4
SLOT = "wc_part"
REF_SLOT = "wc_part_ref"
PREFIX = "walcast-partition-test"
# The end of the run: a TRUNCATE reaches every partition.
END_DDL = ["create table fw_end (id int primary key)"]
KEY_DDL = [
    "create table kt_text (k text primary key, v int)",
    "create table kt_num (k numeric primary key, v int)",
    "create table kt_float (k float8 primary key, v int)",
    "create table kt_bool (k bool primary key, v int)",
    "create table kt_uuid (k uuid primary key, v int)",
    # the key's order (a, b) differs from the columns' (b, a)
    "create table kt_comp (b text, a int, v int, primary key (a, b))",
    "create table kt_nopk (v int)",
]
KEY_DML = [
    "insert into kt_text values ('a', 1), ('é', 1), ('tab\tand \"quote\"', 1), ('日本', 1), ('', 1)",
    "update kt_text set v = v + 1",
    "update kt_text set k = 'b' where k = 'a'",
    "delete from kt_text where k = 'é'",
    "insert into kt_num values (1.50, 1), (10, 1), (-0.001, 1), (12345678901234567890.5, 1)",
    "update kt_num set v = 2 where k > 0",
    "insert into kt_float values (0.1, 1), (-2.5e-7, 1), (3, 1)",
    "delete from kt_float where k = 3",
    "insert into kt_bool values (true, 1), (false, 1)",
    "update kt_bool set v = 5",
    "insert into kt_uuid values ('6f1c2a9e-3b1d-4c55-9a51-0d3e6b2a7c11', 1)",
    "insert into kt_comp values ('x', 1, 1), ('y', 1, 1), ('x', 2, 1)",
    "update kt_comp set v = 9 where a = 1",
    "delete from kt_comp where a = 2",
    "insert into kt_nopk select g from generate_series(1, 20) g",
]
FW = set(TABLES) | {"fw_end"}


def test_fnv1a_vectors():
    """The contract's test vectors (docs/partitioning.md)."""
    assert fnv1a32(b"") == 0x811c9dc5
    assert fnv1a32(b"a") == 0xe40c292c
    assert fnv1a32(b"foobar") == 0xbf9cf968


def events(entry):
    doc = loads_raw(entry["body"])
    return doc if isinstance(doc, list) else [doc]


def only_tables(entry, tables):
    """The entry with its body's events of these tables only (the
    checker's view of one partition's workload tables), or None."""
    doc = json.loads(entry["body"])
    evs = [e for e in (doc if isinstance(doc, list) else [doc]) if e.get("table") in tables]
    if not evs:
        return None
    return dict(entry, body=json.dumps(evs if isinstance(doc, list) else evs[0]))


def arrived(path):
    """The log's complete lines so far (a consumer may be writing one)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return [json.loads(line) for line in text[:text.rfind("\n") + 1].splitlines() if line]


def has_end(path):
    return any(e.get("table") == "fw_end" and e.get("action") == "T"
               for entry in arrived(path) for e in events(entry))


def truth_partition(change):
    """The partition of a committed change of the workload's tables
    (the key is the bigint id: its text is its digits), None for TRUNCATE."""
    if change.op == "T":
        return None
    return partition_of_key("public", change.table, [change.key], N)


@pytest.mark.parametrize("queue_type,batch", [("quorum", "change"), ("stream", "transaction")])
def test_four_partitions_four_consumers(fresh_db, healthy_cluster, tmp_path, queue_type, batch):
    cluster = healthy_cluster
    dsn = fresh_db
    seed = seed_for("partitions")
    execute(dsn, *(DDL + END_DDL + KEY_DDL))
    execute(dsn, "select pg_create_logical_replication_slot('%s', 'test_decoding')" % REF_SLOT)
    prepare_db(dsn, SLOT)
    exchange = "wc_px_" + uuid.uuid4().hex[:8]
    queue = "wc_pq_" + uuid.uuid4().hex[:8]
    # The brokers in the repeatable form of --amqp-uri.
    uris = []
    for n in NODES:
        uris += ["--amqp-uri", cluster.uris[n]]
    agent = Agent(["-d", dsn, "-S", SLOT, "-s", "1", "--exchange", exchange, "--queue", queue,
                   "--queue-type", queue_type, "--partitions", str(N), "--batch", batch] + uris)
    consumers = []
    try:
        agent.wait_log("streaming from replication slot", timeout=120)
        check_layout(cluster, exchange, queue, queue_type)
        # One consumer per partition, each on its own node where it can.
        offset = {"x-stream-offset": "first"} if queue_type == "stream" else None
        for i in range(N):
            order = NODES[i % 3:] + NODES[:i % 3]
            consumers.append(ConsumerLog(cluster.params(order), "%s-%d" % (queue, i),
                                         str(tmp_path / ("partition-%d.log" % i)), arguments=offset))
        workload = Workload(dsn, seed, pick(3000, 50000)).start()
        execute(dsn, *KEY_DML)
        execute(dsn, "select pg_logical_emit_message(true, '%s', 'hello')" % PREFIX)
        workload.join()
        execute(dsn, "truncate fw_end")
        for i, c in enumerate(consumers):
            wait_for(lambda: has_end(c.path), 300, "partition %d's end (the TRUNCATE of fw_end)" % i)
        assert agent.stop() == 0, agent.log()[-4000:]
    finally:
        for c in consumers:
            c.close()
        agent.close()
        delete_layout(cluster, exchange, queue)
    logs = [read_log(c.path) for c in consumers]
    conn = connect(dsn)
    try:
        truth = truth_from_slot(conn, REF_SLOT)
    finally:
        conn.close()
    check_records(logs)
    check_workload_tables(truth, logs)
    check_key_tables(truth, logs)


def check_layout(cluster, exchange, queue, queue_type):
    """The super-stream layout the agent declared."""
    x = cluster.exchange(exchange)
    assert x is not None and x["type"] == "direct", x
    if queue_type == "stream":
        assert x["arguments"].get("x-super-stream") is True, x
    bindings = cluster.bindings(exchange)
    for i in range(N):
        q = cluster.queue("%s-%d" % (queue, i))
        assert q is not None and q["type"] == queue_type, q
        assert sorted(q["members"]) == sorted(cluster.names.values()), q
        args = bindings.get(("%s-%d" % (queue, i), str(i)))
        assert args is not None, bindings
        if queue_type == "stream":
            assert args.get("x-stream-partition-order") == i, bindings
    assert len(bindings) == N, bindings


def delete_layout(cluster, exchange, queue):
    try:
        conn = pika.BlockingConnection(cluster.params())
        ch = conn.channel()
        for i in range(N):
            ch.queue_delete("%s-%d" % (queue, i))
        ch.exchange_delete(exchange)
        conn.close()
    except pika.exceptions.AMQPError:
        pass


def check_records(logs):
    """Every record in the partition the hash gives; routing key = the
    partition; a TRUNCATE in every partition, with ids <id>:p<i>; the
    logical message once, in its prefix's partition."""
    messages = {i: [] for i in range(N)}
    truncates = {}
    wrong = []
    for i, log in enumerate(logs):
        for entry in log:
            assert entry["rk"] == str(i), entry
            for rec in events(entry):
                if rec.get("action") not in ("I", "U", "D", "T", "M"):
                    continue        # transaction records (B/C), when sent
                want = partition_of_record(rec, N)
                if rec["action"] == "M":
                    messages[i].append(rec.get("prefix"))
                elif rec["action"] == "T":
                    truncates.setdefault((rec["table"], rec["commit_lsn"]), []).append(i)
                    # <id>:p<i>, and +<count> after it when batched
                    assert re.search(r":p%d(\+\d+)?$" % i, entry["mid"]), entry["mid"]
                if want is not None and want != i:
                    wrong.append((i, want, rec))
    assert not wrong, wrong[:5]
    assert len(truncates) == 2, truncates            # fw_d half-way, fw_end at the end
    for where in truncates.values():
        assert sorted(where) == list(range(N)), truncates
    got = [i for i, prefixes in messages.items() if PREFIX in prefixes]
    assert got == [fnv1a32(PREFIX.encode()) % N], messages


def check_workload_tables(truth, logs):
    """Per partition, the fault suite's checker against what PostgreSQL
    committed to that partition: nothing lost or misplaced, nothing
    reordered per table or per key."""
    spread = []
    for i, log in enumerate(logs):
        mine = [c for c in truth if c.table in FW and truth_partition(c) in (None, i)]
        part_log = [e for e in (only_tables(entry, FW) for entry in log) if e is not None]
        r = check(mine, part_log)
        assert r.ok() and r.lost == 0 and r.duplicated == 0, (i, r)
        assert r.changes == r.received, (i, r)
        spread.append(r.changes)
    # The keys spread: every partition has a share of the workload.
    assert all(n > 0 for n in spread), spread
    assert sum(spread) == len([c for c in truth if c.table in FW]) + 2 * (N - 1), spread


def check_key_tables(truth, logs):
    """The key-type tables: every change once, in one partition; each
    key's changes in commit order there; the keyless table whole in its
    table's partition."""
    seen = {}
    order = {}
    for i, log in enumerate(logs):
        for entry in log:
            for rec in events(entry):
                table = rec.get("table", "")
                if not table.startswith("kt_") or rec.get("action") not in ("I", "U", "D"):
                    continue
                ident = (rec["xid"], rec["lsn"], table)
                assert ident not in seen, (ident, seen.get(ident), i)
                seen[ident] = i
                row = rec.get("old") if rec["action"] == "D" else rec.get("new")
                key = (table, tuple(str(row[c]) for c in rec.get("pk") or []))
                pos = (lsn_int(rec["commit_lsn"]), int(rec["seq"]))
                order.setdefault((i, key), []).append(pos)
                if table == "kt_nopk":
                    assert rec.get("pk") in (None, []), rec
                    assert i == fnv1a32(b"public\0kt_nopk\0") % N
                if table == "kt_comp":
                    assert rec["pk"] == ["a", "b"] or rec["pk"] == ["b", "a"], rec
    committed = [c for c in truth if c.table.startswith("kt_") and c.op in ("I", "U", "D")]
    assert len(seen) == len(committed), (len(seen), len(committed))
    for (i, key), positions in order.items():
        assert positions == sorted(positions), (i, key, positions)
    # The key-changing update of kt_text went to the new key's partition.
    assert any(key == ("kt_text", ("b",)) for (_, key) in order)
