"""The MongoDB mirror, one operation at a time (docs/mongo.md).

Each test runs the real agent with only the mirror enabled (no --amqp-uri:
no RabbitMQ), lets it confirm everything, and reads the collections back
with pymongo.
"""
import pytest

from agent_helpers import prepare_db, execute, run_agent
from mongo_helpers import mirror, mirror_until_done, strip_meta, FERRETDB  # noqa: F401

SLOT = "wc_mongo_ops"


@pytest.fixture
def db(fresh_db):
    return prepare_db(
        fresh_db, SLOT,
        "create table t (id int primary key, name text, n int)",
        "create table comp (a int, b text, v text, primary key (a, b))",
        "create table big (id int primary key, small text, doc text)",
        "create table nokey (x int, y text)",
        "create schema s2",
        "create table s2.t (id int primary key, v text)")


def test_insert_update_delete(db, mirror):
    mirror_until_done(db, SLOT, mirror, statements=[
        "insert into t values (1, 'a', 10), (2, 'b', 20), (3, 'c', 30)",
        "update t set name = 'bb' where id = 2",
        "update t set n = null where id = 3",
        "delete from t where id = 1",
    ])
    docs = mirror.docs("t")
    assert sorted(docs) == [2, 3]
    assert strip_meta(docs[2]) == {"_id": 2, "id": 2, "name": "bb", "n": 20}
    assert strip_meta(docs[3]) == {"_id": 3, "id": 3, "name": "c", "n": None}
    # The metadata records the change that wrote the document last.
    meta = docs[2]["_walcast"]
    assert meta["lsn"] > 0 and meta["commit_lsn"] >= meta["lsn"] and meta["seq"] == 1
    assert docs[3]["_walcast"]["lsn"] > meta["lsn"]


def test_composite_key_and_key_change(db, mirror):
    mirror_until_done(db, SLOT, mirror, statements=[
        "insert into comp values (1, 'x', 'one'), (1, 'y', 'two')",
        "update comp set b = 'z' where a = 1 and b = 'x'",
        "update t set id = id",  # no rows: nothing happens
        "insert into t values (5, 'five', 5)",
        "update t set id = 6 where id = 5",
    ])
    comp = mirror.docs("comp")
    assert sorted(comp) == [(("a", 1), ("b", "y")), (("a", 1), ("b", "z"))]
    doc = comp[(("a", 1), ("b", "z"))]
    assert strip_meta(doc) == {"_id": {"a": 1, "b": "z"}, "a": 1, "b": "z", "v": "one"}
    assert list(doc["_id"].keys()) == ["a", "b"]  # key columns in key order
    t = mirror.docs("t")
    assert sorted(t) == [6]
    assert strip_meta(t[6]) == {"_id": 6, "id": 6, "name": "five", "n": 5}


def test_unchanged_toast_columns_are_kept(db, mirror):
    big = "x" * 100000  # stored out of line, so an UPDATE not touching it omits it
    mirror_until_done(db, SLOT, mirror, statements=[
        "alter table big alter column doc set storage external",
        "insert into big values (1, 'a', repeat('x', 100000)), (2, 'b', repeat('y', 100000))",
        "update big set small = 'changed' where id = 1",
        # A key change with an unchanged TOAST value moves it along.
        "update big set id = 3 where id = 2",
    ])
    docs = mirror.docs("big")
    assert sorted(docs) == [1, 3]
    assert docs[1]["small"] == "changed"
    assert docs[1]["doc"] == big
    assert docs[3]["doc"] == "y" * 100000 and docs[3]["small"] == "b"


def test_truncate_empties_the_collection(db, mirror):
    mirror_until_done(db, SLOT, mirror, statements=[
        "insert into t select g, 'r', g from generate_series(1, 50) g",
        "insert into comp values (1, 'kept', 'v')",
        "truncate t",
        "insert into t values (100, 'after', 1)",
    ])
    assert sorted(mirror.docs("t")) == [100]
    assert len(mirror.docs("comp")) == 1  # other tables are untouched


def test_collection_template_and_entry_id(db, mirror):
    mirror_until_done(db, SLOT, mirror, ["--mongo-collection", "{schema}_{table}",
                                         "--mongo-entry-id", "true"], statements=[
        "insert into t values (1, 'a', 1)",
        "insert into s2.t values (7, 'v')",
        "insert into comp values (2, 'k', 'v')",
    ])
    assert strip_meta(mirror.docs("public_t")[1]) == {"_id": 1, "entry_id": 1, "id": 1, "name": "a", "n": 1}
    assert strip_meta(mirror.docs("s2_t")[7]) == {"_id": 7, "entry_id": 7, "id": 7, "v": "v"}
    comp = mirror.docs("public_comp")[(("a", 2), ("b", "k"))]
    assert comp["entry_id"] == {"a": 2, "b": "k"}
    assert "t" not in mirror.db.list_collection_names()


def test_collection_map_overrides_the_template(db, mirror):
    # One table by name, with a schema containing a dot; the rest by template.
    execute(db, 'create schema "my.s"', 'create table "my.s".t (id int primary key, v text)')
    mirror_until_done(db, SLOT, mirror, ["--mongo-collection", "{schema}_{table}",
                                         "--mongo-collection-map", "s2.t=people",
                                         "--mongo-collection-map", "my.s.t=dotted"], statements=[
        "insert into t values (1, 'a', 1)",
        "insert into s2.t values (7, 'v')",
        'insert into "my.s".t values (3, \'w\')',
    ])
    assert strip_meta(mirror.docs("people")[7]) == {"_id": 7, "id": 7, "v": "v"}
    assert strip_meta(mirror.docs("dotted")[3]) == {"_id": 3, "id": 3, "v": "w"}
    assert sorted(mirror.docs("public_t")) == [1]
    assert sorted(mirror.db.list_collection_names()) == ["dotted", "people", "public_t"]


def test_table_without_key_is_skipped_with_a_warning(db, mirror):
    log = mirror_until_done(db, SLOT, mirror, statements=[
        "insert into nokey values (1, 'a'), (2, 'b')",
        "insert into t values (1, 'a', 1)",
    ])
    assert "nokey" not in mirror.db.list_collection_names()
    assert sorted(mirror.docs("t")) == [1]
    assert log.count("skipping the changes of public.nokey") == 1, log


def test_table_without_key_fails_with_policy_fail(db, mirror):
    execute(db, "insert into nokey values (1, 'a')")
    code, out, err = run_agent(["-d", db, "-S", SLOT] + mirror.agent_args("--mongo-no-key", "fail"))
    assert code == 2, err
    assert 'collection "nokey"' in err and "mongo_no_key = fail" in err


def test_unreachable_mongo_at_start_is_a_clear_error(db):
    code, out, err = run_agent(["-d", db, "-S", SLOT, "--mongo-uri",
                                "mongodb://u:hunter2@127.0.0.1:9/?serverSelectionTimeoutMS=500"])
    assert code == 2
    assert "mongo: could not reach the server" in err
    assert "hunter2" not in err
