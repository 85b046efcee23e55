"""Broker alarms (fault 3), against the mixed workload and judged by the
checker (fault_harness.py, docs/reliability.md): a memory alarm
(`rabbitmqctl set_vm_memory_high_watermark 0`) held for longer than twice
wal_sender_timeout, then a disk alarm (`set_disk_free_limit` above the free
space).  RabbitMQ blocks publishing (connection.blocked); the agent stops
reading the slot but keeps sending status, so the walsender never times
out and the replication session survives both alarms; the agent's memory
stays bounded by its in-flight window; streaming resumes when each alarm
clears, and nothing is lost."""
import os
import shutil
import threading
import time

from agent_helpers import rabbitmqctl, slot_info
from conftest import short_sender_timeout  # noqa: F401
from fault_harness import SLOT, fault_run, pick  # noqa: F401

SENDER_TIMEOUT = 3      # short_sender_timeout's wal_sender_timeout
# RabbitMQ's defaults, restored after each alarm.
MEMORY_WATERMARK = "0.4"
DISK_FREE_LIMIT = str(50 * 1000 * 1000)


class RssSampler:
    """The agent's VmRSS (kB) every 0.2 s, from /proc."""

    def __init__(self, pid):
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                with open("/proc/%d/status" % self.pid) as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            self.peak = max(self.peak, int(line.split()[1]))
            except OSError:
                pass
            self._stop.wait(0.2)

    def close(self):
        self._stop.set()
        self.thread.join(5)


def wait_count(agent, pattern, count, timeout=60):
    agent.wait_log(r"(?s)(%s.*){%d}" % (pattern, count), timeout=timeout)


def test_memory_then_disk_alarm(fault_run, short_sender_timeout):
    hold = pick(2.5, 5) * SENDER_TIMEOUT
    run = fault_run("RabbitMQ memory alarm, then disk alarm", duration=pick(30, 90))
    # A small window, so that "bounded" has a figure to be held to.
    window_mb = 16
    run.agent_extra = ["--max-inflight-bytes", "%dMB" % window_mb]
    run.start_agent()
    run.start_workload()
    run.pause(2, 4)
    session = slot_info(run.dsn, SLOT)[0]
    rss = RssSampler(run.agent.proc.pid)
    time.sleep(0.5)
    baseline = rss.peak
    free = shutil.disk_usage(os.environ["WALCAST_RUN_DIR"]).free
    alarms = [
        ("memory alarm", ("set_vm_memory_high_watermark", "0"),
         ("set_vm_memory_high_watermark", MEMORY_WATERMARK)),
        ("disk alarm", ("set_disk_free_limit", str(free + 10 ** 12)),
         ("set_disk_free_limit", DISK_FREE_LIMIT)),
    ]
    try:
        for n, (name, raise_it, clear_it) in enumerate(alarms):
            run.fault("RabbitMQ " + name, lambda: rabbitmqctl(*raise_it))
            try:
                wait_count(run.agent, "RabbitMQ blocked publishing", n + 1)
                # Longer than twice wal_sender_timeout with nothing confirmed:
                # only the agent's status updates keep the walsender alive.
                time.sleep(hold)
                assert slot_info(run.dsn, SLOT)[0] == session, \
                    "the replication session ended during the %s" % name
                run.agent_alive()
            finally:
                rabbitmqctl(*clear_it)
            wait_count(run.agent, "RabbitMQ unblocked publishing", n + 1)
        report = run.finish()
    finally:
        rabbitmqctl("set_vm_memory_high_watermark", MEMORY_WATERMARK)
        rabbitmqctl("set_disk_free_limit", DISK_FREE_LIMIT)
        rss.close()
    print("agent VmRSS: %d kB before the alarms, peak %d kB (window %d MB)"
          % (baseline, rss.peak, window_mb))
    assert rss.peak <= baseline + 4 * window_mb * 1024, "the agent's memory grew past its window"
    assert report.ok(), report
    assert report.changes >= run.changes
    log = run.agent.log()
    assert "reconnecting" not in log, log[-3000:]
