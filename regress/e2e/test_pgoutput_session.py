"""The pgoutput decoder's pinned session settings, on a real server.

pgoutput renders values in the walsender under the replication session's
settings.  A role and a database whose defaults are hostile (DateStyle,
TimeZone, extra_float_digits, bytea_output, IntervalStyle,
client_encoding) must not change the records: the decoder's startup
options outrank them (checked here on a replication connection, as the
agent will open it), the decoder reads every protocol version the server
speaks, and text read under unpinned settings is refused, not guessed.
"""
import psycopg2
import psycopg2.extras
import pytest

from conftest import connect
from pgoutput_helpers import (HOSTILE_DATABASE_SETTINGS, HOSTILE_ROLE_SETTINGS, PINNED,  # noqa: F401
                              as_role, assert_same, driver, expected, hostile_role,
                              pgoutput_messages, pgoutput_proto_version, run_driver,
                              session_options, sql, wait_flushed, walcast_records, writer)


def replication_settings(dsn, role, **kwargs):
    """SHOW every pinned setting on a replication connection as role."""
    conn = psycopg2.connect(as_role(dsn, role),
                            connection_factory=psycopg2.extras.LogicalReplicationConnection,
                            **kwargs)
    cur = conn.cursor()
    shown = {}
    for name in PINNED:
        cur.execute(f"SHOW {name}")
        shown[name] = cur.fetchone()[0]
    conn.close()
    return shown


def test_startup_options_outrank_role_and_database_defaults(fresh_db, hostile_role, driver):
    # without them, the walsender runs under the role's and database's defaults
    shown = replication_settings(fresh_db, hostile_role)
    assert shown["DateStyle"] == HOSTILE_ROLE_SETTINGS["DateStyle"]
    assert shown["TimeZone"] == HOSTILE_ROLE_SETTINGS["TimeZone"]          # role beats database
    assert shown["IntervalStyle"] == HOSTILE_ROLE_SETTINGS["IntervalStyle"]
    assert shown["extra_float_digits"] == HOSTILE_ROLE_SETTINGS["extra_float_digits"]
    assert shown["bytea_output"] == HOSTILE_ROLE_SETTINGS["bytea_output"]
    assert shown["client_encoding"] == HOSTILE_DATABASE_SETTINGS["client_encoding"]

    # with the decoder's startup options, every one is pinned
    shown = replication_settings(fresh_db, hostile_role, options=session_options(driver),
                                 client_encoding="UTF8")
    assert shown["DateStyle"].startswith("ISO,")
    del shown["DateStyle"]
    assert shown == {k: v for k, v in PINNED.items() if k != "DateStyle"}


def test_values_read_unpinned_are_refused(fresh_db, hostile_role, driver):
    """Text rendered under the hostile defaults is an error naming table,
    column and type, not a guess."""
    admin = connect(fresh_db)
    admin.set_client_encoding("UTF8")
    sql(admin, "create table t (id int primary key, ts timestamptz, b bytea)")
    sql(admin, "create publication p for all tables")
    sql(admin, f"grant select on t to {hostile_role}")
    slot = fresh_db.split("dbname=")[1] + "_o"
    sql(admin, "select pg_create_logical_replication_slot(%s, 'pgoutput')", slot)
    w = writer(fresh_db)
    sql(w, "insert into t values (1, '2024-01-01 00:00:00+00', '\\x01')")
    w.close()
    # read as the hostile role, without the pinned options
    lines = pgoutput_messages(fresh_db, hostile_role, "", slot, "p")
    _, res = run_driver(driver, fresh_db, hostile_role, lines, check=False)
    assert res.returncode == 2
    assert 'table "public.t", column "ts" (timestamp with time zone)' in res.stderr
    assert "pinned" in res.stderr


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_every_protocol_version_the_server_speaks(fresh_db, hostile_role, driver, version):
    """pgoutput's protocol versions 1 to 4 (PostgreSQL 13 to 16+): the
    decoder reads each the server speaks the same way."""
    admin = connect(fresh_db)
    if version > pgoutput_proto_version(admin):
        pytest.skip(f"PostgreSQL {admin.server_version} speaks pgoutput up to version "
                    f"{pgoutput_proto_version(admin)}")
    admin.set_client_encoding("UTF8")
    sql(admin, "create table t (id int primary key, v text, j jsonb)")
    sql(admin, "create table f (id int, v text)")
    sql(admin, "alter table f replica identity full")
    sql(admin, "create publication p for all tables")
    sql(admin, f"grant select on t, f to {hostile_role}")
    db = fresh_db.split("dbname=")[1]
    sql(admin, "select pg_create_logical_replication_slot(%s, 'walcast')", db + "_w")
    sql(admin, "select pg_create_logical_replication_slot(%s, 'pgoutput')", db + "_o")
    w = writer(fresh_db)
    sql(w, "insert into t values (1, 'a', '{\"k\": [1, 2]}'), (2, 'b', null)")
    sql(w, "insert into f values (1, repeat('x', 20000))")
    sql(w, "begin")
    sql(w, "update t set id = 3 where id = 1")
    sql(w, "update f set id = 2")
    sql(w, "select pg_logical_emit_message(true, 'p', 'm')")
    sql(w, "delete from t where id = 2")
    sql(w, "truncate t, f")
    sql(w, "commit")
    sql(w, "select pg_logical_emit_message(false, 'p', 'n')")
    wait_flushed(w)
    w.close()
    walcast = walcast_records(fresh_db, db + "_w", "include-pk", "true")
    lines = pgoutput_messages(fresh_db, hostile_role, session_options(driver), db + "_o", "p",
                              proto_version=version)
    got, _ = run_driver(driver, fresh_db, hostile_role, lines)
    assert_same([r for _, r in got], expected([r for _, r in walcast]), f"protocol version {version}")
    assert len(got) == len(walcast) > 10
