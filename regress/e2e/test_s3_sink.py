"""The object-storage sink (--s3-uri, docs/object-storage.md) against a
real S3-compatible server (SeaweedFS, scripts/s3.sh), read back as a user
would: boto3 lists and downloads the objects, DuckDB rebuilds each table
from its load and its changes.

- the lake rebuilt by DuckDB equals a fresh load of the source tables,
  after an initial load and a mixed workload of 100k changes over several
  tables, every column type included;
- kill -9 of the agent during uploads: no partial object is ever visible,
  objects written before the kill keep their bytes, and every change is
  in the lake exactly once;
- the store stopped for 30 s: nothing lost, nothing duplicated;
- wrong credentials, a missing bucket, no credentials, a bad URI: one
  clear error and an exit code at startup, no secret in it.
"""
import json
import os
import random
import subprocess
import threading
import time

import pytest

import fault_checker
from agent_helpers import (REFERENCE_SLOT, Agent, TlsProxy, agent_env, assert_delivered,  # noqa: F401
                           broker, check_messages, connect, error_lines, execute, http_port,
                           make_test_ca, metric, plugin_args, prepare_db, run_agent, scrape)
from conftest import AGENT_BIN, SCRIPTS
from fault_workload import DDL, TABLES, Workload
from mongo_helpers import emit_marker, wait_confirmed
from pgoutput_workloads import AGENT_TY_ROWS, SCHEMA, insert_ty
from s3_helpers import Lake, jsonl_records, load_rows, rebuild, s3_settings

SLOT = "wc_s3"


@pytest.fixture(scope="module")
def store():
    return s3_settings()


@pytest.fixture
def lake(store):
    lake = Lake(*store)
    yield lake
    try:
        lake.delete()
    except Exception:       # the store may be down after a failed test
        pass


def start_agent(dsn, lake, tmp_path, *extra, prefix="lake", slot=SLOT):
    return Agent(["-d", dsn, "-S", slot, "-s", "1", "--state-dir", str(tmp_path)]
                 + lake.agent_args(prefix, *extra), env=agent_env(lake.agent_env()))


def run_with(lake, args, extra_env=None, timeout=120):
    """Run the agent to completion with the lake's credentials."""
    env = agent_env(lake.agent_env())
    env.update(extra_env or {})
    p = subprocess.run([AGENT_BIN] + list(args),
                       env=env, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


# ---- the lake equals the source ----

def row_diff(cols, got, want):
    """The first rows that differ, column by column: what a failure shows."""
    for g, w in zip(got, want):
        if g != w:
            return [(c, a, b) for c, a, b in zip(cols, g, w) if a != b]
    return None

def every_type_workload(dsn):
    """The every-type rows, then updates (one moves a row to a new key) and
    a delete of them."""
    conn = connect(dsn)
    cur = conn.cursor()
    for row in AGENT_TY_ROWS:
        insert_ty(cur, row)
    cur.execute("update ty set t = t || ' changed', n = 2.5 where id = 1")
    cur.execute("update ty set id = 100 where id = 2")
    cur.execute("delete from ty where id = 3")
    for row in AGENT_TY_ROWS[1:]:
        insert_ty(cur, row)
    conn.close()


def test_lake_rebuilds_to_the_source(fresh_db, lake, tmp_path):
    dsn = fresh_db
    execute(dsn, *DDL)
    execute(dsn, SCHEMA)
    # unchanged TOAST values reach the lake only with the whole old row
    execute(dsn, "alter table fw_c replica identity full", "alter table ty replica identity full")
    # rows that exist before the slot: the initial load writes them
    for t in TABLES:
        execute(dsn, f"insert into {t} (id, v) select g, 0 from generate_series(5000000001, 5000002000) g")
    conn = connect(dsn)
    insert_ty(conn.cursor(), AGENT_TY_ROWS[0])
    conn.close()

    agent = start_agent(dsn, lake, tmp_path, "--create-slot", "--s3-max-object-age", "1",
                        "--s3-max-object-bytes", "256kB")
    try:
        agent.wait_log("streaming from replication slot", timeout=120)
        every_type_workload(dsn)
        work = Workload(dsn, seed=1812, changes=100000).start()
        assert work.join(), work.errors
        wait_confirmed(dsn, SLOT, emit_marker(dsn), agent, timeout=300)
        assert agent.stop() == 0, agent.log()
        log = agent.log()
    finally:
        agent.close()
    assert "sink s3" in log
    assert sum(work.done) >= 100000

    # A fresh load of the same tables, now: what the lake must rebuild to.
    tables = [f"public.{t}" for t in TABLES + ("ty",)]
    rc, _, err = run_with(lake, ["-d", dsn, "--reload-table", ",".join(tables),
                                 "--state-dir", str(tmp_path)] + lake.agent_args("fresh"))
    assert rc == 0, err

    lake_files = lake.download("lake", str(tmp_path / "lake"))
    fresh_files = lake.download("fresh", str(tmp_path / "fresh"))
    conn = connect(dsn)
    cur = conn.cursor()
    for t in TABLES + ("ty",):
        paths = lake_files[("public", t)]
        names = [os.path.basename(p) for p in paths]
        assert names[0].startswith("LOAD00000001"), names[:3]
        assert any(not n.startswith("LOAD") for n in names), "no change objects for " + t
        cols, rebuilt = rebuild(paths, ["id"])
        fcols, fresh = load_rows(fresh_files[("public", t)])
        assert cols == fcols, t
        assert len(rebuilt) == len(fresh), (t, len(rebuilt), len(fresh))
        assert rebuilt == fresh, (t, row_diff(cols, rebuilt, fresh))
        # and the keys are the table's, as PostgreSQL says
        cur.execute(f"select id::text from {t} order by 1")
        assert sorted(r[0] for r in cur.fetchall()) == sorted(r[cols.index("id")] for r in rebuilt), t
    conn.close()
    # several rounds: objects were rotated by age and size
    assert len(lake_files[("public", "fw_a")]) > 3


def test_pgoutput_writes_the_same_objects(fresh_db, lake, tmp_path):
    """Where only pgoutput is allowed (managed PostgreSQL), the lake is
    the same: the same names and bytes as from the walcast plugin, read
    by a role with only REPLICATION and SELECT."""
    dsn = prepare_db(fresh_db, SLOT, "create table p (id int primary key, v text, n numeric, j jsonb)",
                     plugin="pgoutput")
    execute(dsn, "select pg_create_logical_replication_slot('wc_s3_plugin', 'walcast')")
    role = "wc_s3_" + os.urandom(4).hex()
    execute(dsn, f"create role {role} login replication password 'pw'",
            f"grant select on all tables in schema public to {role}")
    execute(dsn, "insert into p values (1, 'a', 1.50, '{\"k\": [1, 2]}'), (2, '', null, null)",
            "update p set v = 'b, \"q\"' where id = 1", "update p set id = 3 where id = 2",
            "delete from p where id = 1", "truncate p", "insert into p values (4, null, 0, '[]')")
    objects = {}
    for plugin, slot, who in (("pgoutput", SLOT, role), ("walcast", "wc_s3_plugin", "postgres")):
        agent_dsn = dsn.replace("user=postgres", f"user={who} password=pw")
        agent = start_agent(agent_dsn, lake, tmp_path, "--s3-max-object-age", "1",
                            *plugin_args(plugin), prefix=plugin, slot=slot)
        try:
            wait_confirmed(dsn, slot, emit_marker(dsn), agent)
            assert agent.stop() == 0, agent.log()
        finally:
            agent.close()
        objects[plugin] = {k[len(plugin):]: body for k, (_, body) in lake.objects(plugin + "/").items()
                           if "/_walcast/" not in k}
    assert objects["pgoutput"] == objects["walcast"]
    (body,) = objects["walcast"].values()
    assert body == (b'Op,"id","v","n","j"\r\n'
                    b'I,1,"a","1.50","{""k"":[1,2]}"\r\n'
                    b'I,2,"",,\r\n'
                    b'U,1,"b, ""q""","1.50","{""k"":[1,2]}"\r\n'
                    b'D,2,,,\r\nU,3,"",,\r\n'
                    b'D,1,,,\r\n'
                    b'T,,,,\r\n'
                    b'I,4,,"0","[]"\r\n'), body


def test_large_object_is_a_multipart_upload(fresh_db, lake, tmp_path):
    """One transaction of about 12 MB into one table: an object larger
    than a part (8 MiB) goes as a multipart upload, whole once stored."""
    dsn = prepare_db(fresh_db, SLOT, "create table big (id int primary key, v text)")
    agent = start_agent(dsn, lake, tmp_path, "--s3-max-object-age", "1")
    try:
        agent.wait_log("streaming from replication slot")
        execute(dsn, "insert into big select g, repeat('x', 100) from generate_series(1, 100000) g")
        wait_confirmed(dsn, SLOT, emit_marker(dsn), agent)
        assert agent.stop() == 0, agent.log()
    finally:
        agent.close()
    keys = lake.keys("lake/public/big/")
    assert len(keys) == 1, keys
    head = lake.s3.head_object(Bucket=lake.bucket, Key=keys[0])
    # S3's ETag of a multipart object: the parts' digest, "-", their count
    assert head["ETag"].strip('"').endswith("-2"), head["ETag"]
    assert head["ContentLength"] > 8 * 1024 * 1024
    cols, rows = rebuild(lake.download("lake", str(tmp_path / "d"))[("public", "big")], ["id"])
    assert cols == ["id", "v"]
    assert len(rows) == 100000
    assert sorted(int(r[0]) for r in rows) == list(range(1, 100001))
    assert all(r[1] == "x" * 100 for r in rows)


def test_tls_endpoint(db, lake, tmp_path):
    """https to the store, verified against --s3-tls-ca-file; a
    certificate the agent cannot verify is an error at startup."""
    (tmp_path / "ca").mkdir()
    ca = make_test_ca(tmp_path / "ca")
    host, port = lake.endpoint.split("//")[1].split(":")
    proxy = TlsProxy(ca["cert"], ca["key"], (host, int(port)))
    endpoint = "https://localhost:%d" % proxy.port
    try:
        args = ["-d", db, "-S", SLOT, "--state-dir", str(tmp_path), "--s3-uri",
                f"s3://{lake.bucket}/lake", "--s3-endpoint", endpoint, "--s3-path-style=true",
                "--s3-max-object-age", "1"]
        rc, _, err = run_with(lake, args)
        assert rc == 2, err
        assert "certificate" in err, err

        agent = Agent(args + ["--s3-tls-ca-file", ca["ca"]], env=agent_env(lake.agent_env()))
        try:
            agent.wait_log("streaming from replication slot")
            execute(db, "insert into t values (7)")
            wait_confirmed(db, SLOT, emit_marker(db), agent)
            assert agent.stop() == 0, agent.log()
        finally:
            agent.close()
    finally:
        proxy.close()
    keys = lake.keys("lake/public/t/")
    assert len(keys) == 1
    assert lake.s3.get_object(Bucket=lake.bucket, Key=keys[0])["Body"].read() == b'Op,"id"\r\nI,7\r\n'


# ---- faults: kill -9, the store stopped ----

def lake_log(lake, prefix="lake"):
    """Every change in the lake's JSON-lines objects, as the fault checker
    reads a broker's log: one entry per change, with its id."""
    log = []
    for key, (_, body) in lake.objects(prefix + "/").items():
        if "/_walcast/" in key:
            continue
        for rec in jsonl_records(body, key):
            log.append({"t": 0, "mid": "%s:%s" % (rec["commit_lsn"], rec["seq"]),
                        "body": json.dumps(rec)})
    return log


def assert_once(dsn, lake):
    """Every committed change is in the lake exactly once (the reference
    slot says what committed), in commit order per table and key."""
    conn = connect(dsn)
    try:
        truth = fault_checker.truth_from_slot(conn, REFERENCE_SLOT)
    finally:
        conn.close()
    report = fault_checker.check(truth, lake_log(lake))
    assert report.changes > 0
    assert (report.lost, report.unexpected, report.duplicated, report.dup_changed,
            report.dup_new_id, report.reordered_table, report.reordered_key) == (0,) * 7, report
    assert report.received == report.changes, report


class Watcher(threading.Thread):
    """Lists and reads every object while the agent writes: each one
    parses whole (a partial object is never visible)."""

    def __init__(self, lake):
        super().__init__(daemon=True)
        self.lake, self.stop, self.reads, self.errors = lake, threading.Event(), 0, []

    def run(self):
        while not self.stop.is_set():
            try:
                for key, (_, body) in self.lake.objects("lake/").items():
                    if "/_walcast/" not in key:
                        jsonl_records(body, key)
                        self.reads += 1
            except AssertionError as e:
                self.errors.append(str(e))
            except Exception:       # a key deleted or the store restarting
                pass
            time.sleep(0.2)


@pytest.fixture
def fault_db(fresh_db):
    return prepare_db(fresh_db, SLOT, *DDL, reference=True)


def test_kill9_during_uploads(fault_db, lake, tmp_path):
    args = ("--s3-format", "jsonl", "--s3-compression", "gzip", "--s3-max-object-age", "1")
    rng = random.Random(4242)
    watcher = Watcher(lake)
    watcher.start()
    work = Workload(fault_db, seed=77, changes=30000, duration=25).start()
    before = {}
    try:
        for _ in range(3):
            agent = start_agent(fault_db, lake, tmp_path, *args)
            try:
                agent.wait_log("streaming from replication slot")
                time.sleep(rng.uniform(2.0, 6.0))
                agent.kill9()
            finally:
                agent.close()
            # what was stored before the kill must never change
            for key, (etag, body) in lake.objects("lake/").items():
                if "/_walcast/" not in key:
                    before.setdefault(key, body)
        assert work.join(), work.errors
        agent = start_agent(fault_db, lake, tmp_path, *args)
        try:
            wait_confirmed(fault_db, SLOT, emit_marker(fault_db), agent)
            assert agent.stop() == 0, agent.log()
        finally:
            agent.close()
    finally:
        watcher.stop.set()
        watcher.join()
    assert watcher.errors == [], watcher.errors[:3]
    assert watcher.reads > 0
    after = lake.objects("lake/")
    assert before, "nothing was stored before the kills"
    for key, body in before.items():
        assert key in after, "object %s vanished" % key
        assert after[key][1] == body, "object %s was rewritten with other bytes" % key
    assert_once(fault_db, lake)


def test_beside_rabbitmq_kill9(fault_db, lake, broker, tmp_path):
    """One agent, RabbitMQ and the lake from one slot, killed -9 three
    times: the broker gets every change at least once, the lake exactly
    once, although the two sinks confirm at their own pace (a replay that
    starts inside a round the lake stored skips it)."""
    args = broker.agent_args() + ["--s3-format", "jsonl", "--s3-max-object-age", "1"]
    rng = random.Random(515)
    work = Workload(fault_db, seed=515, changes=15000, duration=20).start()
    for _ in range(3):
        agent = start_agent(fault_db, lake, tmp_path, *args)
        try:
            agent.wait_log("streaming from replication slot")
            time.sleep(rng.uniform(1.5, 5.0))
            agent.kill9()
        finally:
            agent.close()
    changes = work.join()
    agent = start_agent(fault_db, lake, tmp_path, *args)
    try:
        wait_confirmed(fault_db, SLOT, emit_marker(fault_db), agent)
        assert agent.stop() == 0, agent.log()
    finally:
        agent.close()
    report = check_messages(fault_db, broker.collect(changes, timeout=300, settle=2))
    assert report.changes >= changes
    assert_delivered(report, report.changes)
    assert_once(fault_db, lake)


def s3_server(action):
    subprocess.run([os.path.join(SCRIPTS, "s3.sh"), action], check=True, timeout=120,
                   capture_output=True)


def test_store_stopped_for_30s(fault_db, lake, tmp_path):
    work = Workload(fault_db, seed=99, changes=15000, duration=40).start()
    agent = start_agent(fault_db, lake, tmp_path, "--s3-format", "jsonl",
                        "--s3-max-object-age", "1", "--s3-timeout", "5",
                        "--reconnect-max-delay", "5")
    try:
        agent.wait_log("streaming from replication slot")
        time.sleep(5)
        s3_server("stop")
        try:
            time.sleep(30)
            assert agent.proc.poll() is None, agent.log()
        finally:
            s3_server("start")
        assert work.join(), work.errors
        wait_confirmed(fault_db, SLOT, emit_marker(fault_db), agent, timeout=300)
        assert agent.stop() == 0, agent.log()
        log = agent.log()
    finally:
        agent.close()
    assert "object storage:" in log and "reconnecting" in log, log[-3000:]
    assert_once(fault_db, lake)


# ---- startup errors ----

@pytest.fixture
def db(fresh_db):
    return prepare_db(fresh_db, SLOT, "create table t (id int primary key)")


def test_wrong_secret_is_exit_1(db, lake):
    wrong = "wrong-" + lake.secret[:4] + "-secret"
    rc, out, err = run_with(lake, ["-d", db, "-S", SLOT] + lake.agent_args(),
                            {"AWS_SECRET_ACCESS_KEY": wrong})
    assert rc == 1, err
    errors = error_lines(err)
    assert len(errors) == 1, err
    assert "SignatureDoesNotMatch" in errors[0] and "check the credentials" in errors[0], errors
    for secret in (wrong, lake.secret):
        assert secret not in err + out


def test_unknown_key_is_exit_1(db, lake):
    rc, _, err = run_with(lake, ["-d", db, "-S", SLOT] + lake.agent_args(),
                          {"AWS_ACCESS_KEY_ID": "nobody"})
    assert rc == 1, err
    assert "InvalidAccessKeyId" in err or "AccessDenied" in err, err


def test_missing_bucket(db, store, tmp_path):
    lake = Lake(*store, create=False)
    rc, _, err = run_with(lake, ["-d", db, "-S", SLOT] + lake.agent_args())
    assert rc == 1, err
    assert 'bucket "%s" does not exist' % lake.bucket in err, err
    assert "--s3-create-bucket" in err
    with pytest.raises(Exception):
        lake.s3.head_bucket(Bucket=lake.bucket)

    # asked to, the agent creates it and writes there
    agent = start_agent(db, lake, tmp_path, "--s3-create-bucket=true", "--s3-max-object-age", "1",
                        "--http-listen", "127.0.0.1:0")
    try:
        port = http_port(agent)
        agent.wait_log("streaming from replication slot")
        execute(db, "insert into t values (1), (2)")
        wait_confirmed(db, SLOT, emit_marker(db), agent)
        samples = scrape(port)
        assert metric(samples, "walcast_s3_objects_total") == 1, samples
        assert metric(samples, "walcast_s3_unchanged_values_total") == 0
        assert agent.stop() == 0, agent.log()
        assert "created bucket" in agent.log()
    finally:
        agent.close()
    keys = [k for k in lake.keys("lake/public/t/")]
    assert len(keys) == 1 and keys[0].endswith(".csv"), keys
    body = lake.s3.get_object(Bucket=lake.bucket, Key=keys[0])["Body"].read()
    assert body == b'Op,"id"\r\nI,1\r\nI,2\r\n'
    lake.delete()


def test_no_credentials_is_exit_1(db, lake, tmp_path):
    env = {k: v for k, v in agent_env().items() if not k.startswith("AWS_")}
    env["HOME"] = str(tmp_path)
    p = subprocess.run([AGENT_BIN, "-d", db, "-S", SLOT]
                       + lake.agent_args(), env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 1, p.stderr
    assert "no credentials" in p.stderr and "AWS_ACCESS_KEY_ID" in p.stderr, p.stderr

    # the shared credentials file, under a profile
    os.makedirs(tmp_path / ".aws")
    (tmp_path / ".aws" / "credentials").write_text(
        "[default]\naws_access_key_id = nobody\naws_secret_access_key = x\n\n"
        "[lake]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % (lake.key, lake.secret))
    env["AWS_PROFILE"] = "lake"
    agent_args = ["-d", db, "-S", SLOT, "--state-dir", str(tmp_path)] + lake.agent_args()
    agent = Agent(agent_args, env=env)
    try:
        agent.wait_log("streaming from replication slot")
        assert agent.stop() == 0, agent.log()
    finally:
        agent.close()


@pytest.mark.parametrize("uri", ["http://lake/x", "s3://key:secret@lake/x", "s3://lake/x?a=1"])
def test_bad_uri_is_a_config_error(uri):
    rc, _, err = run_agent(["--s3-uri", uri, "--print-config"])
    assert rc == 1, err
    assert "--s3-uri" in err or "s3_uri" in err, err
    assert "secret" not in err
