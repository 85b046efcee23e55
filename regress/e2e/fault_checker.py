"""The fault suite's checker: what PostgreSQL committed against what a real
consumer received (docs/reliability.md).

Truth is a reference slot (test_decoding, created before the workload
next to the agent's slot and never consumed): `truth_from_slot` peeks it
into a list of changes in commit order.  What arrived is the consumer log
(`ConsumerLog`, fault_harness.py): one JSON line per delivery, appended by
a pika consumer with manual acks before it acks.  `check` compares them
and returns a `Report`:

- lost: committed, never received;
- unexpected: received, never committed (or with another table or action);
- duplicated: a message id received again; every duplicate must be
  byte-identical (body and routing key) to the first copy (`dup_changed`
  counts those that are not), and its events must have been unconfirmed at
  the fault before it (`dup_in_window` / `dup_outside_window`: the event's
  commit_lsn at or past the slot's confirmed_flush_lsn sampled at the
  fault); `dup_new_id` counts a committed change received again under
  another message id;
- which fault a duplicate follows: the harness publishes a marker into
  the consumer's queue at every fault, right after sampling the confirmed
  position (`marker_id`, retried with a fresh sample while the queue
  refuses it); the queue keeps its order, so a copy that comes after fault
  n's marker in the log was enqueued after it, and its change cannot have
  been confirmed at the sample by this copy's own confirm: if the sample
  covers it, it was confirmed before and sent again.  However far the
  consumer lags, that never blames a copy published before the fault.
  Without a marker (one that never got in), the fault before the copy's
  arrival time stands in;
- redelivered: copies RabbitMQ delivered again itself (the consumer's ack
  was lost with the broker), flagged `redelivered`: not the agent's;
- reordered: first arrivals out of commit order, per table
  (`reordered_table`) and per key (`reordered_key`; an update that changes
  the key belongs to both keys).  A first arrival flagged `redelivered`
  was delivered before, to a consumer connection that died with its node
  before it was logged: the broker's first delivery cannot be judged from
  the log, and RabbitMQ gives such messages back after newer ones
  (docs/scaling.md, "Ordering").  One out of order is counted apart
  (`reordered_redelivered`): the broker's, not the agent's.

A change is identified on both sides by (xid, lsn, table, key): test_decoding
gives the change's LSN and xid as the walcast record does, and a key (the
`id` column, see KEY_COLUMN) tells apart the rows of a multi-insert that
share one LSN.  Logical messages are not changes and are left out.

Only the standard library: the checker proves itself without servers
(test_fault_checker.py).
"""
import json
import re

KEY_COLUMN = "id"

_LINE = re.compile(r"^table (.+?): (INSERT|UPDATE|DELETE|TRUNCATE): ?(.*)$", re.S)
_OPS = {"INSERT": "I", "UPDATE": "U", "DELETE": "D", "TRUNCATE": "T"}


def lsn_int(text):
    hi, lo = text.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)


def lsn_text(value):
    return "%X/%X" % (value >> 32, value & 0xFFFFFFFF)


def _unquote_table(name):
    """public.ta -> ta (the workload's tables live in public)."""
    return name.split(".", 1)[1] if "." in name else name


def _key_in(text, column=KEY_COLUMN):
    m = re.match(r"\s*%s\[[^\]]*\]:(\S+)" % re.escape(column), text)
    if not m:
        return None
    value = m.group(1)
    return value[1:-1] if value.startswith("'") and value.endswith("'") else value


class Change:
    """One committed (or received) row change."""

    __slots__ = ("index", "xid", "lsn", "commit_lsn", "table", "op", "key", "old_key")

    def __init__(self, xid, lsn, table, op, key, old_key=None, index=None, commit_lsn=None):
        self.index = index           # position in commit order (truth only)
        self.xid = int(xid)
        self.lsn = lsn
        self.commit_lsn = commit_lsn  # received only
        self.table = table
        self.op = op
        self.key = None if key is None else str(key)
        self.old_key = None if old_key is None else str(old_key)

    @property
    def ident(self):
        return (self.xid, self.lsn, self.table, self.key)

    def keys(self):
        """The keys whose order this change takes part in."""
        return {k for k in (self.key, self.old_key) if k is not None}

    def __repr__(self):
        return "Change(%s %s %s %s key=%s old=%s)" % (self.xid, lsn_text(self.lsn), self.table,
                                                     self.op, self.key, self.old_key)


def parse_test_decoding(rows):
    """rows: (lsn text, xid, data) from pg_logical_slot_peek_changes with
    include-xids: the changes in commit order.  A TRUNCATE of several
    tables is one change per table, as the walcast plugin writes it."""
    out = []
    for lsn, xid, data in rows:
        m = _LINE.match(data)
        if not m:
            continue   # BEGIN, COMMIT, message
        tables, op, rest = m.group(1), _OPS[m.group(2)], m.group(3)
        lsn_v = lsn_int(lsn)
        if op == "T":
            for t in tables.split(", "):
                out.append(Change(xid, lsn_v, _unquote_table(t), op, None))
            continue
        table = _unquote_table(tables)
        old_key = None
        if rest.startswith("old-key: "):
            old_key = _key_in(rest[len("old-key: "):])
            key = _key_in(rest.split(" new-tuple: ", 1)[1])
        else:
            key = _key_in(rest)
        out.append(Change(xid, lsn_v, table, op, key, old_key))
    for i, c in enumerate(out):
        c.index = i
    return out


def truth_from_slot(conn, slot):
    """Peek the reference slot (test_decoding) without consuming it."""
    cur = conn.cursor()
    cur.execute("select lsn::text, xid::text::bigint, data from pg_logical_slot_peek_changes("
                "%s, null, null, 'include-xids', '1', 'skip-empty-xacts', '1')", (slot,))
    return parse_test_decoding(cur.fetchall())


def changes_of_body(body):
    """The row changes a walcast message body carries (one record, or an
    array of records when batched), as Change objects; messages (M) and
    transaction records are skipped."""
    doc = json.loads(body)
    out = []
    for ev in doc if isinstance(doc, list) else [doc]:
        op = ev.get("action")
        if op not in ("I", "U", "D", "T"):
            continue
        new = ev.get("new") or {}
        old = ev.get("old") or {}
        key = old_key = None
        if op in ("I", "U"):
            key = new.get(KEY_COLUMN)
            if op == "U" and old.get(KEY_COLUMN) is not None and old.get(KEY_COLUMN) != key:
                old_key = old.get(KEY_COLUMN)
        elif op == "D":
            key = old.get(KEY_COLUMN)
        out.append(Change(ev["xid"], lsn_int(ev["lsn"]), ev["table"], op, key, old_key,
                          commit_lsn=lsn_int(ev["commit_lsn"])))
    return out


def read_log(path):
    """The consumer log: dicts with t (arrival time), mid (message id), rk
    (routing key), redelivered, body."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


MARKER_PREFIX = "walcast-fault-marker:"


def marker_id(n):
    """The message id of fault n's marker in the consumer's queue."""
    return "%s%d" % (MARKER_PREFIX, n)


class Fault:
    """A fault as the harness recorded it: when, what, the slot's
    confirmed_flush_lsn sampled before its marker was published (an int,
    or None when unknown), and whether the marker went in."""

    def __init__(self, t, name, confirmed, marked=False):
        self.t = t
        self.name = name
        self.confirmed = confirmed
        self.marked = marked


class Report:
    FIELDS = ("changes", "received", "lost", "unexpected", "duplicated", "dup_changed",
              "dup_in_window", "dup_outside_window", "dup_new_id", "redelivered",
              "reordered_table", "reordered_key", "reordered_redelivered")

    def __init__(self):
        for f in self.FIELDS:
            setattr(self, f, 0)
        self.examples = {}

    def note(self, what, example):
        """Count one finding and keep the first few examples of it."""
        setattr(self, what, getattr(self, what) + 1)
        ex = self.examples.setdefault(what, [])
        if len(ex) < 5:
            ex.append(example)

    def counts(self):
        return {f: getattr(self, f) for f in self.FIELDS}

    def ok(self):
        """The guarantee: nothing lost, nothing unexpected, nothing out of
        order, every duplicate identical, under its id, and unconfirmed."""
        return (self.lost == self.unexpected == self.dup_changed == self.dup_outside_window
                == self.dup_new_id == self.reordered_table == self.reordered_key == 0)

    def line(self):
        return " ".join("%s=%d" % (f, getattr(self, f)) for f in self.FIELDS)

    def __repr__(self):
        return "Report(%s; examples=%s)" % (self.line(), self.examples)


def _fault_of(faults, marked, t):
    """The fault a duplicate follows: the last marked fault whose marker
    came before it in the log, or a later unmarked fault before its
    arrival time t; None when none."""
    best = faults[marked] if marked is not None and marked < len(faults) else None
    for f in faults:
        if not f.marked and f.t <= t and (best is None or f.t >= best.t):
            best = f
    return best


def check(truth, log, faults=()):
    """Compare truth (parse_test_decoding's list) with log (read_log's
    entries, in arrival order); faults: Fault objects.  Returns a Report."""
    r = Report()
    r.changes = len(truth)
    by_ident = {c.ident: c for c in truth}
    marked = None                   # the last fault whose marker came by
    first_copy = {}                 # message id -> (body, routing key)
    arrived = set()                 # idents received at least once
    last_table = {}                 # table -> highest truth index arrived first
    last_key = {}                   # (table, key) -> same
    for entry in log:
        mid, body, rk = entry["mid"], entry["body"], entry.get("rk")
        if mid is not None and mid.startswith(MARKER_PREFIX):
            n = int(mid[len(MARKER_PREFIX):])
            marked = n if marked is None else max(marked, n)
            continue
        events = changes_of_body(body)
        if mid in first_copy:
            if entry.get("redelivered") and first_copy[mid] == (body, rk):
                r.redelivered += 1
                continue
            if first_copy[mid] != (body, rk):
                r.note("dup_changed", mid)
            if not events:
                r.duplicated += 1
                continue
            r.note("duplicated", mid)
            fault = _fault_of(faults, marked, entry["t"])
            commit = min(e.commit_lsn for e in events)
            if fault is not None and fault.confirmed is not None and commit >= fault.confirmed:
                r.dup_in_window += 1
            else:
                r.note("dup_outside_window", (mid, fault.name if fault else None,
                                              lsn_text(fault.confirmed) if fault and fault.confirmed else None))
            continue
        first_copy[mid] = (body, rk)
        for ev in events:
            r.received += 1
            want = by_ident.get(ev.ident)
            if want is None or want.op != ev.op:
                r.note("unexpected", repr(ev))
                continue
            if ev.ident in arrived:
                r.note("dup_new_id", (mid, repr(ev)))
                continue
            arrived.add(ev.ident)
            i = want.index
            late_table = i < last_table.get(want.table, -1)
            last_table[want.table] = max(i, last_table.get(want.table, -1))
            late_keys = 0
            for k in want.keys():
                tk = (want.table, k)
                late_keys += i < last_key.get(tk, -1)
                last_key[tk] = max(i, last_key.get(tk, -1))
            if entry.get("redelivered"):
                if late_table or late_keys:
                    r.note("reordered_redelivered", repr(want))
                continue
            if late_table:
                r.note("reordered_table", repr(want))
            for _ in range(late_keys):
                r.note("reordered_key", repr(want))
    for c in truth:
        if c.ident not in arrived:
            r.note("lost", repr(c))
    return r
