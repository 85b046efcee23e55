#!/usr/bin/python3
"""fuzz-seeds.py: write the seeds of the pgoutput fuzz targets from a real
server (docs/fuzzing.md).

    scripts/fuzz-seeds.py            # PGHOST/PGPORT/PGUSER name the server

Needs a server with wal_level=logical (scripts/pg.sh start).  Writes
agent/test/fuzz_seeds/pgoutput/session_* (whole pgoutput sessions, as
pg_logical_slot_get_binary_changes returns them: each message framed as
agent/test/fuzz_input.h says, after one byte of decoder options) and
agent/test/fuzz_seeds/pgoutput_value/<type>_<n> (a value's text as the
server prints it under the decoder's pinned settings, after the byte that
picks the type in test/fuzz_pgoutput_value.c and a byte of options).
Files named crash_* (inputs the fuzzer found) are left alone.  Run it
again when the decoder learns a new message or type; commit the result.
"""
import os
import struct
import sys

import psycopg2

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = os.path.join(ROOT, "agent", "test", "fuzz_seeds")

# The pinned settings of agent/decode/pgoutput_session.c.
SETTINGS = ("SET DateStyle = 'ISO'; SET TimeZone = 'UTC'; "
            "SET IntervalStyle = 'iso_8601'; SET extra_float_digits = 3; "
            "SET bytea_output = 'hex'")

TYPES_SQL = """
DROP SCHEMA IF EXISTS fz CASCADE;
CREATE SCHEMA fz;
CREATE TYPE fz.mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN fz.posint AS integer CHECK (VALUE > 0);
CREATE TYPE fz.inner_t AS (a integer, b text);
CREATE TYPE fz.cpx AS (x integer, label text, at timestamptz,
                       nested fz.inner_t, arr integer[]);
CREATE DOMAIN fz.intarr AS integer[];
CREATE TYPE fz.textrange AS RANGE (subtype = text);
"""

# The order of fuzz_value_types in agent/test/fuzz_pgoutput_value.c, and
# literals of each type.
VALUES = [
    ("boolean", ["true", "false"]),
    ("bytea", ["'\\x00ff10'", "''", "'\\x' || repeat('ab', 40)"]),
    ("bigint", ["-9223372036854775808", "0", "42"]),
    ("int2vector", ["'1 2 3'", "''"]),
    ("integer", ["-2147483648", "7"]),
    ("text", ["'plain'", "E'quote\" back\\\\ nl\\n tab\\t é ☃'", "''"]),
    ("json", ["'{\"a\": [1, 2.50, {\"b\": null}], \"a\": \"dup\"}'", "'\"s\"'", "'1e400'"]),
    ("real", ["'NaN'", "'-Infinity'", "1.17549435e-38", "3.4028235e38", "-0"]),
    ("double precision", ["'Infinity'", "5e-324", "0.1", "1.7976931348623157e308"]),
    ("integer[]", ["'{1,NULL,3}'", "'{{1,2},{3,4}}'", "'[0:1]={5,6}'", "'{}'"]),
    ("text[]", ["ARRAY['a', NULL, 'NULL', 'x,y', 'q\"t', '', ' sp ']"]),
    ("box[]", ["ARRAY[box '((1,2),(3,4))', box '((0,0),(0,0))']"]),
    ("box", ["'((1,2),(3,4))'"]),
    ("date", ["'2024-02-29'", "'infinity'", "'4713-01-01 BC'", "'5874897-12-31'"]),
    ("time", ["'23:59:59.999999'", "'24:00'"]),
    ("timestamp", ["'2024-01-02 03:04:05.678'", "'-infinity'", "'0001-01-01 00:00 BC'"]),
    ("timestamptz", ["'2024-01-02 03:04:05+05:30'", "'infinity'", "'294276-12-31 23:59:59 UTC'"]),
    ("interval", ["'1 year 2 mons -3 days 04:05:06.789'", "'-1 microsecond'", "'0'"]),
    ("timetz", ["'12:00+05:45'", "'00:00:00-15:59:59'"]),
    ("numeric", ["'NaN'", "'Infinity'", "-0.000", "1e-100", "'123456789012345678901234567890.5'"]),
    ("uuid", ["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"]),
    ("jsonb", ["'{\"a\": [1, 2.50], \"n\": null, \"t\": true}'", "'[]'", "'12345678901234567890'"]),
    ("int4range", ["'[1,5)'", "'empty'", "'(,3]'", "'[2,)'"]),
    ("int4multirange", ["'{[1,3), [5,7)}'", "'{}'"]),
    ("fz.mood", ["'happy'"]),
    ("fz.posint", ["3"]),
    ("fz.inner_t", ["ROW(1, 'x,y')", "ROW(NULL, NULL)", "ROW(2, '')"]),
    ("fz.cpx", ["ROW(1, 'l\"b', '2024-01-01 00:00+00', ROW(2, 'q'), '{3,NULL}')",
                "ROW(NULL, NULL, NULL, NULL, NULL)"]),
    ("fz.cpx[]", ["ARRAY[ROW(1, 'a', NULL, ROW(2, 'b'), '{}')::fz.cpx, NULL]"]),
    ("fz.intarr", ["'{1,2}'"]),
    ("fz.intarr[]", ["ARRAY['{1,2}'::fz.intarr, '{3}'::fz.intarr]"]),
    ("fz.textrange", ["'[a,\"b c\")'", "'(,\"\\\\\"]'"]),
]

# Each workload runs in a session of its own: a slot, the statements, the
# messages pgoutput sent for them.
TABLES_SQL = """
CREATE TABLE fz.t (id integer PRIMARY KEY, name text, v jsonb, b bytea,
                   ts timestamptz, n numeric, a integer[], m fz.mood,
                   c fz.cpx, r int4range, f double precision);
CREATE TABLE fz.full (k text, v text);
ALTER TABLE fz.full REPLICA IDENTITY FULL;
CREATE TABLE fz.nokey (v text);
CREATE TABLE fz.big (id integer PRIMARY KEY, doc text);
ALTER TABLE fz.big ALTER doc SET STORAGE EXTERNAL;
CREATE PUBLICATION fz_pub FOR ALL TABLES;
"""

WORKLOADS = {
    "insert_types": [
        "INSERT INTO fz.t VALUES (1, 'a', '{\"k\": [1, 2.5]}', '\\x00ff', "
        "'2024-01-02 03:04:05+00', 'NaN', '{1,NULL}', 'ok', "
        "ROW(1, 'x', now(), ROW(2, 'y'), '{3}'), '[1,2)', 'Infinity')",
        "INSERT INTO fz.t (id) VALUES (2)",
    ],
    "update_delete": [
        "INSERT INTO fz.t (id, name) VALUES (3, 'b'), (4, 'c')",
        "UPDATE fz.t SET name = 'b2' WHERE id = 3",
        "UPDATE fz.t SET id = 5 WHERE id = 4",
        "DELETE FROM fz.t WHERE id = 3",
    ],
    "full_identity": [
        "INSERT INTO fz.full VALUES ('k', 'v'), (NULL, NULL)",
        "UPDATE fz.full SET v = 'w'",
        "DELETE FROM fz.full",
    ],
    # a table without a key can only insert while the publication
    # publishes updates: its Relation message says identity nothing
    "no_key": [
        "ALTER TABLE fz.nokey REPLICA IDENTITY NOTHING",
        "INSERT INTO fz.nokey VALUES ('x')",
    ],
    "toast_unchanged": [
        "INSERT INTO fz.big VALUES (1, repeat('x', 3000))",
        "UPDATE fz.big SET id = id WHERE id = 1",
    ],
    "truncate_messages": [
        "INSERT INTO fz.t (id) VALUES (10)",
        "TRUNCATE fz.t, fz.full",
        "SELECT pg_logical_emit_message(true, 'walcast', 'tx \\xe9')",
        "SELECT pg_logical_emit_message(false, 'other', '\\x00ff'::bytea)",
    ],
    "ddl": [
        "INSERT INTO fz.t (id) VALUES (20)",
        "ALTER TABLE fz.t ADD COLUMN extra text DEFAULT 'd'",
        "INSERT INTO fz.t (id) VALUES (21)",
        "ALTER TABLE fz.t DROP COLUMN extra",
    ],
}


def frame(msg):
    return struct.pack(">H", len(msg)) + msg


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def value_seeds(cur):
    out = os.path.join(SEEDS, "pgoutput_value")
    os.makedirs(out, exist_ok=True)
    cur.execute(SETTINGS)
    for idx, (typ, literals) in enumerate(VALUES):
        for n, lit in enumerate(literals):
            cur.execute("SELECT (%s)::%s::text" % (lit, typ))
            text = cur.fetchone()[0].encode()
            name = "%s_%d" % (typ.replace("fz.", "").replace(" ", "_").replace("[]", "_array"), n)
            # options: numeric-as-string on (the default) for the first,
            # off for the others, so both paths start seeded
            write(os.path.join(out, name), bytes([idx, 1 if n == 0 else 0]) + text)


def session_seeds(conn, cur):
    out = os.path.join(SEEDS, "pgoutput")
    os.makedirs(out, exist_ok=True)
    cur.execute(TABLES_SQL)
    for flags, (name, stmts) in enumerate(WORKLOADS.items()):
        cur.execute("SELECT pg_create_logical_replication_slot('fz_seed', 'pgoutput')")
        try:
            for s in stmts:
                cur.execute(s)
            cur.execute("SELECT data FROM pg_logical_slot_get_binary_changes("
                        "'fz_seed', NULL, NULL, 'proto_version', '1', "
                        "'publication_names', 'fz_pub', 'messages', 'true')")
            msgs = [bytes(r[0]) for r in cur.fetchall()]
        finally:
            cur.execute("SELECT pg_drop_replication_slot('fz_seed')")
        # the options byte: each seed another mix of include-types,
        # include-type-oids, numeric-as-string and bytea hex
        write(os.path.join(out, "session_" + name),
              bytes([flags % 16]) + b"".join(frame(m) for m in msgs))
        print("%s: %d messages" % (name, len(msgs)))


def main():
    conn = psycopg2.connect(dbname=os.environ.get("PGDATABASE", "postgres"))
    conn.autocommit = True
    cur = conn.cursor()
    try:
        cur.execute(TYPES_SQL)
        value_seeds(cur)
        session_seeds(conn, cur)
    finally:
        cur.execute("DROP PUBLICATION IF EXISTS fz_pub")
        cur.execute("DROP SCHEMA IF EXISTS fz CASCADE")
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
