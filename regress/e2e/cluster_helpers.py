"""The 3-node RabbitMQ cluster of the cluster tests (test_cluster_*.py),
and the partition hash of docs/partitioning.md.

The cluster is scripts/rabbitmq-cluster.sh's: nodes a, b and c on
loopback, each with its own AMQP port, joined with join_cluster.  The
`cluster` fixture uses a cluster that already runs (scripts/run-tests.sh
starts one for the cluster suite), or starts one for the session and
stops it at the end; `healthy_cluster` makes sure, before a test, that all
three nodes run (a test that killed one started it again, but a failed
test may not have).  Every action on a node goes through the script
(kill, start-node, ctl, queues): the tests do what an operator's tools do.

Which node a client uses is read from /proc, not from the client's word:
the process's sockets (/proc/PID/fd) matched in /proc/net/tcp with a
cluster node's AMQP port as the remote end.
"""
import json
import os
import re
import subprocess
import time

import pika
import pytest

from conftest import SCRIPTS

CLUSTER_SCRIPT = os.path.join(SCRIPTS, "rabbitmq-cluster.sh")
NODES = ("a", "b", "c")
QUORUM = {"x-queue-type": "quorum"}
STREAM = {"x-queue-type": "stream"}


def cluster_script(*args, check=True, timeout=300):
    p = subprocess.run([CLUSTER_SCRIPT] + list(args), env=dict(os.environ, WALCAST_QUIET="1"),
                       capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError("rabbitmq-cluster.sh %s failed (%d):\n%s%s"
                             % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p


def _exports(text):
    out = {}
    for line in text.splitlines():
        m = re.match(r'export (\w+)="?(.*?)"?$', line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


class Cluster:
    """The running cluster: its URIs and node names, and the script's
    actions on one node."""

    def __init__(self):
        env = _exports(cluster_script("env").stdout)
        self.uris = dict(zip(NODES, env["AMQP_CLUSTER_URIS"].split(",")))
        self.names = dict(zip(NODES, env["AMQP_CLUSTER_NODES"].split()))
        self.ports = {n: int(re.search(r":(\d+)/", u).group(1)) for n, u in self.uris.items()}

    def uri_list(self, order=NODES):
        """The agent's --amqp-uri in the comma form, nodes in this order."""
        return ",".join(self.uris[n] for n in order)

    def params(self, order=NODES):
        """pika connection parameters that try the nodes in this order."""
        return [pika.URLParameters(self.uris[n]) for n in order]

    def node_of_port(self, port):
        for n, p in self.ports.items():
            if p == port:
                return n
        return None

    def node_of_name(self, name):
        for n, full in self.names.items():
            if full == name:
                return n
        return None

    # --- the script ---
    def ctl(self, node, *args, timeout=120):
        return cluster_script("ctl", node, *args, timeout=timeout).stdout

    def ctl_json(self, node, *args):
        return json.loads(self.ctl(node, "-q", *args, "--formatter", "json"))

    def kill(self, node):
        """kill -9 of the node's VM (the script waits until it is gone)."""
        cluster_script("kill", node)

    def start_node(self, node):
        """Start a node again on its own data: it rejoins by itself."""
        cluster_script("start-node", node, timeout=300)

    @staticmethod
    def pid(node):
        """The pid of the node's VM, from its pid file (OSError when none)."""
        with open(os.path.join(os.environ["WALCAST_RUN_DIR"], "cluster", node, "rabbitmq.pid")) as f:
            return int(f.readline())

    def running(self):
        """The nodes whose VM runs (its pid file names a live process;
        cheaper than the script's status, which asks a node)."""
        out = []
        for n in NODES:
            try:
                os.kill(self.pid(n), 0)
                out.append(n)
            except (OSError, ValueError):
                pass
        return out

    # --- what the cluster says ---
    def running_nodes(self, seen_from):
        """The nodes that node seen_from counts as running, as a, b, c."""
        doc = self.ctl_json(seen_from, "cluster_status")
        return sorted(self.node_of_name(x) for x in doc["running_nodes"])

    def queue(self, name, seen_from=None):
        """list_queues' row of a queue (type, leader, members, online,
        arguments as {name: value}), or None."""
        seen_from = seen_from or self.running()[0]
        for row in self.ctl_json(seen_from, "list_queues", "name", "type", "leader", "members",
                                 "online", "arguments"):
            if row["name"] == name:
                row["arguments"] = {a[0]: a[2] for a in row.get("arguments") or []}
                return row
        return None

    def exchange(self, name):
        """list_exchanges' row of an exchange (type, arguments as
        {name: value}), or None."""
        for row in self.ctl_json(self.running()[0], "list_exchanges", "name", "type", "arguments"):
            if row["name"] == name:
                row["arguments"] = {a[0]: a[2] for a in row.get("arguments") or []}
                return row
        return None

    def bindings(self, source):
        """{(queue, routing key): arguments as {name: value}} of an
        exchange's bindings."""
        out = {}
        for row in self.ctl_json(self.running()[0], "list_bindings", "source_name",
                                 "destination_name", "routing_key", "arguments"):
            if row["source_name"] == source:
                out[(row["destination_name"], row["routing_key"])] = \
                    {a[0]: a[2] for a in row.get("arguments") or []}
        return out

    def quorum_status(self, queue, seen_from=None):
        """rabbitmq-queues quorum_status: one row per member (Raft state,
        log and commit index)."""
        seen_from = seen_from or self.running()[0]
        p = cluster_script("queues", seen_from, "quorum_status", queue, "--formatter", "json")
        return json.loads(p.stdout)

    def wait_healthy(self, queue=None, timeout=120, replicas=3, seen_from=None):
        """Until every node runs and node seen_from (a node that was
        started again; else the first) counts 3 running nodes, and the
        queue (when given) has its replicas on distinct nodes, all online."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                if self.running() == list(NODES):
                    seen = self.running_nodes(seen_from or NODES[0])
                    last = seen
                    if seen == list(NODES):
                        if queue is None:
                            return
                        row = self.queue(queue)
                        last = row
                        if row and len(set(row["members"])) == replicas \
                                and sorted(row["online"]) == sorted(row["members"]):
                            return row
            except (AssertionError, ValueError, KeyError):
                pass            # a node still booting answers with an error
            time.sleep(1)
        raise AssertionError("the cluster did not become whole within %ss: %r" % (timeout, last))

    def wait_caught_up(self, queue, timeout=120):
        """Until every member of a quorum queue has the same commit index
        (a restarted replica caught up); returns the rows."""
        deadline = time.monotonic() + timeout
        rows = None
        while time.monotonic() < deadline:
            rows = self.quorum_status(queue)
            commits = {r["Commit Index"] for r in rows}
            if len(rows) == len(NODES) and len(commits) == 1 \
                    and sum(r["Raft State"] == "leader" for r in rows) == 1:
                return rows
            time.sleep(1)
        raise AssertionError("the members of %s did not catch up within %ss: %r" % (queue, timeout, rows))

    # --- which node a process is on ---
    def nodes_of_pid(self, pid):
        """The cluster nodes the process has established TCP connections to."""
        return sorted({self.node_of_port(p) for p in tcp_peer_ports(pid)} - {None})


def tcp_peer_ports(pid):
    """Remote ports of the process's established TCP connections."""
    inodes = set()
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        return []
    for fd in fds:
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]$", link)
        if m:
            inodes.add(m.group(1))
    ports = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            # local, remote, state (01 = ESTABLISHED), ..., inode
            if f[3] == "01" and f[9] in inodes:
                ports.append(int(f[2].rsplit(":", 1)[1], 16))
    return ports


@pytest.fixture(scope="session")
def cluster():
    """The cluster: the running one, or one started for this session."""
    started = cluster_script("status", check=False).returncode != 0
    if started:
        cluster_script("start", timeout=600)
    yield Cluster()
    if started:
        cluster_script("stop")


@pytest.fixture
def healthy_cluster(cluster):
    """The cluster with its three nodes running before the test."""
    for n in NODES:
        if n not in cluster.running():
            cluster.start_node(n)
    cluster.wait_healthy()
    return cluster


# ---- the partition hash (docs/partitioning.md) ----

FNV_OFFSET = 2166136261
FNV_PRIME = 16777619


def fnv1a32(data):
    """FNV-1a, 32 bits, of bytes."""
    h = FNV_OFFSET
    for b in data:
        h ^= b
        h = (h * FNV_PRIME) & 0xFFFFFFFF
    return h


class RawNumber(str):
    """A JSON number kept as the text the record wrote (json.loads with
    parse_int/parse_float): the hash takes its digits as sent."""


def loads_raw(body):
    return json.loads(body, parse_int=RawNumber, parse_float=RawNumber)


def value_text(value):
    """The text of a key value, as docs/partitioning.md defines it, from a
    record parsed by loads_raw.  Arrays and objects: compact JSON, which is
    the record's own text for the values the tests use."""
    if isinstance(value, RawNumber):
        return str(value)
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def hash_bytes(schema, table, key_texts=()):
    out = schema.encode() + b"\0" + table.encode() + b"\0"
    for t in key_texts:
        out += t.encode() + b"\0"
    return out


def partition_of_key(schema, table, key_texts, n):
    return fnv1a32(hash_bytes(schema, table, key_texts)) % n


def partition_of_record(rec, n):
    """The partition a record (from loads_raw) belongs to, or None for a
    TRUNCATE (every partition gets one).  Key values come from new for
    inserts, updates and load reads, from old for deletes; a logical
    message by its prefix."""
    action = rec.get("action")
    if action == "M":
        return fnv1a32(rec["prefix"].encode()) % n
    if action == "T":
        return None
    row = rec.get("old") if action == "D" else rec.get("new")
    texts = [value_text(row[c]) for c in rec.get("pk") or []]
    return partition_of_key(rec["schema"], rec["table"], texts, n)
