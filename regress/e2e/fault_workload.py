"""The fault suite's mixed workload: four tables, four concurrent writers,
inserts, updates (some changing the primary key), deletes, one truncate and
large (TOASTed) rows, driven by a seed.

Each writer has a random.Random of its own (seed, writer number) and keys
of its own (writer * 10^9 + n), so its sequence of statements is the same
for a seed; what commits is whatever PostgreSQL says (the checker reads it
from the reference slot), so the exact interleaving of writers does not
matter.  Writers survive a PostgreSQL restart: a failed transaction is
retried on a new connection until the deadline.
"""
import random
import threading
import time

import psycopg2

TABLES = ("fw_a", "fw_b", "fw_c", "fw_d")
DDL = [
    "create table fw_a (id bigint primary key, v int, note text)",
    "create table fw_b (id bigint primary key, v int, note text)",
    # fw_c's rows are sometimes large: TOAST, unchanged-TOAST updates
    "create table fw_c (id bigint primary key, v int, big text)",
    "create table fw_d (id bigint primary key, v int, note text)",
]
WRITERS = 4
KEY_SPACE = 10 ** 9
NUDGE_FIRST_ID = 7 * KEY_SPACE     # past the writers' keys and the load's (5e9)
# One large value: 3,000 md5 hex strings (96 kB, incompressible enough to
# be stored out of line), the same for a seed and key.
BIG = "(select string_agg(md5(x::text || '-' || %s::text), '') from generate_series(1, 3000) x)"


class Workload:
    """changes: the number of row changes to aim for (all writers; what
    commits is at least that unless the deadline passes); duration: spread
    the work over about that many seconds (0: as fast as possible)."""

    def __init__(self, dsn, seed, changes, duration=0, writers=WRITERS, deadline=900):
        self.dsn = dsn
        self.seed = seed
        self.changes = changes
        self.duration = duration
        self.writers = writers
        self.deadline = time.monotonic() + deadline
        self.done = [0] * writers     # changes each writer's statements made
        self.errors = []
        self.retries = 0
        self.truncated = threading.Event()
        self.threads = []
        self.started = None

    def start(self):
        self.started = time.monotonic()
        for w in range(self.writers):
            t = threading.Thread(target=self._run, args=(w,), daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def join(self, timeout=900):
        for t in self.threads:
            t.join(timeout)
        assert not any(t.is_alive() for t in self.threads), "workload writers did not finish"
        assert not self.errors, self.errors
        return sum(self.done)

    def running(self):
        return any(t.is_alive() for t in self.threads)

    def progress(self):
        return sum(self.done) / float(self.changes)

    def nudge(self):
        """One insert of its own into fw_a (keys past the writers' and the
        load's), for a fault that waits on the agent's next write after
        the writers are done.  The checker takes it from the reference slot
        like any change."""
        self.nudges = getattr(self, "nudges", 0) + 1
        conn = self._connect()
        try:
            with conn.cursor() as cur:
                cur.execute("insert into fw_a (id, v, note) values (%s, 0, 'nudge')",
                            (NUDGE_FIRST_ID + self.nudges,))
            conn.commit()
        finally:
            conn.close()

    def _connect(self):
        while True:
            try:
                conn = psycopg2.connect(self.dsn, connect_timeout=5)
                conn.autocommit = False
                return conn
            except psycopg2.OperationalError:
                if time.monotonic() > self.deadline:
                    raise
                time.sleep(0.3)

    def _run(self, w):
        try:
            self._write(w)
        except Exception as e:  # reported by join
            self.errors.append("writer %d: %r" % (w, e))

    def _write(self, w):
        rng = random.Random("%s-%d" % (self.seed, w))
        quota = self.changes // self.writers + (1 if w < self.changes % self.writers else 0)
        live = {t: [] for t in TABLES}
        next_id = [w * KEY_SPACE + 1]
        forgot_truncated = False
        conn = self._connect()
        while self.done[w] < quota:
            if time.monotonic() > self.deadline:
                raise AssertionError("workload deadline passed at %d of %d changes" % (self.done[w], quota))
            if self.duration:
                ahead = self.done[w] / float(quota) * self.duration - (time.monotonic() - self.started)
                if ahead > 0:
                    time.sleep(min(ahead, 0.5))
            # The truncate: writer 0, half-way through.  Everyone forgets
            # fw_d's rows (an update of a gone row changes nothing).
            if w == 0 and not self.truncated.is_set() and self.done[w] >= quota // 2:
                plan = [("truncate", "fw_d", None)]
            else:
                plan = [self._pick(rng, live, next_id) for _ in range(rng.randint(1, 4))]
            if self.truncated.is_set() and not forgot_truncated:
                forgot_truncated = True
                if w != 0:
                    live["fw_d"] = []
            try:
                cur = conn.cursor()
                made = 0
                for op, table, arg in plan:
                    made += self._apply(cur, op, table, arg)
                conn.commit()
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                # The server went away (a fault): whether the transaction
                # committed is for the reference slot to say.
                self.retries += 1
                try:
                    conn.close()
                except psycopg2.Error:
                    pass
                conn = self._connect()
                continue
            self.done[w] += made
            for op, table, arg in plan:
                self._remember(live, op, table, arg)
        conn.close()

    @staticmethod
    def _pick(rng, live, next_id):
        table = rng.choice(TABLES)
        ids = live[table]
        r = rng.random()
        if r < 0.40 or len(ids) < 20:
            n = rng.randint(1, 25)
            first = next_id[0]
            next_id[0] += n
            large = table == "fw_c" and rng.random() < 0.06
            return ("insert_big" if large else "insert", table, (first, 1 if large else n))
        if r < 0.70:
            return ("update", table, rng.sample(ids, min(len(ids), rng.randint(1, 15))))
        if r < 0.82:
            new = next_id[0]
            next_id[0] += 1
            return ("rekey", table, (rng.choice(ids), new))
        return ("delete", table, rng.sample(ids, min(len(ids), rng.randint(1, 8))))

    def _apply(self, cur, op, table, arg):
        if op == "truncate":
            cur.execute("truncate " + table)
            return 1
        if op == "insert":
            first, n = arg
            col = "big" if table == "fw_c" else "note"
            cur.execute("insert into %s (id, v, %s) select g, mod(g, 1000)::int, 'n' || g "
                        "from generate_series(%%s, %%s) g" % (table, col), (first, first + n - 1))
        elif op == "insert_big":
            first, _ = arg
            cur.execute("insert into fw_c (id, v, big) values (%%s, 0, %s)" % BIG, (first, first))
        elif op == "update":
            cur.execute("update %s set v = v + 1 where id = any(%%s)" % table, (arg,))
        elif op == "rekey":
            old, new = arg
            cur.execute("update %s set id = %%s where id = %%s" % table, (new, old))
        elif op == "delete":
            cur.execute("delete from %s where id = any(%%s)" % table, (arg,))
        return max(cur.rowcount, 0)

    def _remember(self, live, op, table, arg):
        ids = live[table]
        if op == "truncate":
            live[table] = []
            self.truncated.set()
        elif op in ("insert", "insert_big"):
            first, n = arg
            ids.extend(range(first, first + n))
        elif op == "rekey":
            old, new = arg
            if old in ids:
                ids[ids.index(old)] = new
        elif op == "delete":
            gone = set(arg)
            live[table] = [i for i in ids if i not in gone]


def table_rows(dsn):
    """The source's final rows, {table: {id: (v, text column)}}: the truth
    for the mirror."""
    conn = psycopg2.connect(dsn)
    cur = conn.cursor()
    out = {}
    for t in TABLES:
        col = "big" if t == "fw_c" else "note"
        cur.execute("select id, v, %s from %s" % (col, t))
        out[t] = {r[0]: (r[1], r[2]) for r in cur.fetchall()}
    conn.close()
    return out
