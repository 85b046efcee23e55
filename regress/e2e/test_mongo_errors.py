"""The mirror's error paths against a scripted server (docs/mongo.md,
"Connection, failures, security" and "Replay and stale writes").

FerretDB cannot be made to answer "not primary" or a write-concern error,
so the server here is Debian's python3-mockupdb: it answers libmongoc's
handshake (isMaster/hello, over OP_QUERY then OP_MSG), and the test
scripts its replies to the bulk writes (`insert` commands with their
`documents`, `update` commands with their `updates`).  PostgreSQL and the
agent are real.  An inserted row is first sent as a plain insert; a
duplicate key turns it into the conditional upsert (docs/mongo.md).

- "not primary" (a command error) and a write-concern error: the writes
  may or may not be durable, so the session ends, the agent reconnects and
  the slot replays the same change; once the server accepts it, the slot
  confirms it.
- duplicate key that is not a stale replay (no document of the key with a
  newer `_walcast.lsn`, as with a unique index of the user's): exit 2 with
  one error line naming the collection and the key.
"""
import threading

import pytest

mockupdb = pytest.importorskip("mockupdb")

from agent_helpers import Agent, error_lines, execute, prepare_db, slot_info, lsn_int  # noqa: E402
from mongo_helpers import emit_marker, wait_confirmed  # noqa: E402

SLOT = "wc_mongo_err"
DATABASE = "wc_scripted"


class ScriptedServer:
    """A MongoDB that answers the handshake and ping, and replies to each
    `insert` or `update` command with the next scripted reply (then `ok`)."""

    def __init__(self, write_replies, stale_count=0):
        self.write_replies = list(write_replies)
        self.stale_count = stale_count
        self.writes = []          # (command, its documents or updates), in order
        self.counts = []          # the filters of the lookups of a newer version
        self.lock = threading.Lock()
        self.server = mockupdb.MockupDB(auto_ismaster=False)
        self.server.autoresponds(self._serve)
        self.port = self.server.run()
        self.uri = "mongodb://127.0.0.1:%d/?serverSelectionTimeoutMS=2000" % self.port

    def _serve(self, r):
        name = r.command_name.lower() if r.command_name else ""
        if name in ("ismaster", "hello"):
            # Wire version 13 (MongoDB 5.0): libmongoc 1.23 then sends
            # OP_MSG.  No logicalSessionTimeoutMinutes: no implicit sessions.
            return r.ok(ismaster=True, isWritablePrimary=True, helloOk=True,
                        minWireVersion=0, maxWireVersion=13,
                        maxBsonObjectSize=16777216, maxMessageSizeBytes=48000000,
                        maxWriteBatchSize=100000)
        if name in ("ping", "endsessions"):
            return r.ok()
        if name in ("insert", "update"):
            items = r.doc["documents" if name == "insert" else "updates"]
            with self.lock:
                self.writes.append((name, [dict(u) for u in items]))
                reply = self.write_replies.pop(0) if self.write_replies else None
            if reply is None:
                return r.ok(n=len(items), nModified=0, upserted=[])
            return r.replies(reply)
        if name == "find":
            # The lookup of a newer version: {_id: key, _walcast.lsn: {$gte: L}}.
            with self.lock:
                self.counts.append(dict(r.doc["filter"]))
            batch = [{"_id": 1}] if self.stale_count else []
            return r.ok(cursor={"id": 0, "ns": DATABASE + ".t", "firstBatch": batch})
        return r.command_err(code=59, errmsg="no such command: %s" % name)

    def stop(self):
        self.server.stop()


@pytest.fixture
def db(fresh_db):
    return prepare_db(fresh_db, SLOT,
                      "create table t (id int primary key, v text)")


def start_agent(dsn, server):
    return Agent(["-d", dsn, "-S", SLOT, "-s", "1", "--reconnect-max-delay", "1",
                  "--mongo-uri", server.uri, "--mongo-database", DATABASE,
                  "--mongo-numeric", "string"])


def insert_row(dsn):
    execute(dsn, "insert into t values (1, 'one')")
    return emit_marker(dsn)


def write_ids(writes):
    """(command, [_id of each document or update filter]) per write."""
    return [(name, [(u["q"] if name == "update" else u)["_id"] for u in items])
            for name, items in writes]


@pytest.mark.parametrize("reply,logged", [
    # A command error: the server stepped down between handshake and write.
    ({"ok": 0, "code": 10107, "codeName": "NotWritablePrimary", "errmsg": "not primary"},
     "not primary"),
    # The write applied on the primary but the write concern was not met.
    ({"ok": 1, "n": 1, "nModified": 0,
      "upserted": [{"index": 0, "_id": 1}],
      "writeConcernError": {"code": 64, "codeName": "WriteConcernFailed",
                            "errmsg": "waiting for replication timed out"}},
     "waiting for replication timed out"),
], ids=["not_primary", "write_concern_error"])
def test_retryable_write_failure_is_replayed_then_confirmed(db, reply, logged):
    server = ScriptedServer([reply])
    agent = start_agent(db, server)
    try:
        agent.wait_log("streaming from replication slot")
        target = insert_row(db)
        wait_confirmed(db, SLOT, target, agent, timeout=120)
        log = agent.log()
        # Logged once as a warning naming the collection and key, then a
        # new session; never an error, and the agent keeps running.
        warnings = [line for line in log.splitlines() if logged in line]
        assert warnings and all(" warning: " in line for line in warnings), log
        assert 'mongo: collection "t", key { "_id" : 1 }' in warnings[0], log
        assert "reconnecting in" in log, log
        assert error_lines(log) == [], log
        assert agent.proc.poll() is None
        # The same change written again after the failure, identical,
        # LSN included (a replay, not a new change): a new row's document,
        # sent as a plain insert.
        assert write_ids(server.writes)[:2] == [("insert", [1]), ("insert", [1])], server.writes
        first, again = server.writes[0][1][0], server.writes[1][1][0]
        assert first == again
        assert first["v"] == "one" and first["_walcast"]["lsn"] > 0
        assert agent.stop() == 0, agent.log()
    finally:
        agent.close()
        server.stop()


DUPLICATE = {"ok": 1, "n": 0, "nModified": 0,
             "writeErrors": [{"index": 0, "code": 11000, "codeName": "DuplicateKey",
                              "errmsg": "E11000 duplicate key error collection: "
                                        "wc_scripted.t index: v_1 dup key: { v: \"one\" }"}]}


def test_real_duplicate_key_exits_2_naming_collection_and_key(db):
    # The insert, then the conditional upsert: both refused.  No document
    # of the key with a newer _walcast.lsn exists (the count is 0), so this
    # is a unique index of the user's, which a replay would hit again.
    server = ScriptedServer([DUPLICATE, DUPLICATE], stale_count=0)
    agent = start_agent(db, server)
    try:
        agent.wait_log("streaming from replication slot")
        confirmed_before = slot_info(db, SLOT)[2]
        insert_row(db)
        assert agent.wait_exit(timeout=120) == 2, agent.log()
        log = agent.log()
        errors = error_lines(log)
        assert len(errors) == 1, log
        assert 'mongo: collection "t", key { "_id" : 1 }, change at LSN ' in errors[0], log
        assert ': duplicate key' in errors[0], log
        # named as the record it is, with the way out
        assert errors[0].split("error: ")[1].startswith("cannot process the record at LSN "), log
        assert "--skip-lsn=" in errors[0], log
        assert '"one"' not in errors[0], "the row's values are never logged"
        # The insert was retried as the upsert conditional on the LSN.
        assert write_ids(server.writes)[:2] == [("insert", [1]), ("update", [1])], server.writes
        upsert = server.writes[1][1][0]
        assert upsert["upsert"] is True and "$not" in upsert["q"]["_walcast.lsn"]
        assert upsert["u"] == server.writes[0][1][0]
        # It asked for a newer version of that key before giving up.
        assert server.counts and server.counts[-1]["_id"] == 1, server.counts
        assert "$gte" in server.counts[-1]["_walcast.lsn"]
        # Nothing was confirmed past the refused change.
        assert slot_info(db, SLOT)[2] == confirmed_before
    finally:
        agent.close()
        server.stop()


def test_stale_duplicate_key_counts_as_applied(db):
    # The same refusal, but the key's document is newer (count 1): a
    # replay of an applied change, confirmed without an error.
    server = ScriptedServer([DUPLICATE, DUPLICATE], stale_count=1)
    agent = start_agent(db, server)
    try:
        agent.wait_log("streaming from replication slot")
        target = insert_row(db)
        wait_confirmed(db, SLOT, target, agent, timeout=120)
        assert error_lines(agent.log()) == [], agent.log()
        assert len(server.counts) == 1 and server.counts[0]["_id"] == 1
        assert write_ids(server.writes) == [("insert", [1]), ("update", [1])], server.writes
        assert slot_info(db, SLOT)[2] >= lsn_int(target)
        assert agent.stop() == 0, agent.log()
    finally:
        agent.close()
        server.stop()
