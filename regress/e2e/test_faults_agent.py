"""Faults of the agent process itself, against the mixed workload and
judged by the checker (fault_harness.py, docs/reliability.md): kill -9 at
random points (fault 1), and SIGSTOP past wal_sender_timeout (fault 6)."""
import signal
import time

import pytest

from conftest import short_sender_timeout  # noqa: F401
from fault_harness import fault_run, pick  # noqa: F401


@pytest.mark.parametrize("plugin", ["walcast", "pgoutput"])
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


def test_broker_nacks_are_replayed(fault_run):
    """A queue with x-max-length and x-overflow=reject-publish: while the
    consumer stops reading, the queue fills and RabbitMQ nacks what the
    agent publishes; each nack ends the session and the slot replays, in
    order, until the consumer reads again.  Each nack is a fault."""
    limit = 500
    run = fault_run("broker nacks (reject-publish)",
                    queue_args={"x-max-length": limit, "x-overflow": "reject-publish"})
    holds = pick(2, 4)
    run.start_agent()
    run.start_workload()
    nacks = 0
    for _ in range(holds):
        run.pause(0.5, run.duration / (holds + 1))
        run.fault("consumer holds", run.consumer.hold)
        # Each nack the agent logs is a fault of its own: the window is what
        # was unconfirmed then.
        want = nacks + run.rng.randint(2, 4)
        deadline = time.monotonic() + 120
        while nacks < want and run.workload_running():
            assert time.monotonic() < deadline, run.agent.log()[-3000:]
            run.agent_alive()
            seen = run.agent.log().count("(basic.nack)")
            while nacks < seen:
                run.fault("basic.nack", lambda: None)
                nacks += 1
            time.sleep(0.05)
        run.consumer.release()
    report = run.finish()
    print("nacks seen by the agent:", run.agent.log().count("(basic.nack)"))
    assert report.ok(), report
    assert nacks >= holds
