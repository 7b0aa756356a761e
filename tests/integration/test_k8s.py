"""tests/integration/test_k8s.py - the kustomize base in deploy/k8s (issue 15,
item 2), checked offline: kustomize (built by deploy/setup.sh from the Go
module proxy, pinned) renders it - the way `kubectl apply -k` would - and
kubernetes-validate (PyPI, pinned; it ships the Kubernetes JSON schemas, so it
needs no cluster and no network) checks every built-in resource strictly (an
unknown field fails). KEDA's resources have no schema there: their facts are
checked here against KEDA's documented redis-streams scaler parameters."""

import os
import pathlib
import subprocess
import sys

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
BASE = REPO / "deploy" / "k8s"
CACHE = pathlib.Path(os.environ.get("CALSYNC_CACHE") or os.path.expanduser("~/.cache/calsync"))
KUSTOMIZE = CACHE / "kustomize-v5.7.1" / "kustomize"
KUBEVAL = CACHE / "kubernetes-validate-1.32.0"
K8S_VERSION = "1.32.0"
DRAIN_TIMEOUT_S = 20


def tool_missing():
    missing = [str(p) for p in (KUSTOMIZE, KUBEVAL) if not p.exists()]
    return f"not installed: {', '.join(missing)} (run deploy/setup.sh)" if missing else None


@pytest.fixture(scope="module")
def rendered():
    if tool_missing():
        pytest.fail(tool_missing(), pytrace=False)
    out = subprocess.run([str(KUSTOMIZE), "build", str(BASE)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.fixture(scope="module")
def objects(rendered):
    return {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load_all(rendered) if o}


def validate(path):
    env = dict(os.environ, PYTHONPATH=str(KUBEVAL))
    return subprocess.run([sys.executable, "-m", "kubernetes_validate", "-k", K8S_VERSION,
                           "--strict", str(path)], capture_output=True, text=True, env=env,
                          timeout=120)


def test_every_builtin_resource_is_valid_kubernetes(rendered, tmp_path):
    path = tmp_path / "calsync.yaml"
    path.write_text(rendered)
    out = validate(path)
    assert out.returncode == 0, out.stdout + out.stderr
    passed = [line for line in out.stdout.splitlines() if " passed " in line]
    assert len(passed) == 8, out.stdout   # 3 Deployments, Job, ConfigMap, Secret, Service, Ingress


def test_the_validator_refuses_a_broken_manifest(rendered, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(rendered.replace("terminationGracePeriodSeconds: 45",
                                     "terminationGracePeriod: 45"))
    out = validate(path)
    assert out.returncode != 0 and "terminationGracePeriod" in out.stdout + out.stderr


def container(obj):
    (c,) = obj["spec"]["template"]["spec"]["containers"]
    return c


def test_scheduler_two_replicas_with_probes(objects):
    s = objects[("Deployment", "calsync-scheduler")]
    assert s["spec"]["replicas"] == 2
    c = container(s)
    assert c["command"] == ["calsync-scheduler"]
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert {"name": "CALSYNC_HTTP_ADDR", "value": "0.0.0.0:9461"} in c["env"]


def test_workers_have_resources_probes_and_a_grace_period_over_the_drain(objects):
    w = objects[("Deployment", "calsync-worker")]
    spec = w["spec"]["template"]["spec"]
    c = container(w)
    assert c["command"] == ["calsync-worker"]
    assert set(c["resources"]) == {"requests", "limits"}
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert c["readinessProbe"]["httpGet"]["port"] == "http"
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"http": 9460}
    drain = int(objects[("ConfigMap", "calsync-settings")]["data"]["CALSYNC_DRAIN_TIMEOUT_MS"])
    assert drain == DRAIN_TIMEOUT_S * 1000
    assert spec["terminationGracePeriodSeconds"] > DRAIN_TIMEOUT_S + 10
    names = {e["name"]: e for e in c["env"]}
    assert names["CALSYNC_WORKER_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    for obj in (w, objects[("Deployment", "calsync-scheduler")], objects[("Job", "calsync-migrate")]):
        refs = [next(iter(r.values()))["name"] for r in container(obj)["envFrom"]]
        assert refs == ["calsync-settings", "calsync-secrets"]
        assert obj["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True


def test_hooks_behind_a_tls_ingress_that_exposes_only_the_hooks(objects):
    h = objects[("Deployment", "calsync-hooks")]
    assert h["spec"]["replicas"] >= 2
    c = container(h)
    assert c["command"] == ["calsync-hooks"]
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert {"name": "CALSYNC_HTTP_ADDR", "value": "0.0.0.0:8090"} in c["env"]
    svc = objects[("Service", "calsync-hooks")]
    assert svc["spec"]["selector"] == h["spec"]["selector"]["matchLabels"]
    ing = objects[("Ingress", "calsync-hooks")]
    assert ing["spec"]["tls"], "the providers reach the hooks over https only"
    (rule,) = ing["spec"]["rules"]
    assert rule["host"] in ing["spec"]["tls"][0]["hosts"]
    (path,) = rule["http"]["paths"]
    assert path["path"] == "/hooks/" and path["backend"]["service"]["name"] == "calsync-hooks"


def test_migrate_job_and_settings(objects):
    job = objects[("Job", "calsync-migrate")]
    assert container(job)["command"] == ["calsync", "migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "OnFailure"
    secret = objects[("Secret", "calsync-secrets")]["stringData"]
    assert {"CALSYNC_DATABASE_URL", "CALSYNC_REDIS_URL", "CALSYNC_SECRET_KEYS"} <= set(secret)
    settings = objects[("ConfigMap", "calsync-settings")]["data"]
    assert not set(settings) & set(secret)
    assert all(k.startswith("CALSYNC_") for k in settings)


def test_keda_scales_the_workers_on_the_backlog_of_calsync_workers(objects):
    so = objects[("ScaledObject", "calsync-worker")]
    assert so["apiVersion"] == "keda.sh/v1alpha1"
    assert so["spec"]["scaleTargetRef"]["name"] == "calsync-worker"
    assert 1 <= so["spec"]["minReplicaCount"] < so["spec"]["maxReplicaCount"]
    triggers = so["spec"]["triggers"]
    known = {"address", "databaseIndex", "stream", "consumerGroup", "lagCount",
             "activationLagCount", "pendingEntriesCount"}
    streams = set()
    for t in triggers:
        assert t["type"] == "redis-streams"
        md = t["metadata"]
        assert set(md) <= known, set(md) - known
        assert md["consumerGroup"] == "calsync-workers"
        assert ("lagCount" in md) != ("pendingEntriesCount" in md)   # one measure a trigger
        assert all(isinstance(v, str) for v in md.values())        # KEDA takes strings
        streams.add(md["stream"])
        auth = t["authenticationRef"]["name"]
        ta = objects[("TriggerAuthentication", auth)]
        (ref,) = ta["spec"]["secretTargetRef"]
        assert ref["parameter"] == "password" and ref["name"] == "calsync-secrets"
        assert ref["key"] in objects[("Secret", "calsync-secrets")]["stringData"]
    assert streams == {"calsync:jobs:interactive", "calsync:jobs:background"}
