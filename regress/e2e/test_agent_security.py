"""Credentials never show: not in ps (the process's command line), not in
the log, not in --print-config."""
import re

from agent_helpers import Agent, broker, events_of, execute, prepare_db, run_agent  # noqa: F401

SLOT = "wc_security"
PG_SECRET = "pg-Secret-4711"


def cmdline(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().replace(b"\0", b" ").decode()


def test_passwords_hidden_from_ps_and_log(fresh_db, broker):  # noqa: F811
    dsn = prepare_db(fresh_db, SLOT, "create table t (id int primary key)")
    # Trust authentication ignores the password, so any will do; the
    # broker's is real (guest), and must be hidden just the same.
    amqp_password = re.search(r"://[^:]+:([^@]+)@", broker.uri).group(1)
    agent = Agent(["-d", dsn + f" password={PG_SECRET}", "-S", SLOT, "-v"] + broker.agent_args())
    try:
        execute(dsn, "insert into t values (1)")
        assert len(events_of(broker.collect(1))) == 1
        shown = cmdline(agent.proc.pid)
        assert PG_SECRET not in shown
        assert f":{amqp_password}@" not in shown
        assert "password=" + "*" * len(PG_SECRET) in shown
        assert agent.stop() == 0
        log = agent.log()
        assert PG_SECRET not in log
        assert f":{amqp_password}@" not in log
    finally:
        agent.close()


def test_print_config_masks_passwords(fresh_db):
    rc, out, _ = run_agent(["-d", fresh_db + f" password={PG_SECRET}",
                            "--amqp-uri", "amqp://walcast:mq-Secret-99@127.0.0.1:5672/%2f",
                            "--print-config"])
    assert rc == 0
    assert PG_SECRET not in out and "mq-Secret-99" not in out
    assert re.search(r"^amqp_uri = .*walcast:\*+@127\.0\.0\.1", out, re.M), out
