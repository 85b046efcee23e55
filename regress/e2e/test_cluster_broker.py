"""The cluster itself, before any agent meets it: what
scripts/rabbitmq-cluster.sh promises, and a plain pika publisher through a
node's kill -9 (the baseline the agent's failover tests compare with: if
this loses a message, the cluster does, not the agent).

- three running nodes, as each node sees it, with distinct names; one
  Erlang cookie; every listener of the nodes on loopback;
- a quorum queue gets a member on each node; a publisher with confirms on
  the node of its leader, killed half-way: the publisher moves to the next
  node and sends again what was unconfirmed, a new leader takes over,
  nothing is lost; the node starts again and rejoins, its member online
  and caught up.
"""
import os
import re
import subprocess
import uuid

import pika

from cluster_helpers import NODES, QUORUM, cluster, healthy_cluster  # noqa: F401


def test_three_nodes_one_cookie_loopback_only(healthy_cluster):
    cluster = healthy_cluster
    for n in NODES:
        assert cluster.running_nodes(n) == list(NODES)
    assert len(set(cluster.names.values())) == 3
    cookies = set()
    for n in NODES:
        with open(os.path.join(os.environ["WALCAST_RUN_DIR"], "cluster", n, ".erlang.cookie")) as f:
            cookies.add(f.read())
    assert len(cookies) == 1
    listening = subprocess.run(["ss", "-tlnpH"], capture_output=True, text=True, check=True).stdout
    for n in NODES:
        mine = [line.split()[3] for line in listening.splitlines()
                if "pid=%d," % cluster.pid(n) in line]
        assert "127.0.0.1:%d" % cluster.ports[n] in mine, mine
        assert all(a.startswith("127.0.0.1:") for a in mine), (n, mine)


def publish_through_kill(cluster, queue, count, kill_at):
    """Publish count messages one at a time with confirms, starting on
    the queue leader's node; at kill_at, kill -9 the publisher's node and
    carry on through the next one, sending the unconfirmed message again.
    Returns the node killed."""
    order = list(NODES)
    conn = pika.BlockingConnection(cluster.params(order))
    ch = conn.channel()
    ch.confirm_delivery()
    killed = None
    i = 0
    while i < count:
        if i == kill_at and killed is None:
            killed = cluster.nodes_of_pid(os.getpid())
            assert len(killed) == 1, killed
            killed = killed[0]
            cluster.kill(killed)
        try:
            ch.basic_publish("", queue, b"m%d" % i, pika.BasicProperties(
                message_id=str(i), delivery_mode=2), mandatory=True)
            i += 1
        except (pika.exceptions.AMQPError, pika.exceptions.NackError):
            rest = [n for n in order if n != killed]
            conn = pika.BlockingConnection(cluster.params(rest))
            ch = conn.channel()
            ch.confirm_delivery()
    conn.close()
    return killed


def test_pika_publisher_through_node_kill(healthy_cluster):
    cluster = healthy_cluster
    queue = "wc_cq_" + uuid.uuid4().hex[:8]
    conn = pika.BlockingConnection(cluster.params())
    conn.channel().queue_declare(queue, durable=True, arguments=QUORUM)
    conn.close()
    row = cluster.queue(queue)
    assert sorted(row["members"]) == sorted(cluster.names.values()), row
    assert cluster.node_of_name(row["leader"]) == "a", row
    killed = publish_through_kill(cluster, queue, 1500, 700)
    assert killed == "a"
    assert sorted(cluster.running()) == ["b", "c"]
    assert cluster.node_of_name(cluster.queue(queue)["leader"]) in ("b", "c")
    cluster.start_node("a")
    cluster.wait_healthy(queue, seen_from="a")
    rows = cluster.wait_caught_up(queue)
    assert {r["Raft State"] for r in rows} == {"leader", "follower"}
    # Everything is there, in order; the message unconfirmed at the kill
    # may be there twice.
    conn = pika.BlockingConnection(cluster.params(("c", "b", "a")))
    ch = conn.channel()
    ids = []
    while True:
        method, props, _ = ch.basic_get(queue, auto_ack=True)
        if method is None:
            break
        ids.append(int(props.message_id))
    ch.queue_delete(queue)
    conn.close()
    seen = set()
    firsts = [i for i in ids if not (i in seen or seen.add(i))]
    assert firsts == list(range(1500)), (len(ids), ids[:10])
    assert len(ids) - 1500 <= 1, len(ids)
    assert re.match(r"walcast-c\d+-a@localhost$", cluster.names["a"])
