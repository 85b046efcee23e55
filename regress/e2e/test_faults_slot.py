"""The slot lost (fault 7): what the agent does when the slot can no longer
give it what it had not confirmed (docs/agent-operations.md, "Slot lost").

- Invalidated by max_slot_wal_keep_size while the agent is stopped (real
  WAL, a real CHECKPOINT): the agent exits with code 4 and quotes the
  server.
- Dropped and recreated by someone else while the agent is stopped, the
  mixed workload writing all along: the agent finds the slot starting
  after the newest position it confirmed (kept in the state directory)
  and exits with code 4 naming the gap; --accept-slot-gap streams anyway,
  and the checker finds lost exactly the changes committed inside the gap
  and nothing else wrong.  A kill -9 and restart on the same state
  directory is no gap.
"""
import json
import os
import re
import time

import psycopg2
import psycopg2.errors
import pytest

from agent_helpers import Agent, broker, execute, lsn_int, run_agent, slot_info  # noqa: F401
from conftest import connect, server_setting
from fault_harness import REF_SLOT, SLOT, fault_run  # noqa: F401

EXIT_SLOT_LOST = 4


@pytest.fixture
def small_slot_wal_keep(pg):
    """max_slot_wal_keep_size of 1 MB for the test: a slot that lags more
    than that is invalidated at the next checkpoint."""
    yield from server_setting(pg, "max_slot_wal_keep_size", "1MB")


def wal_status(dsn, slot):
    conn = connect(dsn)
    try:
        cur = conn.cursor()
        cur.execute("select wal_status from pg_replication_slots where slot_name = %s", (slot,))
        row = cur.fetchone()
        return row and row[0]
    finally:
        conn.close()


def test_slot_invalidated_while_agent_stopped(fresh_db, broker, pg, small_slot_wal_keep):
    slot = "wc_slot_invalidated"
    execute(fresh_db, "create table t (id int primary key, pad text)",
            "select pg_create_logical_replication_slot('%s', 'walcast')" % slot)
    args = ["-d", fresh_db, "-S", slot, "-s", "1"] + broker.agent_args()
    agent = Agent(args)
    try:
        execute(fresh_db, "insert into t select g, 'x' from generate_series(1, 100) g")
        assert len(broker.collect(100, timeout=60, settle=0)) >= 100
        assert agent.stop() == 0
    finally:
        agent.close()

    # More WAL than the slot may keep, then a checkpoint removes it.
    cur = pg.cursor()
    for i in range(6):
        execute(fresh_db, "insert into t select g, repeat('y', 500) from generate_series(%d, %d) g"
                % (1000 + i * 3000, 1000 + i * 3000 + 2999))
        cur.execute("select pg_switch_wal()")
        cur.execute("checkpoint")
        if wal_status(fresh_db, slot) == "lost":
            break
    assert wal_status(fresh_db, slot) == "lost", "the slot was not invalidated"

    rc, _, err = run_agent(args, timeout=60)
    assert rc == EXIT_SLOT_LOST, err
    assert 'has been invalidated: the server reports wal_status "lost"' in err, err
    assert slot in err and "exiting with code 4" in err, err


def commit_ends(dsn, ref_slot):
    """xid -> the end of its commit record, from the reference slot."""
    conn = connect(dsn)
    try:
        cur = conn.cursor()
        cur.execute("select xid::text::bigint, lsn::text from pg_logical_slot_peek_changes("
                    "%s, null, null, 'include-xids', '1') where data like 'COMMIT%%'", (ref_slot,))
        return {xid: lsn_int(lsn) for xid, lsn in cur.fetchall()}
    finally:
        conn.close()


def drop_slot(dsn, slot):
    """Drop slot once its walsender has gone (a moment after the agent)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            execute(dsn, "select pg_drop_replication_slot('%s')" % slot)
            return
        except psycopg2.errors.ObjectInUse:
            assert time.monotonic() < deadline, "the slot stayed active"
            time.sleep(0.2)


def test_slot_recreated_while_agent_stopped(fault_run, tmp_path):
    run = fault_run("slot dropped and recreated")
    state = tmp_path / "state"
    state.mkdir()
    run.agent_extra = ["--state-dir", str(state)]
    run.start_agent()
    run.start_workload()
    run.pause(2, 4)

    # kill -9 and a restart on the same state directory: no gap.
    run.fault("agent kill -9", run.agent.kill9)
    run.start_agent()
    run.pause(2, 4)

    def drop_and_recreate():
        assert run.agent.stop() == 0
        drop_slot(run.dsn, SLOT)
        time.sleep(2)       # the writers go on: these changes are in the gap
        execute(run.dsn, "select pg_create_logical_replication_slot('%s', 'walcast')" % SLOT)
    run.fault("slot dropped and recreated", drop_and_recreate)
    position_file = state / (SLOT + ".position")
    saved = lsn_int(re.search(r"confirmed_lsn = (\S+)", position_file.read_text()).group(1))
    recreated = lsn_int(slot_info(run.dsn, SLOT)[1])
    assert recreated > saved

    refused = run.start_agent(wait=False)
    assert refused.wait_exit(60) == EXIT_SLOT_LOST, refused.log()
    gap = re.search(r'replication slot "%s" starts at (\S+), after (\S+), the newest position '
                    r'this agent confirmed' % SLOT, refused.log())
    assert gap, refused.log()
    assert (lsn_int(gap.group(1)), lsn_int(gap.group(2))) == (recreated, saved)

    run.agent_extra.append("--accept-slot-gap")
    run.start_agent()
    assert "streaming anyway (--accept-slot-gap)" in run.agent.log()
    report = run.finish()

    # Lost: exactly the changes of transactions committed inside the gap.
    ends = commit_ends(run.dsn, REF_SLOT)
    in_gap = [c for c in run.truth() if saved < ends[c.xid] <= recreated]
    print("gap %X..%X: %d changes committed inside it" % (saved, recreated, len(in_gap)))
    assert in_gap, "the writers committed nothing while the slot was gone"
    assert report.lost == len(in_gap), report
    assert (report.unexpected, report.dup_changed, report.dup_outside_window, report.dup_new_id,
            report.reordered_table, report.reordered_key) == (0, 0, 0, 0, 0, 0), report
    assert os.path.exists(position_file)


def test_slot_dropped_then_created_again_by_the_agent(fresh_db, broker, tmp_path):
    """The agent streams from a slot it created (--create-slot), the slot
    is dropped, rows are written, and the agent starts again with
    --create-slot on the same state directory, as a supervisor restarts it:
    its position record shows that the slot it streamed from is gone, so
    it creates nothing and exits with code 4 naming the position.  With
    --accept-slot-gap it creates the slot again and loads the tables (the
    default --snapshot initial): the rows of the gap arrive as read events
    of the load, never as changes; the record then follows the new slot."""
    slot = "wc_slot_dropped_recreated"
    state = tmp_path / "state"
    state.mkdir()
    execute(fresh_db, "create table t (id int primary key)")
    args = ["-d", fresh_db, "-S", slot, "--create-slot", "-s", "1",
            "--state-dir", str(state)] + broker.agent_args()
    agent = Agent(args)
    try:
        agent.wait_log("streaming from replication slot")
        execute(fresh_db, "insert into t select g from generate_series(1, 100) g")
        assert len(broker.collect(100, timeout=60, settle=0)) >= 100
        assert agent.stop() == 0
    finally:
        agent.close()
    saved = re.search(r"confirmed_lsn = (\S+)",
                      (state / (slot + ".position")).read_text()).group(1)

    drop_slot(fresh_db, slot)
    execute(fresh_db, "insert into t select g from generate_series(101, 150) g")

    rc, _, err = run_agent(args, timeout=60)
    assert rc == EXIT_SLOT_LOST, err
    assert ('replication slot "%s" does not exist, but this agent had confirmed up to %s on '
            'the slot of that name' % (slot, saved)) in err, err
    assert "exiting with code 4" in err, err
    assert slot_info(fresh_db, slot) is None, "the slot was created"

    agent = Agent(args + ["--accept-slot-gap"])
    try:
        agent.wait_log("creating it again anyway")
        agent.wait_log("streaming from replication slot")
        execute(fresh_db, "insert into t select g from generate_series(151, 160) g")
        messages = broker.collect(100 + 150 + 10, timeout=60, settle=2)
        assert agent.stop() == 0
    finally:
        agent.close()
    loaded = {json.loads(body)["new"]["id"] for _, props, body in messages
              if props.message_id.startswith("snapshot:")}
    changed = {json.loads(body)["new"]["id"] for _, props, body in messages
               if not props.message_id.startswith("snapshot:")}
    assert loaded == set(range(1, 151)), sorted(loaded)
    # no change of the gap: before the drop, and after the new slot
    assert changed == set(range(1, 101)) | set(range(151, 161)), sorted(changed)

    # The record follows the new slot: a plain restart streams.
    args.remove("--create-slot")
    agent = Agent(args)
    try:
        agent.wait_log("streaming from replication slot")
        assert agent.stop() == 0
    finally:
        agent.close()
