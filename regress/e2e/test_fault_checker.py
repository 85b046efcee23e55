"""The fault checker proves itself before any fault test trusts it: fed a
log with one loss, one reorder and one changed duplicate, it reports each,
and nothing else; a clean log reports nothing; a duplicate is judged
against the confirmed position sampled at the fault before it.  No
server: synthetic test_decoding rows and walcast bodies."""
import json

from fault_checker import Fault, check, lsn_int, lsn_text, marker_id, parse_test_decoding

# Three transactions on two tables: inserts, an update changing the key, a
# delete, a truncate (test_decoding's text, as pg_logical_slot_peek_changes
# returns it with include-xids).
ROWS = [
    ("0/100", 700, "BEGIN 700"),
    ("0/100", 700, "table public.ta: INSERT: id[integer]:1 v[text]:'a b'"),
    ("0/140", 700, "table public.ta: INSERT: id[integer]:2 v[text]:'x'"),
    ("0/180", 700, "table public.tb: INSERT: id[bigint]:1 big[text]:'zzz'"),
    ("0/1C0", 700, "COMMIT 700"),
    ("0/1C0", 701, "BEGIN 701"),
    ("0/1C0", 701, "table public.ta: UPDATE: old-key: id[integer]:1 new-tuple: id[integer]:3 v[text]:'a b'"),
    ("0/200", 701, "table public.ta: DELETE: id[integer]:2"),
    ("0/240", 701, "table public.tb: UPDATE: id[bigint]:1 big[text]:unchanged-toast-datum"),
    ("0/280", 701, "COMMIT 701"),
    ("0/280", 702, "BEGIN 702"),
    ("0/280", 702, "table public.tb: TRUNCATE: (no-flags)"),
    ("0/2A0", 702, "message: transactional: 1 prefix: p, sz: 1 content:x"),
    ("0/2C0", 702, "COMMIT 702"),
]
# commit_lsn (start of the commit record); its end is the next BEGIN's LSN.
COMMITS = {700: "0/1A0", 701: "0/260", 702: "0/2B0"}


def record(xid, lsn, seq, table, action, new=None, old=None):
    ev = {"action": action, "xid": xid, "commit_lsn": COMMITS[xid], "seq": seq, "lsn": lsn,
          "schema": "public", "table": table}
    if new is not None:
        ev["new"] = new
    if action in ("U", "D"):
        ev["old"] = old
    return ev


EVENTS = [
    record(700, "0/100", 1, "ta", "I", new={"id": 1, "v": "a b"}),
    record(700, "0/140", 2, "ta", "I", new={"id": 2, "v": "x"}),
    record(700, "0/180", 3, "tb", "I", new={"id": 1, "big": "zzz"}),
    record(701, "0/1C0", 1, "ta", "U", new={"id": 3, "v": "a b"}, old={"id": 1}),
    record(701, "0/200", 2, "ta", "D", old={"id": 2}),
    record(701, "0/240", 3, "tb", "U", new={"id": 1}),
    record(702, "0/280", 1, "tb", "T"),
]


def entry(t, ev, body=None, redelivered=False):
    mid = "%s:%d" % (ev["commit_lsn"], ev["seq"])
    return {"t": t, "mid": mid, "rk": "public.%s.%s" % (ev["table"], ev["action"]),
            "redelivered": redelivered, "body": body if body is not None else json.dumps(ev)}


def clean_log():
    return [entry(float(i), ev) for i, ev in enumerate(EVENTS)]


def test_truth_parses_every_kind():
    truth = parse_test_decoding(ROWS)
    assert [(c.xid, lsn_text(c.lsn), c.table, c.op, c.key, c.old_key) for c in truth] == [
        (700, "0/100", "ta", "I", "1", None),
        (700, "0/140", "ta", "I", "2", None),
        (700, "0/180", "tb", "I", "1", None),
        (701, "0/1C0", "ta", "U", "3", "1"),
        (701, "0/200", "ta", "D", "2", None),
        (701, "0/240", "tb", "U", "1", None),
        (702, "0/280", "tb", "T", None, None),
    ]
    # A TRUNCATE of two tables is one change per table, as walcast writes it.
    two = parse_test_decoding([("0/300", 703, "table public.ta, public.tb: TRUNCATE: cascade")])
    assert [(c.table, c.op) for c in two] == [("ta", "T"), ("tb", "T")]


def test_clean_log_reports_nothing():
    r = check(parse_test_decoding(ROWS), clean_log())
    assert r.ok(), r
    assert r.counts() == dict(changes=7, received=7, lost=0, unexpected=0, duplicated=0,
                              dup_changed=0, dup_in_window=0, dup_outside_window=0,
                              dup_new_id=0, redelivered=0, reordered_table=0, reordered_key=0,
                              reordered_redelivered=0)


def test_one_loss_one_reorder_one_changed_duplicate():
    log = clean_log()
    # loss: the delete of ta 2 never arrives
    lost = log.pop(4)
    assert json.loads(lost["body"])["action"] == "D"
    # reorder: tb's update (701) arrives before tb's insert (700)
    log[2], log[4] = log[4], log[2]
    assert json.loads(log[2]["body"])["action"] == "U"
    # a changed duplicate: ta 1's insert again under its id, another value,
    # after a fault whose window holds it (so only the change is wrong)
    changed = dict(EVENTS[0], new={"id": 1, "v": "CHANGED"})
    log.append(entry(10.0, EVENTS[0], body=json.dumps(changed)))
    faults = [Fault(9.0, "kill", lsn_int("0/100"))]
    r = check(parse_test_decoding(ROWS), log, faults)
    assert not r.ok()
    assert (r.lost, r.reordered_table, r.dup_changed, r.duplicated) == (1, 1, 1, 1), r
    assert (r.unexpected, r.dup_outside_window, r.dup_new_id, r.redelivered) == (0, 0, 0, 0), r
    assert r.dup_in_window == 1
    # per key: tb 1's update came before its insert too
    assert r.reordered_key == 1, r
    assert "ta D key=2" in r.examples["lost"][0]


def test_duplicate_judged_against_the_window_at_its_fault():
    truth = parse_test_decoding(ROWS)
    # The whole of 700 again after a fault that had confirmed 700 (its end
    # is 701's commit start, 0/1C0): outside the window.  Then 701 again
    # after a fault that had confirmed only up to 700: inside.
    again700 = [entry(20.0 + i, ev) for i, ev in enumerate(EVENTS[:3])]
    again701 = [entry(30.0 + i, ev) for i, ev in enumerate(EVENTS[3:6])]
    faults = [Fault(19.0, "kill-a", lsn_int("0/1C0")), Fault(29.0, "kill-b", lsn_int("0/1C0"))]
    r = check(truth, clean_log() + again700 + again701, faults)
    assert (r.duplicated, r.dup_in_window, r.dup_outside_window) == (6, 3, 3), r
    assert not r.ok()
    # A duplicate with no fault before it is outside any window.
    r = check(truth, clean_log() + [entry(0.5, EVENTS[6])])
    assert (r.duplicated, r.dup_outside_window) == (1, 1)


def test_redelivery_unexpected_and_new_id():
    truth = parse_test_decoding(ROWS)
    log = clean_log()
    # RabbitMQ's own redelivery (ack lost with the broker) is not the agent's.
    log.append(entry(8.0, EVENTS[1], redelivered=True))
    # A change nobody committed.
    log.append(entry(9.0, record(702, "0/2A0", 2, "ta", "I", new={"id": 99})))
    # A committed change again, under another message id.
    other = dict(EVENTS[0], seq=7)
    log.append(entry(9.5, other))
    r = check(truth, log)
    assert (r.redelivered, r.unexpected, r.dup_new_id, r.duplicated, r.lost) == (1, 1, 1, 0, 0), r


def test_batched_bodies_and_messages():
    """A batched message (a JSON array) carries several changes under one
    id; logical messages are not changes."""
    truth = parse_test_decoding(ROWS)
    batch = {"t": 1.0, "mid": "0/1A0:1+3", "rk": "b", "redelivered": False,
             "body": json.dumps(EVENTS[:3])}
    msg = {"t": 1.5, "mid": "0/2A0", "rk": "m", "redelivered": False,
           "body": json.dumps({"action": "M", "lsn": "0/2A0", "prefix": "p", "content": "x",
                               "transactional": False})}
    log = [batch, msg] + [entry(2.0 + i, ev) for i, ev in enumerate(EVENTS[3:])]
    r = check(truth, log)
    assert r.ok() and r.received == 7 and r.lost == 0, r


def marker(t, n):
    return {"t": t, "mid": marker_id(n), "rk": "q", "redelivered": False, "body": "{}"}


def test_duplicate_follows_the_marker_before_it_not_the_clock():
    """A consumer that lags: 701's replay, published after fault 0 (which
    had confirmed only 700), reaches the consumer after fault 1 (which had
    confirmed 701 too).  Its place before fault 1's marker says it followed
    fault 0: inside the window.  The same copies after fault 1's marker
    would have been sent again after their confirm: outside."""
    truth = parse_test_decoding(ROWS)
    faults = [Fault(10.0, "kill-0", lsn_int("0/1C0"), marked=True),
              Fault(11.0, "kill-1", lsn_int("0/280"), marked=True)]
    again701 = [entry(30.0 + i, ev) for i, ev in enumerate(EVENTS[3:6])]
    r = check(truth, clean_log() + [marker(10.5, 0)] + again701 + [marker(40.0, 1)], faults)
    assert (r.duplicated, r.dup_in_window, r.dup_outside_window) == (3, 3, 0), r
    assert r.ok()
    r = check(truth, clean_log() + [marker(10.5, 0), marker(11.5, 1)] + again701, faults)
    assert (r.duplicated, r.dup_in_window, r.dup_outside_window) == (3, 0, 3), r
    # Markers are not changes, and a marker seen again (redelivered) does
    # not move the attribution back.
    r = check(truth, clean_log() + [marker(10.5, 0), marker(11.5, 1), marker(12.0, 0)]
              + again701, faults)
    assert (r.received, r.dup_outside_window) == (7, 3), r


def test_redelivered_first_arrival_out_of_order_is_the_brokers():
    """A consumer's node dies with deliveries it had not logged: RabbitMQ
    gives them back, flagged redelivered, after newer ones (the
    consumer's first arrival).  Counted apart, not as the agent's
    reorder; the same arrival without the flag is a reorder."""
    truth = parse_test_decoding(ROWS)
    log = clean_log()
    late = log.pop(1)                    # ta 2's insert, in flight at the death
    log.insert(5, dict(late, redelivered=True))
    r = check(truth, log)
    assert r.ok(), r
    assert (r.reordered_redelivered, r.reordered_table, r.reordered_key, r.redelivered,
            r.lost) == (1, 0, 0, 0, 0), r
    log[5] = late
    r = check(truth, log)
    assert (r.reordered_redelivered, r.reordered_table) == (0, 1), r
