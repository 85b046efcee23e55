"""The walcast plugin's output, read like a consumer reads it, checked
against docs/walcast-record.schema.json and against the database.

Every record of every workload is parsed with json.loads and validated with
jsonschema (draft 2020-12).  On top of the schema: seq ordering, commit_lsn
plus seq unique, values that read back as what the database stored
(float8 shortest form, numeric text, timestamptz in UTC whatever the
session's TimeZone), batching rules, streaming and two-phase framing, and a
walsender whose memory stays bounded on a large transaction.
"""
import datetime
import decimal
import json
import os
import subprocess
import threading
import time

import jsonschema
import psycopg2
import pytest

from conftest import ROOT, connect

SCHEMA_PATH = os.path.join(ROOT, "docs", "walcast-record.schema.json")
PG_BINDIR = subprocess.run(["pg_config", "--bindir"], check=True, capture_output=True,
                           text=True).stdout.strip()


@pytest.fixture(scope="module")
def validator():
    with open(SCHEMA_PATH) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture
def db(fresh_db):
    """An autocommit connection whose commits are flushed at once, so the
    SQL decoding functions see them."""
    conn = connect(fresh_db)
    conn.cursor().execute("set synchronous_commit = on")
    yield conn
    conn.close()


def sql(conn, query, *args):
    cur = conn.cursor()
    cur.execute(query, args or None)
    return cur.fetchall() if cur.description else None


def create_slot(conn, name, two_phase=False):
    sql(conn, "select pg_create_logical_replication_slot(%s, 'walcast', false, %s)",
        name, two_phase)


def messages(conn, slot, consume=True, **options):
    """The raw replication messages (data column) of a slot."""
    func = "pg_logical_slot_get_changes" if consume else "pg_logical_slot_peek_changes"
    args = []
    for key, value in options.items():
        args += [key.replace("_", "-"), str(value).lower() if isinstance(value, bool) else str(value)]
    placeholders = "".join(", %s" for _ in args)
    return [row[0] for row in sql(conn, f"select data from {func}(%s, null, null{placeholders})",
                                   slot, *args)]


def records(conn, slot, validator, consume=True, **options):
    """Every record, parsed and validated against the schema."""
    out = []
    for msg in messages(conn, slot, consume, **options):
        for line in msg.split("\n"):
            rec = json.loads(line)
            validator.validate(rec)
            out.append(rec)
    return out


def transactions(recs):
    """Group records by xid, in order of first appearance."""
    by_xid = {}
    for rec in recs:
        if "xid" in rec:
            by_xid.setdefault(rec["xid"], []).append(rec)
    return list(by_xid.values())


def assert_ordering(recs):
    """seq: B is 0, changes 1..n, C is n+1; commit_lsn+seq unique."""
    for txn in transactions(recs):
        seqs = [r["seq"] for r in txn]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        if txn[0]["action"] == "B":
            assert seqs[0] == 0
        if txn[-1]["action"] == "C":
            assert len({r["commit_lsn"] for r in txn}) == 1
    keys = [(r["commit_lsn"], r["seq"]) for r in recs if "commit_lsn" in r and "seq" in r]
    assert len(keys) == len(set(keys))


def lsn_int(text):
    hi, lo = text.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)


TYPES_TABLE = """
create type mood as enum ('sad', 'happy');
create type pair as (x int, label text);
create domain posint as int check (value > 0);
create table ty (
    id int primary key, i2 int2, i8 int8, f4 float4, f8 float8, n numeric,
    b bool, t text, j json, jb jsonb, by bytea, d date, tm time, ts timestamp,
    tstz timestamptz, iv interval, u uuid, ip inet, e mood, ia int[],
    ta text[], comp pair, r int4range, tr tstzrange, dm posint, pt point)
"""

TYPES_ROWS = [
    "(1, 1, 9223372036854775807, 1.5, 0.1, 12.340, true, 'plain', "
    "'{\"a\": [1, 2]}', '{\"b\": {\"c\": null}}', '\\x00ff', '2024-02-29', "
    "'13:14:15.5', '2024-02-29 13:14:15.123456', '2024-02-29 13:14:15.1+02', "
    "'1 day 02:00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '10.0.0.1/8', 'happy', "
    "'{{1,NULL},{3,4}}', '{\"x y\",NULL}', row(1, 'one'), '[1,5)', "
    "'[2024-01-01 00:00+00,)', 7, '(0.1,0.2)')",
    "(2, -32768, -9223372036854775808, 'NaN', 'Infinity', 'NaN', false, "
    "E'ctl \\x01 \\t \\n quote\" back\\\\ é 中 😀', 'null', '[]', '', 'infinity', "
    "'24:00:00', '-infinity', 'infinity', '-1 year', null, null, 'sad', '{}', "
    "'{}', row(null, null), 'empty', 'empty', 1, '(0,0)')",
    "(3, 0, 0, '-Infinity', '-0', '-Infinity', null, '', '\"s\"', '1.5', null, "
    "'0044-03-15 BC', '00:00:00', '0001-01-01 00:00:00 BC', "
    "'1999-12-31 23:59:59.999999+00', '0', null, null, null, null, null, null, "
    "'(,)', null, null, null)",
]


def test_types_and_operations(db, validator):
    """All types, all operations: every record valid, values as stored."""
    sql(db, TYPES_TABLE)
    create_slot(db, "types")
    for row in TYPES_ROWS:
        sql(db, f"insert into ty values {row}")
    sql(db, "insert into ty (id, f8, f4, n, tstz) select g, 1.0 / g, (1.0 / g)::float4, "
            "(g * 1.1)::numeric / 7, now() - g * interval '1 hour 1.5 second' "
            "from generate_series(10, 200) g")
    sql(db, "update ty set t = 'changed' where id = 1")
    sql(db, "delete from ty where id = 2")
    sql(db, "begin; update ty set i2 = 5 where id = 3; "
            "select pg_logical_emit_message(true, 'p', 'x'); truncate ty; commit")
    sql(db, "select pg_logical_emit_message(false, 'nt', '\\xff'::bytea)")
    sql(db, "create table flushed ()")  # a commit that writes WAL flushes the message

    # read the slot under hostile session settings: output must not change
    sql(db, "set timezone = 'Asia/Kathmandu'; set datestyle = 'SQL, DMY'; "
            "set extra_float_digits = -10; set intervalstyle = 'postgres_verbose'")
    recs = records(db, "types", validator, consume=False)
    raw = messages(db, "types", consume=False)
    sql(db, "reset all; set synchronous_commit = on")
    assert recs == records(db, "types", validator, consume=True)

    actions = "".join(r["action"] for r in recs)
    assert actions.startswith("BIC")
    assert {"B", "C", "I", "U", "D", "T", "M"} <= set(actions)
    assert_ordering(recs)

    # values read back as what the database stores (rows 10..200 again)
    sql(db, "insert into ty (id, f8, f4, n, tstz) select g, 1.0 / g, (1.0 / g)::float4, "
            "(g * 1.1)::numeric / 7, now() - g * interval '1 hour 1.5 second' "
            "from generate_series(10, 200) g")
    stored = {row[0]: row[1:] for row in sql(
        db, "select id, f8, f4::float8, n::text, tstz from ty where id >= 10")}
    inserted = [r for r in records(db, "types", validator, consume=False)
                if r["action"] == "I" and r["new"]["id"] >= 10]
    assert len(inserted) == len(stored) == 191
    for rec in inserted:
        new = rec["new"]
        f8, f4, ntext, tstz = stored[new["id"]]
        assert isinstance(new["f8"], float) and new["f8"] == f8
        assert repr(new["f8"]) == repr(f8)          # shortest round-trip form
        assert float(new["f4"]) == pytest.approx(f4, rel=1e-7)
        assert new["n"] == ntext                     # exact numeric text
        assert new["tstz"].endswith("Z")
        parsed = datetime.datetime.fromisoformat(new["tstz"][:-1]).replace(
            tzinfo=datetime.timezone.utc)
        assert parsed == tstz

    rows = {r["new"]["id"]: r["new"] for r in recs if r["action"] == "I"}
    one, two, three = rows[1], rows[2], rows[3]
    assert one["j"] == {"a": [1, 2]} and one["jb"] == {"b": {"c": None}}
    assert one["by"] == "AP8=" and one["ia"] == [[1, None], [3, 4]]
    assert one["ta"] == ["x y", None] and one["comp"] == {"x": 1, "label": "one"}
    assert one["r"] == {"lower": 1, "upper": 5, "lower_inc": True, "upper_inc": False}
    assert one["tr"]["upper"] is None and one["dm"] == 7 and one["i8"] == 2**63 - 1
    assert one["ts"] == "2024-02-29T13:14:15.123456" and one["tstz"] == "2024-02-29T11:14:15.1Z"
    assert one["iv"] == "P1DT2H" and one["pt"] == "(0.1,0.2)" and one["n"] == "12.340"
    assert two["f4"] == "NaN" and two["f8"] == "Infinity" and two["n"] == "NaN"
    assert two["t"] == "ctl \x01 \t \n quote\" back\\ é 中 😀"
    assert two["j"] is None and two["jb"] == [] and two["d"] == "infinity"
    assert two["ts"] == "-infinity" and two["tstz"] == "infinity" and two["ia"] == []
    assert two["r"] == {"empty": True} and two["i8"] == -2**63
    # -0 keeps its sign in the text (Python reads the integral "-0" as int 0)
    assert three["f4"] == "-Infinity" and three["f8"] == 0
    assert any('"id":3,' in m and '"f8":-0,' in m for m in raw)
    assert three["d"] == "-0043-03-15" and three["ts"] == "0000-01-01T00:00:00"
    assert three["r"] == {"lower": None, "upper": None, "lower_inc": False, "upper_inc": False}
    nt = [r for r in recs if r["action"] == "M" and not r["transactional"]]
    assert nt and nt[0]["content_base64"] == "/w==" and "xid" not in nt[0]

    # numeric as numbers: exact through Decimal
    exact = records(db, "types", validator, consume=True,
                    numeric_data_types_as_string=False)
    as_numbers = [r["new"]["n"] for r in exact if r["action"] == "I"]
    assert len(as_numbers) == 191
    assert all(isinstance(v, (int, float)) for v in as_numbers)
    assert messages(db, "types", consume=False) == []


def test_numeric_json_text_is_exact(db, validator):
    """numeric-data-types-as-string=false writes the digits verbatim."""
    sql(db, "create table nums (id int primary key, n numeric)")
    create_slot(db, "nums")
    sql(db, "insert into nums values (1, 123456789012345678901234567890.000000000000000000001)")
    msg = messages(db, "nums", consume=True, numeric_data_types_as_string=False,
                   include_transaction=False)[0]
    value = json.loads(msg, parse_float=decimal.Decimal)["new"]["n"]
    assert value == decimal.Decimal("123456789012345678901234567890.000000000000000000001")


def test_identity_and_toast(db, validator):
    """Every replica identity and unchanged TOAST values, schema-valid."""
    sql(db, """
        create table d (id int primary key, v text, big text);
        alter table d alter big set storage external;
        create table f (id int primary key, v text, big text);
        alter table f alter big set storage external;
        alter table f replica identity full;
        create table n (id int primary key, v text);
        alter table n replica identity nothing;
        create table k (v text);
    """)
    create_slot(db, "ident")
    big = "x" * 10000
    for t in ("d", "f"):
        sql(db, f"insert into {t} values (1, 'a', %s)", big)
        sql(db, f"update {t} set v = 'b'")
        sql(db, f"delete from {t}")
    sql(db, "insert into n values (1, 'a'); update n set v = 'b'; delete from n")
    sql(db, "insert into k values ('a'); update k set v = 'b'; delete from k")
    recs = [r for r in records(db, "ident", validator, include_pk=True, include_types=True)
            if r["action"] in "UD"]
    by = {(r["table"], r["action"]): r for r in recs}
    assert by["d", "U"]["unchanged"] == ["big"] and "big" not in by["d", "U"]["new"]
    assert by["f", "U"]["new"]["big"] == big and "unchanged" not in by["f", "U"]
    assert by["d", "D"]["old"] == {"id": 1}
    assert by["f", "D"]["old"] == {"id": 1, "v": "b", "big": big}
    for t in ("n", "k"):
        assert by[t, "U"]["identity"] == "nothing" and by[t, "U"]["old"] is None
        assert by[t, "D"]["identity"] == "nothing" and by[t, "D"]["old"] is None


def test_batching(db, validator):
    """Batched messages: records whole, size bound, one transaction each."""
    sql(db, "create table b (id int primary key, v text)")
    create_slot(db, "batch")
    sql(db, "insert into b select g, md5(g::text) from generate_series(1, 500) g")
    for i in range(20):
        sql(db, "update b set v = 'u' where id = %s", i + 1)
    sql(db, "insert into b values (1000, %s)", "L" * 5000)
    plain = [json.loads(m) for m in messages(db, "batch", consume=False)]
    limit = 2000
    batched = messages(db, "batch", consume=True, batch_bytes=limit)
    assert len(batched) < len(plain)
    flat = []
    for msg in batched:
        lines = msg.split("\n")
        assert not msg.endswith("\n")
        assert len(msg.encode()) <= limit or len(lines) == 1
        recs = [json.loads(line) for line in lines]
        for rec in recs:
            validator.validate(rec)
        assert len({r.get("xid") for r in recs}) == 1
        flat += recs
    assert flat == plain
    assert_ordering(flat)


def test_streaming(db, validator):
    """stream-changes: S..E blocks, subtransaction abort, X at commit."""
    sql(db, "create table s (id int, v text)")
    create_slot(db, "stream")
    sql(db, """
        begin;
        insert into s select g, repeat('p', 80) from generate_series(1, 4000) g;
        savepoint a;
        insert into s select g, repeat('q', 80) from generate_series(1, 2000) g;
        rollback to a;
        insert into s values (-1, 'last');
        commit""")
    sql(db, "set logical_decoding_work_mem = '64kB'")
    recs = records(db, "stream", validator, stream_changes=True, batch_bytes=8192)
    actions = [r["action"] for r in recs]
    assert actions[0] == "S" and actions[-1] == "X"
    assert actions.count("S") == actions.count("E") > 1
    aborts = [r for r in recs if r["action"] == "A"]
    assert len(aborts) == 1 and "subxid" in aborts[0]
    kept = [r for r in recs if r["action"] == "I" and r.get("subxid") != aborts[0]["subxid"]]
    assert len(kept) == 4001
    x = recs[-1]
    assert x["seq"] == max(r["seq"] for r in recs if r["action"] == "I") + 1
    assert lsn_int(x["end_lsn"]) > lsn_int(x["commit_lsn"])
    assert all("commit_lsn" not in r for r in recs if r["action"] == "I")


def test_two_phase(db, validator):
    """two-phase: B(gid)..P at PREPARE, K at COMMIT PREPARED, R at ROLLBACK."""
    sql(db, "create table tp (id int primary key)")
    create_slot(db, "tp", two_phase=True)
    sql(db, "begin; insert into tp values (1); prepare transaction 'g1'")
    sql(db, "begin; insert into tp values (2); prepare transaction 'g2'")
    first = records(db, "tp", validator, two_phase=True)
    sql(db, "commit prepared 'g1'")
    sql(db, "rollback prepared 'g2'")
    second = records(db, "tp", validator, two_phase=True)
    assert "".join(r["action"] for r in first) == "BIPBIP"
    assert "".join(r["action"] for r in second) == "KR"
    assert [r["gid"] for r in second] == ["g1", "g2"]
    assert_ordering(first)


def test_option_needs_value(db):
    """pg_recvlogical -o name without =value: booleans read true, others fail."""
    create_slot(db, "opt")
    dbname = db.get_dsn_parameters()["dbname"]
    end = sql(db, "select pg_current_wal_lsn()")[0][0]
    base = [os.path.join(PG_BINDIR, "pg_recvlogical"), "-d", dbname, "-S", "opt",
            "--start", "-f", "/dev/null", "-E", end, "--no-loop"]
    bad = subprocess.run(base + ["-o", "batch-bytes"], capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode != 0
    assert 'walcast option "batch-bytes" requires a value' in bad.stderr
    good = subprocess.run(base + ["-o", "include-pk"], capture_output=True, text=True,
                          timeout=60)
    assert good.returncode == 0, good.stderr


def walsender_hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def test_constant_memory(db, validator):
    """A 300k-row transaction through pg_recvlogical: the walsender's peak
    RSS stays bounded (one record at a time, nothing per transaction)."""
    sql(db, "create table m (id int primary key, t text, n numeric, ts timestamptz, j jsonb)")
    create_slot(db, "mem")
    sql(db, "insert into m select g, repeat('x', 100), g * 1.5, now(), "
            "jsonb_build_object('g', g) from generate_series(1, 300000) g")
    end = sql(db, "select pg_current_wal_insert_lsn()")[0][0]
    sql(db, "select pg_switch_wal()")   # get the tail flushed and readable
    dbname = db.get_dsn_parameters()["dbname"]
    app = "wc_mem_" + dbname
    env = dict(os.environ, PGAPPNAME=app)
    proc = subprocess.Popen(
        [os.path.join(PG_BINDIR, "pg_recvlogical"), "-d", dbname, "-S", "mem", "--start",
         "-f", "/dev/null", "-E", end, "--no-loop", "-o", "include-pk=true"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    pid = None
    deadline = time.time() + 300
    while proc.poll() is None and time.time() < deadline:
        if pid is None:
            rows = sql(db, "select pid from pg_stat_replication where application_name = %s", app)
            pid = rows[0][0] if rows else None
        if pid is not None:
            try:
                peak = max(peak, walsender_hwm_kb(pid))
            except FileNotFoundError:
                pass
        time.sleep(0.05)
    if proc.poll() is None:
        proc.kill()
    _, err = proc.communicate()
    assert proc.returncode == 0, err
    assert pid is not None, "walsender never seen"
    print(f"walsender VmHWM {peak} kB")
    assert 0 < peak < 200 * 1024, f"walsender VmHWM {peak} kB"
