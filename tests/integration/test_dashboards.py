"""tests/integration/test_dashboards.py - the Grafana dashboard and the
Prometheus of docker-compose.yml (issue 15, item 3): Prometheus scrapes every
program on the port it serves, Grafana is provisioned with Prometheus and the
dashboard, and every query of the dashboard names metrics calsync exports (a
live scrape of a worker and a scheduler)."""

import json
import pathlib
import re

import pytest
import yaml

from test_observe import world  # noqa: F401 (a fixture)
from observe_helpers import Scheduler, get, port_of

REPO = pathlib.Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "deploy" / "grafana" / "dashboards" / "calsync.json"
PROMETHEUS = REPO / "deploy" / "prometheus" / "prometheus.yml"
PANELS_NEEDED = ("Throughput", "Errors by provider", "latency", "Backlog", "Conflicts",
                 "auth_required")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def dashboard():
    return json.loads(DASHBOARD.read_text())


def test_prometheus_scrapes_every_program(compose):
    prom = compose["services"]["prometheus"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in prom["volumes"] if v.startswith("./")}
    assert mounts["/etc/prometheus/prometheus.yml"] == "./deploy/prometheus/prometheus.yml"
    config = yaml.safe_load(PROMETHEUS.read_text())
    targets = {}
    for job in config["scrape_configs"]:
        (sd,) = job["dns_sd_configs"]
        targets[sd["names"][0]] = sd["port"]
    assert targets == {"scheduler": 9461, "worker": 9460, "hooks": 8090}
    assert set(targets) <= set(compose["services"])


def test_grafana_is_provisioned_with_prometheus_and_the_dashboard(compose):
    graf = compose["services"]["grafana"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in graf["volumes"] if v.startswith("./")}
    prov = REPO / mounts["/etc/grafana/provisioning"].lstrip("./")
    (ds,) = yaml.safe_load((prov / "datasources" / "prometheus.yml").read_text())["datasources"]
    assert ds["type"] == "prometheus" and ds["url"] == "http://prometheus:9090"
    (provider,) = yaml.safe_load((prov / "dashboards" / "calsync.yml").read_text())["providers"]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
    assert REPO / mounts["/var/lib/grafana/dashboards"].lstrip("./") == DASHBOARD.parent
    for port in graf["ports"] + compose["services"]["prometheus"]["ports"]:
        assert port.startswith("127.0.0.1:")


def test_dashboard_panels_use_the_provisioned_data_source(dashboard):
    titles = [p["title"] for p in dashboard["panels"]]
    for needed in PANELS_NEEDED:
        assert any(needed.lower() in t.lower() for t in titles), needed
    for p in dashboard["panels"]:
        assert p["datasource"]["uid"] == "calsync-prometheus"
        assert p["targets"] and all(t["expr"] for t in p["targets"])


def test_every_query_names_a_metric_the_programs_export(dashboard, world):  # noqa: F811
    world.calendar(remote_id="test-cal")
    world.worker()
    sched = Scheduler(world, "dash-" + world.tenant[:8])
    exported = set()
    for port in (port_of(lambda: world.log(0)), port_of(sched.log)):
        status, body, _ = get(port, "/metrics")
        assert status == 200
        exported |= {line.split()[2] for line in body.splitlines() if line.startswith("# TYPE ")}
    assert len(exported) >= 15
    used = set()
    for p in dashboard["panels"]:
        for t in p["targets"]:
            for name in re.findall(r"\bcalsync_[a-z_]+", t["expr"]):
                family = re.sub(r"_(bucket|sum|count)$", "", name)
                assert family in exported, (p["title"], name)
                used.add(family)
    assert len(used) >= 12    # the dashboard shows nearly every metric
