"""walcast-agent --plugin pgoutput against --plugin walcast, through the
agent binary, on the same WAL (issue 13).

Each test creates a walcast slot and pgoutput slot(s) side by side, runs
the workload of the decoder-level suite (pgoutput_workloads.py) under
hostile session settings, then runs one agent per slot to the file sink
(and, for the first test, to RabbitMQ too): the walcast agent as the
superuser, the pgoutput agent as a LOGIN REPLICATION role whose role and
database defaults are hostile (DateStyle, TimeZone, extra_float_digits,
bytea_output, IntervalStyle, client_encoding).  What the pgoutput agent
publishes must equal what the walcast agent publishes, field by field,
after exactly pgoutput_helpers.DIFFERENCES (docs/pgoutput.md); the same
text where no difference applies (but for the case of \\u hex digits);
and on RabbitMQ the same routing keys, message ids and headers.
"""
import json

from agent_helpers import Agent, Broker
from mongo_helpers import emit_marker, wait_confirmed
from pgoutput_helpers import (as_role, check, expected_events, hostile_role,  # noqa: F401
                              setup_db, slots, sql, wait_flushed, writer)
from pgoutput_workloads import (AGENT_TY_ROWS, GENERATED, IDENTITY_SCHEMA, PARTITIONED,
                                PARTITIONS, ROOT_OF, SCHEMA, SCHEMA_100K, run_100k,
                                run_every_type, run_partitions)

# The agent's options beyond its defaults, on both inputs: type names, as
# the Mongo mirror asks for them, to compare the "types" field too.
TYPES = ["-o", "include-types=true"]


def agent_args(dsn, slot, path, *extra):
    return ["-d", dsn, "-S", slot, "-s", "1", "--snapshot", "never", "--stats-interval", "0",
            "--file-path", str(path)] + list(extra)


def read_file(path):
    """(text, record) of every line the file sink wrote."""
    with open(path, encoding="utf-8") as f:
        return [(line, json.loads(line)) for line in f.read().split("\n") if line]


def run_agents(dsn, runs):
    """Run one agent per (slot, args) until each slot confirmed a marker
    written after the workload, then stop them (exit 0 each)."""
    marker = emit_marker(dsn)
    agents = [Agent(args) for _, args in runs]
    try:
        for (slot, _), agent in zip(runs, agents):
            wait_confirmed(dsn, slot, marker, agent, timeout=600)
        for agent in agents:
            assert agent.stop() == 0, agent.log()
        return [agent.log() for agent in agents]
    finally:
        for agent in agents:
            agent.close()


def amqp_view(messages):
    """(routing key, message id, headers, record) of every message."""
    return [(key, props.message_id, props.headers, json.loads(body)) for key, props, body in messages]


def test_every_type_identity_and_record_kind(fresh_db, hostile_role, tmp_path, amqp_uri):
    """The decoder-level suite's first workload through both agents, to
    the file sink and to RabbitMQ."""
    admin = setup_db(fresh_db, hostile_role, SCHEMA + IDENTITY_SCHEMA,
                     ["create publication p for all tables"])
    slot = slots(admin, ["w", "o"])
    w = writer(fresh_db)
    run_every_type(w.cursor(), AGENT_TY_ROWS)
    wait_flushed(w)
    w.close()

    brokers = {name: Broker(amqp_uri) for name in ("w", "o")}
    try:
        logs = run_agents(fresh_db, [
            (slot["w"], agent_args(fresh_db, slot["w"], tmp_path / "w.jsonl", *TYPES,
                                   *brokers["w"].agent_args())),
            (slot["o"], agent_args(as_role(fresh_db, hostile_role), slot["o"], tmp_path / "o.jsonl",
                                   "--plugin", "pgoutput", "--publication", "p", *TYPES,
                                   *brokers["o"].agent_args())),
        ])
        walcast = read_file(tmp_path / "w.jsonl")
        got = read_file(tmp_path / "o.jsonl")
        amqp = {name: amqp_view(b.collect(len(walcast), timeout=300)) for name, b in brokers.items()}
    finally:
        for b in brokers.values():
            b.delete()
    assert "streaming from replication slot" in logs[1]

    want = expected_events([r for _, r in walcast], generated=GENERATED)
    check(walcast, got, want, "agent --plugin pgoutput, file sink")
    kinds = {r["action"] for _, r in got}
    assert kinds == {"I", "U", "D", "T", "M"}
    assert {r.get("identity") for _, r in got} - {None} == {"default", "full", "index"}
    assert any("unchanged" in r for _, r in got)
    assert any("content_base64" in r for _, r in got)

    # RabbitMQ: what the walcast agent published, with the same
    # difference, under the same routing keys, message ids and headers
    assert len(amqp["w"]) == len(walcast)
    assert [m[3] for m in amqp["w"]] == [r for _, r in walcast]
    want_amqp = [(k, mid, h, rec) for (k, mid, h, _), rec in zip(amqp["w"], want)]
    assert amqp["o"] == want_amqp


def test_partitions_both_ways(fresh_db, hostile_role, tmp_path):
    """publish_via_partition_root false (leaf names, as the plugin's) and
    true (the root's name), each an agent of its own."""
    admin = setup_db(fresh_db, hostile_role, PARTITIONS, [
        "create publication pleaf for all tables",
        "create publication proot for all tables with (publish_via_partition_root = true)"])
    slot = slots(admin, ["w", "leaf", "root"])
    w = writer(fresh_db)
    run_partitions(w.cursor())
    wait_flushed(w)
    w.close()

    run_agents(fresh_db, [
        (slot["w"], agent_args(fresh_db, slot["w"], tmp_path / "w.jsonl", *TYPES)),
        (slot["leaf"], agent_args(as_role(fresh_db, hostile_role), slot["leaf"], tmp_path / "leaf.jsonl",
                                  "-P", "pgoutput", "--publication", "pleaf", *TYPES)),
        (slot["root"], agent_args(as_role(fresh_db, hostile_role), slot["root"], tmp_path / "root.jsonl",
                                  "-P", "pgoutput", "--publication", "proot", *TYPES)),
    ])
    walcast = read_file(tmp_path / "w.jsonl")
    records = [r for _, r in walcast]
    leaf = read_file(tmp_path / "leaf.jsonl")
    check(walcast, leaf, expected_events(records, partitioned=PARTITIONED),
          "publish_via_partition_root=false")
    assert {r["table"] for _, r in leaf if "table" in r} == {"pt1", "pt2", "pt3a"}
    root = read_file(tmp_path / "root.jsonl")
    check(walcast, root, expected_events(records, root_of=ROOT_OF, via_root=True),
          "publish_via_partition_root=true")
    assert {r["table"] for _, r in root if "table" in r} == {"pt"}


def test_100k_mixed_changes_over_four_tables(fresh_db, hostile_role, tmp_path):
    admin = setup_db(fresh_db, hostile_role, SCHEMA_100K, ["create publication p for all tables"])
    slot = slots(admin, ["w", "o"])
    w = writer(fresh_db)
    run_100k(w.cursor())
    w.close()
    run_agents(fresh_db, [
        (slot["w"], agent_args(fresh_db, slot["w"], tmp_path / "w.jsonl")),
        (slot["o"], agent_args(as_role(fresh_db, hostile_role), slot["o"], tmp_path / "o.jsonl",
                               "-P", "pgoutput", "--publication", "p")),
    ])
    walcast = read_file(tmp_path / "w.jsonl")
    got = read_file(tmp_path / "o.jsonl")
    assert sum(r["action"] in "IUD" for _, r in got) >= 100000
    check(walcast, got, expected_events([r for _, r in walcast]), "100k changes")


def test_initial_load_equals_the_extension(fresh_db, hostile_role, tmp_path):
    """--create-slot with a load: the walcast agent's rows come from the
    extension, the pgoutput agent's from plain SELECTs rendered by the
    agent; the L records are the same (but for lsn, each slot's consistent
    point), in the same order, generated columns included."""
    admin = setup_db(fresh_db, hostile_role, SCHEMA + IDENTITY_SCHEMA + "create extension walcast;",
                     ["create publication p for all tables"])
    w = writer(fresh_db)
    cur = w.cursor()
    run_every_type(cur, AGENT_TY_ROWS)
    cur.execute("insert into gen (id, v) values (1, 2), (2, null)")
    w.close()
    db = sql(admin, "select current_database()")[0][0]
    runs = []
    for name, extra, dsn in (("w", [], fresh_db),
                             ("o", ["-P", "pgoutput", "--publication", "p"], as_role(fresh_db, hostile_role))):
        runs.append((f"{db}_{name}", ["-d", dsn, "-S", f"{db}_{name}", "--create-slot", "--snapshot", "only",
                                      "--state-dir", str(tmp_path), "--file-path", str(tmp_path / f"{name}.jsonl"),
                                      *TYPES, *extra]))
    for _, args in runs:
        agent = Agent(args)
        try:
            assert agent.wait_exit(300) == 0, agent.log()
        finally:
            agent.close()
    walcast = read_file(tmp_path / "w.jsonl")
    got = read_file(tmp_path / "o.jsonl")
    assert len(walcast) > 0 and all(r["action"] == "L" for _, r in walcast)
    for (_, a), (_, b) in zip(walcast, got):
        a.pop("lsn")
        b.pop("lsn")
    assert [r for _, r in got] == [r for _, r in walcast]
    assert {r["table"] for _, r in got} >= {"ty", "gen", "idf", "idi", "quoted"}
    assert any(r["table"] == "gen" and "g" in r["new"] for _, r in got)

