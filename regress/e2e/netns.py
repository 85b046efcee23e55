"""Network faults for the end-to-end tests: the agent in a network
namespace of its own, joined to the host by a veth pair, with nftables
rules for partitions and loss (docs/reliability.md, "Network faults").

    host (root namespace)                 namespace wcb-XXXX
    servers on 127.0.0.1   <- DNAT/SNAT -  10.213.N.1 =veth= 10.213.N.2  agent

The servers keep listening on 127.0.0.1 only (scripts/servers.sh): in the
root namespace, a table "wcbXXXX" of nftables rewrites what arrives from
the veth for 10.213.N.1 to 127.0.0.1 (DNAT) and its source to 127.0.0.1
(SNAT, so that pg_hba.conf's loopback rules and RabbitMQ's loopback-only
guest user apply); net.ipv4.conf.<veth>.route_localnet allows loopback
addresses on that interface.  Every fault is a rule in the agent's
namespace (table "wcbfault"), on the agent's side of the link:

- partition(port): every packet to or from the server's port dropped, in
  both directions: no FIN, no RST, as a cable pulled or a firewall that
  drops;
- loss(port, percent): nftables' `numgen random` drops that share of the
  packets, both ways.

This kernel has no netem qdisc ("Specified qdisc kind is unknown"; its
qdiscs are pfifo, bfifo, tbf, htb, red), so a delay is DelayProxy's job: a
TCP relay inside the link that holds every chunk for a fixed time.

Names carry the prefix "wcb" (namespace, veth ends, nftables tables) so
they never clash with another worktree's; everything is removed on close
(after a run killed outright: `ip netns del wcb-XXXXXX`, which takes its
veth pair along, and `nft delete table ip wcbXXXXXX`).
Needs root, iproute2 and nftables (scripts/install-deps.sh).
"""
import re
import socket
import subprocess
import threading
import time
import uuid


def _run(*cmd, ns=None, input=None):
    prefix = ["ip", "netns", "exec", ns] if ns else []
    subprocess.run(prefix + list(cmd), check=True, capture_output=True, text=True,
                   input=input, timeout=30)


class AgentNetns:
    """A namespace for the agent, linked to the host's loopback servers."""

    def __init__(self):
        tag = uuid.uuid4().hex[:6]
        self.ns = "wcb-" + tag
        self.host_if = "wcbh" + tag
        self.ns_if = "wcba" + tag
        self.table = "wcb" + tag
        n = int(tag[:4], 16) % 250 + 2
        self.host_addr = "10.213.%d.1" % n
        self.ns_addr = "10.213.%d.2" % n
        self._made = []
        try:
            self._setup()
        except Exception:
            self.close()
            raise

    def _setup(self):
        _run("ip", "netns", "add", self.ns)
        self._made.append("ns")
        _run("ip", "link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if)
        self._made.append("link")
        _run("ip", "link", "set", self.ns_if, "netns", self.ns)
        _run("ip", "addr", "add", self.host_addr + "/30", "dev", self.host_if)
        _run("ip", "link", "set", self.host_if, "up")
        _run("ip", "addr", "add", self.ns_addr + "/30", "dev", self.ns_if, ns=self.ns)
        _run("ip", "link", "set", self.ns_if, "up", ns=self.ns)
        _run("ip", "link", "set", "lo", "up", ns=self.ns)
        _run("sysctl", "-qw", "net.ipv4.conf.%s.route_localnet=1" % self.host_if)
        _run("nft", "-f", "-", input="""
table ip %(t)s {
  chain pre { type nat hook prerouting priority -100; iifname "%(i)s" ip daddr %(h)s dnat to 127.0.0.1; }
  chain in { type nat hook input priority 100; ip saddr %(a)s snat to 127.0.0.1; }
}
""" % dict(t=self.table, i=self.host_if, h=self.host_addr, a=self.ns_addr))
        self._made.append("table")
        _run("nft", "add", "table", "inet", "wcbfault", ns=self.ns)
        _run("nft", "add", "chain", "inet", "wcbfault", "out",
             "{ type filter hook output priority 0; }", ns=self.ns)
        _run("nft", "add", "chain", "inet", "wcbfault", "in",
             "{ type filter hook input priority 0; }", ns=self.ns)

    # ---- addresses as the agent sees them ----

    def dsn(self, dsn):
        return re.sub(r"host=\S+", "host=" + self.host_addr, dsn)

    def uri(self, uri):
        """An amqp:// or mongodb:// URI with the host's veth address."""
        return re.sub(r"(@|//)(127\.0\.0\.1|localhost)(?=[:/])", r"\g<1>" + self.host_addr, uri,
                      count=1)

    def prefix(self):
        """The command prefix that runs a program inside the namespace."""
        return ["ip", "netns", "exec", self.ns]

    # ---- faults ----

    def _rules(self, port, verdict):
        for chain, field in (("out", "dport"), ("in", "sport")):
            _run("nft", "add", "rule", "inet", "wcbfault", chain, "tcp", field, str(port),
                 *verdict, ns=self.ns)

    def partition(self, port):
        """Drop everything to and from port, silently, both ways."""
        self._rules(port, ["drop"])

    def loss(self, port, percent):
        """Drop percent % of the packets to and from port, at random."""
        self._rules(port, ["numgen", "random", "mod", "100", "<", str(percent), "counter", "drop"])

    def dropped(self):
        """Packets the loss rules dropped so far (their counters)."""
        out = subprocess.run(["ip", "netns", "exec", self.ns, "nft", "list", "table", "inet",
                              "wcbfault"], check=True, capture_output=True, text=True).stdout
        return sum(int(n) for n in re.findall(r"counter packets (\d+)", out))

    def heal(self):
        for chain in ("out", "in"):
            _run("nft", "flush", "chain", "inet", "wcbfault", chain, ns=self.ns)

    def close(self):
        if "table" in self._made:
            subprocess.run(["nft", "delete", "table", "ip", self.table], capture_output=True)
        if "link" in self._made:
            subprocess.run(["ip", "link", "del", self.host_if], capture_output=True)
        if "ns" in self._made:
            subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)
        self._made = []


class DelayProxy:
    """A TCP relay that holds every chunk for `delay` seconds each way, on
    the host's side of the veth (listening on host_addr): the 200 ms of
    latency that netem would add, which this kernel cannot.  Chunks keep
    their order; the relay reads on while it holds them, as a long link
    would carry them."""

    def __init__(self, listen_addr, upstream, delay):
        self.upstream = upstream
        self.delay = delay
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((listen_addr, 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.closed = False
        self.socks = []
        self.held = 0             # chunks held for a delay
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=10)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            self.socks += [client, server]
            for src, dst in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    def _pipe(self, src, dst):
        """Read chunks as they come; a writer thread sends each once it
        has been held for the delay."""
        queue = []
        cond = threading.Condition()
        done = [False]

        def writer():
            while True:
                with cond:
                    while not queue and not done[0]:
                        cond.wait()
                    if not queue:
                        break
                    due, data = queue.pop(0)
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                try:
                    if data is None:
                        dst.shutdown(socket.SHUT_WR)
                        break
                    dst.sendall(data)
                except OSError:
                    break
        t = threading.Thread(target=writer, daemon=True)
        t.start()
        try:
            while True:
                data = src.recv(65536)
                delay = self.delay
                if delay > 0:
                    self.held += 1
                with cond:
                    queue.append((time.monotonic() + delay, data or None))
                    cond.notify()
                if not data:
                    break
        except OSError:
            pass
        with cond:
            done[0] = True
            cond.notify()

    def close(self):
        self.closed = True
        self.listener.close()
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass
