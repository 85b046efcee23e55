"""The docker/ files: no Docker engine runs here, so they are checked statically.

hadolint (installed by scripts/install-deps.sh) lints each Dockerfile; the
compose file must parse, build from Dockerfiles that exist, and configure the
agent only through environment variables the agent really reads (checked
against `walcast-agent --help`, the same table the agent parses); the
PostgreSQL image's settings must let the server load the plugin.
"""
import os
import re
import subprocess

import yaml

from conftest import AGENT_BIN, ROOT

DOCKER = os.path.join(ROOT, "docker")
HADOLINT = os.path.join(os.environ.get("WALCAST_TOOLS_DIR", "/usr/local/lib/walcast-tools"), "bin", "hadolint")


def dockerfiles():
    found = []
    for d, _, files in os.walk(DOCKER):
        found += [os.path.join(d, f) for f in files if f == "Dockerfile"]
    return sorted(found)


def test_dockerfiles_pass_hadolint():
    files = dockerfiles()
    assert len(files) >= 2
    r = subprocess.run([HADOLINT, "--no-color", "--config", os.path.join(DOCKER, ".hadolint.yaml")] + files,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_compose_builds_existing_dockerfiles_and_copies_existing_paths():
    compose = yaml.safe_load(open(os.path.join(DOCKER, "compose.yml")))
    built = 0
    for name, svc in compose["services"].items():
        build = svc.get("build")
        if not build:
            continue
        context = os.path.normpath(os.path.join(DOCKER, build["context"]))
        dockerfile = os.path.join(context, build["dockerfile"])
        assert os.path.isfile(dockerfile), f"{name}: {dockerfile} missing"
        for line in open(dockerfile):
            m = re.match(r"COPY\s+(?!--from)(\S+)\s", line)
            if m:
                assert os.path.exists(os.path.join(context, m.group(1))), f"{name}: COPY {m.group(1)} missing"
        built += 1
    assert built >= 2


def test_compose_agent_environment_names_real_options():
    compose = yaml.safe_load(open(os.path.join(DOCKER, "compose.yml")))
    env = compose["services"]["agent"]["environment"]
    help_text = subprocess.run([AGENT_BIN, "--help"], capture_output=True, text=True, check=True).stdout
    longs = set(re.findall(r"--([a-z][a-z0-9-]*)", help_text))
    names = [k for k in env if k.startswith("WALCAST_")]
    assert names, "the agent service is configured through WALCAST_ variables"
    for k in names:
        option = k[len("WALCAST_"):].lower().replace("_", "-")
        assert option in longs, f"{k} is not an agent option"
    # No literal password in the compose file: only ${...} references.
    for k, v in env.items():
        assert not re.search(r"://[^:/@]+:[^$@/][^@/]*@", str(v)), f"{k} has a literal password"


def test_postgres_image_config_allows_the_plugin():
    conf = open(os.path.join(DOCKER, "postgres", "walcast.conf")).read()
    assert re.search(r"^wal_level\s*=\s*logical", conf, re.M)
    m = re.search(r"^output_plugin_libraries\s*=\s*'([^']*)'", conf, re.M)
    assert m and "walcast" in [x.strip() for x in m.group(1).split(",")]
