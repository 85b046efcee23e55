#!/usr/bin/python3
"""walcast-agent initial load (snapshot) benchmark.

In one run, on a table of mixed types (the rows of agent_bench.py's
bench_mixed), rows per second of:
  (a) the read ceiling: `COPY (SELECT * FROM t) TO STDOUT` drained by psql
      to /dev/null;
  (b) the rendering cost: `COPY (SELECT walcast.snapshot_record(...) FROM
      t) TO STDOUT`, with the options the agent passes, to /dev/null;
  (c) walcast-agent --snapshot only --create-slot to RabbitMQ with
      publisher confirms (exit = every row confirmed);
  (d) the same to the MongoDB mirror only.  The mirror is slow on
      FerretDB (one upsert per row, FerretDB translating each to SQL), so
      (d) loads a smaller table of the same rows, with (a) and (b) measured
      on that table too.
Rates are rows / wall-clock seconds of each process, start to exit (for
the agent: connections, slot creation, load, confirms); the agent's own
summary line gives its load-only rate.  Peak RSS from /proc (VmHWM).
Ratios from one run; nothing here is a test.

Usage: snapshot_bench.py [--rows N] [--mongo-rows N] [--chunk-rows N]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import pika
import psycopg2
import pymongo

# The helpers, paths and queue of the agent benchmark (same directory).
from agent_bench import AGENT, AMQP_URI, BINDIR, EXCHANGE, QUEUE, purge, sql, vmhwm_mb

MONGO_URI = os.environ["MONGO_URI"]
DB = "walcast_bench_snapshot"
# FerretDB 1.x has no Decimal128 (docs/mongo.md): numeric as string.
MONGO_TYPE_ARGS = ["--mongo-numeric", "string", "--mongo-nonfinite", "string",
                   "--mongo-nested-arrays", "string", "--mongo-bulk-max", "40"]
# What the agent passes to walcast.snapshot_record() by default
# (agent/decode/decoder_walcast.c, decoder_walcast_defaults; include-types
# with the mirror).
RECORD_OPTIONS = {"rabbitmq": "{include-pk=true,batch-bytes=65536}",
                  "mongo": "{include-pk=true,batch-bytes=65536,include-types=true}"}


def setup(admin, rows, mongo_rows):
    sql(admin, f"drop database if exists {DB} with (force)")
    sql(admin, f"create database {DB}")
    conn = psycopg2.connect(f"dbname={DB}")
    conn.autocommit = True
    sql(conn, "create extension walcast")
    for table, n in (("bench_mixed", rows), ("bench_mixed_small", mongo_rows)):
        sql(conn, f"""
            create table {table} (id int primary key, big bigint, label text, amount numeric(12,2),
                                  at timestamptz, doc jsonb, flag bool);
            insert into {table} select i, i * 1000003::bigint, repeat(md5(i::text), 3), i * 1.25,
                '2026-01-01 00:00:00+00'::timestamptz + i * interval '1 second',
                jsonb_build_object('k', i, 'tag', 'v' || (i % 97)), i % 2 = 0
            from generate_series(1, {n}) i""")
        sql(conn, f"vacuum analyze {table}")
    size = sql(conn, "select pg_size_pretty(pg_table_size('bench_mixed'))")[0][0]
    return conn, size


def copy_out(query, path=os.devnull, options=None, gzip=False):
    """psql COPY (query) TO STDOUT [WITH (options)] into the file path (what
    psql's \\copy does), through `gzip -c` with gzip: seconds."""
    cmd = [os.path.join(BINDIR, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", DB,
           "-c", f"COPY ({query}) TO STDOUT" + (f" WITH ({options})" if options else "")]
    t0 = time.monotonic()
    with open(path, "wb") as out:
        if not gzip:
            subprocess.run(cmd, stdout=out, check=True)
        else:
            psql = subprocess.Popen(cmd, stdout=subprocess.PIPE)
            gz = subprocess.Popen(["gzip", "-c"], stdin=psql.stdout, stdout=out)
            psql.stdout.close()
            if gz.wait() != 0 or psql.wait() != 0:
                raise SystemExit(f"COPY ... | gzip failed (psql {psql.returncode}, gzip {gz.returncode})")
    return time.monotonic() - t0


def record_query(table, options):
    return (f"SELECT walcast.snapshot_record('{table}'::regclass, t.*, '{options}'::text[], "
            f"pg_current_wal_lsn()) FROM ONLY {table} AS t ORDER BY id")


def queue_depth():
    conn = pika.BlockingConnection(pika.URLParameters(AMQP_URI))
    n = conn.channel().queue_declare(QUEUE, durable=True, passive=True).method.message_count
    conn.close()
    return n


def run_load(conn, table, sink_args, env, chunk_rows):
    """walcast-agent --snapshot only on a new slot, loading one table:
    (wall seconds, the agent's load-only rows/s, rows, peak RSS MB)."""
    slot = "bench_snap_" + table
    state_dir = tempfile.mkdtemp(prefix="walcast-bench-snap-")
    cmd = [AGENT, "-d", f"dbname={DB}", "-S", slot, "--create-slot", "--snapshot", "only",
           "--state-dir", state_dir, "--snapshot-chunk-rows", str(chunk_rows),
           "--stats-interval", "0", "-o", f"add-tables=public.{table}"] + sink_args
    err = tempfile.TemporaryFile()
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, vmhwm_mb(proc.pid))
        time.sleep(0.05)
    secs = time.monotonic() - t0
    err.seek(0)
    log = err.read().decode(errors="replace")
    sql(conn, "select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = %s",
        (slot,))
    shutil.rmtree(state_dir, ignore_errors=True)
    m = re.search(r"initial load complete: \d+ table\(s\), (\d+) rows in [\d.]+ s \((\d+) rows/s\)", log)
    if proc.returncode != 0 or m is None:
        raise SystemExit(f"walcast-agent failed (exit {proc.returncode}):\n{log}")
    return secs, float(m.group(2)), int(m.group(1)), peak


def rabbitmq_load(conn, table, n, chunk_rows):
    """run_load of table's n rows to RabbitMQ (per change, confirms), each
    row checked to be queued: (wall seconds, the agent's own rows/s, peak
    RSS MB)."""
    purge()
    secs, own, rows, peak = run_load(conn, table, ["--exchange", EXCHANGE],
                                     agent_env(WALCAST_AMQP_URI=AMQP_URI), chunk_rows)
    depth = queue_depth()
    purge()
    if rows != n or depth != n:
        raise SystemExit(f"RabbitMQ load: {rows} rows loaded, {depth} messages queued, {n} expected")
    return secs, own, peak


def agent_env(**extra):
    # Every setting on the command line but the URIs, which go through the
    # environment, never argv (where any local user could read them).
    env = {k: v for k, v in os.environ.items() if not k.startswith("WALCAST_")}
    env.update(extra)
    return env


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--mongo-rows", type=int, default=10_000)
    ap.add_argument("--chunk-rows", type=int, default=10_000)
    args = ap.parse_args()
    admin = psycopg2.connect("dbname=postgres")
    admin.autocommit = True
    conn, size = setup(admin, args.rows, args.mongo_rows)
    print(f"PostgreSQL {sql(conn, 'show server_version')[0][0]}, {os.cpu_count()} cores; "
          f"--snapshot-chunk-rows {args.chunk_rows}")
    sys.stdout.flush()

    results = []
    # (a), (b), (c): the big table to RabbitMQ
    n = args.rows
    read_s = copy_out("SELECT * FROM bench_mixed")
    render_s = copy_out(record_query("bench_mixed", RECORD_OPTIONS["rabbitmq"]))
    secs, own, peak = rabbitmq_load(conn, "bench_mixed", n, args.chunk_rows)
    results.append((f"bench_mixed, {n:,} rows ({size})", read_s, render_s, n,
                    [("(c) walcast-agent -> RabbitMQ, confirms", secs, own, peak)]))

    # (a), (b), (d): the small table to the mirror
    m = args.mongo_rows
    read_s = copy_out("SELECT * FROM bench_mixed_small")
    render_s = copy_out(record_query("bench_mixed_small", RECORD_OPTIONS["mongo"]))
    client = pymongo.MongoClient(MONGO_URI, serverSelectionTimeoutMS=20000)
    client.drop_database(DB)
    secs, own, rows, peak = run_load(conn, "bench_mixed_small",
                                     ["--mongo-database", DB] + MONGO_TYPE_ARGS,
                                     agent_env(WALCAST_MONGO_URI=MONGO_URI), args.chunk_rows)
    docs = client[DB]["bench_mixed_small"].count_documents({})
    client.drop_database(DB)
    client.close()
    if rows != m or docs != m:
        raise SystemExit(f"Mongo load: {rows} rows loaded, {docs} documents, {m} expected")
    results.append((f"bench_mixed_small, {m:,} rows", read_s, render_s, m,
                    [("(d) walcast-agent -> MongoDB mirror (FerretDB)", secs, own, peak)]))

    for title, read_s, render_s, count, loads in results:
        ceil = count / read_s
        print(f"\n### {title}\n")
        print("| path | rows/s (wall) | vs (a) | agent's own load rate | peak RSS MB |")
        print("|---|---:|---:|---:|---:|")
        print(f"| (a) COPY (SELECT * FROM t) TO STDOUT, psql > /dev/null | {ceil:,.0f} | 1.00x | - | - |")
        print(f"| (b) COPY (SELECT walcast.snapshot_record(...) FROM t) TO STDOUT | {count / render_s:,.0f} "
              f"| {count / render_s / ceil:.2f}x | - | - |")
        for name, secs, own, peak in loads:
            print(f"| {name} | {count / secs:,.0f} | {count / secs / ceil:.2f}x | {own:,.0f} | {peak:.1f} |")
    conn.close()
    sql(admin, f"drop database {DB} with (force)")
    admin.close()


if __name__ == "__main__":
    main()
