"""Typed BSON in the mirror: every type of docs/mongo.md's mapping.

On FerretDB (the default test server) numeric (and a json number that is
no int64) is stored as a string, NaN/Infinity as strings and nested arrays
as JSON text (the documented fallbacks); with MONGO_FLAVOR=mongodb the
native forms are checked.
"""
import datetime
import math
import uuid

import bson
import pytest

from agent_helpers import prepare_db
from mongo_helpers import mirror, mirror_until_done, FERRETDB  # noqa: F401

SLOT = "wc_mongo_types"


@pytest.fixture
def db(fresh_db):
    return prepare_db(fresh_db, SLOT, """
        create table ty (
            id bigint primary key, i2 smallint, i4 int, i8 bigint,
            f4 real, f8 double precision, fnan double precision, finf double precision,
            n numeric, n2 numeric(10,2), nbig numeric,
            b boolean, t text, j json, jb jsonb, jarr jsonb,
            ba bytea, u uuid,
            ts timestamp, tstz timestamptz, tsinf timestamptz, d date,
            ia int[], ta text[], ia2 int[],
            iv interval, tm time)""")


def bson_type(raw, key):
    """The BSON element type byte of a top-level field."""
    pos = 4
    while raw[pos] != 0:
        t = raw[pos]
        end = raw.index(b"\0", pos + 1)
        name = raw[pos + 1:end].decode()
        if name == key:
            return t
        pos = _skip(raw, t, end + 1)
    return None


def _skip(raw, t, pos):
    import struct
    fixed = {0x01: 8, 0x07: 12, 0x08: 1, 0x09: 8, 0x0A: 0, 0x10: 4, 0x11: 8, 0x12: 8, 0x13: 16}
    if t in fixed:
        return pos + fixed[t]
    if t in (0x02, 0x0D, 0x0E):
        return pos + 4 + struct.unpack_from("<i", raw, pos)[0]
    if t in (0x03, 0x04):
        return pos + struct.unpack_from("<i", raw, pos)[0]
    if t == 0x05:
        return pos + 5 + struct.unpack_from("<i", raw, pos)[0]
    raise AssertionError("unexpected BSON type %#x" % t)


def test_every_type(db, mirror):
    mirror_until_done(db, SLOT, mirror, statements=["""
        insert into ty values (
            1, -32768, 2147483647, 9223372036854775807,
            1.5, 0.1, 'NaN', '-Infinity',
            '12.340', 3.14, '123456789012345678901234567890123456789.5',
            true, 'héllo', '{"a": [1, 2.5, "x"], "b": null}', '{"k": {"n": true}}', '[1, [2, 3]]',
            '\\x00ff10', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
            '2024-02-29 13:14:15.123456', '2024-02-29 11:14:15.000001+00', 'infinity', '2024-02-29',
            '{1,NULL,3}', '{"a b",c}', '{{1,2},{3,4}}',
            '1 day 2 hours', '13:14:15')""",
        "insert into ty (id) values (2)"])
    doc = mirror.docs("ty")[1]
    raw = mirror.db.get_collection("ty", codec_options=bson.CodecOptions(
        uuid_representation=bson.binary.UuidRepresentation.STANDARD)).find_one({"_id": 1})
    assert doc["_id"] == 1
    assert doc["i2"] == -32768 and doc["i4"] == 2147483647 and doc["i8"] == 9223372036854775807
    # int32 vs int64 as BSON: read the element types from the raw bytes.
    rawdoc = mirror.db.get_collection("ty", codec_options=bson.CodecOptions(
        document_class=bson.raw_bson.RawBSONDocument)).find_one({"_id": 1})
    assert bson_type(rawdoc.raw, "i4") == 0x10 and bson_type(rawdoc.raw, "i2") == 0x10
    assert bson_type(rawdoc.raw, "i8") == 0x12 and bson_type(rawdoc.raw, "id") == 0x12
    assert bson_type(rawdoc.raw, "ts") == 0x09 and bson_type(rawdoc.raw, "u") == 0x05
    assert doc["f4"] == 1.5 and doc["f8"] == 0.1
    if FERRETDB:
        assert doc["fnan"] == "NaN" and doc["finf"] == "-Infinity"
        assert doc["n"] == "12.340" and doc["n2"] == "3.14"
        assert doc["jarr"] == "[1,[2,3]]" and doc["ia2"] == "[[1,2],[3,4]]"
    else:
        assert math.isnan(doc["fnan"]) and doc["finf"] == -math.inf
        assert doc["n"] == bson.decimal128.Decimal128("12.340")
        assert doc["n2"] == bson.decimal128.Decimal128("3.14")
        assert doc["jarr"] == [1, [2, 3]] and doc["ia2"] == [[1, 2], [3, 4]]
    # Beyond Decimal128's 34 digits the exact digits stay a string.
    assert doc["nbig"] == "123456789012345678901234567890123456789.5"
    assert doc["b"] is True and doc["t"] == "héllo"
    # A json number that is no int64 follows --mongo-numeric, as numeric does.
    if FERRETDB:
        assert doc["j"] == {"a": [1, "2.5", "x"], "b": None}
    else:
        assert doc["j"] == {"a": [1, bson.decimal128.Decimal128("2.5"), "x"], "b": None}
    assert doc["jb"] == {"k": {"n": True}}
    # stored as JSON text on FerretDB (nested arrays), marked as such
    assert doc["_walcast"].get("json", {}) == ({"jarr": True, "ia2": True} if FERRETDB else {})
    assert doc["ba"] == b"\x00\xff\x10"
    assert raw["u"] == uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
    # Dates to the millisecond, the rest of the microseconds in the metadata.
    assert doc["ts"] == datetime.datetime(2024, 2, 29, 13, 14, 15, 123000)
    assert doc["_walcast"]["us"]["ts"] == 456
    assert doc["tstz"] == datetime.datetime(2024, 2, 29, 11, 14, 15, 0)
    assert doc["_walcast"]["us"]["tstz"] == 1
    assert doc["d"] == datetime.datetime(2024, 2, 29)
    assert doc["ia"] == [1, None, 3] and doc["ta"] == ["a b", "c"]
    assert doc["iv"] == "P1DT2H" and doc["tm"] == "13:14:15"
    # SQL NULLs are BSON nulls, every column present.
    empty = mirror.docs("ty")[2]
    assert set(empty) - {"_walcast"} == set(doc) - {"_walcast"}
    assert all(v is None for k, v in empty.items() if k not in ("_id", "id", "_walcast"))
    assert "us" not in empty["_walcast"]
    assert doc["tsinf"] == "infinity"
