"""Helpers for walcast-agent's end-to-end tests (test_agent_*.py).

The agent runs as a real process; PostgreSQL and RabbitMQ are the servers
conftest.py describes; the consumer is pika, as a user's would be.  Nothing
here checks timing: waits have generous limits and only bound how long a
test may take to fail.
"""
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import tempfile
import time
import urllib.error
import urllib.request
import uuid

import pika
import pytest
from prometheus_client.parser import text_string_to_metric_families

import fault_checker
from conftest import AGENT_BIN, connect

RABBITMQCTL = "/usr/lib/rabbitmq/bin/rabbitmqctl"


def agent_env(extra=None):
    """The test environment without WALCAST_* variables.

    The agent reads WALCAST_<OPTION> as configuration, and the test
    environment exports WALCAST_PG_PORT and the like for the scripts: a test
    passes every setting on the command line instead.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("WALCAST_")}
    env.update(extra or {})
    return env


class Agent:
    """A running walcast-agent with its stderr (log) and stdout in files."""

    def __init__(self, args, env=None, log_file=None, prefix=None):
        """log_file: the agent's --log-file, read by log()/wait_log();
        prefix: a command that runs the agent (netns.py's namespace)."""
        self.args = list(prefix or []) + [AGENT_BIN] + list(args)
        fd, self.stderr_path = tempfile.mkstemp(prefix="wc-agent-", suffix=".err")
        os.close(fd)
        self.log_path = log_file or self.stderr_path
        fd, self.out_path = tempfile.mkstemp(prefix="wc-agent-", suffix=".out")
        os.close(fd)
        self._log = open(self.stderr_path, "ab")
        self._out = open(self.out_path, "ab")
        # The default --state-dir is the working directory, where the agent
        # keeps <slot>.position: one of its own per agent, so that a slot
        # name reused by another test never meets an older test's file.
        self.cwd = tempfile.mkdtemp(prefix="wc-agent-cwd-")
        self.proc = subprocess.Popen(self.args, stdout=self._out, stderr=self._log,
                                     env=env if env is not None else agent_env(),
                                     cwd=self.cwd)

    def log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def out_lines(self):
        with open(self.out_path, encoding="utf-8") as f:
            return [line for line in f.read().split("\n") if line]

    def wait_log(self, pattern, timeout=60):
        """Wait until the log matches pattern; fail early if the agent exits."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while time.monotonic() < deadline:
            if rx.search(self.log()):
                return
            if self.proc.poll() is not None:
                raise AssertionError("agent exited (%s) before logging %r:\n%s"
                                     % (self.proc.returncode, pattern, self.log()))
            time.sleep(0.1)
        raise AssertionError("agent did not log %r within %ss:\n%s"
                             % (pattern, timeout, self.log()))

    def wait_exit(self, timeout=60):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("agent did not exit within %ss:\n%s" % (timeout, self.log()))

    def stop(self, timeout=90):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait_exit(timeout)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log.close()
        self._out.close()
        for p in (self.stderr_path, self.out_path):
            try:
                os.unlink(p)
            except OSError:
                pass
        shutil.rmtree(self.cwd, ignore_errors=True)


def run_agent(args, timeout=60):
    """Run the agent to completion: (exit code, stdout, stderr)."""
    with tempfile.TemporaryDirectory(prefix="wc-agent-cwd-") as cwd:
        p = subprocess.run([AGENT_BIN] + list(args), env=agent_env(), capture_output=True,
                           text=True, timeout=timeout, cwd=cwd)
    return p.returncode, p.stdout, p.stderr


def error_lines(stderr):
    return [line for line in stderr.splitlines() if " error: " in line or line.startswith("walcast-agent: error:")]


def create_slot(dsn, name, plugin="walcast"):
    with connect(dsn) as conn:
        conn.cursor().execute("select pg_create_logical_replication_slot(%s, %s)", (name, plugin))
    conn.close()


def slot_info(dsn, name):
    conn = connect(dsn)
    cur = conn.cursor()
    cur.execute("select active_pid, confirmed_flush_lsn::text, "
                "pg_wal_lsn_diff(confirmed_flush_lsn, '0/0')::bigint "
                "from pg_replication_slots where slot_name = %s", (name,))
    row = cur.fetchone()
    conn.close()
    return row


def lsn_int(text):
    hi, lo = text.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)


def execute(dsn, *statements):
    conn = connect(dsn)
    cur = conn.cursor()
    for s in statements:
        cur.execute(s)
    conn.close()


def amqp_params(uri):
    """pika's connection parameters for a URI, or for several URIs in the
    agent's comma form (a cluster's nodes): a list, tried in order."""
    uris = uri.split(",")
    if len(uris) == 1:
        return pika.URLParameters(uri)
    return [pika.URLParameters(u) for u in uris]


class Broker:
    """Consumer side: an exchange and a queue of the test's own."""

    def __init__(self, uri, binding="#", queue_args=None):
        """uri: one broker, or a cluster's nodes comma-separated (tried in
        order); queue_args: the queue's arguments (x-max-length,
        x-queue-type...)."""
        self.uri = uri
        self.exchange = "wc_x_" + uuid.uuid4().hex[:10]
        self.queue = "wc_q_" + uuid.uuid4().hex[:10]
        self.params = amqp_params(uri)
        conn = pika.BlockingConnection(self.params)
        ch = conn.channel()
        ch.exchange_declare(self.exchange, exchange_type="topic", durable=True)
        ch.queue_declare(self.queue, durable=True, arguments=queue_args or {})
        ch.queue_bind(self.queue, self.exchange, routing_key=binding)
        conn.close()
        self.messages = []

    def agent_args(self):
        return ["--amqp-uri", self.uri, "--exchange", self.exchange]

    def collect(self, count, timeout=120, settle=1.0, until=None):
        """Consume until at least count messages arrived in total (and the
        queue then stays empty for `settle` seconds; settle=0 returns at
        once), or timeout.  With until (a test on a message's body), stop
        right after the first message that passes it instead: a marker
        published last, so no pause in delivery ends the wait early.
        Survives a broker restart by reconnecting."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            opened = consumer_channel(self.params, 2000)
            if opened is None:
                continue
            conn, ch = opened
            try:
                idle_since = None
                for method, props, body in ch.consume(self.queue, inactivity_timeout=0.2):
                    if method is None:
                        now = time.monotonic()
                        if len(self.messages) >= count and until is None:
                            idle_since = idle_since or now
                            if now - idle_since >= settle:
                                break
                        if now >= deadline:
                            break
                        continue
                    idle_since = None
                    self.messages.append((method.routing_key, props, body))
                    ch.basic_ack(method.delivery_tag)
                    if until is not None:
                        if until(body):
                            break
                        continue
                    if settle == 0 and len(self.messages) >= count:
                        break
                ch.cancel()
                conn.close()
                return self.messages
            except pika.exceptions.AMQPError:
                time.sleep(0.5)
                continue
        return self.messages

    def mark(self, message_id):
        """Publish an empty marker message straight into the queue (the
        default exchange), confirmed; False when the broker is down or the
        queue refused it (full, with reject-publish)."""
        try:
            conn = pika.BlockingConnection(self.params)
            try:
                ch = conn.channel()
                ch.confirm_delivery()
                ch.basic_publish("", self.queue, b"{}", pika.BasicProperties(
                    message_id=message_id, delivery_mode=2), mandatory=True)
                return True
            finally:
                conn.close()
        except (pika.exceptions.AMQPError, pika.exceptions.NackError,
                pika.exceptions.UnroutableError):
            return False

    def delete(self):
        try:
            conn = pika.BlockingConnection(self.params)
            ch = conn.channel()
            ch.queue_delete(self.queue)
            ch.exchange_delete(self.exchange)
            conn.close()
        except pika.exceptions.AMQPError:
            pass


def consumer_channel(params, prefetch):
    """(connection, channel with basic_qos prefetch) for a consumer, or
    None after a pause while the broker cannot be reached (restarting)."""
    try:
        conn = pika.BlockingConnection(params)
        ch = conn.channel()
        ch.basic_qos(prefetch_count=prefetch)
        return conn, ch
    except pika.exceptions.AMQPError:
        time.sleep(0.5)
        return None


@pytest.fixture
def broker(amqp_uri):
    """A fresh exchange and bound queue for one test (import it into the
    test module to use it as a fixture)."""
    b = Broker(amqp_uri)
    yield b
    b.delete()


# The publication prepare_db creates for a pgoutput slot.
PUBLICATION = "wc_pub"


# The reference slot prepare_db(reference=True) adds: what PostgreSQL
# committed, for check_messages.
REFERENCE_SLOT = "wc_reference"


def prepare_db(dsn, slot, *ddl, plugin="walcast", reference=False):
    """Create the test's tables, then its slot (so it sees what follows);
    for pgoutput, a publication of all tables before the slot (pgoutput
    reads a publication as of each change).  reference: also a
    test_decoding slot, never consumed, that check_messages reads."""
    execute(dsn, *ddl)
    if plugin == "pgoutput":
        execute(dsn, f"create publication {PUBLICATION} for all tables")
    create_slot(dsn, slot, plugin)
    if reference:
        execute(dsn, "select pg_create_logical_replication_slot('%s', 'test_decoding')"
                % REFERENCE_SLOT)
    return dsn


def check_messages(dsn, messages):
    """The fault suite's checker (fault_checker.py) on what broker.collect
    received, against the reference slot of prepare_db(reference=True).
    No fault was sampled, so no duplicate can be placed in a window: a
    caller asserts the rest (assert_delivered)."""
    conn = connect(dsn)
    try:
        truth = fault_checker.truth_from_slot(conn, REFERENCE_SLOT)
    finally:
        conn.close()
    log = [{"t": 0, "mid": props.message_id, "rk": key, "body": body}
           for key, props, body in messages]
    return fault_checker.check(truth, log)


def assert_delivered(report, changes):
    """Every one of the changes committed arrived, nothing else, in commit
    order per table and per key, and every message id sent again carried
    the same bytes and no change came under a second id."""
    assert report.changes == changes, report
    assert (report.lost, report.unexpected, report.dup_changed, report.dup_new_id,
            report.reordered_table, report.reordered_key) == (0, 0, 0, 0, 0, 0), report


def plugin_args(plugin):
    """The agent's arguments for reading a slot prepare_db made."""
    return [] if plugin == "walcast" else ["--plugin", plugin, "--publication", PUBLICATION]


def events_of(messages):
    """Flatten (routing key, properties, body) into decoded events with the
    message id they came in (batched messages hold JSON arrays)."""
    out = []
    for key, props, body in messages:
        doc = json.loads(body)
        for ev in (doc if isinstance(doc, list) else [doc]):
            out.append((props.message_id, ev))
    return out


def rabbitmqctl(*args):
    """rabbitmqctl against the test broker (the node scripts/rabbitmq.sh runs)."""
    run_dir = os.environ["WALCAST_RUN_DIR"]
    port = os.environ.get("WALCAST_AMQP_PORT") or re.search(r":(\d+)/", os.environ["AMQP_URI"]).group(1)
    env = dict(os.environ, HOME=os.path.join(run_dir, "rabbitmq"))
    return subprocess.run([RABBITMQCTL, "-n", "walcast-%s@localhost" % port] + list(args),
                          env=env, check=True, capture_output=True, text=True, timeout=60)


def make_test_ca(directory, name="ca"):
    """A throwaway CA and a server certificate for localhost/127.0.0.1."""
    d = str(directory)

    def ossl(*args):
        subprocess.run(["openssl"] + list(args), cwd=d, check=True, capture_output=True)
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key",
         "-out", name + ".crt", "-days", "2", "-subj", "/CN=walcast test " + name)
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key",
         "-out", "server.csr", "-subj", "/CN=localhost")
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    ossl("x509", "-req", "-in", "server.csr", "-CA", name + ".crt", "-CAkey", name + ".key",
         "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "san.ext")
    return {k: os.path.join(d, f) for k, f in
            (("ca", name + ".crt"), ("cert", "server.crt"), ("key", "server.key"))}


def _close_sockets(*socks):
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            s.close()
        except OSError:
            pass


class _Proxy:
    """A TCP proxy on a port of its own, in front of upstream (host, port);
    a thread per direction.  Subclasses wrap the client's socket (_wrap)
    and may drop what the client sends (_drop)."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.conns = []
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _wrap(self, raw):
        return raw

    def _drop(self):
        return False

    def _accept(self):
        while not self.closed:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw):
        try:
            client = self._wrap(raw)
        except OSError:
            raw.close()
            return
        server = socket.create_connection(self.upstream)
        self.conns.append((client, server))
        threading.Thread(target=self._pipe, args=(server, client, False), daemon=True).start()
        self._pipe(client, server, True)

    def _pipe(self, src, dst, from_client):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if not (from_client and self._drop()):
                    dst.sendall(data)
        except OSError:
            pass
        _close_sockets(src, dst)

    def close(self):
        self.closed = True
        self.listener.close()
        conns, self.conns = self.conns, []
        for pair in conns:
            _close_sockets(*pair)


class TlsProxy(_Proxy):
    """TLS in front of the test broker (which speaks plain AMQP): what the
    agent meets at an amqps:// endpoint, without reconfiguring RabbitMQ."""

    def __init__(self, certfile, keyfile, upstream):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(certfile, keyfile)
        super().__init__(upstream)

    def _wrap(self, raw):
        return self.ctx.wrap_socket(raw, server_side=True)


class CuttableProxy(_Proxy):
    """A plain TCP proxy in front of PostgreSQL (or a sink), to lose what the agent
    says without the agent noticing: mute() drops the agent's bytes (its
    status updates) while the server's still arrive, and cut() then closes
    every connection, as a walsender timeout or a network failure would.
    Later connections pass through normally."""

    muted = False
    armed = False
    trips = 0

    def dsn(self, dsn):
        return re.sub(r"port=\d+", "port=%d" % self.port, dsn)

    def uri(self, uri):
        """An amqp:// or mongodb:// URI with the proxy's port."""
        return re.sub(r"(@|//)([^:/@]+):\d+", r"\g<1>\g<2>:%d" % self.port, uri, count=1)

    refuse_until = 0.0

    def refuse_for(self, seconds):
        """Close every new connection at once for a while, as a server
        that is down: the agent finds its sink unreachable."""
        self.refuse_until = time.monotonic() + seconds

    def _wrap(self, raw):
        if time.monotonic() < self.refuse_until:
            raise OSError("refusing")
        return raw

    def arm(self):
        """The next bytes the client sends are not forwarded: every
        connection is cut instead, as when a sink fails on its first write
        (counted in trips)."""
        self.armed = True

    def _drop(self):
        if self.armed:
            self.armed = False
            self.trips += 1
            self.cut()
            return True
        return self.muted

    def mute(self):
        self.muted = True

    def cut(self):
        conns, self.conns = self.conns, []
        self.muted = False
        for pair in conns:
            _close_sockets(*pair)


def two_table_workload(dsn, txns, rows, first=0):
    """Transactions first..txns-1, each inserting rows rows into ta and
    into tb (ids t * rows + 1 ...): the fault tests' workload."""
    conn = connect(dsn, autocommit=False)
    cur = conn.cursor()
    for t in range(first, txns):
        lo = t * rows + 1
        cur.execute("insert into ta select g, g from generate_series(%s, %s) g", (lo, lo + rows - 1))
        cur.execute("insert into tb select g, g from generate_series(%s, %s) g", (lo, lo + rows - 1))
        conn.commit()
    conn.close()


def wait_for(test, timeout, what, interval=0.2, detail=None):
    """Poll test() until it returns something true, and return that; the
    timeout only bounds how long a failing test takes.  detail: a function
    whose text the failure adds (an agent's log)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = test()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("%s: not within %ss%s" % (what, timeout, "\n" + detail() if detail else ""))


def in_background(fn, *args):
    """Run fn(*args) in a thread; join_ok reports what it raised."""
    errors = []

    def run():
        try:
            fn(*args)
        except Exception as e:  # reported by join_ok
            errors.append(e)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, errors


def join_ok(thread, errors):
    thread.join(timeout=600)
    assert not thread.is_alive()
    assert not errors, errors


# ---- the HTTP endpoint (--http-listen, agent/obs/) ----

def http_port(agent, timeout=60):
    """The port of an agent started with --http-listen ADDR:0, from its
    log line "serving ... on http://ADDR:PORT"."""
    agent.wait_log(r"serving /metrics.* on http://\S+:\d+", timeout)
    return int(re.search(r"serving /metrics.* on http://\S+:(\d+)", agent.log()).group(1))


def http_get(port, path):
    """(status, body) of GET path on the endpoint; a 503 is an answer too."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def scrape(port):
    """/metrics parsed by prometheus_client's own parser (never a regex):
    {(sample name, frozenset of label pairs): value}."""
    status, text = http_get(port, "/metrics")
    assert status == 200, text
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples


def metric(samples, name, **labels):
    """One sample's value, or None when the agent does not export it."""
    return samples.get((name, frozenset(labels.items())))


def wait_metrics(port, test, timeout=60, agent=None):
    """Scrape until test(samples) holds; returns those samples.  The
    timeout only bounds how long a failing test takes."""
    deadline = time.monotonic() + timeout
    while True:
        samples = scrape(port)
        if test(samples):
            return samples
        if agent is not None and agent.proc.poll() is not None:
            raise AssertionError("agent exited (%s):\n%s" % (agent.proc.returncode, agent.log()))
        if time.monotonic() > deadline:
            raise AssertionError("metrics never passed the test; last scrape: %r" %
                                 {k: v for k, v in samples.items() if k[0].startswith("walcast_")})
        time.sleep(0.2)


def wait_status(port, test, timeout=60):
    """GET /status until test(document) holds; returns the document."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = http_get(port, "/status")
        assert status == 200, body
        doc = json.loads(body)
        if test(doc):
            return doc
        if time.monotonic() > deadline:
            raise AssertionError("/status never passed the test: %s" % body)
        time.sleep(0.2)
