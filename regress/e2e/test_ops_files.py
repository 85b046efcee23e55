"""The operations files (packaging/, docker/prometheus, docker/grafana) and
docs/operations.md, checked with the tools that read them.

No server is needed.  promtool (built by scripts/install-deps.sh) checks
and unit-tests the alert rules, parses every dashboard query and checks
the compose file's Prometheus configuration; systemd-analyze verifies the
units (systemd is not PID 1 here, so they are not started); the agent
loads the sample config.  The metrics reference table of
docs/operations.md is the list every rule and dashboard panel may use.
A missing tool is a failure, not a skip: install-deps installs both.
"""
import json
import os
import re
import shutil
import subprocess

import pytest
import yaml

from conftest import AGENT_BIN, ROOT

PACKAGING = os.path.join(ROOT, "packaging")
RULES = os.path.join(PACKAGING, "prometheus", "walcast-rules.yml")
RULES_TEST = os.path.join(PACKAGING, "prometheus", "walcast-rules.test.yml")
DASHBOARD = os.path.join(PACKAGING, "grafana", "walcast-dashboard.json")
SAMPLE_CONF = os.path.join(PACKAGING, "etc", "walcast", "walcast.conf.example")
OPERATIONS = os.path.join(ROOT, "docs", "operations.md")
DOCKER = os.path.join(ROOT, "docker")
TOOLS = os.path.join(os.environ.get("WALCAST_TOOLS_DIR", "/usr/local/lib/walcast-tools"), "bin")
UNITS = ["walcast-agent.service", "walcast-agent@.service"]

# Metric names as they appear in PromQL: ours all start with one of these.
METRIC_NAME = re.compile(r"\b((?:walcast|process)_[a-z0-9_]+)\b")


@pytest.fixture(scope="module")
def promtool():
    path = os.path.join(TOOLS, "promtool")
    assert os.access(path, os.X_OK), f"{path} missing: run scripts/install-deps.sh"
    return path


@pytest.fixture(scope="module")
def systemd_analyze():
    path = shutil.which("systemd-analyze")
    assert path, "systemd-analyze missing: run scripts/install-deps.sh (package systemd)"
    return path


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


def section(markdown, heading):
    """The text of a '## heading' section, up to the next '## '."""
    m = re.search(r"^## " + re.escape(heading) + r"\n(.*?)(?=^## |\Z)", markdown, re.M | re.S)
    assert m, f"docs/operations.md has no section '## {heading}'"
    return m.group(1)


@pytest.fixture(scope="module")
def reference():
    """docs/operations.md's metrics reference: name -> (type, labels)."""
    metrics = {}
    for line in section(open(OPERATIONS).read(), "Metrics reference").splitlines():
        cells = [c.strip() for c in line.split("|")[1:-1]]
        m = re.fullmatch(r"`([a-z_]+)`", cells[0]) if len(cells) == 4 else None
        if m:
            assert m.group(1) not in metrics, f"{m.group(1)} twice in the reference"
            metrics[m.group(1)] = (cells[1], cells[2])
    return metrics


def anchors(markdown):
    """GitHub's anchors for the headings of a markdown file."""
    out = set()
    for h in re.findall(r"^#+ (.+)$", markdown, re.M):
        out.add(re.sub(r"[^a-z0-9 _-]", "", h.strip().lower()).replace(" ", "-"))
    return out


def test_metrics_reference_follows_prometheus_conventions(reference):
    assert len(reference) >= 30
    for name, (kind, _) in reference.items():
        base = kind.split()[0]
        assert base in ("counter", "gauge"), f"{name}: type {kind}"
        if base == "counter":
            assert name.endswith("_total"), f"{name}: a counter ends in _total"
        else:
            assert not name.endswith("_total"), f"{name}: only counters end in _total"
    for must in ("walcast_lag_seconds", "walcast_slot_retained_wal_bytes", "walcast_ready"):
        assert must in reference


def test_rules_pass_promtool_check(promtool):
    r = run([promtool, "check", "rules", RULES])
    assert r.returncode == 0, r.stdout + r.stderr


def test_rules_unit_tests_pass(promtool):
    # Both sides of the two thresholds the issue names must stay tested.
    tests = yaml.safe_load(open(RULES_TEST))["tests"]
    for alert in ("WalcastLagHigh", "WalcastSlotRetainedWalHigh"):
        cases = [c for t in tests for c in t.get("alert_rule_test", []) if c["alertname"] == alert]
        assert any(c["exp_alerts"] for c in cases), f"{alert}: no case where it fires"
        assert any(not c["exp_alerts"] for c in cases), f"{alert}: no case where it does not"
    r = run([promtool, "test", "rules", RULES_TEST], cwd=os.path.dirname(RULES_TEST))
    assert r.returncode == 0, r.stdout + r.stderr


def test_rules_use_reference_metrics_and_name_their_runbook(reference):
    ops_anchors = anchors(open(OPERATIONS).read())
    rules = [r for g in yaml.safe_load(open(RULES))["groups"] for r in g["rules"]]
    assert len(rules) >= 8
    for rule in rules:
        names = set(METRIC_NAME.findall(rule["expr"]))
        assert names or "up{" in rule["expr"], f"{rule['alert']}: no walcast metric"
        assert names <= set(reference), f"{rule['alert']}: {names - set(reference)} not in docs/operations.md"
        ann = rule["annotations"]
        assert ann.get("summary") and ann.get("description"), rule["alert"]
        path, _, anchor = ann["runbook"].partition("#")
        assert path == "docs/operations.md" and anchor in ops_anchors, f"{rule['alert']}: runbook {ann['runbook']}"


def dashboard_panels():
    dash = json.load(open(DASHBOARD))
    for p in dash["panels"]:
        yield from [p] + p.get("panels", [])


def test_dashboard_uses_only_reference_metrics(reference):
    dash = json.load(open(DASHBOARD))
    assert [i["name"] for i in dash["__inputs"]] == ["DS_PROMETHEUS"]
    used = set()
    ids = []
    for p in dashboard_panels():
        ids.append(p["id"])
        if p["type"] == "row":
            continue
        assert p["targets"], f"panel {p['title']} has no query"
        for t in p["targets"]:
            names = set(METRIC_NAME.findall(t["expr"]))
            assert names, f"panel {p['title']}: {t['expr']} names no walcast metric"
            assert names <= set(reference), f"panel {p['title']}: {names - set(reference)} not in docs/operations.md"
            used |= names
    assert len(ids) == len(set(ids)), "panel ids repeat"
    for must in ("walcast_lag_seconds", "walcast_lag_bytes", "walcast_events_total", "walcast_inflight_events",
                 "walcast_inflight_bytes", "walcast_confirms_total", "walcast_nacks_total", "walcast_reconnects_total",
                 "walcast_slot_retained_wal_bytes", "walcast_slot_wal_status", "walcast_sink_connected",
                 "walcast_sink_blocked", "walcast_heartbeats_total", "walcast_load_tables_done"):
        assert must in used, f"no panel shows {must}"


def test_dashboard_queries_parse(promtool, tmp_path):
    # Each query as a recording rule, Grafana's variables replaced by what
    # Grafana would put there: promtool's parser judges the PromQL.
    grafana_vars = {"$__rate_interval": "5m", "$__range": "1h", "$job": ".*", "$instance": ".*"}
    rules = []
    for p in dashboard_panels():
        for t in p.get("targets", []):
            expr = t["expr"]
            for var, value in grafana_vars.items():
                expr = expr.replace(var, value)
            assert "$" not in expr, f"panel {p['title']}: unknown variable in {expr}"
            rules.append({"record": f"dashboard:panel{p['id']}:{t['refId']}", "expr": expr})
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    r = run([promtool, "check", "rules", str(path)])
    assert r.returncode == 0, r.stdout + r.stderr


def unit_settings(path):
    """A unit file's settings: key -> list of values (keys may repeat)."""
    out = {}
    for line in open(path):
        m = re.match(r"([A-Za-z]+)=(.*)$", line.strip())
        if m:
            out.setdefault(m.group(1), []).append(m.group(2))
    return out


def agent_exit_codes():
    text = open(os.path.join(ROOT, "agent", "agent.h")).read()
    return {k: v for k, v in re.findall(r"AGENT_EXIT_([A-Z_]+) = (\d+)", text)}


def install_service(destdir, *make_vars):
    r = run(["make", "-s", "-C", PACKAGING, "install", f"DESTDIR={destdir}"] + list(make_vars))
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_install_service_stays_in_destdir_and_names_prefix(systemd_analyze, tmp_path):
    out = install_service(tmp_path, "PREFIX=/usr")
    unitdir = tmp_path / "usr/lib/systemd/system"
    for u in UNITS:
        s = unit_settings(unitdir / u)
        assert s["ExecStart"][0].startswith("/usr/bin/walcast-agent "), s["ExecStart"]
        assert s["Documentation"] == ["file:/usr/share/doc/walcast/operations.md"]
    # systemd-sysusers (package systemd, like systemd_analyze) creates the
    # user in a throwaway root: a system user, no login, its home the
    # state directory (~/.pgpass).
    (tmp_path / "etc").mkdir(exist_ok=True)
    r = run(["systemd-sysusers", f"--root={tmp_path}", str(tmp_path / "usr/lib/sysusers.d/walcast.conf")])
    assert r.returncode == 0, r.stderr
    user = [line.split(":") for line in open(tmp_path / "etc/passwd") if line.startswith("walcast:")]
    assert user and int(user[0][2]) < 1000 and user[0][5:] == ["/var/lib/walcast", "/usr/sbin/nologin\n"], user
    assert (tmp_path / "usr/share/doc/walcast/operations.md").is_file()
    assert (tmp_path / "etc/walcast/walcast.conf.example").is_file()
    assert not (tmp_path / "etc/walcast/walcast.conf").exists(), "install-service must not write a live config"
    assert "systemd-sysusers" in out


def test_units_pass_systemd_analyze_verify(systemd_analyze, tmp_path):
    # Installed with the built agent as ExecStart: verify checks that the
    # command exists.  The template is verified through an instance.
    assert os.access(AGENT_BIN, os.X_OK), "build the agent first (make -C agent)"
    install_service(tmp_path, f"bindir={os.path.dirname(AGENT_BIN)}")
    unitdir = tmp_path / "usr/local/lib/systemd/system"
    os.symlink("walcast-agent@.service", unitdir / "walcast-agent@orders.service")
    for u in ("walcast-agent.service", "walcast-agent@orders.service"):
        r = run([systemd_analyze, "verify", str(unitdir / u)])
        assert r.returncode == 0 and not r.stderr.strip(), f"{u}: {r.stdout}{r.stderr}"


def test_units_restart_policy_and_hardening():
    codes = agent_exit_codes()
    no_restart = {codes["CONFIG"], codes["BUSY"], codes["SLOT_LOST"]}
    for u in UNITS:
        s = unit_settings(os.path.join(PACKAGING, "systemd", u))
        assert s["Restart"] == ["on-failure"]
        assert set(s["RestartPreventExitStatus"][0].split()) == no_restart, u
        assert s["KillSignal"] == ["SIGTERM"] and s["ExecReload"] == ["/bin/kill -HUP $MAINPID"], u
        for key, value in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("ProtectHome", "yes"),
                           ("PrivateTmp", "yes"), ("CapabilityBoundingSet", ""), ("MemoryDenyWriteExecute", "yes"),
                           ("LockPersonality", "yes"), ("RestrictNamespaces", "yes"),
                           ("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6")):
            assert s.get(key) == [value], f"{u}: {key}"
        assert "@system-service" in s["SystemCallFilter"], u
        assert s["User"] == ["walcast"], u
    template = unit_settings(os.path.join(PACKAGING, "systemd", "walcast-agent@.service"))
    assert template["StateDirectory"] == ["walcast/%i"]
    assert "/etc/walcast/%i.conf" in template["ExecStart"][0]


def test_sample_config_loads_and_names_real_options():
    # Every setting, commented out or not, must be one the agent knows.
    help_text = run([AGENT_BIN, "--help"], check=True).stdout
    longs = set(re.findall(r"--([a-z][a-z0-9-]*)", help_text))
    keys = re.findall(r"^#?([a-z][a-z0-9_]*) =", open(SAMPLE_CONF).read(), re.M)
    assert "http_listen" in keys
    for key in keys:
        assert key.replace("_", "-") in longs, f"{key} is not an agent option"
    r = run([AGENT_BIN, "--print-config", "-c", SAMPLE_CONF])
    assert r.returncode == 0, r.stderr


def test_compose_prometheus_scrapes_the_agent_with_the_rules(promtool, tmp_path):
    compose = yaml.safe_load(open(os.path.join(DOCKER, "compose.yml")))
    services = compose["services"]
    port = services["agent"]["environment"]["WALCAST_HTTP_LISTEN"].rsplit(":", 1)[1]
    mounts = {}
    for svc in ("prometheus", "grafana"):
        for v in services[svc]["volumes"]:
            host, container = v.split(":")[:2]
            host = os.path.normpath(os.path.join(DOCKER, host))
            assert os.path.exists(host), f"{svc}: {host} missing"
            mounts[container] = host
    conf = yaml.safe_load(open(mounts["/etc/prometheus/prometheus.yml"]))
    targets = [t for job in conf["scrape_configs"] if job["job_name"] == "walcast-agent"
               for sc in job["static_configs"] for t in sc["targets"]]
    assert targets == [f"agent:{port}"]
    assert all(rf in mounts for rf in conf["rule_files"])
    assert mounts[conf["rule_files"][0]] == RULES
    # promtool checks the configuration and the rules it would load, with
    # the container's paths mapped back to the files compose mounts.
    conf["rule_files"] = [mounts[rf] for rf in conf["rule_files"]]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(conf))
    r = run([promtool, "check", "config", str(tmp_path / "prometheus.yml")])
    assert r.returncode == 0, r.stdout + r.stderr
    provisioning = mounts["/etc/grafana/provisioning"]
    for d in ("datasources", "dashboards"):
        for f in os.listdir(os.path.join(provisioning, d)):
            assert yaml.safe_load(open(os.path.join(provisioning, d, f)))["apiVersion"] == 1
    assert mounts["/var/lib/grafana/dashboards/walcast-dashboard.json"] == DASHBOARD
