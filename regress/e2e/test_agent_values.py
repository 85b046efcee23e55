"""Every value the plugin writes reaches every envelope and the mirror
intact, and the agent keeps running (issue 12); a record no sink can take
stops the agent with its LSN named, and --skip-lsn leaves exactly that one
out.

The values are the ones jansson refused: integers beyond 64 bits, json
numbers beyond double range (1e400, 1e-400), jsonb's 301-digit 1.5e300,
-0, long decimals, duplicate keys in json, 1,000 levels of nesting,
\\u0000 and other escapes in json, lone surrogates (which json keeps and
jsonb refuses).  What the plugin wrote is read from a second slot with
pg_logical_slot_peek_changes: the native envelope must be those bytes, the
debezium and flat envelopes must carry each value's text unchanged.
"""
import json
import sys

import pytest

from agent_helpers import Agent, Broker, create_slot, execute, run_agent
from conftest import connect
from mongo_helpers import FERRETDB, Mirror, mirror, wait_confirmed, emit_marker  # noqa: F401

DEEP = "[" * 1000 + "0" + "]" * 1000

# (json text, jsonb text or None when jsonb refuses the value)
VALUES = [
    ('{"big": 123456789012345678901234567890, "neg": -98765432109876543210987654321}',) * 2,
    ("1e400", "1e400"),
    ("1.5e300", "1.5e300"),
    ("-0", "-0"),
    ("1e-400", "1e-400"),
    ("123456789.123456789123456789123456789123456789",) * 2,
    ('{"a": 1, "a": 2, "b": {"c": 3, "c": [4, 5]}}', '{"a": 1, "a": 2}'),
    (DEEP, DEEP),
    ('"nul \\u0000 e \\u00e9 smile \\ud83d\\ude00 slash \\/ tab \\t"', '"e \\u00e9 smile \\ud83d\\ude00"'),
    ('{"lone": "\\ud800", "low": "\\udc00x"}', None),
    ('{"a.b": 1, "$c": 2, "": 3}', '{"a.b": 1, "$c": 2, "": 3}'),
    ("[[1, 2], [3, 4]]", "[[1, 2], [3, 4]]"),
]

DDL = ("create table vals (id int primary key, j json, jb jsonb, n numeric)",)


def insert_rows(dsn, table="vals"):
    conn = connect(dsn)
    cur = conn.cursor()
    for i, (j, jb) in enumerate(VALUES, 1):
        cur.execute(f"insert into {table} values (%s, %s::json, %s::jsonb, %s)",
                    (i, j, jb, "123456789.123456789123456789123456789123456789" if i == 6 else None))
    conn.close()


def plugin_records(dsn, slot, *options):
    """What the plugin wrote, record by record, as bytes (insert records)."""
    conn = connect(dsn)
    cur = conn.cursor()
    args = ", ".join(["%s"] * len(options))
    cur.execute(f"select data from pg_logical_slot_peek_changes(%s, null, null{', ' if options else ''}{args})",
                (slot,) + options)
    rows = [r[0].encode() for r in cur.fetchall()]
    conn.close()
    return [r for r in rows if r.startswith(b'{"action":"I"') or r.startswith(b'{"action":"L"')]


def member_text(record, key, start=0):
    """The text of the first member named key at or after start: (text, end)."""
    sys.setrecursionlimit(20000)
    s = record.decode("utf-8", "surrogatepass")
    at = s.index('"%s":' % key, start) + len(key) + 3
    _, end = json.JSONDecoder().raw_decode(s, at)
    return s[at:end].encode("utf-8", "surrogatepass"), end


def row_texts(record):
    """The plugin's text of new, and of its columns id, j, jb, n."""
    new, _ = member_text(record, "new")
    out = {"new": new}
    pos = 0
    for col in ("id", "j", "jb", "n"):
        out[col], pos = member_text(new, col, pos)
    return out


@pytest.fixture
def vals_db(fresh_db):
    execute(fresh_db, *DDL)
    return fresh_db


@pytest.mark.parametrize("envelope", ["native", "debezium", "flat"])
def test_values_reach_every_envelope_intact(vals_db, amqp_uri, envelope):
    create_slot(vals_db, "wc_vals")
    create_slot(vals_db, "wc_vals_peek")
    insert_rows(vals_db)
    expected = plugin_records(vals_db, "wc_vals_peek", "include-pk", "true")
    assert len(expected) == len(VALUES)
    broker = Broker(amqp_uri)
    agent = Agent(["-d", vals_db, "-S", "wc_vals", "--envelope", envelope] + broker.agent_args())
    try:
        bodies = [body for _, _, body in broker.collect(len(VALUES))]
        assert len(bodies) == len(VALUES), agent.log()
        for want, got in zip(expected, bodies):
            cols = row_texts(want)
            if envelope == "native":
                assert got == want
            elif envelope == "debezium":
                assert b'{"before":null,"after":' + cols["new"] + b',"source":' in got
            else:
                assert got.startswith(b'{"type":"vals","entry_id":' + cols["id"] + b',"id":' + cols["id"]
                                      + b',"j":' + cols["j"] + b',"jb":' + cols["jb"] + b',"n":' + cols["n"]
                                      + b',"__schema":"public"')
        # the agent is still streaming
        assert agent.proc.poll() is None, agent.log()
        execute(vals_db, "insert into vals (id) values (1000)")
        assert len(broker.collect(len(VALUES) + 1)) == len(VALUES) + 1
    finally:
        agent.close()
        broker.delete()


def expected_mirror_value(j_text, numeric_string=FERRETDB):
    """What the mirror stores for a json value (docs/mongo.md, "json and
    jsonb"), given the plugin's text: (value, marked as JSON text)."""
    sys.setrecursionlimit(20000)
    duplicates = []

    def pairs(items):
        keys = [k for k, _ in items]
        if len(set(keys)) != len(keys) or any(k == "" or k.startswith("$") or "." in k or "\0" in k for k in keys):
            duplicates.append(True)
        return dict(items)

    def number(text):
        neg_zero = text == "-0"
        try:
            i = int(text)
            if not neg_zero and -2 ** 63 <= i < 2 ** 63:
                return i
        except ValueError:
            pass
        return text if numeric_string else ("decimal", text)

    text = j_text.decode("utf-8", "surrogatepass")
    value = json.loads(text, object_pairs_hook=pairs, parse_int=number, parse_float=number)

    def depth(v):
        if isinstance(v, (list, dict)):
            inner = v.values() if isinstance(v, dict) else v
            return 1 + max((depth(e) for e in inner), default=0)
        return 0

    def nested_array(v, in_array=False):
        if isinstance(v, list):
            return in_array or any(nested_array(e, True) for e in v)
        if isinstance(v, dict):
            return any(nested_array(e) for e in v.values())
        return False

    lone = "\\ud800" in text or "\\udc00" in text or "\\u0000" in text
    if duplicates or depth(value) > 98 or lone or (FERRETDB and nested_array(value)):
        return text, True
    return value, False


def test_values_reach_the_mirror_losslessly(vals_db, mirror):  # noqa: F811
    create_slot(vals_db, "wc_vals")
    create_slot(vals_db, "wc_vals_peek")
    insert_rows(vals_db)
    expected = plugin_records(vals_db, "wc_vals_peek", "include-pk", "true", "include-types", "true")
    agent = Agent(["-d", vals_db, "-S", "wc_vals", "-s", "1"] + mirror.agent_args())
    try:
        wait_confirmed(vals_db, "wc_vals", emit_marker(vals_db), agent)
        assert agent.proc.poll() is None, agent.log()
        docs = mirror.docs("vals")
    finally:
        agent.stop()
        agent.close()
    assert len(docs) == len(VALUES)
    for i, record in enumerate(expected, 1):
        cols = row_texts(record)
        doc = docs[i]
        marks = doc["_walcast"].get("json", {})
        for col in ("j", "jb"):
            if cols[col] == b"null":
                assert doc[col] is None
                continue
            want, as_text = expected_mirror_value(cols[col])
            assert marks.get(col, False) == as_text, (i, col, doc)
            if as_text:
                # the plugin's text, byte for byte
                assert doc[col].encode("utf-8", "surrogatepass") == cols[col]
            elif not FERRETDB:
                continue  # Decimal128 forms are checked by the unit tests
            else:
                assert doc[col] == want, (i, col)


def test_initial_load_rows_carry_the_same_values(vals_db, tmp_path, amqp_uri, mirror):  # noqa: F811
    """The load's L records hold the same values as streamed ones."""
    execute(vals_db, "create extension walcast")
    insert_rows(vals_db)
    broker = Broker(amqp_uri)
    try:
        rc, _, err = run_agent(["-d", vals_db, "-S", "wc_vals_load", "--create-slot", "--snapshot", "only",
                                "--state-dir", str(tmp_path), "--envelope", "flat"]
                               + broker.agent_args() + mirror.agent_args(), timeout=300)
        assert rc == 0, err
        bodies = [body for _, _, body in broker.collect(len(VALUES))]
    finally:
        broker.delete()
    assert len(bodies) == len(VALUES)
    docs = mirror.docs("vals")
    for i, (j, jb) in enumerate(VALUES, 1):
        conn = connect(vals_db)
        cur = conn.cursor()
        # the extension renders a row exactly as the stream would
        cur.execute("select walcast.snapshot_record('vals'::regclass, v.*, '{include-pk=true}'::text[], '0/1'::pg_lsn) "
                    "from vals v where id = %s", (i,))
        record = cur.fetchone()[0].encode("utf-8", "surrogatepass")
        conn.close()
        cols = row_texts(record)
        body = next(b for b in bodies if b.startswith(b'{"type":"vals","entry_id":%d,' % i))
        assert b',"j":' + cols["j"] + b',"jb":' + cols["jb"] + b',"n":' + cols["n"] + b',"__schema"' in body
        for col in ("j", "jb"):
            if cols[col] == b"null":
                continue
            want, as_text = expected_mirror_value(cols[col])
            if as_text:
                assert docs[i][col].encode("utf-8", "surrogatepass") == cols[col]
                assert docs[i]["_walcast"]["json"][col] is True
            elif FERRETDB:
                assert docs[i][col] == want


def test_a_record_no_sink_can_take_is_named_and_skip_lsn_leaves_it_out(fresh_db, amqp_uri):
    """A row the flat envelope cannot render (a column named "type") stops
    the agent with the record's LSN; restarted with --skip-lsn at that LSN
    it leaves out that record only, says so, and streams on."""
    execute(fresh_db, "create table ev (id int primary key, type text)", "create table ok (id int primary key)")
    create_slot(fresh_db, "wc_skip")
    execute(fresh_db, "insert into ok values (1)", "insert into ev values (1, 'x')",
            "insert into ok values (2)")
    broker = Broker(amqp_uri)
    try:
        args = ["-d", fresh_db, "-S", "wc_skip", "--envelope", "flat"] + broker.agent_args()
        rc, _, err = run_agent(args)
        assert rc == 2, err
        line = next(line for line in err.splitlines() if "cannot process the record at LSN" in line)
        lsn = line.split("cannot process the record at LSN ")[1].split(" ")[0].rstrip(":")
        assert "(public.ev, insert): column \"type\" of public.ev collides with the flat envelope's field" in line
        assert "--skip-lsn=" + lsn in line
        # the same record stops every restart
        rc, _, err = run_agent(args)
        assert rc == 2 and "at LSN " + lsn in err

        # a mistyped LSN leaves nothing out
        rc, _, err = run_agent(args + ["--skip-lsn", "0/1"])
        assert rc == 2 and "at LSN " + lsn in err
        assert "--skip-lsn 0/1 matched no record in this run" in err

        agent = Agent(args + ["--skip-lsn", lsn])
        try:
            agent.wait_log(r"skipping the record at LSN %s \(public\.ev, insert, \d+ bytes\) as --skip-lsn asks"
                           % lsn)
            execute(fresh_db, "insert into ok values (3)")
            # the failed runs published ok 1 before stopping: at least once
            broker.collect(3, until=lambda b: json.loads(b)["entry_id"] == 3)
            bodies = {props.message_id: json.loads(b) for _, props, b in broker.messages}
            assert sorted(b["entry_id"] for b in bodies.values()) == [1, 2, 3]
            assert all(b["type"] == "ok" for b in bodies.values())
            assert agent.proc.poll() is None, agent.log()
            assert "x" not in agent.log().split("skipping the record")[1].split("\n")[0]
        finally:
            agent.stop()
            agent.close()
        # the slot moved past it: a plain restart streams on
        execute(fresh_db, "insert into ok values (4)")
        agent = Agent(args)
        try:
            broker.collect(4, until=lambda b: json.loads(b)["entry_id"] == 4)
            assert agent.proc.poll() is None, agent.log()
        finally:
            agent.stop()
            agent.close()
    finally:
        broker.delete()


def test_skip_lsn_is_command_line_only_and_checked(fresh_db):
    rc, _, err = run_agent(["-d", fresh_db, "--skip-lsn", "zz"])
    assert rc == 1 and '--skip-lsn: "zz" is not an LSN' in err
    rc, _, err = run_agent(["-d", fresh_db, "--skip-lsn", "0/0"])
    assert rc == 1
