"""The App's credentials file (``RUVOPT_CREDENTIALS_FILE``).

The one-click registration (:mod:`ruvopt.bot.receiver.registration`) writes it once, from GitHub's
answer to the manifest conversion: App id, slug, PEM private key, webhook secret, OAuth
client id and secret. :class:`ruvopt.bot.settings.Settings` reads it for whatever the
environment does not set. It holds a private key, so it is created with mode 0600 in a
directory of mode 0700, never overwritten, and refused when others can read it (as ssh
refuses a readable key).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from pathlib import Path
from typing import Any

REQUIRED = ("app_id", "pem", "webhook_secret")
KEPT = ("app_id", "slug", "name", "html_url", "pem", "webhook_secret", "client_id", "client_secret")


class CredentialsError(ValueError):
    """An unreadable, unsafe or incomplete credentials file; the message names the fix."""


def read_credentials(path: Path) -> dict[str, Any] | None:
    """The file's fields, or None when there is no file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CredentialsError(f"cannot open the credentials file {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
        if mode & 0o077:
            raise CredentialsError(
                f"the credentials file {path} is readable by other users (mode {mode:04o}): run chmod 600 {path}"
            )
        raw = handle.read()
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise CredentialsError(f"the credentials file {path} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise CredentialsError(f"the credentials file {path} is not a JSON object")
    missing = [key for key in REQUIRED if not data.get(key)]
    if missing:
        raise CredentialsError(f"the credentials file {path} lacks {', '.join(missing)}")
    return data


def write_credentials(path: Path, conversion: dict[str, Any]) -> dict[str, Any]:
    """Store the fields ruvopt keeps from a manifest conversion; FileExistsError if a file
    is already there (an App is registered once)."""
    data = {key: conversion.get(key) for key in KEPT}
    data["app_id"] = conversion["id"]
    missing = [key for key in REQUIRED if not data.get(key)]
    if missing:
        raise CredentialsError(f"GitHub's answer lacks {', '.join(missing)}")
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        # link() refuses an existing target, so two registrations cannot both win.
        os.link(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return data
