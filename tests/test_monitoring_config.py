"""deploy/prometheus and deploy/grafana pass Prometheus' own checker (Debian's promtool):
the scrape config with its rule files, the alerting rules, and every query of the
example dashboard (as recording rules, so the real PromQL parser reads each one).
That the metrics they name are the ones ruvopt serves is checked against live
processes in tests/test_observability.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.deploy_support import DEPLOY

PROMETHEUS = DEPLOY / "prometheus"
DASHBOARD = DEPLOY / "grafana" / "ruvopt-dashboard.json"
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    found = shutil.which("promtool")
    assert found, "promtool is missing: run scripts/install-test-deps.sh (Debian package prometheus)"
    return subprocess.run([found, *args], capture_output=True, text=True, timeout=60)


def dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_the_scrape_config_and_its_rule_files_pass_promtool():
    proc = promtool("check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 rule files found" in proc.stdout + proc.stderr, proc.stdout + proc.stderr


def test_the_alerting_rules_pass_promtool():
    proc = promtool("check", "rules", str(PROMETHEUS / "alerts.yml"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"][0]["rules"]
    assert all(rule["labels"]["severity"] in ("page", "ticket") and rule["annotations"]["summary"] for rule in rules)


def test_promtool_rejects_a_rule_with_a_broken_query(tmp_path: Path):
    rules = {"groups": [{"name": "broken", "rules": [{"alert": "X", "expr": "rate(ruvopt_jobs_total[5m]"}]}]}
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(rules))
    assert promtool("check", "rules", str(path)).returncode != 0


def test_every_dashboard_query_parses_as_promql(tmp_path: Path):
    queries = dashboard_queries()
    rules: list[dict[str, Any]] = []
    for i, query in enumerate(queries):
        for variable, value in GRAFANA_VARIABLES.items():
            query = query.replace(variable, value)
        rules.append({"record": f"dashboard:query_{i}", "expr": query})
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    proc = promtool("check", "rules", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{len(queries)} rules found" in proc.stdout, proc.stdout + proc.stderr


def test_the_dashboard_shows_queue_depth_latency_job_outcomes_and_rate_limit():
    queries = "\n".join(dashboard_queries())
    for needed in ("ruvopt_queue_depth", "ruvopt_jobs_total", "ruvopt_github_ratelimit_remaining"):
        assert needed in queries
    latency = [q for q in dashboard_queries() if "ruvopt_review_latency_seconds_bucket" in q]
    assert sorted(re.findall(r"histogram_quantile\((0\.\d+)", "\n".join(latency))) == ["0.5", "0.95"]
    dashboard = json.loads(DASHBOARD.read_text())
    assert [i["name"] for i in dashboard["__inputs"]] == ["DS_PROMETHEUS"]  # importable into any Grafana
