#!/usr/bin/python3
"""Queue types, batching and partitions (issue 16): walcast-agent into a
classic queue, a quorum queue on one node and on three, and a stream on
three, in one run, on one workload (TXNS transactions of ROWS one-row
inserts each):

  (a) the broker alone, with bench/amqp_ceiling (rabbitmq-c, confirms, the
      agent's message properties) into each queue type, at the size of a
      per-change message and of a per-transaction one: messages/s with a
      window of 1,000 unconfirmed, the confirm latency (publish to the ack
      that covers it) under that window, and that of a lone message
      (window 1);
  (b) walcast-agent from its slot to confirmed messages, --batch change
      and --batch transaction, into each queue type: events/s and
      messages/s.  One slot per run, all created before the workload, so
      that every run reads the same WAL; done = the slot's
      confirmed_flush_lsn reached the workload's end.  The bench declares
      each queue (with its x-queue-type) and binds it to the agent's
      exchange, as a user with a topology of their own would;
  (c) consumer throughput with 1, 2 and 4 partitions: the agent with
      --partitions N --queue-type quorum on the three nodes, then N
      consumers (bench/amqp_drain, rabbitmq-c, manual acks), one per
      partition queue, each on its own node where it can, in parallel:
      with no work per message, and with --work-us of sleep per message (a
      consumer that writes each change somewhere).  Needs an agent with
      --partitions; skipped with a note otherwise.

The single broker is scripts/rabbitmq.sh's (AMQP_URI), the cluster
scripts/rabbitmq-cluster.sh's (AMQP_CLUSTER_URIS); bench/run.sh queues
starts both.  Ratios from one run; nothing here is a test.

Usage: queue_bench.py [--txns N (5000)] [--rows N (10)] [--work-us US (1000)]
                      [--ceiling-count N (20000)]
                      [--skip-partitions]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
from urllib.parse import urlparse

import pika
import psycopg2

from agent_bench import AGENT, ROOT, STATE_DIR, drive, new_slot, sql

CEILING = os.path.join(ROOT, "bench", "amqp_ceiling")
DRAIN = os.path.join(ROOT, "bench", "amqp_drain")
SINGLE = os.environ["AMQP_URI"]
CLUSTER = os.environ["AMQP_CLUSTER_URIS"].split(",")
TARGETS = [("classic, 1 node", SINGLE, "classic"), ("quorum, 1 node", SINGLE, "quorum"),
           ("quorum, 3 nodes", CLUSTER[0], "quorum"), ("stream, 3 nodes", CLUSTER[0], "stream")]
BATCHES = ("change", "transaction")
PARTITIONS = (1, 2, 4)


def host_port(uri):
    u = urlparse(uri)
    return u.hostname, str(u.port)


def fresh_queue(uri, exchange, queue, queue_type):
    """The agent's exchange and a queue of the type bound to it, empty."""
    conn = pika.BlockingConnection(pika.URLParameters(uri))
    ch = conn.channel()
    ch.exchange_declare(exchange, "topic", durable=True)
    ch.queue_delete(queue)
    ch.queue_declare(queue, durable=True, arguments={"x-queue-type": queue_type})
    ch.queue_bind(queue, exchange, "#")
    conn.close()


def drop_partitions(uri, exchange, queue, n):
    conn = pika.BlockingConnection(pika.URLParameters(uri))
    ch = conn.channel()
    for i in range(n):
        ch.queue_delete("%s-%d" % (queue, i))
    ch.exchange_delete(exchange)
    conn.close()


def ceiling(uri, queue_type, count, size, window):
    """(msg/s, latency text) of amqp_ceiling."""
    host, port = host_port(uri)
    out = subprocess.run([CEILING, host, port, str(count), str(size), str(window), queue_type],
                         stdout=subprocess.PIPE, text=True, check=True).stdout.splitlines()
    rate = float(out[0].split(":")[-1].split()[0])
    lat = out[1].split()
    return rate, {lat[i]: float(lat[i + 1]) for i in range(3, len(lat), 2)}


def run_agent(conn, slot, endpos, uri, args):
    """The agent from slot to confirmed endpos (agent_bench.drive); args:
    the sink's.  The URI (with its password) through the environment,
    never argv."""
    cmd = [AGENT, "-d", "dbname=postgres", "-S", slot, "--stats-interval", "0",
           "--state-dir", STATE_DIR] + list(args)
    return drive(conn, slot, cmd, dict(os.environ, WALCAST_AMQP_URI=uri), endpos)


def agent_has_partitions():
    out = subprocess.run([AGENT, "--help"], stdout=subprocess.PIPE, text=True).stdout
    return "--partitions" in out and "--queue-type" in out


def drain(queue, n, work_us):
    """n consumers in parallel, partition i's on node i mod 3: (messages,
    seconds from the first message any of them got to the last)."""
    procs = []
    for i in range(n):
        host, port = host_port(CLUSTER[i % len(CLUSTER)])
        procs.append(subprocess.Popen([DRAIN, host, port, "%s-%d" % (queue, i), str(work_us), "2"],
                                      stdout=subprocess.PIPE, text=True))
    total, first, last = 0, [], []
    for p in procs:
        out, _ = p.communicate(timeout=3600)
        f = out.split()
        total += int(f[1])
        if int(f[1]):
            first.append(float(f[4]))
            last.append(float(f[6]))
    return total, (max(last) - min(first)) if first else 0.0


def record_size(conn, slot):
    """The median size of the workload's insert records (a slot peeked
    before the others read it)."""
    rows = sql(conn, "select data from pg_logical_slot_peek_changes(%s, null, 2000)", (slot,))
    sizes = [len(r[0]) for r in rows if '"action":"I"' in r[0]]
    sql(conn, "select pg_drop_replication_slot(%s)", (slot,))
    return int(statistics.median(sizes)) if sizes else 400


def main():
    try:
        bench()
    finally:
        shutil.rmtree(STATE_DIR, ignore_errors=True)


def bench():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--txns", type=int, default=5000)
    ap.add_argument("--rows", type=int, default=10)
    ap.add_argument("--work-us", type=int, default=1000, help="sleep per message of the working consumers")
    ap.add_argument("--ceiling-count", type=int, default=20000)
    ap.add_argument("--skip-partitions", action="store_true")
    args = ap.parse_args()
    events = args.txns * args.rows
    conn = psycopg2.connect("dbname=postgres")
    conn.autocommit = True
    sql(conn, """
        drop table if exists bench_q;
        create table bench_q (id int primary key, k int, label text, amount numeric(12,2), at timestamptz);
        create or replace procedure bench_q_load(txns int, rows int) language plpgsql as $$
        begin
            for t in 0..txns - 1 loop
                insert into bench_q select t * rows + g, g, repeat(md5((t * rows + g)::text), 4),
                    g * 1.25, '2026-01-01 00:00:00+00'::timestamptz + g * interval '1 second'
                from generate_series(1, rows) g;
                commit;
            end loop;
        end $$;
    """)
    partitions = not args.skip_partitions and agent_has_partitions()
    slots = ["bench_q_size"] + ["bench_q_%d_%s" % (t, b[0]) for t in range(len(TARGETS)) for b in BATCHES]
    if partitions:
        slots += ["bench_q_p%d_w%d" % (n, w) for n in PARTITIONS for w in (0, 1)]
    for s in slots:
        new_slot(conn, s)
    sql(conn, "call bench_q_load(%s, %s)", (args.txns, args.rows))
    endpos = sql(conn, "select pg_current_wal_insert_lsn()")[0][0]
    size = record_size(conn, "bench_q_size")
    txn_size = size * args.rows + args.rows + 1
    print(f"PostgreSQL {sql(conn, 'show server_version')[0][0]}, {os.cpu_count()} cores; "
          f"{events:,} changes in {args.txns:,} transactions of {args.rows} rows, ~{size} bytes/record")

    print("\n### (a) the broker alone: amqp_ceiling, persistent messages with confirms\n")
    print("| queue | message bytes | msg/s, window 1000 | confirm ms p50 / p99, window 1000 "
          "| confirm ms p50 / p99, one at a time |")
    print("|---|---:|---:|---:|---:|")
    for name, uri, qtype in TARGETS:
        for nbytes, count in ((size, args.ceiling_count), (txn_size, max(1000, args.ceiling_count // args.rows))):
            rate, busy = ceiling(uri, qtype, count, nbytes, 1000)
            _, lone = ceiling(uri, qtype, 500, nbytes, 1)
            print(f"| {name} | {nbytes:,} | {rate:,.0f} | {busy['p50']:.1f} / {busy['p99']:.1f} "
                  f"| {lone['p50']:.2f} / {lone['p99']:.2f} |")
            sys.stdout.flush()

    print(f"\n### (b) walcast-agent, slot to confirmed messages ({events:,} changes)\n")
    print("| queue | --batch | events/s | messages/s | vs classic, 1 node | agent CPU s | agent peak RSS MB |")
    print("|---|---|---:|---:|---:|---:|---:|")
    base = {}
    for t, (name, uri, qtype) in enumerate(TARGETS):
        for batch in BATCHES:
            exchange = queue = "walcast_bench_q"
            fresh_queue(uri, exchange, queue, qtype)
            r = run_agent(conn, "bench_q_%d_%s" % (t, batch[0]), endpos, uri,
                          ["--exchange", exchange, "--batch", batch])
            rate = events / r.secs
            msgs = (events if batch == "change" else args.txns) / r.secs
            base.setdefault(batch, rate)
            print(f"| {name} | {batch} | {rate:,.0f} | {msgs:,.0f} | {rate / base[batch]:.2f}x "
                  f"| {r.cpu:.2f} | {r.rss:.1f} |")
            sys.stdout.flush()
        conn_q = pika.BlockingConnection(pika.URLParameters(uri))
        conn_q.channel().queue_delete("walcast_bench_q")
        conn_q.close()

    if partitions:
        consumers(conn, endpos, events, args.work_us)
    else:
        print("\n### (c) consumers with partitions: skipped (%s)"
              % ("--skip-partitions" if args.skip_partitions else "this walcast-agent has no --partitions"))
    sql(conn, "drop table bench_q; drop procedure bench_q_load")


def consumers(conn, endpos, events, work_us):
    print(f"\n### (c) consumers with partitions: quorum queues on 3 nodes, one consumer per partition "
          f"({events:,} messages, --batch change)\n")
    print("| partitions | sleep per message | consumed msg/s | vs 1 partition | agent events/s |")
    print("|---:|---:|---:|---:|---:|")
    one = {}
    for n in PARTITIONS:
        for w, work in enumerate((0, work_us)):
            exchange = queue = "walcast_bench_p%d" % n
            r = run_agent(conn, "bench_q_p%d_w%d" % (n, w), endpos, ",".join(CLUSTER),
                          ["--exchange", exchange, "--queue", queue, "--queue-type", "quorum",
                           "--partitions", str(n), "--batch", "change"])
            got, secs = drain(queue, n, work)
            drop_partitions(CLUSTER[0], exchange, queue, n)
            rate = got / secs if secs else 0.0
            one.setdefault(work, rate)
            note = "" if got == events else f" (drained {got:,} of {events:,})"
            print(f"| {n} | {work} µs | {rate:,.0f}{note} | {rate / one[work]:.2f}x | {events / r.secs:,.0f} |")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
