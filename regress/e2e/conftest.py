"""Shared fixtures for walcast's end-to-end tests.

The servers are real: regress/run-all.sh starts PostgreSQL, RabbitMQ and
FerretDB with scripts/servers.sh in a throwaway directory and exports
their addresses (PGHOST, PGPORT, AMQP_URI, MONGO_URI,
WALCAST_RUN_DIR).  When run by hand, `make servers-up` and
`. /tmp/walcast-servers/env` give the same environment.

Clients are Debian's psycopg2, pika and pymongo: what a user's consumer
would use, none written here.
"""
import os
import subprocess
import time
import uuid

import psycopg2
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPTS = os.path.join(ROOT, "scripts")
AGENT_BIN = os.path.join(ROOT, "agent", "walcast-agent")


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
