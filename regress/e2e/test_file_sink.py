"""The file sink (--file-path, docs/agent-config.md "File"): every
committed change is appended once, as one JSON line, in commit order, and
synced before it counts as confirmed; a kill -9 and a restart repeat only
changes the slot had not been told were confirmed; a path the agent cannot
write is one error line and exit code 2.

The file is read as a replay tool would read it: line by line, each line
a JSON record (the native envelope: the plugin's record as published).
"""
import json
import os
import threading
import time

import pytest

from agent_helpers import (Agent, connect, error_lines, execute, lsn_int,  # noqa: F401
                           prepare_db, run_agent, slot_info)
from mongo_helpers import emit_marker, wait_confirmed

SLOT = "wc_file_sink"


@pytest.fixture
def db(fresh_db):
    return prepare_db(fresh_db, SLOT, "create table t (id int primary key, v text)")


def agent_args(dsn, path, *extra):
    return ["-d", dsn, "-S", SLOT, "-s", "1", "--file-path", str(path)] + list(extra)


def read_events(path):
    """Every line of the file, parsed; the file ends with a whole line."""
    text = open(path, encoding="utf-8").read()
    assert text == "" or text.endswith("\n"), "the file ends in a partial line"
    return [json.loads(line) for line in text.split("\n") if line]


def key(ev):
    """A change's place in commit order, and its message id: (commit LSN, seq)."""
    return (lsn_int(ev["commit_lsn"]), ev["seq"])


def test_every_change_once_in_commit_order(db, tmp_path):
    path = tmp_path / "events.jsonl"
    agent = Agent(agent_args(db, path))
    try:
        agent.wait_log("streaming from replication slot")
        execute(db,
                "insert into t select g, 'a' from generate_series(1, 100) g",
                "update t set v = 'b' where id <= 10",
                "begin",
                "delete from t where id > 90",
                "select pg_logical_emit_message(true, 'wc', 'in a transaction')",
                "commit")
        wait_confirmed(db, SLOT, emit_marker(db), agent)
        assert agent.stop() == 0, agent.log()
        log = agent.log()
        # no other sink: the file replaces stdout, the fallback
        assert agent.out_lines() == []
    finally:
        agent.close()
    assert "sink file" in log
    events = read_events(path)
    actions = [ev["action"] for ev in events]
    assert actions.count("I") == 100
    assert actions.count("U") == 10
    assert actions.count("D") == 10
    # the test's message and the marker
    assert actions.count("M") == 2
    assert len(events) == 122
    keys = [key(ev) for ev in events]
    assert len(set(keys)) == len(keys), "a change was written twice"
    assert keys == sorted(keys), "changes out of commit order"
    assert [ev["new"]["id"] for ev in events if ev["action"] == "I"] == list(range(1, 101))
    assert sorted(ev["old"]["id"] for ev in events if ev["action"] == "D") == list(range(91, 101))
    # owner-only: rows are data
    assert os.stat(path).st_mode & 0o777 == 0o600


def workload(dsn, txns, rows):
    conn = connect(dsn, autocommit=False)
    cur = conn.cursor()
    for t in range(txns):
        lo = t * rows + 1
        cur.execute("insert into t select g, 'x' from generate_series(%s, %s) g", (lo, lo + rows - 1))
        conn.commit()
    conn.close()


def test_kill9_repeats_only_unconfirmed_changes(db, tmp_path):
    """kill -9 while changes stream in: after a restart every change is in
    the file, and the only lines written twice are of transactions the slot
    had not been told were confirmed when the agent died."""
    txns, rows = 400, 100
    path = tmp_path / "events.jsonl"
    writer = threading.Thread(target=workload, args=(db, txns, rows), daemon=True)
    first = Agent(agent_args(db, path, "--status-interval", "1"))
    try:
        first.wait_log("streaming from replication slot")
        writer.start()
        # Let it write a good part of the stream, not all of it.
        while not os.path.exists(path) or os.path.getsize(path) < 300_000:
            assert first.proc.poll() is None, first.log()
            time.sleep(0.05)
        first.kill9()
    finally:
        first.close()
    confirmed_at_kill = slot_info(db, SLOT)[2]
    writer.join(timeout=600)
    assert not writer.is_alive()

    second = Agent(agent_args(db, path))
    try:
        wait_confirmed(db, SLOT, emit_marker(db), second)
        assert second.stop() == 0, second.log()
    finally:
        second.close()

    events = [ev for ev in read_events(path) if ev["action"] == "I"]
    ids = [ev["new"]["id"] for ev in events]
    assert set(ids) == set(range(1, txns * rows + 1)), "a change is missing"
    seen = {}
    for ev in events:
        seen.setdefault(key(ev), []).append(ev["new"]["id"])
    repeated = {k: v for k, v in seen.items() if len(v) > 1}
    assert repeated, "the kill came after the last change: nothing was in flight"
    for (commit_lsn, _), copies in repeated.items():
        assert len(set(copies)) == 1, "one message id, two rows"
        # a transaction up to the confirmed position is never written again
        assert commit_lsn >= confirmed_at_kill, (commit_lsn, confirmed_at_kill)
    # two runs, each in commit order: the second starts again at most once
    keys = [key(ev) for ev in events]
    rewinds = sum(1 for a, b in zip(keys, keys[1:]) if b < a)
    assert rewinds <= 1


@pytest.mark.parametrize("where", ["missing directory", "a directory"])
def test_unwritable_path_exits_2(db, tmp_path, where):
    path = str(tmp_path / "no" / "such" / "x.jsonl") if where == "missing directory" else str(tmp_path)
    rc, _, err = run_agent(agent_args(db, path))
    assert rc == 2, err
    errors = error_lines(err)
    assert len(errors) == 1, err
    reason = "No such file or directory" if where == "missing directory" else "Is a directory"
    assert 'file sink: could not open "%s": %s' % (path, reason) in errors[0]
