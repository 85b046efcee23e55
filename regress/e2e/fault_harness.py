"""The fault framework: one run of the mixed workload through a real agent
to a real consumer, with faults injected on the way, judged by the checker
(fault_checker.py).  Every fault test (test_faults_*.py) is built from it.

A run (`FaultRun`, made by the `fault_run` fixture, closed after the test):
1. creates the workload's tables (fault_workload.py) in the test's
   database, then the reference slot (test_decoding: the truth) and the
   agent's slot (walcast, or pgoutput with its publication), both before
   any change;
2. declares an exchange and a queue of its own (`Broker`; queue arguments
   allowed: x-max-length for nacks) and starts `ConsumerLog`: pika, manual
   acks, every delivery appended to a log file before it is acked;
3. samples the agent slot's confirmed_flush_lsn every 0.1 s (`Sampler`);
4. `start_agent()`, `start_workload()`, then the test injects faults with
   `run.fault(name, action)`, which records the time and the confirmed
   position just before calling action (`run.outages(...)` does that for
   a server stopped and started again, spread over the workload);
5. `finish()`: waits for the workload, makes sure an agent runs, emits an
   end marker, waits until the consumer has it, stops the agent (exit 0),
   then checks the log against the reference slot and returns the Report,
   printed with the seed and saved (WALCAST_FAULTS_RESULTS, one JSON line
   per run) for docs/reliability.md.

How to add a fault:

    from fault_harness import fault_run, pick  # noqa: F401 (the fixture)

    def test_my_fault(fault_run):
        run = fault_run("my fault")          # seed printed; WALCAST_FAULTS_SEED replays
        run.start_agent()
        run.start_workload()
        for _ in range(pick(2, 10)):         # small in make test, full in test-faults
            run.pause()                      # a random pause from run.rng
            run.fault("my fault", lambda: do_something_real())
            undo_it()                        # e.g. run.restart_agent()
        report = run.finish()
        assert report.ok(), report

Sizes come from `size()`: WALCAST_FAULTS_SIZE=full for `make test-faults`
(the issue's sizes), small (the default) inside `make test`.  Use `run.rng`
for every random choice, so the printed seed replays the run.  A fault
that the agent must survive keeps it running (`run.agent_alive()`); one
that stops it (the oversize row) waits for its exit, and finish() starts a
new agent.
"""
import json
import os
import random
import threading
import time
import subprocess
import uuid

import pika
import psycopg2
import pytest

from agent_helpers import (Agent, Broker, connect, consumer_channel, execute, plugin_args,
                           prepare_db)
from conftest import SCRIPTS
from fault_checker import Fault, check, lsn_int, marker_id, read_log, truth_from_slot
from fault_workload import DDL, Workload

SLOT = "wc_fault"
REF_SLOT = "wc_fault_ref"

# (changes, faults) per size; a test may scale the faults it injects.
SIZES = {
    "small": {"changes": 6000, "duration": 15},
    "full": {"changes": 50000, "duration": 90},
}


def size():
    name = os.environ.get("WALCAST_FAULTS_SIZE", "small")
    assert name in SIZES, "WALCAST_FAULTS_SIZE must be small or full"
    return name


def full():
    return size() == "full"


def pick(small, full_value):
    """A figure by size: pick(3, 20) is 20 in the full suite."""
    return full_value if full() else small


# The inputs a test parametrized by plugin runs with: both in the full
# suite, walcast alone in make test (one of each fault kind).
PLUGINS = pick(["walcast"], ["walcast", "pgoutput"])


class ConsumerLog:
    """A real consumer: pika, manual acks; every delivery is appended to a
    log file (JSON line: arrival time, message id, routing key, the
    broker's redelivered flag, body) and only then acked.  Reconnects while
    the broker is down.  hold() stops consuming (so a queue fills up),
    release() resumes."""

    def __init__(self, params, queue, path, arguments=None):
        """arguments: basic.consume's (a stream's x-stream-offset)."""
        self.params = params
        self.queue = queue
        self.path = path
        self.arguments = arguments
        self.count = 0
        self._stop = threading.Event()
        self._held = threading.Event()
        self._file = open(path, "a", encoding="utf-8")
        self._lock = threading.Lock()
        self.markers = set()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def hold(self):
        self._held.set()

    def release(self):
        self._held.clear()

    def _run(self):
        while not self._stop.is_set():
            if self._held.is_set():
                time.sleep(0.1)
                continue
            opened = consumer_channel(self.params, 500)
            if opened is None:
                continue
            conn, ch = opened
            try:
                for method, props, body in ch.consume(self.queue, inactivity_timeout=0.2,
                                                      arguments=self.arguments):
                    if self._stop.is_set() or self._held.is_set():
                        break
                    if method is None:
                        continue
                    self._append(method, props, body)
                    ch.basic_ack(method.delivery_tag)
                try:
                    ch.cancel()
                    conn.close()
                except pika.exceptions.AMQPError:
                    pass
            except pika.exceptions.AMQPError:
                time.sleep(0.3)
            except Exception:       # a bug here must not hang the run
                self._stop.set()
                raise

    def _append(self, method, props, body):
        text = body.decode("utf-8")
        line = json.dumps({"t": time.time(), "mid": props.message_id, "rk": method.routing_key,
                           "redelivered": bool(method.redelivered), "body": text})
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()
            self.count += 1
            if '"prefix":"walcast-fault-end"' in text:
                self.markers.add(json.loads(text).get("content"))

    def wait_marker(self, marker, timeout, alive=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if marker in self.markers:
                return
            if alive is not None:
                alive()
            time.sleep(0.2)
        raise AssertionError("the end marker did not reach the consumer within %ss (%d deliveries)"
                             % (timeout, self.count))

    def close(self):
        self._stop.set()
        self.thread.join(30)
        self._file.close()


class Sampler:
    """The slot's confirmed_flush_lsn every 0.1 s, through server restarts."""

    def __init__(self, dsn, slot):
        self.dsn = dsn
        self.slot = slot
        self.samples = []         # (time, confirmed)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def query(self):
        conn = psycopg2.connect(self.dsn, connect_timeout=2)
        try:
            cur = conn.cursor()
            cur.execute("select confirmed_flush_lsn::text from pg_replication_slots "
                        "where slot_name = %s", (self.slot,))
            row = cur.fetchone()
            return lsn_int(row[0]) if row and row[0] else None
        finally:
            conn.close()

    def _run(self):
        while not self._stop.is_set():
            try:
                value = self.query()
                if value is not None:
                    self.samples.append((time.time(), value))
            except psycopg2.Error:
                pass
            self._stop.wait(0.1)

    def latest(self):
        """A fresh reading, or the last sample when the server is down."""
        try:
            value = self.query()
            if value is not None:
                return value
        except psycopg2.Error:
            pass
        return self.samples[-1][1] if self.samples else None

    def close(self):
        self._stop.set()
        self.thread.join(10)


class FaultRun:
    def __init__(self, name, dsn, amqp_uri, tmp_path, seed, queue_args=None, changes=None,
                 duration=None, plugin="walcast", agent_slot=True, setup=()):
        """plugin: the agent's input (walcast, or pgoutput with a
        publication of all tables made before the slot); agent_slot=False:
        no slot for the agent, which creates it (--create-slot; start the
        workload once it did); setup: SQL run before the reference slot
        (rows for an initial load)."""
        if plugin != "walcast":
            name = "%s (%s)" % (name, plugin)
        self.name = name
        self.plugin = plugin
        self.dsn = dsn
        self.seed = seed
        self.rng = random.Random(seed)
        self.tmp = str(tmp_path)
        self.changes = changes or SIZES[size()]["changes"]
        self.duration = SIZES[size()]["duration"] if duration is None else duration
        self.faults = []
        self._markers = []          # threads still publishing a marker
        self._closed = threading.Event()
        self.agents = []
        self.agent = None
        self.workload = None
        self.agent_extra = []
        self.amqp_uri = amqp_uri
        self.agent_amqp_uri = amqp_uri     # a test may put a proxy between
        self.agent_dsn = dsn               # ... or a network namespace (netns.py)
        self.agent_prefix = None           # the command that runs the agent there
        execute(dsn, *(DDL + list(setup)))
        execute(dsn, "select pg_create_logical_replication_slot('%s', 'test_decoding')" % REF_SLOT)
        if agent_slot:
            prepare_db(dsn, SLOT, plugin=plugin)
        self.broker = Broker(amqp_uri, queue_args=queue_args)
        self.log_path = os.path.join(self.tmp, "consumer.log")
        self.consumer = ConsumerLog(self.broker.params, self.broker.queue, self.log_path)
        self.sampler = Sampler(dsn, SLOT)
        print("fault run %s: seed %s (replay with WALCAST_FAULTS_SEED=%s), size %s, %d changes"
              % (name, seed, seed, size(), self.changes))

    # --- the agent ---
    def agent_args(self, *extra):
        return ["-d", self.agent_dsn, "-S", SLOT, "-s", "1", "--stats-interval", "5",
                "--reconnect-max-delay", "2", "--amqp-uri", self.agent_amqp_uri,
                "--exchange", self.broker.exchange] + plugin_args(self.plugin) \
            + list(self.agent_extra) + list(extra)

    def start_agent(self, *extra, wait=True):
        self.agent = Agent(self.agent_args(*extra), prefix=self.agent_prefix)
        self.agents.append(self.agent)
        if wait:
            self.agent.wait_log("streaming from replication slot", timeout=120)
        return self.agent

    def restart_agent(self, wait=False):
        """A new agent process after the old one was killed (the old
        walsender may hold the slot a moment: the new agent retries)."""
        return self.start_agent(wait=wait)

    def agent_alive(self):
        if self.agent is None or self.agent.proc.poll() is not None:
            raise AssertionError("the agent exited (%s):\n%s" % (
                None if self.agent is None else self.agent.proc.returncode,
                "" if self.agent is None else self.agent.log()[-4000:]))

    # --- the workload and faults ---
    def start_workload(self, changes=None, duration=None):
        self.workload = Workload(self.dsn, self.seed, changes or self.changes,
                                 self.duration if duration is None else duration).start()
        return self.workload

    def workload_running(self):
        return self.workload is not None and self.workload.running()

    def pause(self, lo=0.5, hi=None):
        """A random pause (from the run's seed), at most hi seconds."""
        hi = hi if hi is not None else max(lo, self.duration / 10.0)
        time.sleep(self.rng.uniform(lo, hi))

    def fault(self, name, action):
        """Record a fault (time, confirmed position, a marker in the
        consumer's queue: fault_checker.py), then do it."""
        fault = Fault(time.time(), name, self.sampler.latest())
        self.faults.append(fault)
        if not self.broker.mark(marker_id(len(self.faults) - 1)):
            self._mark_later(fault, len(self.faults) - 1)
        else:
            fault.marked = True
        action()

    def _mark_later(self, fault, n):
        """The marker could not go in (a full queue that rejects
        publishes): try again for a while, each time with a fresh sample
        taken before the attempt (fault_checker.py says why any such
        sample will do)."""
        def retry():
            deadline = time.monotonic() + 120
            while not self._closed.is_set() and time.monotonic() < deadline:
                confirmed = self.sampler.latest()
                if self.broker.mark(marker_id(n)):
                    fault.confirmed, fault.marked = confirmed, True
                    return
                self._closed.wait(0.2)
        t = threading.Thread(target=retry, daemon=True)
        t.start()
        self._markers.append(t)

    def watch_log(self, text, name):
        """Record a fault whenever the agent logs text (a nack: the broker's
        fault, seen from the agent), until the run ends; returns a function
        giving how many were seen."""
        seen = [0]

        def watch():
            while not self._closed.is_set():
                n = self.agent.log().count(text) if self.agent is not None else 0
                while seen[0] < n:
                    self.fault(name, lambda: None)
                    seen[0] += 1
                self._closed.wait(0.05)
        threading.Thread(target=watch, daemon=True).start()
        return lambda: seen[0]

    def outages(self, faults, start, down=(0, 2)):
        """A server down and up again, len(faults) times spread over the
        workload: faults is [(name, stop action)], start brings the server
        back after a random down time (seconds, from the seed)."""
        for name, stop in faults:
            self.pause(0.5, self.duration * 1.2 / len(faults))
            self.fault(name, stop)
            time.sleep(self.rng.uniform(*down))
            start()
            self.agent_alive()

    # --- the end ---
    def finish(self, timeout=900, expect_exit=0):
        if self.workload is not None:
            self.workload.join(timeout)
        if self.agent is None or self.agent.proc.poll() is not None:
            self.start_agent(wait=False)
        marker = "end-" + uuid.uuid4().hex
        execute(self.dsn, "select pg_logical_emit_message(true, 'walcast-fault-end', '%s')" % marker)
        self.consumer.wait_marker(marker, timeout, alive=self.agent_alive)
        assert self.agent.stop() == expect_exit, self.agent.log()[-4000:]
        return self.report()

    def truth(self):
        """What PostgreSQL committed so far (the reference slot)."""
        conn = connect(self.dsn)
        try:
            return truth_from_slot(conn, REF_SLOT)
        finally:
            conn.close()

    def commit_end(self, xid):
        """The end of transaction xid's commit record (what a consumer
        confirms once it has the transaction)."""
        conn = connect(self.dsn)
        try:
            cur = conn.cursor()
            cur.execute("select lsn::text from pg_logical_slot_peek_changes(%s, null, null, "
                        "'include-xids', '1') where xid::text = %s and data like 'COMMIT%%'",
                        (REF_SLOT, str(xid)))
            return lsn_int(cur.fetchone()[0])
        finally:
            conn.close()

    def report(self):
        for t in self._markers:
            t.join(150)
        truth = self.truth()
        log = read_log(self.log_path)
        r = check(truth, log, self.faults)
        runs = len(self.faults)
        print("fault %s: seed=%s runs=%d %s" % (self.name, self.seed, runs, r.line()))
        if not r.ok():
            print("examples:", r.examples)
        out = os.environ.get("WALCAST_FAULTS_RESULTS")
        if out:
            with open(out, "a") as f:
                f.write(json.dumps(dict(fault=self.name, seed=self.seed, size=size(), runs=runs,
                                        **r.counts())) + "\n")
        return r

    def close(self):
        self._closed.set()
        # The agents' logs stay beside the consumer log, for a failed run.
        for i, a in enumerate(self.agents):
            with open(os.path.join(self.tmp, "agent-%d.log" % (i + 1)), "w") as f:
                f.write(a.log())
            a.close()
        self.consumer.close()
        self.sampler.close()
        self.broker.delete()


def script(name, *args):
    """One of the project's server scripts (scripts/pg.sh halt immediate,
    scripts/rabbitmq.sh kill, ...) on the test servers."""
    subprocess.run([os.path.join(SCRIPTS, name + ".sh")] + list(args), check=True,
                   env=dict(os.environ, WALCAST_QUIET="1"), timeout=180)


def seed_for(name):
    """WALCAST_FAULTS_SEED replays a run; otherwise a fresh random seed."""
    value = os.environ.get("WALCAST_FAULTS_SEED")
    return int(value) if value else random.SystemRandom().randrange(1, 10 ** 9)


@pytest.fixture
def fault_run(fresh_db, amqp_uri, tmp_path):
    """fault_run(name, **kw) -> FaultRun in the test's own database (kw
    amqp_uri: another broker, e.g. a cluster's nodes comma-separated)."""
    runs = []

    def make(name, **kw):
        run = FaultRun(name, kw.pop("dsn", fresh_db), kw.pop("amqp_uri", amqp_uri), tmp_path,
                       seed_for(name), **kw)
        runs.append(run)
        return run
    yield make
    for run in runs:
        run.close()
