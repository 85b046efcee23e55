"""Reading the object-storage sink's lake the way a user would: boto3
lists and downloads the objects, DuckDB reads the CSV files and rebuilds
each table from its load and its changes (docs/object-storage.md).

The store is the real S3-compatible server scripts/s3.sh starts; its
address and credentials come from the environment servers.sh writes
(WALCAST_S3_ENDPOINT, AWS_ACCESS_KEY_ID, WALCAST_S3_SECRET_FILE).
"""
import gzip
import json
import os
import uuid

import boto3
import duckdb
import pytest
from botocore.config import Config


def s3_settings():
    """(endpoint, access key, secret) of the test store, or skip the
    caller: run through `make test`, or source servers.sh's env."""
    endpoint = os.environ.get("WALCAST_S3_ENDPOINT")
    key = os.environ.get("AWS_ACCESS_KEY_ID")
    secret_file = os.environ.get("WALCAST_S3_SECRET_FILE")
    if not (endpoint and key and secret_file):
        pytest.exit("WALCAST_S3_ENDPOINT, AWS_ACCESS_KEY_ID and WALCAST_S3_SECRET_FILE are not set: "
                    "run through `make test`, or `make servers-up` and source $WALCAST_RUN_DIR/env",
                    returncode=2)
    with open(secret_file, encoding="ascii") as f:
        return endpoint, key, f.read().strip()


def client(endpoint, key, secret):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=Config(s3={"addressing_style": "path"},
                                      retries={"max_attempts": 2}))


class Lake:
    """A bucket of its own for one test, and how to read it."""

    def __init__(self, endpoint, key, secret, create=True):
        self.endpoint, self.key, self.secret = endpoint, key, secret
        self.s3 = client(endpoint, key, secret)
        self.bucket = "wc-" + uuid.uuid4().hex[:12]
        if create:
            self.s3.create_bucket(Bucket=self.bucket)

    def agent_args(self, prefix="lake", *extra):
        return ["--s3-uri", f"s3://{self.bucket}/{prefix}", "--s3-endpoint", self.endpoint,
                "--s3-path-style=true"] + list(extra)

    def agent_env(self):
        """The credentials, where every AWS tool reads them: the environment."""
        return {"AWS_ACCESS_KEY_ID": self.key, "AWS_SECRET_ACCESS_KEY": self.secret}

    def keys(self, prefix=""):
        """Every key under prefix, in name order (ListObjectsV2, all pages)."""
        out = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                       Prefix=prefix):
            out.extend(o["Key"] for o in page.get("Contents", []))
        return sorted(out)

    def objects(self, prefix=""):
        """{key: (etag, body bytes)} of every object under prefix."""
        out = {}
        for k in self.keys(prefix):
            r = self.s3.get_object(Bucket=self.bucket, Key=k)
            out[k] = (r["ETag"], r["Body"].read())
        return out

    def download(self, prefix, directory):
        """The objects of each table under prefix, downloaded into
        directory: {(schema, table): [load paths..., change paths...]}, in
        the order a reader applies them (LOAD objects by name, then change
        objects by name)."""
        tables = {}
        for k in self.keys(prefix + "/"):
            rest = k[len(prefix) + 1:]
            if rest.startswith("_walcast/"):
                continue
            schema, table, name = rest.split("/", 2)
            path = os.path.join(directory, schema, table, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            self.s3.download_file(self.bucket, k, path)
            tables.setdefault((schema, table), []).append(path)
        for paths in tables.values():
            paths.sort(key=lambda p: (not os.path.basename(p).startswith("LOAD"),
                                      os.path.basename(p)))
        return tables

    def delete(self):
        for k in self.keys():
            self.s3.delete_object(Bucket=self.bucket, Key=k)
        self.s3.delete_bucket(Bucket=self.bucket)


def rebuild(paths, key_columns):
    """The table's current rows from its load and change objects, by the
    query docs/object-storage.md gives (every value read as text here, to
    compare exactly): rows in apply order (LOAD objects, then the others by
    name, then file order), nothing before the last TRUNCATE, the last row
    of each key unless it is a delete.  Returns (columns, sorted list of
    row tuples)."""
    con = duckdb.connect()
    files = ", ".join("'%s'" % p.replace("'", "''") for p in paths)
    key = ", ".join('"%s"' % k for k in key_columns)
    rel = con.sql(f"""
        with changes as (
            select *,
                   row_number() over (order by starts_with(parse_filename(filename), 'LOAD') desc,
                                               parse_filename(filename), ordinality) as pos
            from read_csv([{files}], union_by_name = true, allow_quoted_nulls = false,
                          filename = true, header = true, all_varchar = true) with ordinality
        ),
        after_truncate as (
            select * from changes
            where pos > (select coalesce(max(pos), 0) from changes where Op = 'T')
        )
        select * exclude (Op, filename, ordinality, pos)
        from after_truncate
        qualify row_number() over (partition by {key} order by pos desc) = 1 and Op <> 'D'
    """)
    cols, rows = rel.columns, rel.fetchall()
    con.close()
    return cols, sorted(rows, key=lambda r: tuple("" if v is None else v for v in r))


def load_rows(paths):
    """A fresh load's rows (LOAD objects only), as rebuild returns them."""
    con = duckdb.connect()
    files = ", ".join("'%s'" % p.replace("'", "''") for p in paths)
    rel = con.sql("select * exclude (Op) from read_csv([%s], header=true, all_varchar=true, "
                  "allow_quoted_nulls=false, union_by_name=true)" % files)
    cols, rows = rel.columns, rel.fetchall()
    con.close()
    return cols, sorted(rows, key=lambda r: tuple("" if v is None else v for v in r))


def jsonl_records(body, key):
    """The records of a JSON-lines object (gzip'd when its name says so);
    every line whole: a partial object is never visible."""
    if key.endswith(".gz"):
        body = gzip.decompress(body)
    text = body.decode("utf-8")
    assert text == "" or text.endswith("\n"), "object %s ends in a partial line" % key
    return [json.loads(line) for line in text.split("\n") if line]
