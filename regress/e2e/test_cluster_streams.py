"""A stream queue on the 3-node cluster (`--queue-type stream`, with the
retention options): history that consumers who come later replay.

The agent declares the stream (3 replicas, `x-max-age` and
`x-max-length-bytes` as given) and publishes two batches of transactions a
few seconds apart, then an end marker.  After it, three consumers attach,
one after the other (reading a stream removes nothing):
- from `first`: everything, in commit order (the fault suite's checker
  against the reference slot);
- from a numeric offset, the 201st message's `x-stream-offset`: exactly
  the first consumer's messages from there on, same ids and bytes;
- from a timestamp taken between the batches: a contiguous tail of the
  first consumer's messages that holds all of the second batch (a stream
  finds a timestamp to the chunk, so a few earlier messages may come too).
"""
import datetime
import time
import uuid

import pika

from agent_helpers import Agent, assert_delivered, check_messages, execute, prepare_db
from cluster_helpers import NODES, cluster, healthy_cluster  # noqa: F401

SLOT = "wc_stream"
END = "walcast-stream-end"


def read_stream(params, queue, offset, timeout=120):
    """Consume a stream from offset until the end marker: [(x-stream-offset,
    message id, body)]."""
    got = []
    conn = pika.BlockingConnection(params)
    try:
        ch = conn.channel()
        ch.basic_qos(prefetch_count=200)       # a stream consumer must set it
        deadline = time.monotonic() + timeout
        for method, props, body in ch.consume(queue, inactivity_timeout=0.5,
                                              arguments={"x-stream-offset": offset}):
            assert time.monotonic() < deadline, "no end marker within %ss (%d read)" % (timeout, len(got))
            if method is None:
                continue
            got.append((props.headers["x-stream-offset"], props.message_id, body))
            ch.basic_ack(method.delivery_tag)      # manual acks: auto-ack is refused
            if END.encode() in body:
                break
        ch.cancel()
    finally:
        conn.close()
    return got


def insert(dsn, first, txns, rows):
    for t in range(txns):
        lo = first + t * rows
        execute(dsn, "insert into st select g, 'v' || g from generate_series(%d, %d) g"
                % (lo, lo + rows - 1))


def test_stream_consumers_at_different_offsets(fresh_db, healthy_cluster):
    cluster = healthy_cluster
    dsn = prepare_db(fresh_db, SLOT, "create table st (id int primary key, v text)", reference=True)
    exchange = "wc_sx_" + uuid.uuid4().hex[:8]
    queue = "wc_sq_" + uuid.uuid4().hex[:8]
    agent = Agent(["-d", dsn, "-S", SLOT, "-s", "1", "--amqp-uri", cluster.uri_list(),
                   "--exchange", exchange, "--queue", queue, "--queue-type", "stream",
                   "--queue-max-age", "7D", "--queue-max-length-bytes", "200MB"])
    try:
        agent.wait_log("streaming from replication slot", timeout=120)
        row = cluster.queue(queue)
        assert row["type"] == "stream", row
        assert sorted(row["members"]) == sorted(cluster.names.values()), row
        assert row["arguments"].get("x-max-age") == "7D", row
        assert row["arguments"].get("x-max-length-bytes") == 200 * 1024 * 1024, row
        insert(dsn, 1, 30, 10)                       # 300 changes
        time.sleep(2)
        between = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) \
            + datetime.timedelta(seconds=1)
        time.sleep(2)
        insert(dsn, 1001, 20, 10)                    # 200 changes
        execute(dsn, "select pg_logical_emit_message(true, '%s', 'end')" % END)
        # Everything is in the stream before any consumer comes.
        first = read_stream(cluster.params(("b", "c", "a")), queue, "first")
        assert agent.stop() == 0, agent.log()[-4000:]
    finally:
        agent.close()
    messages = [(None, pika.BasicProperties(message_id=mid), body) for _, mid, body in first]
    assert_delivered(check_messages(dsn, messages), 500)
    offsets = [o for o, _, _ in first]
    assert offsets == sorted(offsets), "offsets out of order"

    # From a numeric offset: the same messages from there on.
    k = offsets[200]
    second = read_stream(cluster.params(("c", "a", "b")), queue, k)
    assert second == first[200:]

    # From a timestamp between the batches: a tail holding the second batch.
    third = read_stream(cluster.params(NODES), queue, between)
    start = first.index(third[0])
    assert third == first[start:]
    batch2 = [m for m in first if b'"id":1001,' in m[2]]
    assert batch2 and batch2[0] in third
    assert start > 0, "the timestamp offset started at the beginning"
    delete_queue(cluster, exchange, queue)


def delete_queue(cluster, exchange, queue):
    conn = pika.BlockingConnection(cluster.params())
    ch = conn.channel()
    ch.queue_delete(queue)
    ch.exchange_delete(exchange)
    conn.close()
