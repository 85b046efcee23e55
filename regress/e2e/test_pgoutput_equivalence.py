"""The pgoutput decoder against the walcast plugin, on the same WAL.

Each test creates a walcast slot and pgoutput slot(s) side by side, runs a
workload written under hostile session settings, reads the walcast
records with pg_logical_slot_get_changes (include-pk, as the agent asks;
include-types, as it asks for the Mongo mirror) and the pgoutput messages
with pg_logical_slot_get_binary_changes as a role whose role and database
defaults are hostile too, feeds those to the decoder through
agent/test/pgoutput_feed, and compares field by field: the difference must
be exactly pgoutput_helpers.DIFFERENCES (docs/pgoutput.md).  Records whose
values need no difference must also be the same text, but for the case of
the hex digits of \\u escapes (yyjson writes them upper-case).
"""
import json

import pytest

from pgoutput_helpers import (DIFFERENCES, as_role, assert_same, check, driver, expected,  # noqa: F401
                              hostile_role, pgoutput_messages, run_driver, session_options,
                              setup_db, slots, sql, wait_flushed, walcast_records, writer)
from pgoutput_workloads import (GENERATED, IDENTITY_SCHEMA, PARTITIONED, PARTITIONS, ROOT_OF,
                                SCHEMA, SCHEMA_100K, TY_ROWS, insert_ty, run_100k,
                                run_every_type, run_partitions)

WALCAST_OPTIONS = ("include-pk", "true", "include-types", "true")


def test_every_type_identity_and_record_kind(fresh_db, hostile_role, driver):
    """Types with awkward values, identities DEFAULT/FULL/NOTHING/USING
    INDEX, unchanged TOAST, key changes, multi-table TRUNCATE with CASCADE
    and RESTART IDENTITY, messages, ADD/DROP COLUMN, generated columns,
    savepoints, prepared transactions."""
    admin = setup_db(fresh_db, hostile_role, SCHEMA + IDENTITY_SCHEMA,
                     ["create publication p for all tables"])
    slot = slots(admin, ["w", "o"])
    w = writer(fresh_db)
    cur = w.cursor()
    run_every_type(cur)
    wait_flushed(w)
    w.close()

    walcast = walcast_records(fresh_db, slot["w"], *WALCAST_OPTIONS)
    lines = pgoutput_messages(fresh_db, hostile_role, session_options(driver), slot["o"], "p")
    got, _ = run_driver(driver, fresh_db, hostile_role, lines, "--types")
    want = expected([r for _, r in walcast], generated=GENERATED)
    check(walcast, got, want, "every type")
    print(f"{len(got)} records compared, {sum(g == w for (_, g), (_, w) in zip(got, walcast))} "
          "of them identical to the plugin's")

    # the workload did reach every record kind and identity
    kinds = {r["action"] for _, r in got}
    assert kinds == {"B", "C", "I", "U", "D", "T", "M"}
    identities = {r.get("identity") for _, r in got} - {None}
    assert identities == {"default", "full", "index"}
    assert any("unchanged" in r for _, r in got)
    truncated = [(r["table"], r["cascade"], r["restart_identity"]) for _, r in got
                 if r["action"] == "T"]
    assert truncated[:3] == [("tr1", True, True), ("tr2", True, True), ("tr3", True, True)]
    assert any(r["action"] == "M" and not r["transactional"] for _, r in got)
    assert any("content_base64" in r for _, r in got)


def test_default_options_without_types(fresh_db, hostile_role, driver):
    """The agent's default options: include-pk, no types."""
    admin = setup_db(fresh_db, hostile_role, SCHEMA, ["create publication p for all tables"])
    slot = slots(admin, ["w", "o"])
    w = writer(fresh_db)
    for row in TY_ROWS:
        insert_ty(w.cursor(), row)
    w.close()
    walcast = walcast_records(fresh_db, slot["w"], "include-pk", "true")
    lines = pgoutput_messages(fresh_db, hostile_role, session_options(driver), slot["o"], "p")
    got, _ = run_driver(driver, fresh_db, hostile_role, lines)
    check(walcast, got, expected([r for _, r in walcast]), "default options")
    assert all("types" not in r for _, r in got)




def test_partitions_both_ways(fresh_db, hostile_role, driver):
    """publish_via_partition_root false (changes name the leaf, as the
    plugin's) and true (they name the root)."""
    admin = setup_db(fresh_db, hostile_role, PARTITIONS, [
        "create publication pleaf for all tables",
        "create publication proot for all tables with (publish_via_partition_root = true)"])
    slot = slots(admin, ["w", "leaf", "root"])
    w = writer(fresh_db)
    cur = w.cursor()
    run_partitions(cur)
    wait_flushed(w)
    w.close()

    walcast = walcast_records(fresh_db, slot["w"], *WALCAST_OPTIONS)
    records = [r for _, r in walcast]
    options = session_options(driver)
    partitioned = PARTITIONED
    root_of = ROOT_OF

    got, _ = run_driver(driver, fresh_db, hostile_role,
                        pgoutput_messages(fresh_db, hostile_role, options, slot["leaf"], "pleaf"), "--types")
    check(walcast, got, expected(records, partitioned=partitioned), "publish_via_partition_root=false")
    assert {r["table"] for _, r in got if "table" in r} == {"pt1", "pt2", "pt3a"}

    got, _ = run_driver(driver, fresh_db, hostile_role,
                        pgoutput_messages(fresh_db, hostile_role, options, slot["root"], "proot"), "--types")
    check(walcast, got, expected(records, root_of=root_of, via_root=True),
          "publish_via_partition_root=true")
    assert {r["table"] for _, r in got if "table" in r} == {"pt"}
    # TRUNCATE pt1 alone gives nothing under the root
    assert sum(r["action"] == "T" for _, r in got) == 1


def test_initial_load_rows_equal_the_extension(fresh_db, hostile_role, driver):
    """L records from plain SELECT text equal walcast.snapshot_record()."""
    admin = setup_db(fresh_db, hostile_role, SCHEMA + r"""
        create table gen (id int primary key, v int, g int generated always as (v * 2) stored);
        create table idpi (id int primary key, k int not null, v text);
        create unique index idpi_k on idpi (k);
        alter table idpi replica identity using index idpi_k;
        create table idi (id int, k int not null);
        create unique index idi_k on idi (k);
        alter table idi replica identity using index idi_k;
        create table idf (a int, b text);
        alter table idf replica identity full;
        create extension walcast;
        """, [])
    w = writer(fresh_db)
    cur = w.cursor()
    for row in TY_ROWS:
        insert_ty(cur, row)
    cur.execute("insert into gen (id, v) values (1, 2), (2, null)")
    cur.execute("insert into idpi values (1, 2, 'x')")
    cur.execute("insert into idi values (1, 2)")
    cur.execute("insert into idf values (1, 'f')")
    w.close()
    lsn = sql(admin, "select pg_current_wal_lsn()::text")[0][0]
    for table in ("ty", "gen", "idpi", "idi", "idf"):
        relid = sql(admin, "select %s::regclass::oid", table)[0][0]
        want = [json.loads(t) for (t,) in sql(
            admin, f"select walcast.snapshot_record('{table}'::regclass, t.*, "
                   "'{include-pk,include-types}', %s::pg_lsn) from only " + table + " t", lsn)]
        got, _ = run_driver(driver, fresh_db, hostile_role, [f"load\t{relid}\t{lsn}"], "--types")
        key = lambda r: json.dumps(r["new"], sort_keys=True)  # noqa: E731
        assert_same(sorted((r for _, r in got), key=key), sorted(want, key=key), f"load of {table}")


def test_publication_of_some_tables_is_add_tables(fresh_db, hostile_role, driver):
    """A publication of some tables gives what the plugin gives with
    add-tables naming them: the other tables' changes are not counted in
    seq, and a transaction of only those writes nothing."""
    admin = setup_db(fresh_db, hostile_role, """
        create table a (id int primary key, v text);
        create table b (id int primary key, v text);
        """, ["create publication pa for table a"])
    slot = slots(admin, ["w", "o"])
    w = writer(fresh_db)
    cur = w.cursor()
    cur.execute("begin")
    cur.execute("insert into b values (1, 'b')")
    cur.execute("insert into a values (1, 'a')")
    cur.execute("update b set v = 'b2'")
    cur.execute("update a set v = 'a2'")
    cur.execute("commit")
    cur.execute("insert into b values (2, 'only b')")
    cur.execute("truncate a, b")
    w.close()
    walcast = walcast_records(fresh_db, slot["w"], "include-pk", "true", "add-tables", "public.a")
    lines = pgoutput_messages(fresh_db, hostile_role, session_options(driver), slot["o"], "pa")
    got, _ = run_driver(driver, fresh_db, hostile_role, lines)
    check(walcast, got, expected([r for _, r in walcast]), "publication of table a")
    assert [r["action"] for _, r in got] == ["B", "I", "U", "C", "B", "T", "C"]


def test_100k_mixed_changes_over_four_tables(fresh_db, hostile_role, driver):
    """Volume: 100k inserts, updates and deletes over four tables, in big
    and small transactions."""
    admin = setup_db(fresh_db, hostile_role, SCHEMA_100K, ["create publication p for all tables"])
    slot = slots(admin, ["w", "o"])
    w = writer(fresh_db)
    cur = w.cursor()
    run_100k(cur)
    w.close()
    walcast = walcast_records(fresh_db, slot["w"], "include-pk", "true")
    lines = pgoutput_messages(fresh_db, hostile_role, session_options(driver), slot["o"], "p")
    got, _ = run_driver(driver, fresh_db, hostile_role, lines)
    changes = sum(r["action"] in "IUD" for _, r in got)
    assert changes >= 100000
    check(walcast, got, expected([r for _, r in walcast]), "100k changes")
