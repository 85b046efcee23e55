"""Faults of the agent process itself, against the mixed workload and
judged by the checker (fault_harness.py, docs/reliability.md): kill -9 at
random points (fault 1), and SIGSTOP past wal_sender_timeout (fault 6)."""
import signal
import time

import pytest

from conftest import short_sender_timeout  # noqa: F401
from fault_harness import PLUGINS, fault_run, full, pick  # noqa: F401


@pytest.mark.parametrize("plugin", PLUGINS)
def test_agent_kill9_at_random_points(fault_run, plugin):
    """kill -9 of the agent at random moments (20 in the full suite), each
    followed by a new agent on the same slot; with each input."""
    run = fault_run("agent kill -9", plugin=plugin)
    kills = pick(4, 20)
    run.start_agent()
    run.start_workload()
    for _ in range(kills):
        # Random points: while streaming, in a backlog, just after a start.
        run.pause(0.3, run.duration * 1.5 / kills)
        run.fault("agent kill -9", run.agent.kill9)
        run.restart_agent(wait=run.rng.random() < 0.5)
    report = run.finish()
    assert len(run.faults) == kills
    assert report.ok(), report
    assert report.changes >= run.changes


def test_agent_frozen_past_sender_timeout(fault_run, short_sender_timeout):
    """SIGSTOP for longer than wal_sender_timeout (3 s here), then SIGCONT:
    the walsender has ended the session; the agent notices, reconnects and
    loses nothing."""
    run = fault_run("agent SIGSTOP")
    freezes = pick(1, 3)
    run.start_agent()
    run.start_workload()
    for _ in range(freezes):
        run.pause(1, run.duration / (freezes + 1))
        run.fault("agent SIGSTOP", lambda: run.agent.proc.send_signal(signal.SIGSTOP))
        time.sleep(3 * 2.5)
        run.agent.proc.send_signal(signal.SIGCONT)
        run.agent.wait_log(r"(?s)(reconnecting in.*){%d}" % (len(run.faults)), timeout=120)
    report = run.finish()
    assert report.ok(), report
    assert report.changes >= run.changes
    assert run.agent.log().count("streaming from replication slot") == freezes + 1


REJECT = {"x-max-length": 500, "x-overflow": "reject-publish"}


def nack_run(fault_run, name, window, **kw):
    """A run into a queue that rejects publishes once 500 are ready; every
    nack the agent logs is a fault (its window is what was unconfirmed
    then).  window: the agent's --max-inflight-events (None: default)."""
    run = fault_run(name, queue_args=REJECT, **kw)
    if window is not None:
        run.agent_extra = ["--max-inflight-events", str(window), "--batch-max-events", str(window)]
    run.start_agent()
    return run, run.watch_log("(basic.nack)", "basic.nack")


def hold_consumer(run, nacks, holds):
    """The consumer stops reading until the agent met 2 to 4 more nacks,
    holds times over the workload."""
    for _ in range(holds):
        run.pause(0.5, run.duration / (holds + 1))
        run.fault("consumer holds", run.consumer.hold)
        want = nacks() + run.rng.randint(2, 4)
        deadline = time.monotonic() + 120
        while nacks() < want and run.workload_running():
            assert time.monotonic() < deadline, run.agent.log()[-3000:]
            run.agent_alive()
            time.sleep(0.05)
        run.consumer.release()


def test_broker_nacks_in_order_one_message_at_a_time(fault_run):
    """A queue with x-max-length and x-overflow=reject-publish, and the
    agent with --max-inflight-events 1 (docs/agent-operations.md, "Flow
    control"): while the consumer stops reading now and then, RabbitMQ
    nacks what it cannot take, each nack ends the session before anything
    follows it, and the slot replays: nothing lost, nothing reordered.
    (Waiting for each confirm is slow, about 100 messages/s here: the full
    suite's 50k changes take minutes.)"""
    run, nacks = nack_run(fault_run, "broker nacks, --max-inflight-events 1", 1,
                          changes=pick(3000, 50000))
    run.start_workload()
    hold_consumer(run, nacks, pick(2, 4))
    report = run.finish(timeout=1800)
    print("nacks seen by the agent:", nacks())
    assert report.ok(), report
    assert nacks() > 0, "the queue never overflowed"


@pytest.mark.skipif(not full(), reason="a measurement: in make test-faults only")
def test_broker_nacks_with_the_default_window(fault_run):
    """The same, with the default window of unconfirmed messages: nothing
    lost, every duplicate identical and unconfirmed at its nack.  Order is
    not promised here: when the queue frees room between two publishes it
    nacks n and takes n+1 ahead of n's replay, which the report counts as
    reordered (docs/reliability.md prints the figure)."""
    run, nacks = nack_run(fault_run, "broker nacks, default window", None)
    run.start_workload()
    hold_consumer(run, nacks, pick(2, 4))
    report = run.finish()
    print("nacks seen by the agent:", nacks())
    assert (report.lost, report.unexpected, report.dup_changed, report.dup_outside_window,
            report.dup_new_id) == (0, 0, 0, 0, 0), report
    assert nacks() > 0
