#!/usr/bin/python3
"""Output-plugin benchmark: walcast beside test_decoding, wal2json and pgoutput.

For each workload, one slot per plugin configuration is created *before* the
workload runs, so every plugin decodes exactly the same WAL.  Each slot is then
drained, one after the other, by pg_recvlogical up to the LSN at which the
workload ended, its output counted by a pipe, while the walsender's peak RSS
(VmHWM) is sampled from /proc.  The figures are ratios from this one run: the
machine is small and noisy, and absolute numbers mean little.

Usage: plugin_bench.py [--rows N] [--updates N] [--deletes N] [--big N] [--only NAME,...]
Needs PGHOST/PGPORT/PGUSER of a cluster with wal_level=logical and the plugin
allow-list (scripts/servers.sh up pg).
"""
import argparse
import os
import subprocess
import sys
import threading
import time

import psycopg2

BINDIR = subprocess.check_output(["pg_config", "--bindir"], text=True).strip()
RECVLOGICAL = os.path.join(BINDIR, "pg_recvlogical")

# name -> (plugin, pg_recvlogical -o options)
CONFIGS = [
    ("walcast", "walcast", []),
    ("walcast-batched", "walcast", ["batch-bytes=65536"]),
    ("walcast-empty", "walcast", ["actions=message", "include-transaction=false"]),
    ("wal2json-v1", "wal2json", ["format-version=1"]),
    ("wal2json-v2", "wal2json", ["format-version=2"]),
    ("test_decoding", "test_decoding", []),
    ("pgoutput", "pgoutput", ["proto_version=1", "publication_names=bench_pub"]),
]
REFERENCE = "wal2json-v2"


def sql(conn, q, args=None):
    with conn.cursor() as cur:
        cur.execute(q, args)
        if cur.description:
            return cur.fetchall()
    return None


def setup(conn):
    sql(conn, """
        drop table if exists bench_mixed;
        create table bench_mixed (
            id      int primary key,
            big     bigint,
            label   text,
            amount  numeric(12,2),
            at      timestamptz,
            doc     jsonb,
            flag    bool);
        drop publication if exists bench_pub;
        create publication bench_pub for table bench_mixed;
        create or replace procedure bench_updates(n int) language plpgsql as $$
        begin
            for i in 1..n loop
                update bench_mixed set big = big + 1 where id = i;
                commit;
            end loop;
        end $$;
    """)


def create_slots(conn, configs):
    for name, plugin, _ in configs:
        slot = slot_name(name)
        sql(conn, "select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = %s", (slot,))
        sql(conn, "select pg_create_logical_replication_slot(%s, %s)", (slot, plugin))


def slot_name(name):
    return "bench_" + name.replace("-", "_")


def vmhwm_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def drain(conn, name, opts, endpos):
    """Stream one slot to endpos; returns (seconds, bytes, peak walsender RSS kB)."""
    slot = slot_name(name)
    cmd = [RECVLOGICAL, "-d", "dbname=postgres", "-S", slot, "--start", "--no-loop",
           "-E", endpos, "-f", "-", "-s", "10"]
    for o in opts:
        cmd += ["-o", o]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    counted = [0]

    def count():
        while True:
            chunk = proc.stdout.read(1 << 20)
            if not chunk:
                break
            counted[0] += len(chunk)
    reader = threading.Thread(target=count)
    reader.start()
    peak, pid = 0, None
    while proc.poll() is None:
        if pid is None:
            rows = sql(conn, "select active_pid from pg_replication_slots where slot_name = %s", (slot,))
            pid = rows[0][0] if rows and rows[0][0] else None
        if pid:
            peak = max(peak, vmhwm_kb(pid))
        time.sleep(0.05)
    reader.join()
    elapsed = time.monotonic() - start
    err = proc.stderr.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"pg_recvlogical failed for {name}: {err.strip()}")
    return elapsed, counted[0], peak


def run_workload(conn, title, events, statement, configs):
    create_slots(conn, configs)
    t0 = time.monotonic()
    sql(conn, statement)
    load = time.monotonic() - t0
    endpos = sql(conn, "select pg_current_wal_insert_lsn()")[0][0]
    print(f"\n### {title}: {events:,} changes (workload ran in {load:.1f} s)\n")
    results = {}
    for name, _, opts in configs:
        secs, nbytes, peak = drain(conn, name, opts, endpos)
        results[name] = (events / secs, nbytes / events, peak / 1024.0)
        sql(conn, "select pg_drop_replication_slot(%s)", (slot_name(name),))
    ref = results.get(REFERENCE)
    print("| plugin | events/s | bytes/event | walsender peak RSS MB | events/s vs wal2json v2 |")
    print("|---|---:|---:|---:|---:|")
    for name, (rate, bpe, rss) in results.items():
        ratio = f"{rate / ref[0]:.2f}x" if ref else "-"
        print(f"| {name} | {rate:,.0f} | {bpe:.0f} | {rss:.0f} | {ratio} |")
    sys.stdout.flush()
    return results


INSERT = """insert into bench_mixed
    select i, i * 1000003::bigint, repeat(md5(i::text), 3), i * 1.25,
           '2026-01-01 00:00:00+00'::timestamptz + i * interval '1 second',
           jsonb_build_object('k', i, 'tag', 'v' || (i % 97)), i % 2 = 0
    from generate_series(1, {rows}) i"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--updates", type=int, default=200_000)
    ap.add_argument("--deletes", type=int, default=500_000)
    ap.add_argument("--big", type=int, default=0, help="also a transaction of N rows (RSS check), e.g. 5000000")
    ap.add_argument("--only", default="", help="comma-separated configuration names")
    args = ap.parse_args()
    configs = [c for c in CONFIGS if not args.only or c[0] in args.only.split(",")]

    conn = psycopg2.connect("dbname=postgres")
    conn.autocommit = True
    setup(conn)
    print(f"PostgreSQL {sql(conn, 'show server_version')[0][0]}, {os.cpu_count()} cores; "
          f"one slot per plugin, drained by pg_recvlogical to a counting pipe")
    run_workload(conn, f"one {args.rows:,}-row insert transaction", args.rows, INSERT.format(rows=args.rows), configs)
    run_workload(conn, f"{args.updates:,} one-row update transactions", args.updates,
                 f"call bench_updates({args.updates})", configs)
    run_workload(conn, f"one {args.deletes:,}-row delete", args.deletes,
                 f"delete from bench_mixed where id <= {args.deletes}", configs)
    if args.big:
        sql(conn, "truncate bench_mixed")
        big = [c for c in configs if c[0] in ("walcast", "walcast-batched", "test_decoding", "wal2json-v2")]
        run_workload(conn, f"one {args.big:,}-row insert transaction (memory)", args.big, INSERT.format(rows=args.big), big)
    sql(conn, "drop table bench_mixed; drop publication bench_pub; drop procedure bench_updates")


if __name__ == "__main__":
    main()
