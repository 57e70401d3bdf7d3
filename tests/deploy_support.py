"""Reading deploy/: the Kubernetes manifests as documents, the linters that judge them, and
a small evaluator of NetworkPolicies (which traffic a pod may send or receive).

The linters are the real ones, installed by scripts/install-test-deps.sh:
``kubernetes-validate`` (PyPI) for built-in kinds, the CRD schemas of KEDA and the
Prometheus operator compiled by the npm ``@kubernetes-models`` packages (in ``.cache/crd``)
for custom resources, ``check-jsonschema``'s vendored Compose specification schema.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
CRD_MODELS = ROOT / ".cache" / "crd"
CUSTOM_GROUPS = ("keda.sh", "monitoring.coreos.com")
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """A linter from the test virtualenv (or PATH); a clear failure when it is missing."""
    found = BIN / name if (BIN / name).exists() else shutil.which(name)
    if not found:
        raise AssertionError(f"{name} is not installed: run scripts/install-test-deps.sh")
    return str(found)


@dataclass(frozen=True)
class Manifest:
    path: Path
    doc: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.doc["kind"])

    @property
    def name(self) -> str:
        return str(self.doc["metadata"]["name"])

    @property
    def group(self) -> str:
        api = str(self.doc["apiVersion"])
        return api.split("/")[0] if "/" in api else ""

    @property
    def custom(self) -> bool:
        return self.group in CUSTOM_GROUPS


def manifests(paths: list[Path] | None = None) -> list[Manifest]:
    """Every Kubernetes document under deploy/kubernetes (the Kustomization excluded)."""
    out = []
    for path in paths or sorted(KUBERNETES.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") != "Kustomization":
                out.append(Manifest(path, doc))
    return out


def kubernetes_validate(paths: list[Path]) -> tuple[int, str]:
    proc = subprocess.run(
        [tool("kubernetes-validate"), "--strict", *map(str, paths)], capture_output=True, text=True, timeout=120
    )
    return proc.returncode, proc.stdout + proc.stderr


def validate_custom(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each custom resource checked against its CRD schema: ``[{kind, name, errors}]``."""
    if not (CRD_MODELS / "node_modules" / "@kubernetes-models" / "keda").is_dir():
        raise AssertionError("the CRD schemas are not installed: run scripts/install-test-deps.sh")
    proc = subprocess.run(
        ["node", str(ROOT / "tests" / "crd_validate.mjs"), str(CRD_MODELS)],
        input=json.dumps(docs),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    results: list[dict[str, Any]] = json.loads(proc.stdout)
    return results


def deployments() -> list[Manifest]:
    return [m for m in manifests() if m.kind == "Deployment"]


def pod_labels(deployment: Manifest) -> dict[str, str]:
    return dict(deployment.doc["spec"]["template"]["metadata"]["labels"])


# --- NetworkPolicy evaluation -----------------------------------------------------------------


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Kubernetes label-selector semantics (matchLabels and In/NotIn/Exists/DoesNotExist)."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        present = key in labels
        ok = {
            "In": present and labels.get(key) in values,
            "NotIn": not present or labels.get(key) not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }[op]
        if not ok:
            return False
    return True


def policies_for(labels: dict[str, str], direction: str) -> list[dict[str, Any]]:
    """The NetworkPolicies that select a pod with ``labels`` for ``direction`` (Ingress/Egress)."""
    return [
        m.doc["spec"]
        for m in manifests()
        if m.kind == "NetworkPolicy"
        and direction in m.doc["spec"].get("policyTypes", [])
        and selects(m.doc["spec"]["podSelector"], labels)
    ]


def describe_peer(peer: dict[str, Any], workloads: dict[str, dict[str, str]]) -> str:
    """A peer in words: ``pod:<workload>``, ``namespace:<name>[/pod selector]``, ``cidr:...``."""
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        excepted = ",".join(block.get("except", []))
        return f"cidr:{block['cidr']}" + (f" except {excepted}" if excepted else "")
    if "namespaceSelector" in peer:
        names = (peer["namespaceSelector"].get("matchLabels") or {}).get("kubernetes.io/metadata.name", "*")
        pods = peer.get("podSelector")
        return f"namespace:{names}" + (f"/{sorted(pods['matchLabels'].items())}" if pods else "")
    matched = sorted(name for name, labels in workloads.items() if selects(peer["podSelector"], labels))
    return "pod:" + "+".join(matched)


def allowed(labels: dict[str, str], direction: str, workloads: dict[str, dict[str, str]]) -> set[str]:
    """Every ``<peer> <protocol>/<port>`` the policies allow (``any`` for an open side)."""
    key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    out = set()
    for spec in policies_for(labels, direction):
        for rule in spec.get(key) or []:
            peers = [describe_peer(p, workloads) for p in rule.get(peers_key) or []] or ["any"]
            ports = [f"{p.get('protocol', 'TCP')}/{p['port']}" for p in rule.get("ports") or []] or ["any"]
            out.update(f"{peer} {port}" for peer in peers for port in ports)
    return out
