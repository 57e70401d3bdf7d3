"""deploy/ passes its own linters, and says what docs/kubernetes.md and docs/security.md say.

Built-in kinds: ``kubernetes-validate --strict`` (unknown fields rejected). Custom
resources: KEDA's and the Prometheus operator's CRD schemas. Compose: the Compose
specification's JSON schema. Each linter is also shown a broken document, so a linter
that checks nothing would fail here too.
"""

from __future__ import annotations

import copy
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy_support import (
    DEPLOY,
    KUBERNETES,
    allowed,
    deployments,
    kubernetes_validate,
    manifests,
    pod_labels,
    tool,
    validate_custom,
)

BUILT_IN = [m for m in manifests() if not m.custom]
CUSTOM = [m for m in manifests() if m.custom]
PUBLIC_V4 = "cidr:0.0.0.0/0 except 10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,169.254.0.0/16,127.0.0.0/8"
PUBLIC_V6 = "cidr:::/0 except fc00::/7,fe80::/10,::1/128"
DNS = "namespace:kube-system/[('k8s-app', 'kube-dns')]"


def test_every_built_in_resource_passes_kubernetes_validate_strict():
    paths = sorted({m.path for m in BUILT_IN})
    code, output = kubernetes_validate(paths)
    assert code == 0, output
    passed = set(re.findall(r"passed for resource (\S+)", output))
    assert passed == {f"{m.kind.lower()}/{m.name}" for m in BUILT_IN}, output


def test_kubernetes_validate_strict_rejects_an_unknown_field(tmp_path: Path):
    (receiver,) = [m for m in BUILT_IN if m.kind == "Deployment" and m.name == "receiver"]
    broken = copy.deepcopy(receiver.doc)
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}  # misspelt
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(broken))
    code, output = kubernetes_validate([path])
    assert code != 0, output
    assert "readinessProbes" in output, output


def test_scaled_objects_and_monitors_pass_their_crd_schemas():
    kinds = sorted(m.kind for m in CUSTOM)
    assert kinds == ["PodMonitor", "ScaledObject", "ScaledObject", "ServiceMonitor"]
    results = validate_custom([m.doc for m in CUSTOM])
    assert [r["errors"] for r in results] == [[]] * len(CUSTOM), results


def test_the_crd_schemas_reject_a_broken_scaled_object():
    scaled = copy.deepcopy(next(m.doc for m in CUSTOM if m.kind == "ScaledObject"))
    scaled["spec"]["minReplicaCount"] = "one"
    del scaled["spec"]["triggers"]
    (result,) = validate_custom([scaled])
    assert any("minReplicaCount must be integer" in e for e in result["errors"]), result
    assert any("triggers" in e for e in result["errors"]), result


def test_the_scaled_objects_target_deployments_and_queues_that_exist():
    names = {m.name for m in deployments()}
    for scaled in (m.doc for m in CUSTOM if m.kind == "ScaledObject"):
        assert scaled["spec"]["scaleTargetRef"]["name"] in names
        for trigger in scaled["spec"]["triggers"]:
            # saq's list names for the queues bot/queue/contract.py defines (ruvopt:review, ruvopt:bench)
            assert re.fullmatch(r"saq:ruvopt:(review|bench):(queued|active)", trigger["metadata"]["listName"])


def test_the_kustomization_lists_every_manifest_but_the_examples_and_the_monitors():
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    on_disk = {p.name for p in KUBERNETES.glob("*.yaml")} - {"kustomization.yaml"}
    # The Secret is the operator's to fill in; the monitors need the Prometheus operator's CRDs.
    assert listed == on_disk - {"secret.example.yaml", "monitoring.yaml"}
    for generator in kustomization["configMapGenerator"]:
        for entry in generator.get("files", []):
            assert (KUBERNETES / entry.split("=", 1)[-1]).is_file(), entry


@pytest.mark.parametrize("deployment", deployments(), ids=lambda m: m.name)
def test_each_deployment_has_probes_limits_a_budget_and_runs_as_a_numeric_non_root_user(deployment):
    pod = deployment.doc["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    probe_port = container["readinessProbe"]["httpGet"]["port"]
    assert probe_port in {p["name"] for p in container["ports"]}
    resources = container["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"])
    assert {"cpu", "memory"} <= set(resources["limits"])
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["automountServiceAccountToken"] is False
    labels = pod_labels(deployment).items()
    budgets = [m for m in manifests() if m.kind == "PodDisruptionBudget"]
    matching = [b for b in budgets if b.doc["spec"]["selector"]["matchLabels"].items() <= labels]
    assert len(matching) == 1, f"{deployment.name}: {len(matching)} PodDisruptionBudgets"


@pytest.mark.parametrize("deployment", [d for d in deployments() if d.name.startswith("worker")], ids=lambda m: m.name)
def test_workers_serve_their_probes_on_the_metrics_port_they_are_given(deployment):
    (container,) = deployment.doc["spec"]["template"]["spec"]["containers"]
    args = container["args"]
    port = int(args[args.index("--metrics-port") + 1])
    assert args[args.index("--metrics-host") + 1] == "0.0.0.0"
    assert {"name": "metrics", "containerPort": port} in container["ports"]


def _workloads() -> dict[str, dict[str, str]]:
    return {
        m.name: dict(m.doc["spec"]["template"]["metadata"]["labels"])
        for m in manifests()
        if m.kind in ("Deployment", "StatefulSet")
    }


def test_network_policies_give_each_workload_exactly_the_egress_it_needs():
    workloads = _workloads()
    redis = "pod:redis TCP/6379"
    dns = {f"{DNS} UDP/53", f"{DNS} TCP/53"}
    https = {f"{PUBLIC_V4} TCP/443", f"{PUBLIC_V6} TCP/443"}
    expected = {
        "receiver": dns | {redis},  # no GitHub: the receiver only enqueues
        "worker-review": dns | {redis} | https,  # GitHub's API and git over HTTPS
        "worker-bench": dns | {redis} | https,  # cargo fetch (crates.io), GitHub
        "redis": set(),
    }
    assert {name: allowed(labels, "Egress", workloads) for name, labels in workloads.items()} == expected


def test_network_policies_let_in_only_webhooks_metrics_and_redis_clients():
    workloads = _workloads()
    clients = "+".join(sorted(["receiver", "worker-bench", "worker-review"]))
    expected = {
        "receiver": {"any TCP/8000"},
        "worker-review": {"namespace:* TCP/9100"},
        "worker-bench": {"namespace:* TCP/9100"},
        "redis": {f"pod:{clients} TCP/6379", "namespace:keda TCP/6379"},
    }
    assert {name: allowed(labels, "Ingress", workloads) for name, labels in workloads.items()} == expected


def test_no_public_egress_rule_reaches_the_cloud_metadata_endpoint():
    for m in manifests():
        if m.kind != "NetworkPolicy":
            continue
        for rule in m.doc["spec"].get("egress") or []:
            for peer in rule.get("to") or []:
                block = peer.get("ipBlock")
                if block and block["cidr"] == "0.0.0.0/0":
                    assert "169.254.0.0/16" in block["except"]


# --- Compose ---------------------------------------------------------------------------------


def _check_compose(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_compose_file_passes_the_compose_specification_schema():
    proc = _check_compose(DEPLOY / "docker-compose.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_compose_schema_rejects_an_unknown_service_key(tmp_path: Path):
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    compose["services"]["receiver"]["healthcheck"]["intervall"] = "5s"
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(compose))
    proc = _check_compose(path)
    assert proc.returncode != 0
    assert "intervall" in proc.stdout + proc.stderr


def test_every_ruvopt_service_in_compose_shares_the_credentials_the_registration_writes():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = {name: s for name, s in compose["services"].items() if s.get("command", [""])[0] == "ruvopt"}
    assert set(services) == {"receiver", "worker", "bench-worker"}
    for name, service in services.items():
        directory = str(Path(service["environment"]["RUVOPT_CREDENTIALS_FILE"]).parent)
        mounts = [v for v in service["volumes"] if v.split(":")[:2] == ["credentials", directory]]
        writable = name == "receiver"  # only the receiver writes it (one-click registration)
        assert mounts, f"{name}: {service['volumes']}"
        assert mounts[0].endswith(":ro") != writable, f"{name}: {service['volumes']}"


def test_compose_prometheus_scrapes_the_services_and_ports_compose_runs():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())["scrape_configs"]
    jobs = {job["job_name"]: job for job in scrape}
    assert jobs["ruvopt-receiver"]["static_configs"][0]["targets"] == ["receiver:8000"]
    (dns,) = jobs["ruvopt-workers"]["dns_sd_configs"]
    for name in dns["names"]:
        command = compose["services"][name]["command"]
        assert command[command.index("--metrics-port") + 1] == str(dns["port"])
