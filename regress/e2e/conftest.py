"""Shared fixtures for walcast's end-to-end tests.

The servers are real: scripts/run-tests.sh starts PostgreSQL, RabbitMQ,
FerretDB and an S3 server (SeaweedFS) with scripts/servers.sh in a
throwaway directory and exports their addresses (PGHOST, PGPORT,
AMQP_URI, MONGO_URI, WALCAST_S3_ENDPOINT, WALCAST_RUN_DIR).  When run by
hand, `make servers-up` and `. /tmp/walcast-servers/env` give the same
environment.

Clients are Debian's psycopg2, pika, pymongo and boto3: what a user's
consumer would use, none written here.  DuckDB (PyPI, not in Debian)
lives in scripts/install-deps.sh's tools directory, put on sys.path here.
"""
import collections
import os
import subprocess
import sys
import time
import uuid

import psycopg2
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPTS = os.path.join(ROOT, "scripts")
AGENT_BIN = os.path.join(ROOT, "agent", "walcast-agent")
sys.path.append(os.path.join(os.environ.get("WALCAST_TOOLS_DIR", "/usr/local/lib/walcast-tools"),
                             "python"))


def _need(name):
    value = os.environ.get(name)
    if not value:
        pytest.exit(f"{name} is not set: run through `make test`, or `make servers-up` "
                    f"and source $WALCAST_RUN_DIR/env", returncode=2)
    return value


@pytest.fixture(scope="session")
def pg_dsn():
    return "host=%s port=%s user=%s dbname=postgres" % (
        _need("PGHOST"), _need("PGPORT"), os.environ.get("PGUSER", "postgres"))


@pytest.fixture(scope="session")
def amqp_uri():
    return _need("AMQP_URI")


@pytest.fixture(scope="session")
def mongo_uri():
    return _need("MONGO_URI")


S3 = collections.namedtuple("S3", "endpoint access_key secret secret_file region")


@pytest.fixture(scope="session")
def s3_config():
    """The test S3 server (scripts/s3.sh): endpoint, access key, secret
    (read from the file servers.sh names; it is never in the environment)
    and region."""
    secret_file = _need("WALCAST_S3_SECRET_FILE")
    with open(secret_file) as f:
        secret = f.read().strip()
    return S3(_need("WALCAST_S3_ENDPOINT"), _need("AWS_ACCESS_KEY_ID"), secret, secret_file,
              "us-east-1")


def s3_client(cfg, access_key=None, secret=None, signed=True):
    """A boto3 S3 client for the test server: path-style addressing (no
    bucket host names on loopback), SigV4, region us-east-1; other
    credentials, or none at all (signed=False), for the error tests."""
    import boto3
    import botocore
    from botocore.config import Config
    config = Config(region_name=cfg.region, s3={"addressing_style": "path"},
                    retries={"mode": "standard", "max_attempts": 2},
                    signature_version="s3v4" if signed else botocore.UNSIGNED)
    return boto3.client("s3", endpoint_url=cfg.endpoint, config=config,
                        aws_access_key_id=access_key or cfg.access_key,
                        aws_secret_access_key=secret or cfg.secret)


@pytest.fixture(scope="session")
def s3(s3_config):
    """A boto3 client with the server's one identity (every action)."""
    return s3_client(s3_config)


@pytest.fixture
def s3_bucket(s3):
    """A bucket of its own for one test, emptied (objects and unfinished
    multipart uploads) and deleted afterwards: the server keeps a volume
    per bucket, which deleting the bucket frees.  Returns its name."""
    name = "t-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name)
    yield name
    drop_bucket(s3, name)


def drop_bucket(s3, name):
    """Empty a test's bucket and delete it."""
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=name):
        for u in page.get("Uploads", []):
            s3.abort_multipart_upload(Bucket=name, Key=u["Key"], UploadId=u["UploadId"])
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=name, Delete={"Objects": keys, "Quiet": True})
    s3.delete_bucket(Bucket=name)


def connect(dsn, autocommit=True):
    conn = psycopg2.connect(dsn)
    conn.autocommit = autocommit
    return conn


@pytest.fixture
def pg(pg_dsn):
    """An autocommit connection to the test cluster's postgres database."""
    conn = connect(pg_dsn)
    yield conn
    conn.close()


def server_setting(pg, name, value):
    """A server setting for one test (a fixture's body: yields once), reset
    afterwards: ALTER SYSTEM and a reload."""
    cur = pg.cursor()
    cur.execute("alter system set %s = '%s'" % (name, value))
    cur.execute("select pg_reload_conf()")
    yield
    cur.execute("alter system reset %s" % name)
    cur.execute("select pg_reload_conf()")


@pytest.fixture
def short_sender_timeout(pg):
    """wal_sender_timeout of 3 s for the test: a walsender that hears
    nothing from the agent for that long ends the session."""
    yield from server_setting(pg, "wal_sender_timeout", "3s")


@pytest.fixture
def fresh_db(pg_dsn):
    """A database of its own for one test, dropped afterwards.

    Returns its DSN.  Slots are per database, so dropping the database
    first drops any slot a test left behind.  No connection is held across
    the test, which may restart PostgreSQL.
    """
    name = "t_" + uuid.uuid4().hex[:12]
    admin = connect(pg_dsn)
    admin.cursor().execute(f"create database {name}")
    admin.close()
    yield pg_dsn.replace("dbname=postgres", f"dbname={name}")
    drop_db(pg_dsn, name)


def drop_db(pg_dsn, name):
    """Drop a test's database and its slots."""
    admin = connect(pg_dsn)
    cur = admin.cursor()
    # An agent that just exited may still hold its slot for a moment (the
    # walsender notices the closed connection a little later); slot names
    # are cluster-wide, so a slot left behind would break the next test.
    deadline = time.monotonic() + 30
    while True:
        cur.execute("select pg_terminate_backend(active_pid) from pg_replication_slots "
                    "where database = %s and active_pid is not null", (name,))
        cur.execute("select pg_drop_replication_slot(slot_name) from pg_replication_slots "
                    "where database = %s and not active", (name,))
        cur.execute("select count(*) from pg_replication_slots where database = %s", (name,))
        if cur.fetchone()[0] == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    cur.execute(f"drop database if exists {name} with (force)")
    admin.close()


def server(name, action):
    """Start, stop, restart or kill one of the test servers (fault tests)."""
    subprocess.run([os.path.join(SCRIPTS, f"{name}.sh"), action], check=True,
                   env=dict(os.environ, WALCAST_QUIET="1"))
