"""Network faults (fault 5), against the mixed workload and judged by the
checker (fault_harness.py, docs/reliability.md): the agent runs in a
network namespace of its own (netns.py) and nftables rules in it cut or
degrade its links, for real:

- the agent-broker link dropped silently (no FIN, no RST) for 30 s while
  the workload writes 1,500 changes/s: the agent never blocks on its
  RabbitMQ socket, keeps sending status to PostgreSQL (the walsender does
  not time out), notices the dead broker within twice the AMQP heartbeat,
  and delivers everything once the link heals;
- the agent-PostgreSQL link dropped for longer than wal_sender_timeout:
  the agent notices (receive_timeout), reconnects with backoff and loses
  nothing;
- 5% loss and 200 ms of delay on both links for 2 minutes (20 s at the
  small size).

Every deadline below only bounds how long a test may take to fail.
"""
import os
import time

import pytest

from conftest import short_sender_timeout  # noqa: F401
from fault_harness import fault_run, full, pick  # noqa: F401
from netns import AgentNetns, DelayProxy

HEARTBEAT = 5          # --amqp-heartbeat in these tests, seconds
SENDER_TIMEOUT = 3     # short_sender_timeout's wal_sender_timeout


@pytest.fixture
def netns():
    ns = AgentNetns()
    yield ns
    ns.close()


def amqp_port():
    return int(os.environ["WALCAST_AMQP_PORT"])


def pg_port():
    return int(os.environ["PGPORT"])


def in_netns(run, ns, pg=None, amqp=None):
    """Run the fault run's agents inside ns; pg/amqp: other ports on the
    host for the agent to use (a DelayProxy's)."""
    run.agent_prefix = ns.prefix()
    dsn = ns.dsn(run.dsn)
    if pg is not None:
        dsn = dsn.replace("port=%d" % pg_port(), "port=%d" % pg)
    run.agent_dsn = dsn
    uri = ns.uri(run.amqp_uri)
    if amqp is not None:
        uri = uri.replace(":%d/" % amqp_port(), ":%d/" % amqp)
    run.agent_amqp_uri = uri


def walsender_timeouts():
    """How often PostgreSQL's log says a walsender timed out."""
    path = os.path.join(os.environ["WALCAST_RUN_DIR"], "pg", "postgres.log")
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read().count("terminating walsender process due to replication timeout")


def wait_count(agent, pattern, count, timeout):
    """Wait until the agent's log has pattern at least count times."""
    agent.wait_log(r"(?s)(%s.*){%d}" % (pattern, count), timeout=timeout)


BROKER_LOST = r"(lost the RabbitMQ connection|RabbitMQ connection to \S+ took nothing)"


def test_broker_link_dropped_silently_at_high_rate(fault_run, netns, short_sender_timeout):
    """The issue's gap: at 1,500 changes/s, a silent drop of the broker
    link once blocked the agent inside amqp_basic_publish for the whole
    drop; no status reached PostgreSQL and the walsender ended the session.
    Now the walsender (wal_sender_timeout 3 s) never times out, the dead
    link is noticed within twice the heartbeat (a generous deadline), and
    nothing is lost."""
    drops = pick(1, 2)
    down = 30
    rate = 1500
    duration = 15 + drops * (down + 15)
    run = fault_run("agent-broker link dropped (no FIN/RST)", changes=rate * duration,
                    duration=duration)
    in_netns(run, netns)
    run.agent_extra = ["--amqp-heartbeat", str(HEARTBEAT)]
    run.start_agent()
    run.start_workload()
    for n in range(drops):
        time.sleep(10)
        timeouts = walsender_timeouts()
        run.fault("agent-broker link dropped", lambda: netns.partition(amqp_port()))
        t0 = time.monotonic()
        # Detected within twice the heartbeat; the slack only covers a
        # busy machine, while a blocked agent would stay silent for the
        # whole drop.
        wait_count(run.agent, BROKER_LOST, n + 1, timeout=2 * HEARTBEAT + 8)
        detected = time.monotonic() - t0
        assert walsender_timeouts() == timeouts, \
            "the walsender timed out: no status reached PostgreSQL during the drop"
        print("drop %d: the agent noticed the dead broker link after %.1f s" % (n + 1, detected))
        time.sleep(max(0, down - (time.monotonic() - t0)))
        netns.heal()
        wait_count(run.agent, "connected to RabbitMQ", n + 2, timeout=120)
    report = run.finish(timeout=600)
    assert report.ok(), report
    assert report.changes >= run.changes


def test_postgres_link_down_past_sender_timeout(fault_run, netns, short_sender_timeout):
    """The agent-PostgreSQL link dropped for 2.5 times wal_sender_timeout:
    the server ends its side; the agent hears nothing, asks for a reply,
    ends the session after --receive-timeout and reconnects (with backoff,
    through connect_timeout while the link is still down), then resumes
    after what every sink confirmed."""
    drops = pick(1, 3)
    run = fault_run("agent-PostgreSQL link dropped")
    in_netns(run, netns)
    run.agent_extra = ["--receive-timeout", "4"]
    run.start_agent()
    run.start_workload()
    for n in range(drops):
        run.pause(1, run.duration / (drops + 1))
        run.fault("agent-PostgreSQL link dropped", lambda: netns.partition(pg_port()))
        wait_count(run.agent, "nothing arrived from PostgreSQL", n + 1, timeout=4 + 10)
        time.sleep(SENDER_TIMEOUT * 2.5)
        netns.heal()
        wait_count(run.agent, "streaming from replication slot", n + 2, timeout=120)
    report = run.finish()
    assert report.ok(), report
    assert report.changes >= run.changes


def test_loss_and_delay(fault_run, netns):
    """5% packet loss (nftables, both ways) and 200 ms of delay (a relay,
    each way) on both of the agent's links, for 2 minutes (20 s at the
    small size): slower, never wrong."""
    window = pick(20, 120)
    run = fault_run("5% loss + 200 ms delay", duration=window + 20)
    pg_relay = DelayProxy("127.0.0.1", ("127.0.0.1", pg_port()), 0)
    amqp_relay = DelayProxy("127.0.0.1", ("127.0.0.1", amqp_port()), 0)
    try:
        in_netns(run, netns, pg=pg_relay.port, amqp=amqp_relay.port)
        run.start_agent()
        run.start_workload()
        time.sleep(5)

        def degrade():
            for relay in (pg_relay, amqp_relay):
                relay.delay = 0.2
                netns.loss(relay.port, 5)
        run.fault("5% loss + 200 ms delay", degrade)
        time.sleep(window)
        dropped = netns.dropped()
        netns.heal()
        pg_relay.delay = amqp_relay.delay = 0
        report = run.finish(timeout=600)
    finally:
        pg_relay.close()
        amqp_relay.close()
    print("loss rules dropped %d packets; the relays held %d chunks for 200 ms"
          % (dropped, pg_relay.held + amqp_relay.held))
    assert dropped > 0 and pg_relay.held > 0 and amqp_relay.held > 0, "the links were not degraded"
    assert report.ok(), report
    assert report.changes >= run.changes
