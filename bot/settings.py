"""All configuration of the App's processes, from the environment only (pydantic-settings).

Nothing else in the App reads ``os.environ``: the receiver and the worker are built from
a ``Settings`` object, so tests construct one instead of patching the environment. (The
CLI reads its own few variables where it needs them: ``RUVOPT_FETCH_TOKEN`` in
:mod:`ruvopt.cli.clone`, GitHub Actions' ``GITHUB_*`` in :mod:`ruvopt.cli.action`.)
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ruvopt.bot.credentials import read_credentials


class SettingsError(ValueError):
    """A missing or inconsistent setting, worded so the operator knows which variable."""


class Settings(BaseSettings):
    # hide_input_in_errors: a validation error must never quote a secret it was given
    # (it is printed to stderr, which ends up in container logs).
    model_config = SettingsConfigDict(env_prefix="RUVOPT_", extra="ignore", hide_input_in_errors=True)

    app_id: int | None = None
    private_key: SecretStr | None = None
    private_key_path: Path | None = None
    webhook_secret: SecretStr | None = None
    redis_url: str = "redis://127.0.0.1:6379/0"
    github_api_url: str = "https://api.github.com"
    cache_dir: Path = Path.home() / ".cache" / "ruvopt"
    # Written by the one-click registration; fills in what the environment leaves unset.
    credentials_file: Path = Path.home() / ".config" / "ruvopt" / "credentials.json"
    public_url: str | None = None  # where GitHub reaches this receiver (setup mode)
    github_url: str = "https://github.com"  # the web UI, for registering the App
    log_format: Literal["text", "json"] = "text"

    max_body_bytes: int = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB
    delivery_ttl_seconds: int = 4 * 24 * 3600  # ≥ 3 days: GitHub redelivers up to 3 days back
    review_timeout_seconds: int = 600
    bench_timeout_seconds: int = 3600
    job_heartbeat_seconds: int = 10
    job_retries: int = 3
    sweep_seconds: int = 5
    write_spacing_seconds: float = Field(1.0, description="min gap between content-creating writes")
    redeliver_every_minutes: int = 10
    review_concurrency: int = 4  # review/command jobs one worker process runs at once
    bench_concurrency: int = 1  # benches measure time: never two on one machine
    shutdown_grace_seconds: int = 20  # on SIGTERM, running jobs get this long, then are re-queued
    # The orphan sweeper (ruvopt.bot.jobs.sweeper): how often it looks, when an unfinished
    # review's check run is completed neutral whatever its job is doing, and how many
    # times a review whose job died is enqueued again.
    run_sweep_seconds: int = 60
    run_deadline_seconds: int = 900
    review_resumes: int = 2
    # The bench sandbox (docs/bench.md): per sandboxed command, per process.
    bench_command_timeout_seconds: int = 1800
    bench_memory_mb: int = 8192
    bench_cargo_home: Path = Path.home() / ".cargo"  # registry mirrors/source replacement: its config.toml
    bench_jobs: int | None = None  # cargo build jobs (default: every core)
    bench_dependency_cache_entries: int = 8  # built dependencies kept per repository + Cargo.lock; 0: off

    @model_validator(mode="after")
    def _key_sources(self) -> Settings:
        if self.private_key is not None and self.private_key_path is not None:
            raise SettingsError("set only one of RUVOPT_PRIVATE_KEY and RUVOPT_PRIVATE_KEY_PATH")
        if self.missing_credentials() or self.missing_credentials(worker=True):
            self._fill_from_credentials_file()
        return self

    def _fill_from_credentials_file(self) -> None:
        stored = read_credentials(self.credentials_file)
        if stored is None:
            return
        if self.app_id is None:
            self.app_id = int(stored["app_id"])
        if self.private_key is None and self.private_key_path is None:
            self.private_key = SecretStr(stored["pem"])
        if self.webhook_secret is None:
            self.webhook_secret = SecretStr(stored["webhook_secret"])

    def missing_credentials(self, *, worker: bool = False) -> list[str]:
        """The App credentials neither the environment nor the credentials file set, of
        those this process needs: the receiver verifies webhooks (the App id and the
        webhook secret; it never calls GitHub, so it needs no private key), a ``worker``
        calls GitHub (the App id and the private key)."""
        missing = []
        if self.app_id is None:
            missing.append("RUVOPT_APP_ID")
        if worker and self.private_key is None and self.private_key_path is None:
            missing.append("RUVOPT_PRIVATE_KEY (or RUVOPT_PRIVATE_KEY_PATH)")
        if not worker and (self.webhook_secret is None or not self.webhook_secret.get_secret_value()):
            missing.append("RUVOPT_WEBHOOK_SECRET")
        return missing

    def no_credentials(self) -> bool:
        """Nothing of the App set at all: ``ruvopt serve`` runs the one-click registration."""
        return (
            self.app_id is None
            and self.private_key is None
            and self.private_key_path is None
            and (self.webhook_secret is None or not self.webhook_secret.get_secret_value())
        )

    def incomplete_credentials(self, *, worker: bool = False) -> str | None:
        """Why the credentials this process needs are only partly set, naming what is
        missing; None when they are complete or when nothing of the App is set."""
        missing = self.missing_credentials(worker=worker)
        if not missing or self.no_credentials():
            return None
        return (
            f"the App's credentials are incomplete: {', '.join(missing)} not set (environment or "
            f"{self.credentials_file}); set them, or unset the others to register a new App"
        )

    def private_key_problem(self) -> str | None:
        """Why the configured private key cannot sign the App's JWTs, or None: checked when
        a worker starts, so a bad key fails the start instead of every job."""
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        if self.private_key is None and self.private_key_path is None:
            return None
        try:
            _, pem = self.require_app_credentials()
        except OSError as exc:
            return f"RUVOPT_PRIVATE_KEY_PATH={self.private_key_path}: cannot read it ({exc.strerror})"
        except SettingsError as exc:
            return str(exc)
        try:
            load_pem_private_key(pem.encode(), password=None)
        except (ValueError, TypeError):
            where = (
                f"RUVOPT_PRIVATE_KEY_PATH={self.private_key_path}" if self.private_key_path else "RUVOPT_PRIVATE_KEY"
            )
            return f"{where} is not an unencrypted PEM private key (the .pem file GitHub gave for the App)"
        return None

    def require_webhook_secret(self) -> str:
        if self.webhook_secret is None or not self.webhook_secret.get_secret_value():
            raise SettingsError("RUVOPT_WEBHOOK_SECRET is not set: the receiver refuses unsigned webhooks")
        return self.webhook_secret.get_secret_value()

    def require_app_credentials(self) -> tuple[int, str]:
        if self.app_id is None:
            raise SettingsError("RUVOPT_APP_ID is not set")
        if self.private_key is not None:
            return self.app_id, self.private_key.get_secret_value()
        if self.private_key_path is not None:
            return self.app_id, self.private_key_path.read_text()
        raise SettingsError("set RUVOPT_PRIVATE_KEY or RUVOPT_PRIVATE_KEY_PATH (the App's PEM private key)")


# RUVOPT_* variables the CLI and the Action read themselves (not process settings).
CLI_VARIABLES = frozenset(
    {"RUVOPT_FETCH_TOKEN", "RUVOPT_ACTION_PATH", "RUVOPT_PATH", "RUVOPT_BASE", "RUVOPT_FAIL_ON"}
    | {"RUVOPT_FILTER_MODE", "RUVOPT_SARIF", "RUVOPT_FETCH"}
)


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """``RUVOPT_*`` variables nothing reads, each with the closest setting: a misspelt
    ``RUVOPT_REDIS_ULR`` would otherwise leave the default in force without a word."""
    known = {f"RUVOPT_{name.upper()}" for name in Settings.model_fields} | CLI_VARIABLES
    notes = []
    for name in sorted(n for n in environ if n.startswith("RUVOPT_") and n not in known):
        close = difflib.get_close_matches(name, sorted(known), n=1)
        notes.append(f"{name} (did you mean {close[0]}?)" if close else name)
    return notes
