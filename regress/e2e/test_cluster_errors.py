"""Bad input for the cluster options (docs/agent-config.md, issue 16's
contract): each gives one clear error and exit code 1.

- every broker of --amqp-uri unreachable at the first start: each URI named
  (masked: no password) with its error;
- --partitions out of range or not a number, or without --queue;
  --partitions 0 (unset is off, 0 is no number of partitions);
- an unknown --queue-type; retention options with a queue type other than
  stream;
- a queue type the broker refuses at declare: the queue exists with
  another type (PRECONDITION_FAILED), or the broker does not support the
  type at all (a node started with the quorum_queue and stream_queue
  feature flags off, as a broker that predates them: it closes the
  connection with "the corresponding feature flag is disabled").

The configuration errors are checked against a reachable broker (the
cluster's node a), so that only the refusal can end the agent with 1.
"""
import os
import re
import shutil
import socket
import subprocess
import tempfile
import uuid

import pika
import pytest

from agent_helpers import error_lines, prepare_db, run_agent
from cluster_helpers import cluster  # noqa: F401
from conftest import SCRIPTS

SLOT = "wc_cluster_err"
# The feature flags of RabbitMQ 3.10 but quorum_queue and stream_queue.
OLD_FLAGS = ("classic_mirrored_queue_version,implicit_default_bindings,maintenance_mode_status,"
             "user_limits,virtual_host_metadata")


@pytest.fixture
def db(fresh_db):
    return prepare_db(fresh_db, SLOT, "create table t (id int primary key)")


def one_error(stderr, pattern):
    """The one error line; it matches pattern, and it is not the refusal
    of an option this agent does not know (an agent before issue 16)."""
    errs = error_lines(stderr)
    assert len(errs) == 1, stderr
    assert "unknown option" not in errs[0], errs[0]
    assert re.search(pattern, errs[0], re.I), errs[0]
    return errs[0]


def closed_ports(n):
    """n loopback ports nothing listens on (bound, then released)."""
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def test_all_brokers_unreachable_exits_1_naming_each(db):
    ports = closed_ports(3)
    uris = ["amqp://guest:s3cret-pw@127.0.0.1:%d/%%2f" % p for p in ports]
    # both forms: a comma-separated value and a repeated option
    rc, _, err = run_agent(["-d", db, "-S", SLOT, "--amqp-uri", ",".join(uris[:2]),
                            "--amqp-uri", uris[2]], timeout=120)
    assert rc == 1, err
    assert error_lines(err), err
    for p in ports:
        assert re.search(r"127\.0\.0\.1:%d\b.*(refused|connect)" % p, err, re.I), err
    assert "s3cret-pw" not in err


def agent_args(db, cluster, *extra):
    return ["-d", db, "-S", SLOT, "--amqp-uri", cluster.uris["a"],
            "--exchange", "wc_err_" + uuid.uuid4().hex[:8]] + list(extra)


@pytest.mark.parametrize("value", ["-1", "abc", "1025", "4x"])
def test_partitions_out_of_range_exits_1(db, cluster, value):
    rc, _, err = run_agent(agent_args(db, cluster, "--queue", "wc_err_q",
                                      "--partitions", value), timeout=30)
    assert rc == 1, err
    one_error(err, "partitions")


def test_partitions_need_a_queue(db, cluster):
    rc, _, err = run_agent(agent_args(db, cluster, "--partitions", "4"), timeout=30)
    assert rc == 1, err
    one_error(err, "queue")


def test_partitions_0_exits_1():
    """The issue's bad input: 0 partitions is refused (unset is off)."""
    rc, _, err = run_agent(["--amqp-uri", "amqp://guest:guest@127.0.0.1:1/%2f",
                            "--partitions", "0", "--print-config"])
    assert rc == 1, err
    one_error(err, r"--partitions: 0 is out of range \(1\.\.1024\)")


def test_unknown_queue_type_exits_1(db, cluster):
    rc, _, err = run_agent(agent_args(db, cluster, "--queue", "wc_err_q",
                                      "--queue-type", "fancy"), timeout=30)
    assert rc == 1, err
    one_error(err, "queue.type")


@pytest.mark.parametrize("extra", [["--queue-type", "quorum", "--queue-max-age", "7D"],
                                   ["--queue-max-length-bytes", "1GB"]])
def test_retention_only_for_streams(db, cluster, extra):
    rc, _, err = run_agent(agent_args(db, cluster, "--queue", "wc_err_q", *extra),
                           timeout=30)
    assert rc == 1, err
    one_error(err, "max.(age|length)")


def test_queue_exists_with_another_type_exits_1(db, cluster):
    """The queue was declared classic by someone else: declaring it quorum
    is refused by the broker (PRECONDITION_FAILED, inequivalent arg
    'x-queue-type'); the agent quotes it and stops."""
    queue = "wc_err_q_" + uuid.uuid4().hex[:8]
    conn = pika.BlockingConnection(cluster.params())
    ch = conn.channel()
    ch.queue_declare(queue, durable=True)
    try:
        rc, _, err = run_agent(agent_args(db, cluster, "--queue", queue,
                                          "--queue-type", "quorum"), timeout=60)
        assert rc == 1, err
        line = one_error(err, "PRECONDITION_FAILED")
        assert "x-queue-type" in line and queue in line, line
    finally:
        ch.queue_delete(queue)
        conn.close()


@pytest.fixture(scope="module")
def old_broker():
    """A single broker without the quorum and stream queue types (their
    feature flags off at its first start), started by scripts/rabbitmq.sh on
    the port after the cluster's three (WALCAST_CLUSTER_AMQP_PORT + 3, its
    distribution port WALCAST_CLUSTER_DIST_PORT + 3); its URI."""
    amqp = int(os.environ.get("WALCAST_CLUSTER_AMQP_PORT", "26740")) + 3
    dist = int(os.environ.get("WALCAST_CLUSTER_DIST_PORT", str(amqp - 3 - 20000))) + 3
    run_dir = tempfile.mkdtemp(prefix="walcast-oldbroker-")
    os.chmod(run_dir, 0o755)
    env = dict(os.environ, WALCAST_RUN_DIR=run_dir, WALCAST_AMQP_PORT=str(amqp),
               WALCAST_AMQP_DIST_PORT=str(dist), RABBITMQ_FEATURE_FLAGS=OLD_FLAGS,
               WALCAST_QUIET="1")
    script = os.path.join(SCRIPTS, "rabbitmq.sh")
    subprocess.run([script, "start"], env=env, check=True, timeout=180)
    try:
        yield "amqp://guest:guest@127.0.0.1:%d/%%2f" % amqp
    finally:
        subprocess.run([script, "stop"], env=env, timeout=120)
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.mark.parametrize("queue_type", ["stream", "quorum"])
def test_queue_type_the_broker_does_not_support_exits_1(db, old_broker, queue_type):
    rc, _, err = run_agent(["-d", db, "-S", SLOT, "--amqp-uri", old_broker, "--exchange",
                            "wc_err_x", "--queue", "wc_err_q", "--queue-type", queue_type],
                           timeout=60)
    assert rc == 1, err
    one_error(err, "feature flag is disabled")
