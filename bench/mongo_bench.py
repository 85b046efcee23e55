#!/usr/bin/python3
"""walcast-agent benchmark: slot -> the MongoDB mirror (docs/mongo.md).

In one run, for each workload (an N-row insert transaction, then U
one-row update transactions):
  (a) the Mongo server's own rate, measured by a small libmongoc program
      (bench/mongo_ceiling) with w=majority,j=true: as many inserts of
      documents of the mirror's shape in ordered bulks of 200 for the
      insert workload, as many plain updates by _id in bulks of the
      agent's size for the update workload;
  (b) walcast-agent, mirror only, from the slot to documents the server
      acknowledged; done = the slot's confirmed_flush_lsn reached the
      workload's end.
Peak RSS of the agent is read from /proc (VmHWM).  A run that stops
advancing for --stall seconds is reported as stalled, with the agent's
last log lines, rather than waited for.  Ratios from one run; nothing here
is a test.

Usage: mongo_bench.py [--rows N] [--updates N] [--stall S] [--bulk-max N]

--bulk-max sets the agent's --mongo-bulk-max for both workloads; by
default 200 (the ceiling's bulk size), but 40 for the updates on FerretDB.
"""
import argparse
import os
import re
import subprocess
import sys
import time
import uuid

import psycopg2
import pymongo

# Shared with the RabbitMQ benchmark (which reads AMQP_URI: run.sh starts
# RabbitMQ for this one too).
from agent_bench import lsn_int, sql, vmhwm_mb

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
AGENT = os.path.join(ROOT, "agent", "walcast-agent")
CEILING = os.path.join(ROOT, "bench", "mongo_ceiling")
MONGO_URI = os.environ["MONGO_URI"]
SLOT = "walcast_mongo_bench"


def ceiling(count, updates=0, bulk=0):
    """The server's own rates: inserts of count documents in bulks of 200
    and, with updates, that many plain updates by _id of them in bulks of
    bulk.  Returns the insert rate, or the update rate when asked for."""
    db = "bench_ceiling_" + uuid.uuid4().hex[:8]
    args = [CEILING, MONGO_URI, db, "c", str(count)] + ([str(updates), str(bulk)] if updates else [])
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    pymongo.MongoClient(MONGO_URI).drop_database(db)
    return float(out.strip().split("\n")[-1].rsplit(":", 1)[1].split()[0])


def mirror(conn, database, stall, bulk_max):
    """Run the agent until the slot confirmed the current end of WAL.
    Returns (seconds, peak RSS MB, None) or (seconds, RSS, log tail)."""
    # The end is a transactional message after the workload: its commit is
    # confirmed as soon as the mirror has written everything before it
    # (the WAL's current end may lie past the last commit, and would only
    # be confirmed at the walsender's next keepalive).
    end = lsn_int(sql(conn, "select pg_logical_emit_message(true, 'walcast-bench', 'end')::text")[0][0])
    log = open(f"/tmp/{SLOT}-{database}.log", "w+")
    # The URI goes through the environment (it may hold a password).
    env = dict(os.environ, WALCAST_MONGO_URI=MONGO_URI)
    env = {k: v for k, v in env.items() if not k.startswith("WALCAST_") or k == "WALCAST_MONGO_URI"}
    proc = subprocess.Popen([AGENT, "-d", "dbname=postgres", "-S", SLOT,
                             "--mongo-database", database, "--mongo-numeric", "string",
                             "--mongo-bulk-max", str(bulk_max),
                             "--stats-interval", "5"] + (["-v"] if os.environ.get("WALCAST_BENCH_VERBOSE") else []),
                            stderr=log, env=env)
    t0 = time.monotonic()
    rss = 0.0
    last, last_change = None, t0
    failure = None
    # Progress is the slot's position or, inside one large transaction
    # (confirmed only at its end), the agent's own count of events handed
    # to the mirror (its stats line): the mirror writes whenever its queue
    # of --mongo-bulk-max operations is full, so that count stops when the
    # server stops answering.  (Counting documents on the server instead
    # takes longer than the stall check on a large FerretDB collection.)
    while True:
        rss = max(rss, vmhwm_mb(proc.pid))
        confirmed = lsn_int(sql(conn, "select confirmed_flush_lsn::text from pg_replication_slots "
                                      "where slot_name = %s", (SLOT,))[0][0])
        now = time.monotonic()
        if confirmed >= end:
            break
        log.seek(0)
        events = re.findall(r"stats: events=(\d+)", log.read())
        progress = (confirmed, events[-1] if events else None)
        if progress != last:
            last, last_change = progress, now
        if proc.poll() is not None or now - last_change > stall:
            log.seek(0)
            failure = "".join(log.readlines()[-3:]).strip()
            break
        time.sleep(0.2)
    elapsed = time.monotonic() - t0
    proc.terminate()
    proc.wait()
    log.close()
    return elapsed, rss, failure


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("--updates", type=int, default=200000)
    ap.add_argument("--stall", type=float, default=120)
    ap.add_argument("--bulk-max", type=int, default=None,
                    help="the agent's --mongo-bulk-max (default 200, as the ceiling's bulks; "
                         "40 for the updates on FerretDB, docs/mongo.md)")
    args = ap.parse_args()

    server = pymongo.MongoClient(MONGO_URI).admin.command("buildInfo")
    ferretdb = "ferretdbVersion" in server
    # FerretDB hangs on bulks of more than about 48 updates of existing
    # documents, not on inserts: the insert workload uses the ceiling's
    # bulk size on every server.
    insert_bulk = args.bulk_max or 200
    update_bulk = args.bulk_max or (40 if ferretdb else 200)
    conn = psycopg2.connect("dbname=postgres")
    conn.autocommit = True
    sql(conn, "select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = %s", (SLOT,))
    sql(conn, "drop table if exists mongo_bench")
    sql(conn, "create table mongo_bench (id int primary key, v int, s text)")
    sql(conn, "select pg_create_logical_replication_slot(%s, 'walcast')", (SLOT,))
    database = "walcast_bench_" + uuid.uuid4().hex[:8]

    rows = []
    sql(conn, "insert into mongo_bench select g, g, 'r' || g from generate_series(1, %s) g", (args.rows,))
    ceil = ceiling(args.rows)
    secs, rss, failure = mirror(conn, database, args.stall, insert_bulk)
    rows.append(("insert, one transaction", args.rows, ceil, secs, rss, failure, insert_bulk))

    cur = conn.cursor()
    for i in range(args.updates):
        cur.execute("update mongo_bench set v = v + 1 where id = %s", (1 + (i * 7919) % args.rows,))
    ceil = ceiling(args.updates, args.updates, update_bulk)
    secs, rss, failure = mirror(conn, database, args.stall, update_bulk)
    rows.append(("one-row updates, one transaction each", args.updates, ceil, secs, rss, failure, update_bulk))
    pymongo.MongoClient(MONGO_URI).drop_database(database)
    sql(conn, "select pg_drop_replication_slot(%s)", (SLOT,))
    sql(conn, "drop table mongo_bench")

    print("# walcast-agent -> Mongo mirror, %s\n" % time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()))
    print("Server: %s %s; write concern w=majority,j=true (the agent's default); "
          "the server's own rate is plain inserts in bulks of 200 for the insert workload, "
          "plain updates by _id in bulks of the agent's size for the update workload; %d CPUs.\n"
          % ("FerretDB" if ferretdb else "MongoDB",
             server.get("ferretdbVersion", server.get("version")), os.cpu_count()))
    print("| workload | changes | server's own rate (docs/s) | agent --mongo-bulk-max | mirror (docs/s) | mirror / server | agent peak RSS (MB) |")
    print("|---|---|---|---|---|---|---|")
    for name, n, ceil, secs, rss, failure, bulk in rows:
        if failure:
            print("| %s | %d | %.0f | %d | stalled after %.0f s | - | %.1f |" % (name, n, ceil, bulk, secs, rss))
        else:
            print("| %s | %d | %.0f | %d | %.0f | %.2f | %.1f |" % (name, n, ceil, bulk, n / secs, n / secs / ceil, rss))
    for name, n, ceil, secs, rss, failure, _ in rows:
        if failure:
            print("\n%s: no progress for %.0f s; the agent's last lines:\n\n```\n%s\n```"
                  % (name, args.stall, failure))
    return 0


if __name__ == "__main__":
    sys.exit(main())
