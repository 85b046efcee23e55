"""The test S3 server (scripts/s3.sh, SeaweedFS) behaves as the
object-storage sink's tests need: objects round-trip, credentials are
checked with S3's own error codes, multipart uploads work, and an
unfinished one is not an object.  Real requests with boto3, through the
fixtures of conftest.py."""
import hashlib
import os
import stat
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import s3_client

MIB = 1024 * 1024


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def test_put_get(s3, s3_bucket):
    body = b"walcast\n" * 1000
    s3.put_object(Bucket=s3_bucket, Key="dir/one.jsonl", Body=body)
    got = s3.get_object(Bucket=s3_bucket, Key="dir/one.jsonl")
    assert got["Body"].read() == body
    assert got["ContentLength"] == len(body)
    listed = s3.list_objects_v2(Bucket=s3_bucket, Prefix="dir/")
    assert [o["Key"] for o in listed["Contents"]] == ["dir/one.jsonl"]


def test_missing_bucket(s3):
    """No bucket is made on upload (-s3.autoCreateBucket=false), as on S3."""
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="t-no-such-bucket", Key="k", Body=b"x")
    assert error_code(e) == "NoSuchBucket"


def test_wrong_credentials(s3_config, s3_bucket):
    with pytest.raises(ClientError) as e:
        s3_client(s3_config, secret="0" * 48).put_object(Bucket=s3_bucket, Key="k", Body=b"x")
    assert error_code(e) == "SignatureDoesNotMatch"
    with pytest.raises(ClientError) as e:
        s3_client(s3_config, access_key="nobody").list_objects_v2(Bucket=s3_bucket)
    assert error_code(e) == "InvalidAccessKeyId"


def test_anonymous_refused(s3_config, s3, s3_bucket):
    s3.put_object(Bucket=s3_bucket, Key="k", Body=b"secret data")
    anon = s3_client(s3_config, signed=False)
    for call in (lambda: anon.get_object(Bucket=s3_bucket, Key="k"),
                 lambda: anon.put_object(Bucket=s3_bucket, Key="k2", Body=b"x"),
                 lambda: anon.list_objects_v2(Bucket=s3_bucket)):
        with pytest.raises(ClientError) as e:
            call()
        assert error_code(e) == "AccessDenied"
    # a plain HTTP GET, as a browser or curl would send it
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{s3_config.endpoint}/{s3_bucket}/k", timeout=10)
    assert e.value.code == 403
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=s3_bucket)["Contents"]] == ["k"]


def test_secret_kept_private(s3_config):
    """The secret is in a file only its owner reads, not in the env file."""
    assert stat.S_IMODE(os.stat(s3_config.secret_file).st_mode) == 0o600
    with open(os.path.join(os.environ["WALCAST_RUN_DIR"], "env")) as f:
        assert s3_config.secret not in f.read()


def test_multipart(s3, s3_bucket):
    parts = [os.urandom(5 * MIB), os.urandom(5 * MIB), b"tail" * 256]
    up = s3.create_multipart_upload(Bucket=s3_bucket, Key="big.bin")
    done = []
    for n, data in enumerate(parts, 1):
        r = s3.upload_part(Bucket=s3_bucket, Key="big.bin", UploadId=up["UploadId"],
                           PartNumber=n, Body=data)
        done.append({"PartNumber": n, "ETag": r["ETag"]})
    s3.complete_multipart_upload(Bucket=s3_bucket, Key="big.bin", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": done})
    whole = b"".join(parts)
    got = s3.get_object(Bucket=s3_bucket, Key="big.bin")
    assert got["ContentLength"] == len(whole)
    assert hashlib.sha256(got["Body"].read()).digest() == hashlib.sha256(whole).digest()
    # S3's multipart ETag: the MD5 of the parts' MD5s, dash, part count
    assert got["ETag"].strip('"') == hashlib.md5(
        b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + "-3"
    assert s3.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []


def test_unfinished_multipart_not_listed(s3, s3_bucket):
    """A multipart upload that was begun and given a part, but never
    completed (a sink that crashed mid-object), leaves no object: listings
    and reads do not see it, only the uploads listing does."""
    up = s3.create_multipart_upload(Bucket=s3_bucket, Key="partial.bin")
    s3.upload_part(Bucket=s3_bucket, Key="partial.bin", UploadId=up["UploadId"],
                   PartNumber=1, Body=os.urandom(5 * MIB))
    s3.put_object(Bucket=s3_bucket, Key="whole.bin", Body=b"x")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=s3_bucket)["Contents"]] == ["whole.bin"]
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=s3_bucket, Key="partial.bin")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    uploads = s3.list_multipart_uploads(Bucket=s3_bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("partial.bin", up["UploadId"])]
    s3.abort_multipart_upload(Bucket=s3_bucket, Key="partial.bin", UploadId=up["UploadId"])
    assert s3.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []


def test_duckdb_reads_an_object(s3, s3_bucket, tmp_path):
    """DuckDB (install-deps.sh, on sys.path through conftest.py) reads what
    was stored; the object is fetched with boto3 first (DuckDB's httpfs
    extension would be downloaded at run time, which cannot happen here)."""
    import duckdb
    s3.put_object(Bucket=s3_bucket, Key="rows.jsonl", Body=b'{"id": 1, "v": "a"}\n{"id": 2, "v": "b"}\n')
    path = tmp_path / "rows.jsonl"
    s3.download_file(s3_bucket, "rows.jsonl", str(path))
    rows = duckdb.sql(f"select id, v from read_json_auto('{path}') order by id").fetchall()
    assert rows == [(1, "a"), (2, "b")]
