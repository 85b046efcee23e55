"""What the pgoutput decoder's catalogue can and cannot answer.

pgoutput describes a relation as it was when the change was made (its
Relation message); what it does not send (the primary key beyond
REPLICA IDENTITY DEFAULT, type names with modifiers, the structure of
composite types) the decoder asks the catalogue for, which answers for
now.  When the two differ, the decoder either gives the record the
plugin gives, or stops with an error naming table, column and type; the
one value it can only take from now is a type's name (docs/pgoutput.md).
"""
import psycopg2
import pytest

from conftest import connect
from pgoutput_helpers import (driver, hostile_role, pgoutput_messages, run_driver,  # noqa: F401
                              session_options, sql, walcast_records, writer)


def prepare(dsn, role, schema):
    admin = connect(dsn)
    sql(admin, schema)
    sql(admin, "create publication p for all tables")
    sql(admin, f"grant select on all tables in schema public to {role}")
    db = dsn.split("dbname=")[1]
    sql(admin, "select pg_create_logical_replication_slot(%s, 'walcast')", db + "_w")
    sql(admin, "select pg_create_logical_replication_slot(%s, 'pgoutput')", db + "_o")
    return admin, db + "_w", db + "_o"


def decode(dsn, role, driver_path, slot, check=True):
    lines = pgoutput_messages(dsn, role, session_options(driver_path), slot, "p")
    return run_driver(driver_path, dsn, role, lines, "--types", check=check)


def changes(records):
    return [r for _, r in records if r["action"] in "IUDT"]


def test_ddl_after_the_change_that_the_stream_describes(fresh_db, hostile_role, driver):
    """Columns added, dropped, renamed or retyped, and a DEFAULT-identity
    table dropped, after the change and before it is decoded: the
    Relation message says what the change had, so the records are the
    plugin's."""
    admin, wslot, oslot = prepare(fresh_db, hostile_role, """
        create table t (id int primary key, a text, b int);
        create table gone (id int primary key, v text);
        """)
    w = writer(fresh_db)
    sql(w, "insert into t values (1, 'a', 2)")
    sql(w, "insert into gone values (1, 'g')")
    sql(w, "update gone set id = 2")
    sql(admin, "alter table t drop column a, add column c date, alter column b type bigint")
    sql(admin, "alter table t rename column id to ident")
    sql(admin, "drop table gone")
    w.close()
    walcast = walcast_records(fresh_db, wslot, "include-pk", "true", "include-types", "true")
    got, _ = decode(fresh_db, hostile_role, driver, oslot)
    assert [r for _, r in got] == [r for _, r in walcast]
    assert changes(got)[0]["new"] == {"id": 1, "a": "a", "b": 2}


def test_composite_type_altered_before_decoding_is_an_error(fresh_db, hostile_role, driver):
    """A composite type gets an attribute after a change that holds one
    of its values: the value has fewer fields than the type has now.
    Which field is which cannot be known, so no guess: an error."""
    admin, _, oslot = prepare(fresh_db, hostile_role, """
        create type pair as (a int, b text);
        create table t (id int primary key, p pair);
        """)
    w = writer(fresh_db)
    sql(w, "insert into t values (1, row(1, 'x'))")
    sql(admin, "alter type pair add attribute c int")
    w.close()
    _, res = decode(fresh_db, hostile_role, driver, oslot, check=False)
    assert res.returncode == 2
    assert ('table "public.t", column "p" (pair): type "pair": a value with other fields '
            "than the type's 3 attributes") in res.stderr


def test_table_without_default_identity_dropped_is_an_error(fresh_db, hostile_role, driver):
    """REPLICA IDENTITY FULL: the primary key comes from the catalogue,
    and a table dropped since has none to ask about."""
    admin, _, oslot = prepare(fresh_db, hostile_role, """
        create table f (id int primary key, v text);
        alter table f replica identity full;
        """)
    w = writer(fresh_db)
    sql(w, "insert into f values (1, 'f')")
    sql(admin, "drop table f")
    w.close()
    _, res = decode(fresh_db, hostile_role, driver, oslot, check=False)
    assert res.returncode == 2
    assert 'relation "public.f"' in res.stderr and "no longer exists" in res.stderr
    assert '"pk"' in res.stderr


def test_renamed_type_shows_its_new_name(fresh_db, hostile_role, driver):
    """The one documented difference of this kind: "types" names a type
    as the catalogue does now (format_type), the plugin as it was."""
    admin, wslot, oslot = prepare(fresh_db, hostile_role, """
        create type mood as enum ('sad', 'happy');
        create table t (id int primary key, m mood);
        """)
    w = writer(fresh_db)
    sql(w, "insert into t values (1, 'happy')")
    sql(admin, "alter type mood rename to feeling")
    w.close()
    walcast = walcast_records(fresh_db, wslot, "include-pk", "true", "include-types", "true")
    got, _ = decode(fresh_db, hostile_role, driver, oslot)
    want = changes(walcast)
    assert want[0]["types"]["m"] == "mood"
    want[0]["types"]["m"] = "feeling"
    assert changes(got) == want


def test_generated_key_columns(fresh_db, hostile_role, driver):
    """A primary key made of a generated column: pgoutput describes no key
    (docs/pgoutput.md, "What pgoutput cannot supply", 1)."""
    admin, wslot, oslot = prepare(fresh_db, hostile_role, """
        create table g (a int, v text, k int generated always as (a * 2) stored primary key);
        create table g2 (a int, k int generated always as (a * 2) stored, primary key (a, k));
        """)
    w = writer(fresh_db)
    for table in ("g", "g2"):
        sql(w, f"insert into {table} (a) values (1)")
        sql(w, f"update {table} set a = 2")
        sql(w, f"delete from {table}")
    w.close()
    walcast = walcast_records(fresh_db, wslot, "include-pk", "true", "include-types", "true")
    got, _ = decode(fresh_db, hostile_role, driver, oslot)
    want = []
    for rec in changes(walcast):
        rec.get("new", {}).pop("k", None)
        rec["types"].pop("k")
        if rec["table"] == "g":
            rec["pk"] = []
            if rec["action"] != "I":
                rec["identity"], rec["old"] = "nothing", None
        else:
            rec["pk"] = ["a"]
            if "old" in rec:
                rec["old"].pop("k")
        want.append(rec)
    assert changes(got) == want
    assert want[1]["old"] is None and want[4]["old"] == {"a": 1}
