"""tests/integration/test_deploy.py - checks of docker-compose.yml and deploy/Dockerfile.

No Docker engine runs here, so these read the files: docker-compose validates
the compose file (Debian's docker-compose 1.29 needs no engine for `config`),
yamllint checks its form, and the YAML and the Dockerfile are parsed to check
the facts operators rely on (one-shot migrate, scalable workers, KRaft Kafka,
multi-stage non-root image with the three programs and the migrations).
"""

import os
import pathlib
import re
import shlex
import subprocess

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "deploy" / "Dockerfile"
PROGRAMS = ("calsync", "calsync-worker", "calsync-scheduler")
CALSYNC_SERVICES = ("migrate", "scheduler", "worker")
RUNTIME_LIBS = ("libhiredis0.14", "librdkafka1", "libcurl4", "libpq5", "libjansson4",
                "libical3", "libsodium23", "libxml2", "libmicrohttpd12", "ca-certificates")


def compose_config(secret_keys, tmp_path):
    """`docker-compose config -q`, ignoring any operator .env in the repo."""
    env = {k: v for k, v in os.environ.items() if k != "CALSYNC_SECRET_KEYS"}
    if secret_keys is not None:
        env["CALSYNC_SECRET_KEYS"] = secret_keys
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    return subprocess.run(["docker-compose", "--env-file", str(env_file), "-f", str(COMPOSE),
                           "config", "-q"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def stages():
    return dockerfile_stages(DOCKERFILE.read_text())


def dockerfile_instructions(text):
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    logical, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        current += " " + stripped[:-1] if stripped.endswith("\\") else " " + stripped
        if not stripped.endswith("\\"):
            logical.append(current.strip())
            current = ""
    pairs = []
    for line in logical:
        word, _, rest = line.partition(" ")
        pairs.append((word.upper(), rest.strip()))
    return pairs


def dockerfile_stages(text):
    """List of stages: {"from": image, "name": alias, "ins": [(INSTR, args)...]}."""
    stages = []
    for instr, args in dockerfile_instructions(text):
        if instr == "FROM":
            words = args.split()
            name = words[2] if len(words) > 2 and words[1].lower() == "as" else None
            stages.append({"from": words[0], "name": name, "ins": []})
        elif stages:
            stages[-1]["ins"].append((instr, args))
    return stages


def args_of(stage, instr):
    return [args for i, args in stage["ins"] if i == instr]


# ------------------------------------------------------------ docker-compose.yml

def test_compose_config_is_valid(tmp_path):
    result = compose_config("k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", tmp_path)
    assert result.returncode == 0, result.stderr


def test_compose_requires_secret_keys(tmp_path):
    result = compose_config(None, tmp_path)
    assert result.returncode != 0
    assert "set CALSYNC_SECRET_KEYS" in result.stderr


def test_compose_yamllint():
    config = "{extends: relaxed, rules: {line-length: {max: 100}}}"
    result = subprocess.run(["yamllint", "-s", "-d", config, str(COMPOSE)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_has_every_service(compose):
    assert set(compose["services"]) >= {"postgres", "redis", "kafka", *CALSYNC_SERVICES}
    assert compose["services"]["postgres"]["image"] == "postgres:15"
    assert compose["services"]["redis"]["image"] == "redis:7"


@pytest.mark.parametrize("name", ["postgres", "redis", "kafka"])
def test_infrastructure_has_healthcheck(compose, name):
    assert compose["services"][name]["healthcheck"]["test"]


def test_kafka_is_official_image_in_kraft_mode(compose):
    kafka = compose["services"]["kafka"]
    env = kafka["environment"]
    assert kafka["image"] == "apache/kafka:3.9.1"
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    node_id = str(env["KAFKA_NODE_ID"])
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].startswith(f"{node_id}@kafka:")
    assert "CONTROLLER" in env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert not any("ZOOKEEPER" in key for key in env)


def test_migrate_is_one_shot(compose):
    migrate = compose["services"]["migrate"]
    assert migrate["command"] == ["calsync", "migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name,program", [("scheduler", "calsync-scheduler"),
                                          ("worker", "calsync-worker")])
def test_long_running_services_wait_for_migrate(compose, name, program):
    svc = compose["services"][name]
    assert svc["command"] == [program]
    deps = svc["depends_on"]
    assert deps["migrate"]["condition"] == "service_completed_successfully"
    assert deps["redis"]["condition"] == "service_healthy"
    assert deps["kafka"]["condition"] == "service_healthy"


def test_worker_can_be_scaled(compose):
    worker = compose["services"]["worker"]
    assert "container_name" not in worker
    assert "ports" not in worker
    assert "hostname" not in worker


@pytest.mark.parametrize("name", CALSYNC_SERVICES)
def test_calsync_services_use_contract_settings(compose, name):
    svc = compose["services"][name]
    env = svc["environment"]
    assert svc["build"]["dockerfile"] == "deploy/Dockerfile"
    assert all(key.startswith("CALSYNC_") for key in env)
    assert env["CALSYNC_DATABASE_URL"].startswith("postgresql://")
    assert env["CALSYNC_DATABASE_URL"].endswith("@postgres:5432/calsync")
    assert env["CALSYNC_REDIS_URL"] == "redis://redis:6379/0"
    assert env["CALSYNC_KAFKA_BROKERS"] == "kafka:9092"
    assert env["CALSYNC_SECRET_KEYS"].startswith("${CALSYNC_SECRET_KEYS:?")


# ------------------------------------------------------------ deploy/Dockerfile

def test_dockerfile_is_multi_stage(stages):
    assert len(stages) >= 2
    assert stages[0]["from"] == "debian:12" and stages[0]["name"]
    assert stages[-1]["from"] == "debian:12-slim"


def test_builder_compiles_every_source_dir(stages):
    builder = stages[0]
    copied = " ".join(args_of(builder, "COPY"))
    source_dirs = sorted({p.parent.relative_to(REPO).parts[0]
                          for p in REPO.glob("*/*.c") if p.parent.name != "tests"})
    assert source_dirs, "no C sources found"
    for directory in source_dirs + ["Makefile"]:
        assert re.search(rf"(^|\s){re.escape(directory)}/?(\s|$)", copied), \
            f"builder does not copy {directory}"
    runs = " ".join(args_of(builder, "RUN"))
    assert "make" in runs
    for program in PROGRAMS:
        assert f"build/{program}" in runs


def test_runtime_has_only_runtime_libraries(stages):
    runs = " ".join(args_of(stages[-1], "RUN"))
    for lib in RUNTIME_LIBS:
        assert re.search(rf"\s{re.escape(lib)}(\s|$)", runs), f"{lib} not installed"
    assert not re.search(r"-dev\b|build-essential", runs)


def test_runtime_copies_the_three_programs(stages):
    builder = stages[0]["name"]
    copies = [shlex.split(a) for a in args_of(stages[-1], "COPY") if f"--from={builder}" in a]
    sources = [os.path.basename(src) for words in copies for src in words[1:-1]]
    for program in PROGRAMS:
        assert program in sources


def test_runtime_ships_migrations(stages):
    final = stages[-1]
    copies = [shlex.split(a) for a in args_of(final, "COPY") if "--from" not in a]
    dest = [words[-1].rstrip("/") for words in copies if words[0].rstrip("/") == "migrations"]
    assert dest == ["/usr/share/calsync/migrations"]
    env = " ".join(args_of(final, "ENV"))
    assert "CALSYNC_MIGRATIONS_DIR=/usr/share/calsync/migrations" in env


def test_runtime_runs_as_non_root(stages):
    users = args_of(stages[-1], "USER")
    assert users, "final stage has no USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    assert not user.isdigit() or int(user) >= 1000
    assert args_of(stages[-1], "CMD") or args_of(stages[-1], "ENTRYPOINT")
