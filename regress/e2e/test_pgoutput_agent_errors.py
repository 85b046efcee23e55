"""walcast-agent --plugin pgoutput: its errors as a user meets them (one
line naming the problem, exit 1 for the command line, 2 for the server's
state; docs/agent-operations.md), --create-publication and the
replica-identity hazard, and a least-privilege run as on a managed
service: a role with only LOGIN, REPLICATION and SELECT on the published
tables, on a server with the default output_plugin_libraries (where
walcast is refused), no superuser, no extension.
"""
import json
import re
import time
import uuid

import pytest

from agent_helpers import Agent, broker, error_lines, execute, run_agent, slot_info  # noqa: F401
from conftest import connect
from mongo_helpers import emit_marker, mirror, wait_confirmed  # noqa: F401

SLOT = "wc_pgo_err"


def one_error(stderr, pattern):
    errs = error_lines(stderr)
    assert len(errs) == 1, stderr
    assert re.search(pattern, errs[0]), errs[0]
    return errs[0]


def pgo(dsn, *extra, slot=SLOT):
    return ["-d", dsn, "-S", slot, "-P", "pgoutput", "--reconnect-max-delay", "1"] + list(extra)


@pytest.fixture
def role(fresh_db):
    """A LOGIN REPLICATION role, nothing else; dropped after the test."""
    name = "wc_pgo_" + uuid.uuid4().hex[:8]
    execute(fresh_db, f"create role {name} login replication")
    yield name
    execute(fresh_db, f"drop owned by {name}")
    execute(fresh_db.replace(fresh_db.split("dbname=")[1], "postgres"), f"drop role {name}")


def as_role(dsn, role):
    return f"{dsn} user={role}"


def test_missing_publication_exits_2_before_the_slot(fresh_db):
    execute(fresh_db, "create table a (id int primary key)")
    rc, _, err = run_agent(pgo(fresh_db, "--publication", "nosuch", "--create-slot"))
    assert rc == 2
    one_error(err, r'publication "nosuch" does not exist in database "t_\w+" .*--create-publication')
    assert slot_info(fresh_db, SLOT) is None


def test_walcast_option_without_counterpart_exits_1(fresh_db):
    rc, _, err = run_agent(pgo(fresh_db, "--publication", "p", "-o", "add-tables=public.*"))
    assert rc == 1
    one_error(err, "option: add-tables is an option of the walcast plugin, not of pgoutput .*the publication chooses the tables")
    rc, _, err = run_agent(["-d", fresh_db, "-P", "pgoutput"])
    assert rc == 1
    one_error(err, "--plugin pgoutput reads the changes a publication publishes: name it with --publication")


def test_table_outside_the_publication(fresh_db):
    """--reload-table of a table the publication leaves out names it."""
    execute(fresh_db, "create table a (id int primary key)", "create table b (id int primary key)",
            "create publication p for table a")
    rc, _, err = run_agent(pgo(fresh_db, "--publication", "p", "--reload-table", "public.b"))
    assert rc == 2
    one_error(err, r"--reload-table: public.b is not among the tables the stream includes .*ALTER PUBLICATION")
    rc, _, err = run_agent(pgo(fresh_db, "--publication", "p", "--reload-table", "public.a"))
    assert rc == 0, err
    assert "reload complete: 1 table(s), 0 rows" in err


@pytest.mark.parametrize("slot_plugin,agent_plugin", [("walcast", "pgoutput"), ("pgoutput", "walcast")])
def test_slot_of_the_other_plugin_exits_2(fresh_db, slot_plugin, agent_plugin):
    execute(fresh_db, "create table a (id int primary key)", "create publication p for all tables",
            f"select pg_create_logical_replication_slot('{SLOT}', '{slot_plugin}')")
    args = ["-d", fresh_db, "-S", SLOT, "--snapshot", "never"]
    if agent_plugin == "pgoutput":
        args += ["-P", "pgoutput", "--publication", "p"]
    rc, _, err = run_agent(args)
    assert rc == 2
    one_error(err, f'replication slot "{SLOT}" uses output plugin "{slot_plugin}", but the agent reads '
                   f'"{agent_plugin}" \\(--plugin\\): start it with --plugin {slot_plugin}')


def test_role_without_select_for_the_load(fresh_db, role, tmp_path):
    execute(fresh_db, "create table a (id int primary key)", "create table b (id int primary key)",
            "create publication p for table a, b", f"grant select on a to {role}")
    rc, _, err = run_agent(pgo(as_role(fresh_db, role), "--publication", "p", "--create-slot",
                               "--state-dir", str(tmp_path)))
    assert rc == 2
    one_error(err, rf'initial load: role "{role}" may not read table\(s\) public.b \(GRANT SELECT .*ALTER PUBLICATION')


def test_publication_created_after_the_slot_exits_2(fresh_db):
    """pgoutput reads a publication as of each change: a slot holding
    changes from before the publication fails on every one of them, on
    every retry; the agent says so once and exits."""
    execute(fresh_db, "create table a (id int primary key)",
            f"select pg_create_logical_replication_slot('{SLOT}', 'pgoutput')",
            "insert into a values (1)", "create publication p for all tables")
    rc, _, err = run_agent(pgo(fresh_db, "--publication", "p"))
    assert rc == 2
    one_error(err, r"needs an object that does not exist as of the changes it decodes \(a publication "
                   r"created after the slot's position.*publication \"p\" does not exist")


def publication_tables(dsn, name):
    conn = connect(dsn)
    cur = conn.cursor()
    cur.execute("select schemaname || '.' || tablename from pg_publication_tables where pubname = %s "
                "order by 1", (name,))
    rows = [r for (r,) in cur.fetchall()]
    cur.execute("select count(*) from pg_publication where pubname = %s", (name,))
    exists = cur.fetchone()[0] == 1
    conn.close()
    return exists, rows


def test_create_publication_never_breaks_the_applications_writes(fresh_db, tmp_path):
    """--create-publication refuses, listing the tables and the fixes,
    when a table it would publish has no replica identity (the
    application's UPDATE and DELETE would fail); created once they have
    one, and then used."""
    execute(fresh_db, "create table a (id int primary key, v text)", "create table nokey (v text)",
            "create table noident (id int primary key)", "alter table noident replica identity nothing",
            "insert into nokey values ('x')")
    for spec in ("all", "public.a,public.nokey"):
        rc, _, err = run_agent(pgo(fresh_db, "--publication", "p", "--create-publication", spec,
                                   "--create-slot", "--state-dir", str(tmp_path)))
        assert rc == 2
        one_error(err, r'--create-publication: not creating publication "p": PostgreSQL would then refuse the '
                       r"application's UPDATE and DELETE on table\(s\) without a replica identity: "
                       + (r"public.noident, public.nokey" if spec == "all" else r"public.nokey")
                       + r"; give each a primary key, or ALTER TABLE \.\.\. REPLICA IDENTITY FULL")
        assert publication_tables(fresh_db, "p") == (False, [])
        assert slot_info(fresh_db, SLOT) is None
    # the application still writes
    execute(fresh_db, "update nokey set v = 'y'")

    execute(fresh_db, "alter table nokey replica identity full")
    agent = Agent(pgo(fresh_db, "--publication", "p", "--create-publication", "public.a,public.nokey",
                      "--create-slot", "--state-dir", str(tmp_path)))
    try:
        agent.wait_log("streaming from replication slot")
        execute(fresh_db, "update nokey set v = 'z'", "insert into a values (1, 'a')",
                "insert into noident values (1)")
        wait_confirmed(fresh_db, SLOT, emit_marker(fresh_db), agent)
        assert agent.stop() == 0
        log = agent.log()
        out = [json.loads(line) for line in agent.out_lines()]
    finally:
        agent.close()
    assert 'created publication "p" for table(s) public.a,public.nokey' in log
    assert publication_tables(fresh_db, "p") == (True, ["public.a", "public.nokey"])
    assert [(r["action"], r["table"]) for r in out if r["action"] != "M"] == [
        ("L", "nokey"), ("U", "nokey"), ("I", "a")]
    # a later start uses it as it is
    rc, _, err = run_agent(pgo(fresh_db, "--publication", "p", "--create-publication", "all",
                               "--snapshot", "only", "--state-dir", str(tmp_path)))
    assert rc == 0, err
    assert "created publication" not in err
    assert publication_tables(fresh_db, "p") == (True, ["public.a", "public.nokey"])


def test_create_publication_names_the_missing_privilege(fresh_db, role):
    execute(fresh_db, "create table a (id int primary key)")
    dsn = as_role(fresh_db, role)
    db = fresh_db.split("dbname=")[1]
    rc, _, err = run_agent(pgo(dsn, "--publication", "p", "--create-publication", "public.a"))
    assert rc == 2
    one_error(err, rf'role "{role}" may not create publication "p": it needs CREATE on database "{db}"')
    execute(fresh_db, f"grant create on database {db} to {role}")
    rc, _, err = run_agent(pgo(dsn, "--publication", "p", "--create-publication", "all"))
    assert rc == 2
    one_error(err, rf'--create-publication all: FOR ALL TABLES needs a superuser, and role "{role}" is not one')
    rc, _, err = run_agent(pgo(dsn, "--publication", "p", "--create-publication", "public.a"))
    assert rc == 2
    one_error(err, rf'role "{role}" may not publish table\(s\) public.a: FOR TABLE needs the owner\'s rights')
    rc, _, err = run_agent(pgo(dsn, "--publication", "p", "--create-publication", "public.a,public.nosuch"))
    assert rc == 2
    one_error(err, r"--create-publication: no table public.nosuch \(tables are named schema.table")
    assert publication_tables(fresh_db, "p") == (False, [])
    # the owner of the tables may
    execute(fresh_db, f"alter table a owner to {role}")
    agent = Agent(pgo(dsn, "--publication", "p", "--create-publication", "public.a", "--create-slot",
                      "--snapshot", "never"))
    try:
        agent.wait_log("streaming from replication slot")
        assert agent.stop() == 0
    finally:
        agent.close()
    assert publication_tables(fresh_db, "p") == (True, ["public.a"])


def test_create_publication_beside_an_existing_slot_is_refused(fresh_db):
    execute(fresh_db, "create table a (id int primary key)",
            f"select pg_create_logical_replication_slot('{SLOT}', 'pgoutput')")
    rc, _, err = run_agent(pgo(fresh_db, "--publication", "p", "--create-publication", "all"))
    assert rc == 2
    one_error(err, rf'publication "p" does not exist, and slot "{SLOT}" already does: pgoutput reads a '
                   r"publication as of each change")
    assert publication_tables(fresh_db, "p") == (False, [])


def test_published_tables_without_replica_identity_are_named_at_startup(fresh_db):
    execute(fresh_db, "create table a (id int primary key)", "create table nokey (v text)",
            "create publication p for all tables",
            f"select pg_create_logical_replication_slot('{SLOT}', 'pgoutput')")
    agent = Agent(pgo(fresh_db, "--publication", "p"))
    try:
        agent.wait_log("streaming from replication slot")
        assert agent.stop() == 0
        log = agent.log()
    finally:
        agent.close()
    warnings = [line for line in log.splitlines() if " warning: " in line]
    assert len(warnings) == 1, log
    assert re.search(r"published table\(s\) without a replica identity: public.nokey; PostgreSQL refuses "
                     r"the application's UPDATE and DELETE on them .*REPLICA IDENTITY FULL", warnings[0])


# ---- least privilege, as on RDS ----

@pytest.fixture
def default_allow_list(pg_dsn):
    """The server's own default output_plugin_libraries ('pgoutput,
    test_decoding': walcast refused), as on a stock or managed server;
    the test cluster's setting is restored afterwards."""
    def settle(want_walcast):
        deadline = time.monotonic() + 30
        while True:
            conn = connect(pg_dsn)
            cur = conn.cursor()
            cur.execute("show output_plugin_libraries")
            value = cur.fetchone()[0]
            conn.close()
            if ("walcast" in value) == want_walcast:
                return value
            assert time.monotonic() < deadline, value
            time.sleep(0.1)

    execute(pg_dsn, "alter system set output_plugin_libraries = 'pgoutput', 'test_decoding'",
            "select pg_reload_conf()")
    try:
        assert settle(False) == "pgoutput, test_decoding"
        yield
    finally:
        execute(pg_dsn, "alter system reset output_plugin_libraries", "select pg_reload_conf()")
        settle(True)


def test_least_privilege_loads_then_streams_to_rabbitmq_and_the_mirror(fresh_db, role, broker, mirror,
                                                                       default_allow_list, tmp_path):
    """LOGIN REPLICATION and SELECT on the published tables only; the
    administrator created the publication; no extension.  walcast is
    refused by the server; pgoutput loads, then streams."""
    execute(fresh_db, "create table a (id int primary key, v text, n numeric, ts timestamptz)",
            "create table b (k text, id int, primary key (k, id))",
            "insert into a select g, 'v' || g, g / 3.0, '2024-01-01'::timestamptz + g * interval '1 hour' "
            "from generate_series(1, 500) g",
            "insert into b select 'k' || g % 7, g from generate_series(1, 300) g",
            "create table other (id int primary key)",
            "create publication p for table a, b", f"grant select on a, b to {role}")
    dsn = as_role(fresh_db, role)
    conn = connect(fresh_db)
    cur = conn.cursor()
    cur.execute("select rolsuper, rolreplication, rolcreatedb, rolcreaterole from pg_roles where rolname = %s",
                (role,))
    assert cur.fetchone() == (False, True, False, False)
    cur.execute("select count(*) from pg_extension where extname = 'walcast'")
    assert cur.fetchone()[0] == 0
    conn.close()

    rc, _, err = run_agent(["-d", dsn, "-S", "wc_lp_walcast", "--create-slot", "--snapshot", "never"])
    assert rc == 2
    one_error(err, 'library "walcast" may not be used as an output plugin')

    agent = Agent(["-d", dsn, "-S", SLOT, "--plugin", "pgoutput", "--create-slot", "--publication", "p",
                   "--state-dir", str(tmp_path), "-s", "1"] + broker.agent_args() + mirror.agent_args())
    try:
        agent.wait_log("initial load complete: 2 table\\(s\\), 800 rows")
        agent.wait_log("streaming from replication slot")
        execute(fresh_db, "update a set v = 'u' where id <= 10", "delete from a where id > 490",
                "insert into b values ('new', 1)", "insert into other values (1)",
                "update b set id = id + 1000 where k = 'k1'")
        wait_confirmed(fresh_db, SLOT, emit_marker(fresh_db), agent)
        messages = broker.collect(800 + 10 + 10 + 1 + 43, timeout=300)
        assert agent.stop() == 0
        log = agent.log()
    finally:
        agent.close()
    assert "without a replica identity" not in log
    ops = {}
    for key, _, body in messages:
        if json.loads(body)["action"] != "M":       # emit_marker's
            ops[key] = ops.get(key, 0) + 1
    assert ops == {"public.a.read": 500, "public.b.read": 300, "public.a.update": 10,
                   "public.a.delete": 10, "public.b.insert": 1, "public.b.update": 43}

    # the mirror holds the tables as they are
    conn = connect(fresh_db)
    cur = conn.cursor()
    cur.execute("select id, v from a")
    want_a = dict(cur.fetchall())
    cur.execute("select k, id from b")
    want_b = sorted(cur.fetchall())
    conn.close()
    docs_a = mirror.docs("a")
    assert {k: d["v"] for k, d in docs_a.items()} == want_a
    assert sorted((d["k"], d["id"]) for d in mirror.docs("b").values()) == want_b
    assert "other" not in mirror.db.list_collection_names()
