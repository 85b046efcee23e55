"""Node loss in a 3-node RabbitMQ cluster (scripts/rabbitmq-cluster.sh),
against the fault suite's mixed workload into a quorum queue with 3
replicas, judged by the fault suite's checker (fault_harness.py,
docs/reliability.md): nothing lost, nothing reordered per key, duplicates
only of what was unconfirmed, under their ids.

- The node the agent is connected to is killed (kill -9 of its VM, found
  from the agent's sockets in /proc): the agent, given the three nodes,
  moves to the next one, replays what was unconfirmed, and the node then
  starts again and rejoins (3 running nodes, the queue's 3 members online
  and caught up).  Once in `make test` (6,000 changes), 3 times in
  `make test-faults` (50,000 changes).
- The node of the queue's leader is killed while the agent publishes
  through another one: the agent does not notice beyond a pause in its
  confirms (the remaining majority elects a leader).

The consumer is pika with the three nodes in its parameters: it moves on
too, and what the broker redelivers after its node died is counted apart
(fault_checker.py).
"""
import re

from agent_helpers import http_port, scrape, wait_for
from cluster_helpers import NODES, QUORUM, cluster, healthy_cluster  # noqa: F401
from fault_harness import fault_run, pick  # noqa: F401

CONNECTED = re.compile(r"connected to RabbitMQ at 127\.0\.0\.1:(\d+)")


def agent_node(cluster, run, timeout=60):
    """The one node the agent is connected to (from /proc)."""
    nodes = wait_for(lambda: cluster.nodes_of_pid(run.agent.proc.pid), timeout,
                     "the agent connected to a node")
    assert len(nodes) == 1, nodes
    return nodes[0]


def longest_stall(samples, since, until):
    """The longest time the slot's confirmed position stood still between
    since and until (the sampler reads it every 0.1 s)."""
    worst, last_t, last_v = 0.0, None, None
    for t, v in samples:
        if t < since or t > until:
            continue
        if last_v is None or v != last_v:
            if last_t is not None:
                worst = max(worst, t - last_t)
            last_t, last_v = t, v
    return worst


def test_agent_node_killed_agent_fails_over(fault_run, healthy_cluster):
    cluster = healthy_cluster
    run = fault_run("cluster: the agent's node kill -9", amqp_uri=cluster.uri_list(),
                    queue_args=QUORUM)
    queue = run.broker.queue
    # The agent declares the same quorum queue (it must be equivalent to
    # the consumer's) and serves its metrics.
    run.agent_extra += ["--queue", queue, "--queue-type", "quorum", "--http-listen", "127.0.0.1:0"]
    run.start_agent()
    port = http_port(run.agent)
    run.start_workload()
    killed = []
    for _ in range(pick(1, 3)):
        run.pause(1, max(2, run.duration / 4.0))
        node = agent_node(cluster, run)
        during = run.workload_running()
        run.fault("RabbitMQ node of the agent kill -9", lambda: cluster.kill(node))
        killed.append((node, during))
        # The agent moves to another node, with the workload still writing.
        moved = wait_for(lambda: [n for n in cluster.nodes_of_pid(run.agent.proc.pid) if n != node],
                         60, "the agent connected to another node after node %s died" % node)
        assert moved != [node]
        run.agent_alive()
        cluster.start_node(node)
        cluster.wait_healthy(queue, seen_from=node)
    assert killed[0][1], "the first kill came after the workload ended"
    # The gauge names the node in use, and only it.
    node = agent_node(cluster, run)
    samples = scrape(port)
    series = {labels: v for (name, labels), v in samples.items()
              if name == "walcast_amqp_connected_node"}
    assert series == {frozenset({("node", "127.0.0.1:%d" % cluster.ports[node])}): 1.0}, series
    report = run.finish()
    assert report.ok(), report
    # Each connection is logged with the node it reached: the first, and
    # one after each kill, on a node that was up.
    ports = [int(p) for p in CONNECTED.findall(run.agent.log())]
    assert len(ports) >= 1 + len(killed), run.agent.log()[-4000:]
    assert len({cluster.node_of_port(p) for p in ports}) >= 2, ports
    # The killed nodes are back: 3 running nodes, the queue's 3 members
    # online, their Raft logs caught up.
    cluster.wait_healthy(queue)
    rows = cluster.wait_caught_up(queue)
    assert sorted(cluster.node_of_name(r["Node Name"]) for r in rows) == list(NODES)


def test_quorum_leader_node_killed_agent_on_another_node(fault_run, healthy_cluster):
    """The queue's leader is on b (declared through b, with the consumer
    there); the agent publishes through a and is never disconnected."""
    cluster = healthy_cluster
    run = fault_run("cluster: the quorum leader's node kill -9",
                    amqp_uri=cluster.uri_list(("b", "c", "a")), queue_args=QUORUM)
    queue = run.broker.queue
    assert cluster.node_of_name(cluster.queue(queue)["leader"]) == "b"
    run.agent_amqp_uri = cluster.uris["a"]
    run.start_agent()
    run.start_workload()
    run.pause(1, max(2, run.duration / 4.0))
    assert agent_node(cluster, run) == "a"
    run.fault("RabbitMQ node of the quorum leader kill -9", lambda: cluster.kill("b"))
    t_kill = run.faults[-1].t
    run.pause(1, 3)
    cluster.start_node("b")
    row = cluster.wait_healthy(queue, seen_from="b")
    assert cluster.node_of_name(row["leader"]) in ("a", "c"), row
    report = run.finish()
    assert report.ok(), report
    log = run.agent.log()
    assert log.count("streaming from replication slot") == 1, log[-4000:]
    print("longest stand-still of confirmed_flush_lsn in the 10 s after the kill: %.1f s"
          % longest_stall(run.sampler.samples, t_kill, t_kill + 10))
    cluster.wait_caught_up(queue)
