"""Helpers for the MongoDB mirror's end-to-end tests (test_mongo_*.py).

The server is whatever MONGO_URI names: the project's FerretDB 1.24
(scripts/ferretdb.sh) by default, or a real MongoDB when MONGO_URI points
at one and MONGO_FLAVOR=mongodb is set (then the agent runs with the
MongoDB-native type options instead of FerretDB's fallbacks).  Documents
are read back with pymongo, rows with psycopg2.
"""
import os
import time
import uuid

import pymongo
import pytest

from agent_helpers import Agent, prepare_db, slot_info, lsn_int
from conftest import connect

FERRETDB = os.environ.get("MONGO_FLAVOR", "ferretdb") == "ferretdb"

# FerretDB 1.x has no Decimal128, no NaN/Infinity doubles and no arrays of
# arrays (docs/mongo.md, "FerretDB"): the tests use the documented fallbacks.
# On PostgreSQL it also holds a connection per upsert of a bulk and hangs
# past its pool of 50: bulks of 40.
TYPE_ARGS = (["--mongo-numeric", "string", "--mongo-nonfinite", "string",
              "--mongo-nested-arrays", "string", "--mongo-bulk-max", os.environ.get("WALCAST_TEST_MONGO_BULK_MAX", "40")] if FERRETDB else [])


class Mirror:
    """A database of the test's own on the Mongo server."""

    def __init__(self, uri):
        self.uri = uri
        self.client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=20000)
        self.dbname = "wc_" + uuid.uuid4().hex[:10]
        self.db = self.client[self.dbname]

    def agent_args(self, *extra):
        return ["--mongo-uri", self.uri, "--mongo-database", self.dbname] + TYPE_ARGS + list(extra)

    def docs(self, collection):
        """Every document of a collection, by _id (retrying while the
        server restarts)."""
        deadline = time.monotonic() + 60
        while True:
            try:
                return {self._key(d["_id"]): d for d in self.db[collection].find()}
            except pymongo.errors.PyMongoError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    @staticmethod
    def _key(k):
        return tuple(sorted(k.items())) if isinstance(k, dict) else k

    def drop(self):
        try:
            self.client.drop_database(self.dbname)
        except pymongo.errors.PyMongoError:
            pass
        self.client.close()


@pytest.fixture
def mirror(mongo_uri):
    m = Mirror(mongo_uri)
    yield m
    m.drop()


def wait_confirmed(dsn, slot, target_lsn, agent, timeout=180):
    """Wait until the slot's confirmed position reaches target_lsn: every
    sink (the mirror included) has confirmed everything before it."""
    deadline = time.monotonic() + timeout
    want = lsn_int(target_lsn)
    while time.monotonic() < deadline:
        info = slot_info(dsn, slot)
        if info and info[2] >= want:
            return
        if agent is not None and agent.proc.poll() is not None:
            raise AssertionError("agent exited (%s):\n%s" % (agent.proc.returncode, agent.log()))
        time.sleep(0.2)
    raise AssertionError("slot %s did not confirm %s within %ss:\n%s"
                         % (slot, target_lsn, timeout, agent.log() if agent else ""))


def mirror_until_done(dsn, slot, mirror, extra_args=(), statements=()):
    """Run the agent (mirror only) until every statement's changes are
    confirmed, then stop it; returns its log."""
    agent = Agent(["-d", dsn, "-S", slot, "-s", "1"] + mirror.agent_args(*extra_args))
    try:
        conn = connect(dsn)
        cur = conn.cursor()
        for s in statements:
            cur.execute(s)
        conn.close()
        # A logical message after the work moves the position past it.
        target = emit_marker(dsn)
        wait_confirmed(dsn, slot, target, agent)
        assert agent.stop() == 0, agent.log()
        return agent.log()
    finally:
        agent.close()


def emit_marker(dsn):
    """A transactional message; returns its LSN, which the slot passes once
    the agent confirmed the transaction (and so everything before it)."""
    conn = connect(dsn)
    cur = conn.cursor()
    cur.execute("select pg_logical_emit_message(true, 'walcast-test', 'marker')::text")
    lsn = cur.fetchone()[0]
    conn.close()
    return lsn


def strip_meta(doc):
    return {k: v for k, v in doc.items() if k != "_walcast"}


__all__ = ["Mirror", "mirror", "mirror_until_done", "wait_confirmed", "emit_marker",
           "strip_meta", "prepare_db", "FERRETDB", "TYPE_ARGS"]
