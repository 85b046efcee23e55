#!/usr/bin/python3
"""walcast-agent object-storage sink benchmark (--s3-uri, issue 18).

In one run, against the S3-compatible store scripts/s3.sh starts
(SeaweedFS on loopback):
  1. the full load of a table of mixed types (snapshot_bench.py's
     bench_mixed, 1M rows) in rows/s: walcast-agent --snapshot only to
     the store as CSV and as CSV+gzip, beside psql's
     `COPY (SELECT * FROM t) TO STDOUT (FORMAT csv, HEADER)` into a local
     file (what psql's \\copy does; and the same through `gzip -c`), and
     beside the same load to RabbitMQ (per change, confirms);
  2. changes/s on 200k one-row update transactions (agent_bench.py's
     update workload), pre-generated, then each agent catches up from its
     own slot (done = the slot's confirmed_flush_lsn reached the
     workload's end): to the store, beside RabbitMQ per change (the
     agent's default) and --batch window (linger 20 ms), and beside
     pg_recvlogical draining the same WAL (the agent's input);
  3. the agent's peak RSS against --s3-max-object-bytes (1MB, 16MB, 64MB),
     on the load, with the in-flight window raised so that the size limit,
     not the window, closes the objects: the objects written, and how many
     of them reached the limit (closed by size; the last closes at the
     load's end).
Peak RSS is the agent's VmHWM from /proc, as the other benchmarks read
it.  Object counts and sizes come from listing the bucket (boto3).
Ratios from one run; nothing here is a test.

Usage: lake_bench.py [--rows N] [--updates N] [--chunk-rows N] [--sizes 1MB,16MB,64MB]
"""
import argparse
import os
import shutil
import sys
import tempfile

import boto3
import psycopg2
from botocore.config import Config

# The agent benchmark's change workload, agent command and catch-up timing,
# and the snapshot benchmark's table, COPY and load runs (same directory).
from agent_bench import (BENCH_TABLE, DROP_BENCH_TABLE, STATE_DIR, agent_cmd, drain_recvlogical, drive, new_slot,
                         queue_depth, run_agent, sql)
from snapshot_bench import DB, agent_env, copy_out, rabbitmq_load, run_load, setup

BUCKET = "walcast-bench-lake"
# Every object of the change runs closes by the window (10,000 events by
# default) or at this age: a tail shorter than a window must not wait for
# the default 60 s before the slot can reach the workload's end.
CHANGE_AGE = "2"
MB = 1024 * 1024


class Store:
    """The store of servers.sh's env: the agent's arguments and
    environment for a prefix of one bucket, and what a run left there."""

    def __init__(self):
        self.endpoint = os.environ["WALCAST_S3_ENDPOINT"]
        with open(os.environ["WALCAST_S3_SECRET_FILE"], encoding="ascii") as f:
            secret = f.read().strip()
        # The credentials go to the agent as every AWS tool reads them:
        # the environment, never argv.
        self.env = agent_env(AWS_SECRET_ACCESS_KEY=secret)
        self.s3 = boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                               aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                               aws_secret_access_key=secret,
                               config=Config(s3={"addressing_style": "path"}))
        if BUCKET not in [b["Name"] for b in self.s3.list_buckets().get("Buckets", [])]:
            self.s3.create_bucket(Bucket=BUCKET)

    def args(self, prefix, *extra):
        return ["--s3-uri", f"s3://{BUCKET}/{prefix}", "--s3-endpoint", self.endpoint,
                "--s3-path-style=true"] + list(extra)

    def take(self, prefix):
        """The sizes of the data objects under prefix (not the round
        marker), which are then deleted: the store keeps one run at a time."""
        sizes, keys = [], []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix + "/"):
            for o in page.get("Contents", []):
                keys.append(o["Key"])
                if "/_walcast/" not in o["Key"]:
                    sizes.append(o["Size"])
        for i in range(0, len(keys), 1000):
            self.s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": k} for k in keys[i:i + 1000]]})
        return sizes


def load_to_store(conn, store, prefix, n, chunk_rows, *extra):
    """run_load of bench_mixed to the store: (wall s, own rows/s, peak RSS
    MB, object sizes)."""
    secs, own, rows, peak = run_load(conn, "bench_mixed", store.args(prefix, *extra), store.env, chunk_rows)
    if rows != n:
        raise SystemExit(f"load to the store: {rows} rows loaded, {n} expected")
    return secs, own, peak, store.take(prefix)


def full_load(conn, store, n, chunk_rows, size):
    """Table 1."""
    out = tempfile.mkdtemp(prefix="walcast-bench-lake-")
    csv_path, gz_path = os.path.join(out, "t.csv"), os.path.join(out, "t.csv.gz")
    query = "SELECT * FROM bench_mixed"
    copy_s = copy_out(query, csv_path, "FORMAT csv, HEADER")
    copy_gz_s = copy_out(query, gz_path, "FORMAT csv, HEADER", gzip=True)
    csv_mb, gz_mb = os.path.getsize(csv_path) / MB, os.path.getsize(gz_path) / MB
    os.remove(csv_path)
    os.remove(gz_path)
    os.rmdir(out)
    plain = load_to_store(conn, store, "load-csv", n, chunk_rows)
    gz = load_to_store(conn, store, "load-gzip", n, chunk_rows, "--s3-compression", "gzip")
    mq_secs, mq_own, mq_peak = rabbitmq_load(conn, "bench_mixed", n, chunk_rows)
    ceil = n / copy_s
    print(f"\n### 1. Full load: bench_mixed, {n:,} rows ({size}), --snapshot only, "
          f"--snapshot-chunk-rows {chunk_rows}\n")
    print("Rates are rows / wall seconds of each process, start to exit; the agent's own "
          "rate is its load-only figure (its last log line).\n")
    print("| path | rows/s (wall) | vs COPY to file | agent's own rate | peak RSS MB | objects | MB written |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(f"| psql COPY (SELECT * FROM t) TO STDOUT (FORMAT csv, HEADER) > local file | {ceil:,.0f} | 1.00x "
          f"| - | - | 1 file | {csv_mb:,.1f} |")
    print(f"| the same, through gzip -c (level 6) | {n / copy_gz_s:,.0f} | {n / copy_gz_s / ceil:.2f}x "
          f"| - | - | 1 file | {gz_mb:,.1f} |")
    for label, (secs, own, peak, sizes) in (("walcast-agent -> store, csv", plain),
                                            ("walcast-agent -> store, csv + gzip", gz)):
        print(f"| {label} | {n / secs:,.0f} | {n / secs / ceil:.2f}x | {own:,.0f} | {peak:.1f} "
              f"| {len(sizes)} | {sum(sizes) / MB:,.1f} |")
    print(f"| walcast-agent -> RabbitMQ, per change, confirms | {n / mq_secs:,.0f} | {n / mq_secs / ceil:.2f}x "
          f"| {mq_own:,.0f} | {mq_peak:.1f} | {n:,} messages | - |")
    print(f"\nstore csv / RabbitMQ: {mq_secs / plain[0]:.2f}x; store csv+gzip / csv: {plain[0] / gz[0]:.2f}x")
    secs, sizes = plain[0], plain[3]
    # With the defaults, what closed the objects: neither limit (64MB, 60 s)
    # when every object is smaller and the load shorter, so the window.
    if max(sizes) < 64 * MB and secs < 60:
        print(f"\nWith the defaults the window closed the objects (mean {sum(sizes) / len(sizes) / MB:.1f} MB): "
              "no object reached --s3-max-object-bytes (64MB) and the load took less than "
              f"--s3-max-object-age (60 s); each chunk of {chunk_rows:,} rows fills --max-inflight-events "
              "(10000). Table 3 raises the window.")
    sys.stdout.flush()


def object_limit(conn, store, n, chunk_rows, sizes):
    """Table 3: peak RSS and objects against --s3-max-object-bytes."""
    print(f"\n### 3. Peak RSS against --s3-max-object-bytes: the load of {n:,} rows, csv\n")
    print("--max-inflight-events 10000000 --max-inflight-bytes 2GB (the window never fills, so "
          "a round closes when its object reaches the limit, at the end of a chunk of "
          f"{chunk_rows:,} rows); an object over 8 MiB goes as a multipart upload while it fills.\n")
    print("| --s3-max-object-bytes | rows/s (wall) | peak RSS MB | objects | at or over the limit "
          "(closed by size) | mean object MB |")
    print("|---|---:|---:|---:|---:|---:|")
    for limit in sizes:
        limit_bytes = int(limit.upper().rstrip("B").rstrip("M")) * MB
        secs, _, peak, objs = load_to_store(conn, store, "rss-" + limit, n, chunk_rows,
                                            "--s3-max-object-bytes", limit, "--max-inflight-events",
                                            "10000000", "--max-inflight-bytes", "2GB")
        by_size = sum(1 for s in objs if s >= limit_bytes)
        print(f"| {limit} | {n / secs:,.0f} | {peak:.1f} | {len(objs)} | {by_size} "
              f"| {sum(objs) / max(1, len(objs)) / MB:.1f} |")
        sys.stdout.flush()


def changes(store, updates):
    """Table 2: the one-row transactions, each path from its own slot."""
    conn = psycopg2.connect("dbname=postgres")
    conn.autocommit = True
    sql(conn, BENCH_TABLE)
    sql(conn, f"insert into bench_mixed (id, big) select i, i from generate_series(1, {updates}) i")
    s3_runs = [("csv", []), ("csv + gzip", ["--s3-compression", "gzip"])]
    amqp_runs = [("per change (the default)", "change"), ("--batch window, linger 20 ms", "window:20")]
    slots = ["bench_lake_recv"] + [f"bench_lake_s3_{i}" for i in range(len(s3_runs))] + \
        [f"bench_lake_mq_{i}" for i in range(len(amqp_runs))]
    for s in slots:
        new_slot(conn, s)
    sql(conn, f"call bench_updates({updates})")
    endpos = sql(conn, "select pg_current_wal_insert_lsn()")[0][0]
    recv_secs = drain_recvlogical(conn, "bench_lake_recv", endpos, ["batch-bytes=65536"])[0]
    rows = []
    for i, (label, extra) in enumerate(s3_runs):
        slot = f"bench_lake_s3_{i}"
        cmd = agent_cmd(slot, "change", sink="s3") + store.args(slot, "--s3-max-object-age", CHANGE_AGE, *extra)
        run = drive(conn, slot, cmd, store.env, endpos)
        objs = store.take(slot)
        rows.append((f"walcast-agent -> store, {label}", run, f"{len(objs)} objects, {sum(objs) / MB:.1f} MB"))
    for i, (label, batch) in enumerate(amqp_runs):
        run = run_agent(conn, f"bench_lake_mq_{i}", batch, endpos)
        rows.append((f"walcast-agent -> RabbitMQ, {label}", run, f"{queue_depth():,} messages"))
    store_rate = updates / rows[0][1].secs
    print(f"\n### 2. {updates:,} one-row update transactions, caught up from the slot\n")
    print(f"To the store: --s3-max-object-age {CHANGE_AGE}, the default window (10,000 events) "
          "closes the objects.\n")
    print("| path | changes/s | store csv / this | agent CPU s per 100k | agent peak RSS MB | written |")
    print("|---|---:|---:|---:|---:|---|")
    print(f"| pg_recvlogical drain, walcast plugin, batch-bytes=65536 (the agent's input) "
          f"| {updates / recv_secs:,.0f} | {store_rate / (updates / recv_secs):.2f}x | - | - | - |")
    for label, run, written in rows:
        rate = updates / run.secs
        print(f"| {label} | {rate:,.0f} | {store_rate / rate:.2f}x | {run.cpu * 100000 / updates:.2f} "
              f"| {run.rss:.1f} | {written} |")
    sys.stdout.flush()
    sql(conn, DROP_BENCH_TABLE)
    conn.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows of the load")
    ap.add_argument("--updates", type=int, default=200_000, help="one-row update transactions")
    ap.add_argument("--chunk-rows", type=int, default=10_000)
    ap.add_argument("--sizes", default="1MB,16MB,64MB", help="--s3-max-object-bytes values of table 3")
    args = ap.parse_args()
    store = Store()
    admin = psycopg2.connect("dbname=postgres")
    admin.autocommit = True
    conn, size = setup(admin, args.rows, 0)
    print(f"PostgreSQL {sql(conn, 'show server_version')[0][0]}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f} at the start; store: SeaweedFS at {store.endpoint}")
    sys.stdout.flush()
    full_load(conn, store, args.rows, args.chunk_rows, size)
    changes(store, args.updates)
    object_limit(conn, store, args.rows, args.chunk_rows, args.sizes.split(","))
    conn.close()
    sql(admin, f"drop database {DB} with (force)")
    admin.close()
    shutil.rmtree(STATE_DIR, ignore_errors=True)
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
