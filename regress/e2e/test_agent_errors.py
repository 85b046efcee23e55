"""walcast-agent's errors, as a user meets them: one clear line and the
documented exit code (1 usage/config, 2 runtime), or a retry where the
condition is passing (a slot busy for another connection).  Also the slot
handling (--create-slot, --if-not-exists, wrong plugin) and running as the
non-superuser role of sql/roles.sql.
"""
import json
import os
import re
import subprocess
import tempfile
import time
import uuid

import pytest

from agent_helpers import (Agent, TlsProxy, broker, error_lines, execute,  # noqa: F401
                           make_test_ca, prepare_db, run_agent, slot_info)
from conftest import ROOT, connect

SLOT = "wc_agent_err"


@pytest.fixture
def db(fresh_db):
    return prepare_db(fresh_db, SLOT, "create table t (id int primary key)")


def dsn_with(dsn, **kw):
    parts = dict(p.split("=", 1) for p in dsn.split())
    parts.update({k: str(v) for k, v in kw.items()})
    return " ".join("%s=%s" % kv for kv in parts.items())


def one_error(stderr, pattern):
    errs = error_lines(stderr)
    assert len(errs) == 1, stderr
    assert re.search(pattern, errs[0]), errs[0]
    return errs[0]


def test_bad_option_value_exits_1(db):
    rc, _, err = run_agent(["-d", db, "-S", SLOT, "--status-interval", "abc"])
    assert rc == 1
    one_error(err, "status.interval")


def test_unknown_option_exits_1():
    rc, _, err = run_agent(["--no-such-option"])
    assert rc == 1
    one_error(err, "no-such-option")


def test_bad_config_file_names_file_and_line(db):
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write("# walcast-agent\nslot = %s\nbatch = sometimes\n" % SLOT)
    try:
        rc, _, err = run_agent(["-c", f.name, "-d", db])
    finally:
        os.unlink(f.name)
    assert rc == 1
    one_error(err, re.escape(f.name) + ":3")


def test_invalid_slot_name_exits_1(db):
    rc, _, err = run_agent(["-d", db, "-S", "Bad-Name"])
    assert rc == 1
    one_error(err, "not a valid replication slot name")


@pytest.mark.parametrize("option", ["include-lsn=false", "include-seq=off", "include-transaction=false",
                                    "stream-changes=true", "two-phase=true",
                                    "batch-across-transactions=true"])
def test_plugin_options_the_agent_cannot_honour_are_refused(db, option):
    rc, _, err = run_agent(["-d", db, "-S", SLOT, "-o", option])
    assert rc == 1
    one_error(err, option.split("=")[0])


def test_missing_slot_exits_2(db):
    rc, _, err = run_agent(["-d", db, "-S", "wc_no_such_slot"])
    assert rc == 2
    one_error(err, 'replication slot "wc_no_such_slot" does not exist')


def test_wrong_postgres_port_exits_2(db):
    rc, _, err = run_agent(["-d", dsn_with(db, port=1), "-S", SLOT])
    assert rc == 2
    one_error(err, "could not connect to PostgreSQL.*port 1 failed")


def test_unknown_postgres_user_exits_2(db):
    rc, _, err = run_agent(["-d", dsn_with(db, user="wc_nobody"), "-S", SLOT])
    assert rc == 2
    one_error(err, 'could not connect to PostgreSQL.*"wc_nobody"')


def test_wrong_amqp_password_exits_1(db, amqp_uri):
    """No broker of --amqp-uri takes the login at the first start: a
    configuration error (issue 16: every URI named, password masked)."""
    bad = re.sub(r"//([^:]+):[^@]*@", r"//\1:wrong-password@", amqp_uri)
    rc, _, err = run_agent(["-d", db, "-S", SLOT, "--amqp-uri", bad])
    assert rc == 1
    line = one_error(err, "RabbitMQ could not be reached: amqp://guest:\\*\\*\\*\\*@.*refused the login")
    assert "wrong-password" not in err
    assert "wrong-password" not in line


def test_wrong_amqp_port_exits_1(db):
    rc, _, err = run_agent(["-d", db, "-S", SLOT, "--amqp-uri", "amqp://guest:guest@127.0.0.1:1/"])
    assert rc == 1
    one_error(err, "could not connect to RabbitMQ at 127.0.0.1:1")


def test_trailing_slash_uri_means_default_vhost(db, amqp_uri, broker):
    """rabbitmq-c reads amqp://host:port/ as vhost "": the agent uses "/"."""
    uri = re.sub(r"/(%2[fF])?$", "/", amqp_uri)
    assert uri.endswith("/")
    agent = Agent(["-d", db, "-S", SLOT, "--amqp-uri", uri, "--exchange", broker.exchange])
    try:
        agent.wait_log('vhost "/"')
        execute(db, "insert into t values (1)")
        assert len(broker.collect(1)) == 1
        assert agent.stop() == 0
    finally:
        agent.close()


def test_unroutable_with_fail_policy_exits_2(db, amqp_uri):
    exchange = "wc_x_unbound_" + uuid.uuid4().hex[:8]
    agent = Agent(["-d", db, "-S", SLOT, "--amqp-uri", amqp_uri, "--exchange", exchange])
    try:
        agent.wait_log("streaming from replication slot")
        execute(db, "insert into t values (1)")
        assert agent.wait_exit() == 2
        one_error(agent.log(), "could not be routed")
    finally:
        agent.close()
    # nothing was confirmed: the change is still in the slot for next time
    conn = connect(db)
    cur = conn.cursor()
    cur.execute("select count(*) from pg_logical_slot_peek_changes(%s, null, null)", (SLOT,))
    assert cur.fetchone()[0] >= 1
    conn.close()


def test_wrong_plugin_slot_exits_2(db):
    conn = connect(db)
    conn.cursor().execute("select pg_create_logical_replication_slot('wc_td', 'test_decoding')")
    conn.close()
    rc, _, err = run_agent(["-d", db, "-S", "wc_td"])
    assert rc == 2
    one_error(err, 'uses output plugin "test_decoding"')


def test_create_slot_and_if_not_exists(db):
    slot = "wc_created"
    agent = Agent(["-d", db, "-S", slot, "--create-slot", "--snapshot", "never", "--stats-interval", "1"])
    try:
        agent.wait_log('created replication slot "wc_created"')
        execute(db, "insert into t values (5)")
        agent.wait_log(r"stats: events=1 ")
        assert agent.stop() == 0
        assert [json.loads(l)["new"]["id"] for l in agent.out_lines()] == [5]
    finally:
        agent.close()
    assert slot_info(db, slot) is not None
    # again without --if-not-exists: the slot exists, refuse
    rc, _, err = run_agent(["-d", db, "-S", slot, "--create-slot", "--snapshot", "never"])
    assert rc == 2
    one_error(err, "already exists")
    # with it: reuse, and stream what was committed meanwhile
    agent = Agent(["-d", db, "-S", slot, "--create-slot", "--if-not-exists", "--snapshot", "never",
                   "--stats-interval", "1"])
    try:
        agent.wait_log("streaming from replication slot")
        execute(db, "insert into t values (6)")
        agent.wait_log(r"stats: events=[12] ")
        assert agent.stop() == 0
        ids = [json.loads(l)["new"]["id"] for l in agent.out_lines()]
    finally:
        agent.close()
    assert 6 in ids


def test_slot_dropped_under_the_agent_is_not_recreated(db):
    """--create-slot is about the first start: when the slot this process
    created disappears while it runs, the reconnect reports the loss (exit
    2) instead of creating a new slot that would hide it."""
    slot = "wc_dropped"
    agent = Agent(["-d", db, "-S", slot, "--create-slot", "--snapshot", "never",
                   "--reconnect-max-delay", "1"])
    try:
        agent.wait_log("streaming from replication slot")
        conn = connect(db)
        cur = conn.cursor()
        # end the agent's walsender, then drop the slot before it is back
        dropped = False
        for _ in range(1000):
            cur.execute("select pg_terminate_backend(active_pid) from pg_replication_slots "
                        "where slot_name = %s and active_pid is not null", (slot,))
            cur.execute("select pg_drop_replication_slot(slot_name) from pg_replication_slots "
                        "where slot_name = %s and not active", (slot,))
            dropped = cur.rowcount == 1
            if dropped:
                break
            time.sleep(0.01)
        conn.close()
        assert dropped
        assert agent.wait_exit() == 2
        log = agent.log()
    finally:
        agent.close()
    one_error(log, 'replication slot "wc_dropped" no longer exists: this agent used it')
    assert log.count("created replication slot") == 1
    assert slot_info(db, slot) is None


def test_busy_slot_is_reported_and_retried(db):
    first = Agent(["-d", db, "-S", SLOT])
    second = None
    try:
        first.wait_log("streaming from replication slot")
        pid = slot_info(db, SLOT)[0]
        second = Agent(["-d", db, "-S", SLOT, "--reconnect-max-delay", "1",
                        "--stats-interval", "1"])
        second.wait_log('replication slot "%s" is active for PID %d' % (SLOT, pid))
        second.wait_log("reconnecting in")
        assert second.proc.poll() is None
        assert first.stop() == 0
        second.wait_log("streaming from replication slot")
        execute(db, "insert into t values (9)")
        second.wait_log(r"stats: events=1 ")
        assert second.stop() == 0
        assert [json.loads(l)["new"]["id"] for l in second.out_lines()] == [9]
    finally:
        first.close()
        if second:
            second.close()


def test_non_superuser_role_from_sql_roles(db, broker):
    role = "wc_agent_role_" + uuid.uuid4().hex[:6]
    dbname = dict(p.split("=", 1) for p in db.split())["dbname"]
    env = dict(os.environ, PGDATABASE=dbname)
    subprocess.run(["psql", "-X", "-q", "-v", "agent_role=" + role, "-f",
                    os.path.join(ROOT, "sql", "roles.sql")], env=env, check=True,
                   capture_output=True)
    try:
        execute(db, "create table owned_elsewhere (id int primary key)")
        agent = Agent(["-d", dsn_with(db, user=role), "-S", "wc_role_slot",
                       "--create-slot", "--snapshot", "never"] + broker.agent_args())
        try:
            agent.wait_log("streaming from replication slot")
            execute(db, "insert into owned_elsewhere values (42)")
            messages = broker.collect(1)
            assert agent.stop() == 0
        finally:
            agent.close()
        assert json.loads(messages[0][2])["new"] == {"id": 42}
        conn = connect(db)
        cur = conn.cursor()
        cur.execute("select rolsuper, rolreplication from pg_roles where rolname = %s", (role,))
        assert cur.fetchone() == (False, True)
        cur.execute("select pg_drop_replication_slot('wc_role_slot')")
        conn.close()
    finally:
        conn = connect(db)
        cur = conn.cursor()
        cur.execute("revoke all on database %s from %s" % (dbname, role))
        cur.execute("revoke pg_monitor from %s" % role)
        cur.execute("drop role %s" % role)
        conn.close()


def test_amqps_with_ca_verification(db, amqp_uri, broker, tmp_path):
    """amqps:// verified against --amqp-cacert: events flow; with a CA that
    did not sign the broker's certificate the agent refuses (exit 1: no
    broker of --amqp-uri could be reached at the first start)."""
    (tmp_path / "good").mkdir()
    (tmp_path / "other").mkdir()
    good = make_test_ca(tmp_path / "good")
    other = make_test_ca(tmp_path / "other")
    m = re.match(r"amqp://([^@]*)@([^:/]+):(\d+)(/.*)?$", amqp_uri)
    proxy = TlsProxy(good["cert"], good["key"], (m.group(2), int(m.group(3))))
    try:
        uri = "amqps://%s@localhost:%d%s" % (m.group(1), proxy.port, m.group(4) or "/")
        agent = Agent(["-d", db, "-S", SLOT, "--amqp-uri", uri, "--exchange", broker.exchange,
                       "--amqp-cacert", good["ca"]])
        try:
            agent.wait_log(r"connected to RabbitMQ at localhost:\d+, .*\(TLS\)")
            execute(db, "insert into t values (77)")
            messages = broker.collect(1)
            assert agent.stop() == 0
        finally:
            agent.close()
        assert json.loads(messages[0][2])["new"] == {"id": 77}

        rc, _, err = run_agent(["-d", db, "-S", SLOT, "--amqp-uri", uri,
                                "--exchange", broker.exchange, "--amqp-cacert", other["ca"]])
        assert rc == 1
        one_error(err, "could not connect to RabbitMQ at localhost")
    finally:
        proxy.close()
