"""Helpers for the pgoutput decoder's end-to-end tests (test_pgoutput_*.py).

The decoder (agent/decode/pgoutput_*.c) is not wired into the agent yet:
the tests feed it through agent/test/pgoutput_feed, a driver that takes
real pgoutput messages, as pg_logical_slot_get_binary_changes returns them,
and prints walcast records, with its catalogue looked up on the real
server.  The walcast records to compare with come from the walcast plugin
through pg_logical_slot_get_changes, on a second slot created beside the
pgoutput one, so both decode the same WAL.

DIFFERENCES below is the list docs/pgoutput.md gives of what pgoutput cannot
supply; expected() turns a walcast record stream into the stream the
pgoutput decoder must produce by applying exactly that list, so a test that
compares the two asserts that the differences are those and nothing else.
"""
import json
import os
import re
import subprocess
import time
import uuid

import psycopg2
import pytest

from conftest import ROOT, connect

AGENT_DIR = os.path.join(ROOT, "agent")
DRIVER = os.path.join(AGENT_DIR, "test", "pgoutput_feed")

# What pgoutput cannot supply (docs/pgoutput.md "What pgoutput cannot
# supply"); the keys name the rules expected() applies.
DIFFERENCES = {
    "generated": "stored generated columns are absent from new, old, unchanged and types "
                 "(and from pk and the old key when they are key columns; see "
                 "test_pgoutput_catalog.py for a key of generated columns only)",
    "partition_parent_truncate": "publish_via_partition_root=false: TRUNCATE of a partitioned "
                                 "table gives no T for the partitioned table itself, only for "
                                 "its partitions (seq counts the records written)",
    "via_root": "publish_via_partition_root=true: changes of a partition name its root "
                "table (schema, table, pk, types, column order of the root); a TRUNCATE "
                "gives a T for the partitioned table only, none for its partitions",
}

# The hostile defaults the decoder's connections must not see.
HOSTILE_ROLE_SETTINGS = {
    "DateStyle": "SQL, DMY",
    "TimeZone": "Asia/Kathmandu",
    "extra_float_digits": "-15",
    "bytea_output": "escape",
    "IntervalStyle": "sql_standard",
}
HOSTILE_DATABASE_SETTINGS = {
    "client_encoding": "LATIN1",
    "IntervalStyle": "postgres_verbose",
    "TimeZone": "America/St_Johns",
}
PINNED = {
    "DateStyle": "ISO",
    "TimeZone": "UTC",
    "IntervalStyle": "iso_8601",
    "extra_float_digits": "3",
    "bytea_output": "hex",
    "client_encoding": "UTF8",
}


@pytest.fixture(scope="session")
def driver():
    subprocess.run(["make", "-s", "-C", AGENT_DIR, "-f", "test/pgoutput.mk", "driver"],
                   check=True, stdout=subprocess.DEVNULL)
    return DRIVER


def session_options(driver_path):
    return subprocess.run([driver_path, "--print-options"], check=True, capture_output=True,
                          text=True).stdout.strip()


def sql(conn, query, *args):
    cur = conn.cursor()
    cur.execute(query, args or None)
    return cur.fetchall() if cur.description else None


def dbname(dsn):
    return dict(part.split("=", 1) for part in dsn.split())["dbname"]


@pytest.fixture
def hostile_role(fresh_db):
    """A LOGIN REPLICATION role whose role defaults, and whose database's
    defaults, are every setting that changes pgoutput's text."""
    role = "wc_hostile_" + uuid.uuid4().hex[:10]
    admin = connect(fresh_db)
    sql(admin, f"create role {role} login replication")
    for name, value in HOSTILE_ROLE_SETTINGS.items():
        sql(admin, f"alter role {role} set {name} = %s", value)
    for name, value in HOSTILE_DATABASE_SETTINGS.items():
        sql(admin, f"alter database {dbname(fresh_db)} set {name} = %s", value)
    yield role
    sql(admin, f"drop owned by {role}")
    admin.close()
    cluster = connect(fresh_db.replace(f"dbname={dbname(fresh_db)}", "dbname=postgres"))
    sql(cluster, f"drop role if exists {role}")
    cluster.close()


def as_role(dsn, role):
    """The same database as another role (a later keyword wins in libpq)."""
    return f"{dsn} user={role}"


def writer(dsn):
    """A session writing under hostile settings of its own: the stored
    values do not depend on them, the text of the output functions would."""
    conn = connect(dsn)
    conn.set_client_encoding("UTF8")
    for name, value in HOSTILE_ROLE_SETTINGS.items():
        sql(conn, f"set {name} = %s", value)
    sql(conn, "set synchronous_commit = on")
    return conn


def wait_flushed(conn, timeout=30):
    """Wait until WAL is flushed up to where it is written now.  A
    non-transactional message is decoded only once flushed, and nothing
    flushes it at once (pg_logical_emit_message does not; a commit that
    wrote nothing else does not either): the WAL writer does, shortly."""
    target = sql(conn, "select pg_current_wal_insert_lsn()")[0][0]
    deadline = time.monotonic() + timeout
    while sql(conn, "select pg_current_wal_flush_lsn() >= %s::pg_lsn", target)[0][0] is not True:
        assert time.monotonic() < deadline, f"WAL not flushed up to {target} within {timeout}s"
        time.sleep(0.05)


def walcast_records(dsn, slot, *options):
    """Every record of the walcast slot, as (text, parsed) pairs."""
    conn = connect(dsn)
    conn.set_client_encoding("UTF8")    # the database's default is LATIN1
    args = list(options)
    placeholders = "".join(", %s" for _ in args)
    rows = sql(conn, f"select data from pg_logical_slot_get_changes(%s, null, null{placeholders})",
               slot, *args)
    conn.close()
    out = []
    for (data,) in rows:
        for line in data.split("\n"):
            out.append((line, json.loads(line)))
    return out


def pgoutput_messages(dsn, role, options, slot, publication, proto_version=None):
    """The pgoutput slot's messages as driver input lines ("LSN<TAB>hex"),
    read by role on a connection with the decoder's pinned settings: the
    SQL interface renders values in the calling session, as the walsender
    does in a replication session."""
    conn = psycopg2.connect(as_role(dsn, role), options=options, client_encoding="UTF8")
    conn.autocommit = True
    version = proto_version or pgoutput_proto_version(conn)
    rows = sql(conn, "select lsn::text, encode(data, 'hex') from pg_logical_slot_get_binary_changes("
                     "%s, null, null, 'proto_version', %s, 'publication_names', %s, "
                     "'messages', 'true')", slot, str(version), publication)
    conn.close()
    return [f"{lsn}\t{hexdata}" for lsn, hexdata in rows]


def pgoutput_proto_version(conn):
    """The highest version the server speaks (pgoutput_session.c's rule)."""
    version = conn.server_version
    return 4 if version >= 160000 else 3 if version >= 150000 else 2 if version >= 140000 else 1


def run_driver(driver_path, dsn, role, lines, *flags, check=True):
    """Feed lines to the driver connected as role; returns (records, result)."""
    res = subprocess.run([driver_path, *flags, as_role(dsn, role)], input="\n".join(lines) + "\n",
                         capture_output=True, text=True, timeout=300)
    if check and res.returncode != 0:
        raise AssertionError(f"pgoutput_feed failed ({res.returncode}): {res.stderr}")
    out = [(line, json.loads(line)) for line in res.stdout.split("\n") if line]
    return out, res


def transactions(records):
    """Group parsed records into units: a B..C transaction, or a lone
    non-transactional message."""
    units = []
    current = None
    for rec in records:
        if rec["action"] == "B":
            current = [rec]
        elif current is not None:
            current.append(rec)
            if rec["action"] == "C":
                units.append(current)
                current = None
        else:
            units.append([rec])
    assert current is None, "a transaction without its C"
    return units


def expected(records, generated=None, partitioned=None, root_of=None, via_root=False):
    """The records the pgoutput decoder must give for these walcast records.

    generated: {(schema, table): {columns}} of stored generated columns.
    partitioned: {(schema, table)} of partitioned tables.
    root_of: {(schema, table): (root schema, root table, root pk)} of partitions.
    via_root: the publication has publish_via_partition_root=true.
    Applies DIFFERENCES and nothing else, then numbers seq again.
    """
    generated = generated or {}
    partitioned = partitioned or set()
    root_of = root_of or {}
    out = []
    for unit in transactions(records):
        kept = []
        for rec in unit:
            rec = json.loads(json.dumps(rec))
            key = (rec.get("schema"), rec.get("table"))
            if rec["action"] == "T":
                if not via_root and key in partitioned:
                    continue            # partition_parent_truncate
                if via_root and key in root_of:
                    continue            # via_root: partitions' T
            for col in generated.get(key, ()):
                for part in ("new", "old", "types"):
                    if isinstance(rec.get(part), dict):
                        rec[part].pop(col, None)
                if col in rec.get("unchanged", []):
                    rec["unchanged"].remove(col)
            if via_root and key in root_of:
                rec["schema"], rec["table"], pk = root_of[key]
                if "pk" in rec:
                    rec["pk"] = pk
            kept.append(rec)
        if unit[0]["action"] == "B":
            if len(kept) == 2:
                continue                # nothing left but B and C
            for seq, rec in enumerate(kept):
                rec["seq"] = seq
        out.extend(kept)
    return out


def assert_same(got, want, what):
    """Field by field, with the first difference shown in full."""
    for i, (g, w) in enumerate(zip(got, want)):
        assert g == w, (f"{what}: record {i} differs\n  pgoutput: {json.dumps(g, sort_keys=True)}\n"
                        f"  expected: {json.dumps(w, sort_keys=True)}")
    assert len(got) == len(want), (f"{what}: {len(got)} records from pgoutput, {len(want)} expected; "
                                   f"extra: {(got[len(want):] or want[len(got):])[:3]}")
def norm_hex(text):
    """yyjson writes \\u escapes with upper-case hex digits, the plugin
    lower-case: compare texts with both made upper-case."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: "\\u" + m.group(1).upper(), text)


def check(walcast, got, want, what):
    """Field by field against want; same text where no difference applies."""
    assert_same([g for _, g in got], want, what)
    if len(walcast) == len(got):
        for (wtext, wrec), (gtext, grec) in zip(walcast, got):
            if wrec == grec:
                assert norm_hex(gtext) == norm_hex(wtext), f"{what}: same record, other text"


def slots(conn, names):
    """A walcast slot and pgoutput slots, created one after another with
    no write between them: they decode the same WAL.  Slot names are
    cluster-wide: each is prefixed with the test's database name."""
    db = conn.get_dsn_parameters()["dbname"]
    sql(conn, "select pg_create_logical_replication_slot(%s, 'walcast')", f"{db}_{names[0]}")
    for name in names[1:]:
        sql(conn, "select pg_create_logical_replication_slot(%s, 'pgoutput')", f"{db}_{name}")
    return {name: f"{db}_{name}" for name in names}


def setup_db(dsn, role, schema_sql, publications):
    admin = connect(dsn)
    admin.set_client_encoding("UTF8")   # the database's default is LATIN1
    sql(admin, schema_sql)
    for pub in publications:
        sql(admin, pub)
    sql(admin, f"grant select on all tables in schema public to {role}")
    return admin


def expected_events(records, **differences):
    """expected() for what a sink publishes: the records of changes,
    messages and reads, without B and C (every record of a transaction
    comes together and carries its commit_lsn).  The B and C expected()
    needs to number seq again are put back around each transaction, and
    taken away after."""
    framed = []
    current = None
    for rec in records:
        tx = rec.get("commit_lsn") if rec["action"] not in ("L",) else None
        if current is not None and tx != current:
            framed.append({"action": "C", "commit_lsn": current})
            current = None
        if tx is not None and current is None:
            framed.append({"action": "B", "commit_lsn": tx, "seq": 0})
            current = tx
        framed.append(rec)
    if current is not None:
        framed.append({"action": "C", "commit_lsn": current})
    return [r for r in expected(framed, **differences) if r["action"] not in ("B", "C")]
