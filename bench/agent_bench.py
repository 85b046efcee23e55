#!/usr/bin/python3
"""walcast-agent benchmark: slot -> RabbitMQ with publisher confirms.

In one run, for each workload (a 1M-row insert transaction, 200k one-row
update transactions):
  (a) the broker's publish ceiling with confirms, measured by a small
      rabbitmq-c program (bench/amqp_ceiling) with the same message size;
  (b) pg_recvlogical draining the same WAL with the walcast plugin;
  (c) walcast-agent from the slot to confirmed broker messages, with
      per-change and per-transaction batching; done = the slot's
      confirmed_flush_lsn reached the workload's end;
  (d) the same WAL read through pgoutput (--plugin pgoutput), beside
      --plugin walcast: to RabbitMQ with confirms (end to end), and to
      the stdout sink at /dev/null (decoding alone), each with the agent's
      CPU seconds per 100k events (utime + stime from /proc) and the
      walsender's.
  (e) the agent with its HTTP endpoint on (--http-listen) and /metrics
      scraped every second, beside the agent without it, on the same WAL
      (--batch change, --endpoint-repeat runs of each, alternating): the
      ratio of events/s, on / off.
  (f) on the one-row transactions, --batch window (consecutive
      transactions per message, linger 5 ms and 20 ms) beside change and
      transaction, with events per message (the queue's depth after the
      run), against issue 17's targets: at least 5x the ceiling, agent
      peak RSS under 64 MB; and a workload whose consecutive transactions
      alternate between two tables (two routing keys: a window message
      holds one key, so each holds one transaction there).
Then the latency from commit to a consumer (bench/amqp_latency, which
reads each event of a batched message) at a steady rate of single-row
transactions driven by pgbench: --batch change, and window with linger
5 and 20 ms against the targets p50 <= linger + 5 ms, p99 <= linger +
20 ms.  Peak RSS of the agent is read from /proc (VmHWM).  Ratios from
one run; nothing here is a test.

With --compare BIN (another build of walcast-agent, e.g. the previous main
built in a worktree), each (c) row is run --repeat times by both binaries,
alternating, on the same WAL, and a table gives this agent's rate over
BIN's (best of the runs of each, to see past a noisy machine); the
throughput workloads only.

--envelope picks the agent's envelope (native by default) for every agent run.

--window-only runs (f) and the latency runs alone: the ceiling, the four
batch modes and the alternating workload on the one-row transactions.

A --batch value may carry its linger: "window:20" is --batch window
--batch-linger-ms 20.

Usage: agent_bench.py [--rows N] [--updates N] [--rate TPS] [--seconds S]
                      [--latency-only] [--skip-latency] [--workloads insert,update]
                      [--window-only] [--lingers 5,20]
                      [--envelope KIND] [--compare BIN [--repeat N] [--modes change,transaction]]
                      [--endpoint-repeat N] [--endpoint-only]
"""
import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import pika
import psycopg2

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
AGENT = os.path.join(ROOT, "agent", "walcast-agent")
CEILING = os.path.join(ROOT, "bench", "amqp_ceiling")
CONSUMER = os.path.join(ROOT, "bench", "amqp_latency")
BINDIR = subprocess.check_output(["pg_config", "--bindir"], text=True).strip()
AMQP_URI = os.environ["AMQP_URI"]
EXCHANGE = "walcast_bench"
QUEUE = "walcast_bench"
PUBLICATION = "walcast_bench"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def sql(conn, q, args=None):
    with conn.cursor() as cur:
        cur.execute(q, args)
        return cur.fetchall() if cur.description else None


def lsn_int(text):
    hi, lo = text.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)


def purge():
    conn = pika.BlockingConnection(pika.URLParameters(AMQP_URI))
    ch = conn.channel()
    ch.exchange_declare(EXCHANGE, "topic", durable=True)
    ch.queue_declare(QUEUE, durable=True)
    ch.queue_bind(QUEUE, EXCHANGE, "#")
    ch.queue_purge(QUEUE)
    conn.close()


def new_slot(conn, name, plugin="walcast"):
    sql(conn, "select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = %s", (name,))
    sql(conn, "select pg_create_logical_replication_slot(%s, %s)", (name, plugin))
    # A new slot is a new stream: the position an earlier agent kept for a
    # slot of this name (the previous workload's) would make the agent see
    # a recreated slot and stop with exit 4 (--accept-slot-gap).
    position = os.path.join(STATE_DIR, name + ".position")
    if os.path.exists(position):
        os.remove(position)


def vmhwm_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def cpu_secs(pid):
    """utime + stime of a process so far, from /proc (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


ENVELOPE = "native"


# The agents' state files (<slot>.position) go here, not into the
# working directory (the tree).
STATE_DIR = tempfile.mkdtemp(prefix="walcast-bench-state-")


def batch_args(batch):
    """--batch MODE, and with "window:MS" its linger."""
    mode, _, linger = batch.partition(":")
    return ["--batch", mode] + (["--batch-linger-ms", linger] if linger else [])


def batch_label(batch):
    mode, _, linger = batch.partition(":")
    return f"--batch {mode}" + (f", linger {linger} ms" if linger else "")


def agent_cmd(slot, batch, plugin="walcast", sink="amqp", agent=AGENT):
    # The URI (with its password) goes through the environment, never the
    # command line, where any local user could read it.
    cmd = [agent, "-d", "dbname=postgres", "-S", slot, "--stats-interval", "0", "--envelope", ENVELOPE,
           "--state-dir", STATE_DIR]
    if plugin == "pgoutput":
        cmd += ["--plugin", "pgoutput", "--publication", PUBLICATION]
    if sink == "amqp":
        cmd += ["--exchange", EXCHANGE] + batch_args(batch)
    return cmd


AGENT_ENV = dict(os.environ, WALCAST_AMQP_URI=AMQP_URI)
STDOUT_ENV = {k: v for k, v in os.environ.items() if not k.startswith("WALCAST_")}


class Run:
    """One agent run: seconds, peak RSS (MB), agent and walsender CPU (s),
    and how many times its endpoint was scraped."""

    def __init__(self, secs, rss, cpu, walsender_cpu, scrapes=0):
        self.secs, self.rss, self.cpu, self.walsender_cpu = secs, rss, cpu, walsender_cpu
        self.scrapes = scrapes


class Scraper:
    """GET /metrics from an agent started with --http-listen 127.0.0.1:0
    every second, as Prometheus would (the port from its log file)."""

    def __init__(self, log_path):
        self.log_path = log_path
        self.stopped = threading.Event()
        self.scrapes = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _port(self):
        while not self.stopped.is_set():
            try:
                with open(self.log_path) as f:
                    m = re.search(r"serving /metrics.* on http://\S+:(\d+)", f.read())
                if m:
                    return int(m.group(1))
            except OSError:
                pass
            time.sleep(0.01)
        return None

    def _run(self):
        port = self._port()
        while port is not None and not self.stopped.is_set():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
                    r.read()
                self.scrapes += 1
            except OSError as e:
                print(f"scrape failed: {e}", file=sys.stderr)
            self.stopped.wait(1.0)

    def stop(self):
        self.stopped.set()
        self.thread.join(timeout=30)
        return self.scrapes


def run_agent(conn, slot, batch, endpos, plugin="walcast", sink="amqp", agent=AGENT, endpoint=False):
    """Agent from slot start to confirmed endpos (sink: amqp, or the
    stdout sink at /dev/null); endpoint: with --http-listen, scraped every
    second."""
    if sink == "amqp":
        purge()
    cmd = agent_cmd(slot, batch, plugin, sink, agent)
    on_start = None
    if endpoint:
        log = tempfile.NamedTemporaryFile(prefix="walcast-bench-", suffix=".log", delete=False)
        log.close()
        cmd += ["--http-listen", "127.0.0.1:0", "--log-file", log.name]
        on_start = lambda: Scraper(log.name).stop  # noqa: E731
    run = drive(conn, slot, cmd, AGENT_ENV if sink == "amqp" else STDOUT_ENV, endpos, on_start)
    if endpoint:
        os.unlink(log.name)
    return run


def drive(conn, slot, cmd, env, endpos, on_start=None):
    """Run an agent command from its slot until the slot's
    confirmed_flush_lsn reaches endpos, then stop it and drop the slot; a
    Run with its time, peak RSS and CPU, and its walsender's CPU.
    on_start: called once the agent runs; it returns a function called at
    the end whose result is the run's scrapes (bench/queue_bench.py uses
    this too)."""
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    finish = on_start() if on_start is not None else None
    peak = 0.0
    cpu = walsender = 0.0
    target = lsn_int(endpos)
    while True:
        peak = max(peak, vmhwm_mb(proc.pid))
        cpu = max(cpu, cpu_secs(proc.pid))
        if proc.poll() is not None:
            raise SystemExit(f"walcast-agent exited early: {proc.stderr.read().decode().strip()}")
        row = sql(conn, "select confirmed_flush_lsn, active_pid from pg_replication_slots where slot_name = %s",
                  (slot,))
        if row and row[0][1]:
            walsender = max(walsender, cpu_secs(row[0][1]))
        if row and row[0][0] and lsn_int(row[0][0]) >= target:
            break
        time.sleep(0.02)
    secs = time.monotonic() - t0
    cpu = max(cpu, cpu_secs(proc.pid))
    scrapes = finish() if finish is not None else 0
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    sql(conn, "select pg_drop_replication_slot(%s)", (slot,))
    return Run(secs, peak, cpu, walsender, scrapes)


def queue_depth():
    """Messages in the bench queue: what the last run published (purged
    before it, nobody consumes)."""
    conn = pika.BlockingConnection(pika.URLParameters(AMQP_URI))
    depth = conn.channel().queue_declare(QUEUE, passive=True).method.message_count
    conn.close()
    return depth


def drain_recvlogical(conn, slot, endpos, options=()):
    t0 = time.monotonic()
    p = subprocess.run([os.path.join(BINDIR, "pg_recvlogical"), "-d", "dbname=postgres", "-S", slot,
                        "--start", "--no-loop", "-E", endpos, "-f", "-"] + [f"-o{o}" for o in options],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    secs = time.monotonic() - t0
    sql(conn, "select pg_drop_replication_slot(%s)", (slot,))
    return secs, len(p.stdout), p.stdout.count(b"\n")


def ceiling(count, size):
    out = subprocess.run([CEILING, "127.0.0.1", os.environ["WALCAST_AMQP_PORT"], str(count), str(size), "1000"],
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    return float(out.splitlines()[0].split(":")[-1].split()[0])


def compare(conn, events, endpos, base, repeat, modes):
    """Both binaries, alternating, each repeat times per batch mode, on the
    slots made for them before the workload: the ratio of the best rates."""
    rows = []
    for batch in modes:
        rates = {"this": [], "base": []}
        cpu = {"this": [], "base": []}
        for r in range(repeat):
            order = [("this", AGENT), ("base", base)]
            for name, binary in order if r % 2 == 0 else reversed(order):
                run = run_agent(conn, f"bench_cmp_{name}_{batch[0]}{r}", batch, endpos, agent=binary)
                rates[name].append(events / run.secs)
                cpu[name].append(run.cpu)
        rows.append((batch, rates["this"], rates["base"], cpu["this"], cpu["base"]))
    print(f"\n#### this agent vs {base} ({repeat} runs each, alternating)\n")
    print("Rates: best run of each, and the median; CPU: the agent's user + system seconds, median.\n")
    print("| --batch | this events/s | base events/s | ratio best | ratio median | CPU this / base | every run: this / base |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for batch, this, base_rates, cpu_this, cpu_base in rows:
        runs = ", ".join(f"{t:,.0f}/{b:,.0f}" for t, b in zip(this, base_rates))
        med_this, med_base = statistics.median(this), statistics.median(base_rates)
        cpu_ratio = statistics.median(cpu_this) / max(1e-9, statistics.median(cpu_base))
        print(f"| {batch} | {max(this):,.0f} | {max(base_rates):,.0f} | {max(this) / max(base_rates):.3f} "
              f"| {med_this / med_base:.3f} | {cpu_ratio:.3f} | {runs} |")
    sys.stdout.flush()


def endpoint(conn, events, endpos, repeat):
    """(e): the endpoint on and scraped every second, and off, alternating,
    each repeat times on the slots made for them before the workload."""
    rates = {"off": [], "on": []}
    cpu = {"off": [], "on": []}
    scrapes = []
    for r in range(repeat):
        order = [("off", False), ("on", True)]
        for name, on in order if r % 2 == 0 else reversed(order):
            run = run_agent(conn, f"bench_ep_{name}{r}", "change", endpos, endpoint=on)
            rates[name].append(events / run.secs)
            cpu[name].append(run.cpu)
            if on:
                scrapes.append(run.scrapes)
    print(f"\n#### (e) --http-listen, /metrics scraped every second, beside no endpoint ({repeat} runs each, alternating, --batch change)\n")
    print("| endpoint | best events/s | median events/s | agent CPU s, median | every run |")
    print("|---|---:|---:|---:|---|")
    for name in ("off", "on"):
        print(f"| {name} | {max(rates[name]):,.0f} | {statistics.median(rates[name]):,.0f} | "
              f"{statistics.median(cpu[name]):.2f} | {', '.join(f'{x:,.0f}' for x in rates[name])} |")
    print(f"\non / off: best {max(rates['on']) / max(rates['off']):.3f}, "
          f"median {statistics.median(rates['on']) / statistics.median(rates['off']):.3f}; "
          f"scrapes per run {', '.join(str(n) for n in scrapes)}")
    sys.stdout.flush()


def window(conn, events, statement, alternate, lingers):
    """(f): the one-row transactions in every batch mode against the
    ceiling and issue 17's targets, then the alternating workload."""
    modes = ["change", "transaction"] + [f"window:{ms}" for ms in lingers]
    for b in modes:
        new_slot(conn, "bench_w_" + b.replace(":", "_"))
    new_slot(conn, "bench_w_recv")
    sql(conn, statement)
    endpos = sql(conn, "select pg_current_wal_insert_lsn()")[0][0]
    # the ceiling at the size of a one-row record
    ceil_rate = ceiling(min(events, 200_000), 400)
    # what the agent's input can give: the plugin with the agent's batch-bytes
    recv_secs = drain_recvlogical(conn, "bench_w_recv", endpos, ["batch-bytes=65536"])[0]
    print(f"\n#### (f) {events:,} one-row transactions: --batch window beside change and transaction\n")
    print("Targets (issue 17): events/s at least 5x the ceiling, agent peak RSS under 64 MB.\n")
    print("| path | events/s | vs (a) | events per message | agent CPU s per 100k events "
          "| walsender CPU s per 100k events | agent peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(f"| (a) rabbitmq-c publish ceiling, confirms, window 1000, 400 B | {ceil_rate:,.0f} | 1.00x | 1 "
          f"| - | - | - |")
    print(f"| (b) pg_recvlogical drain, walcast plugin, batch-bytes=65536 (the agent's input) "
          f"| {events / recv_secs:,.0f} | {events / recv_secs / ceil_rate:.2f}x | - | - | - | - |")
    sys.stdout.flush()

    def row(label, r):
        rate = events / r.secs
        print(f"| walcast-agent, {label} | {rate:,.0f} | {rate / ceil_rate:.2f}x | "
              f"{events / max(1, queue_depth()):.1f} | {r.cpu * 100000 / events:.2f} | "
              f"{r.walsender_cpu * 100000 / events:.2f} | {r.rss:.1f} |")
        sys.stdout.flush()

    for b in modes:
        row(batch_label(b), run_agent(conn, "bench_w_" + b.replace(":", "_"), b, endpos))
    # its own WAL, written after the runs above: an agent runs until it
    # confirmed its workload's end, and what it read past it would count
    # in the queue's depth
    for ms in lingers:
        new_slot(conn, f"bench_alt_{ms}")
    sql(conn, alternate)
    alt_endpos = sql(conn, "select pg_current_wal_insert_lsn()")[0][0]
    for ms in lingers:
        row(f"--batch window, linger {ms} ms, consecutive transactions alternating between two tables",
            run_agent(conn, f"bench_alt_{ms}", f"window:{ms}", alt_endpos))


def workload(conn, title, events, statement, base=None, repeat=1, modes=("change", "transaction"),
             endpoint_repeat=0, endpoint_only=False):
    # (d): each input, end to end to RabbitMQ and to stdout at /dev/null
    # (walcast to RabbitMQ is (c) with --batch change)
    inputs = [("walcast", "amqp"), ("pgoutput", "amqp"), ("walcast", "null"), ("pgoutput", "null")]
    slots = [] if endpoint_only else ["bench_recv", "bench_agent_change", "bench_agent_txn"]
    for s in slots:
        new_slot(conn, s)
    for plugin, sink in ([] if endpoint_only else inputs[1:]):
        new_slot(conn, f"bench_{plugin}_{sink}", plugin)
    if base is not None and not endpoint_only:
        for s in (f"bench_cmp_{name}_{batch[0]}{r}" for name in ("this", "base")
                  for batch in modes for r in range(repeat)):
            new_slot(conn, s)
    for s in (f"bench_ep_{name}{r}" for name in ("off", "on") for r in range(endpoint_repeat)):
        new_slot(conn, s)
    sql(conn, statement)
    endpos = sql(conn, "select pg_current_wal_insert_lsn()")[0][0]
    if endpoint_only:
        print(f"\n### {title}: {events:,} changes")
        endpoint(conn, events, endpos, endpoint_repeat)
        return
    recv_secs, nbytes, nrecords = drain_recvlogical(conn, "bench_recv", endpos)
    size = max(1, nbytes // max(1, nrecords))
    ceil_rate = ceiling(min(events, 200_000), size)
    change = run_agent(conn, "bench_agent_change", "change", endpos)
    txn = run_agent(conn, "bench_agent_txn", "transaction", endpos)
    change_rate, txn_rate = events / change.secs, events / txn.secs
    print(f"\n### {title}: {events:,} changes, ~{size} bytes/record\n")
    print("| path | events/s | vs (a) | peak RSS MB |")
    print("|---|---:|---:|---:|")
    print(f"| (a) rabbitmq-c publish ceiling, confirms, window 1000 | {ceil_rate:,.0f} | 1.00x | - |")
    print(f"| (b) pg_recvlogical drain (walcast plugin) | {events / recv_secs:,.0f} | {events / recv_secs / ceil_rate:.2f}x | - |")
    print(f"| (c) walcast-agent, --batch change | {change_rate:,.0f} | {change_rate / ceil_rate:.2f}x | {change.rss:.1f} |")
    print(f"| (c) walcast-agent, --batch transaction | {txn_rate:,.0f} | {txn_rate / ceil_rate:.2f}x | {txn.rss:.1f} |")
    sys.stdout.flush()

    runs = {key: run_agent(conn, f"bench_{key[0]}_{key[1]}", "change", endpos, *key) for key in inputs[1:]}
    runs[inputs[0]] = change
    print(f"\n#### (d) --plugin pgoutput beside --plugin walcast (--batch change)\n")
    print("| input | sink | events/s | pgoutput / walcast | agent CPU s per 100k events | walsender CPU s per 100k events | agent peak RSS MB |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for plugin, sink in inputs:
        r = runs[(plugin, sink)]
        rate = events / r.secs
        ratio = rate / (events / runs[("walcast", sink)].secs)
        print(f"| {plugin} | {'RabbitMQ, confirms' if sink == 'amqp' else 'stdout to /dev/null'} | {rate:,.0f} | "
              f"{ratio:.2f}x | {r.cpu * 100000 / events:.2f} | {r.walsender_cpu * 100000 / events:.2f} | {r.rss:.1f} |")
    sys.stdout.flush()
    if endpoint_repeat > 0:
        endpoint(conn, events, endpos, endpoint_repeat)
    if base is not None:
        compare(conn, events, endpos, base, repeat, modes)


def latency_consumer(count, fmt="walcast"):
    """bench/amqp_latency on QUEUE for bench_lat, started and consuming
    (it said "ready") before the first commit; fmt: walcast or debezium.
    It takes each event of a batched message with its own commit time."""
    consumer = subprocess.Popen([CONSUMER, "127.0.0.1", os.environ["WALCAST_AMQP_PORT"], QUEUE, "bench_lat",
                                 str(count), "10", fmt], stdout=subprocess.PIPE, text=True)
    consumer.stdout.readline()  # "ready"
    return consumer


def pgbench_inserts(rate, seconds):
    """One-row insert transactions into bench_lat at a steady rate (pgbench -R)."""
    script = os.path.join("/tmp", "walcast_bench_lat.sql")
    with open(script, "w") as f:
        f.write("insert into bench_lat (payload) values (repeat('x', 100));\n")
    subprocess.run([os.path.join(BINDIR, "pgbench"), "-n", "-f", script, "-R", str(rate), "-T", str(seconds),
                    "-c", "2", "-j", "2", "postgres"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True)


LATENCY_TABLE = "drop table if exists bench_lat; create table bench_lat (id bigserial primary key, payload text)"


def latency(conn, rate, seconds, batch="change"):
    """Commit -> consumer latency at a steady rate of one-row transactions.

    The consumer is bench/amqp_latency (rabbitmq-c): a Python consumer on
    these 2 cores falls behind at 5,000 messages/s and measures its own
    queueing.  It takes each event of a batched message with its own
    commit time."""
    # a slot name per run: the agent's state directory keeps each slot's
    # confirmed position, and a slot of the same name recreated since is
    # refused (exit 4)
    slot = "bench_lat_" + re.sub(r"\W", "_", batch)
    sql(conn, LATENCY_TABLE)
    new_slot(conn, slot)
    purge()
    log = tempfile.TemporaryFile()
    agent = subprocess.Popen(agent_cmd(slot, batch), env=AGENT_ENV, stdout=subprocess.DEVNULL,
                             stderr=log)
    consumer = latency_consumer(rate * seconds)
    pgbench_inserts(rate, seconds)
    result = consumer.communicate(timeout=120)[0].strip()
    peak = vmhwm_mb(agent.pid)
    agent.send_signal(signal.SIGTERM)
    agent.wait(timeout=60)
    if consumer.returncode != 0:
        log.seek(0)
        print(f"latency consumer failed; the agent's log:\n{log.read().decode(errors='replace')}", file=sys.stderr)
    log.close()
    sql(conn, "select pg_drop_replication_slot(%s); drop table bench_lat", (slot,))
    mode, _, linger = batch.partition(":")
    target = (f"; targets p50 <= {int(linger) + 5} ms, p99 <= {int(linger) + 20} ms" if linger else "")
    print(f"\n### commit -> consumer latency at {rate} one-row transactions/s for {seconds} s, "
          f"{batch_label(batch)}\n")
    print(f"{result} (ms){target}; agent peak RSS {peak:.1f} MB")
    sys.stdout.flush()


# The throughput workloads' tables (mixed types; bench_alt for the
# alternating-key workload), their one-row update transactions and the
# publication pgoutput reads (bench/peers_bench.py uses them too).
BENCH_TABLE = """
    drop table if exists bench_mixed;
    create table bench_mixed (id int primary key, big bigint, label text, amount numeric(12,2),
                              at timestamptz, doc jsonb, flag bool);
    create or replace procedure bench_updates(n int) language plpgsql as $$
    begin for i in 1..n loop update bench_mixed set big = big + 1 where id = i; commit; end loop; end $$;
    drop table if exists bench_alt;
    create table bench_alt (like bench_mixed including all);
    create or replace procedure bench_alternate(n int) language plpgsql as $$
    begin for i in 1..n loop
        if i % 2 = 0 then update bench_mixed set big = big + 1 where id = i;
        else update bench_alt set big = big + 1 where id = i; end if;
        commit;
    end loop; end $$;
    drop publication if exists walcast_bench;
    create publication walcast_bench for table bench_mixed;
"""
DROP_BENCH_TABLE = ("drop publication walcast_bench; drop table bench_mixed, bench_alt; "
                    "drop procedure bench_updates; drop procedure bench_alternate")


def insert_statement(rows):
    """One transaction inserting rows rows of mixed types into bench_mixed."""
    return f"""
        insert into bench_mixed select i, i * 1000003::bigint, repeat(md5(i::text), 3), i * 1.25,
            '2026-01-01 00:00:00+00'::timestamptz + i * interval '1 second',
            jsonb_build_object('k', i, 'tag', 'v' || (i % 97)), i % 2 = 0
        from generate_series(1, {rows}) i"""


def workload_args(ap):
    """The workloads' sizes (bench/peers_bench.py runs the same ones)."""
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows of the insert transaction")
    ap.add_argument("--updates", type=int, default=200_000, help="one-row update transactions")
    ap.add_argument("--rate", type=int, default=5000, help="transactions/s of the latency run")
    ap.add_argument("--seconds", type=int, default=20, help="seconds of the latency run")


def window_workloads(conn, n, lingers, seed_mixed):
    """Table (f): n one-row updates of bench_mixed, then n alternating between
    bench_mixed and bench_alt; bench_mixed's rows are seeded unless the
    update workload already did."""
    rows = f"select i, i from generate_series(1, {n}) i"
    sql(conn, (f"insert into bench_mixed (id, big) {rows};" if seed_mixed else "") +
        f"insert into bench_alt (id, big) {rows}")
    window(conn, n, f"call bench_updates({n})", f"call bench_alternate({n})", lingers)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    workload_args(ap)
    ap.add_argument("--latency-only", action="store_true", help="skip the throughput workloads")
    ap.add_argument("--skip-latency", action="store_true", help="skip the latency measurement")
    ap.add_argument("--workloads", default="insert,update", help="which throughput workloads: insert,update")
    ap.add_argument("--envelope", default="native", choices=["native", "debezium", "flat"])
    ap.add_argument("--compare", metavar="BIN", help="another walcast-agent to compare with, run alternately")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each binary per mode with --compare")
    ap.add_argument("--modes", default="change,transaction", help="--batch modes compared with --compare")
    ap.add_argument("--endpoint-repeat", type=int, default=3,
                    help="runs with and without the HTTP endpoint, each, for (e); 0 skips (e)")
    ap.add_argument("--endpoint-only", action="store_true", help="of the throughput rows, (e) only")
    ap.add_argument("--window-only", action="store_true",
                    help="(f) and the latency runs only (issue 17: --batch window)")
    ap.add_argument("--lingers", default="5,20", help="--batch-linger-ms values for (f) and the latency runs")
    args = ap.parse_args()
    lingers = [int(x) for x in args.lingers.split(",")]
    global ENVELOPE
    ENVELOPE = args.envelope
    base = os.path.abspath(args.compare) if args.compare else None
    modes = args.modes.split(",")
    conn = psycopg2.connect("dbname=postgres")
    conn.autocommit = True
    sql(conn, BENCH_TABLE)
    print(f"PostgreSQL {sql(conn, 'show server_version')[0][0]}, {os.cpu_count()} cores")
    latency_modes = ["change"] + [f"window:{ms}" for ms in lingers]
    if args.latency_only:
        for b in latency_modes:
            latency(conn, args.rate, args.seconds, b)
        return
    todo = [] if args.window_only else args.workloads.split(",")
    if "insert" in todo:
        workload(conn, f"one {args.rows:,}-row insert transaction", args.rows, insert_statement(args.rows),
                 base, args.repeat, modes, args.endpoint_repeat,
                 args.endpoint_only)
    if "update" in todo:
        if "insert" not in todo:
            sql(conn, f"insert into bench_mixed (id, big) select i, i from generate_series(1, {args.updates}) i")
        workload(conn, f"{args.updates:,} one-row update transactions", args.updates,
                 f"call bench_updates({args.updates})", base, args.repeat, modes, args.endpoint_repeat,
                 args.endpoint_only)
        if not args.endpoint_only and base is None:
            window_workloads(conn, args.updates, lingers, seed_mixed=False)
    if args.window_only:
        window_workloads(conn, args.updates, lingers, seed_mixed=True)
    if not args.skip_latency:
        for b in latency_modes:
            latency(conn, args.rate, args.seconds, b)
    sql(conn, DROP_BENCH_TABLE)
    shutil.rmtree(STATE_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()
