"""App authentication: a JWT for the App, installation tokens cached in Redis.

An installation token lives one hour. Every worker process on every machine shares one
per installation through Redis (sealed, :mod:`ruvopt.bot.github.seal`: Redis writes it to
its append-only file), renewed :data:`~ruvopt.bot.github.limits.TOKEN_REFRESH_MARGIN_S` before
it expires, so a token handed to a 10-minute ``git fetch`` never expires mid-way.

Tokens never reach a log line: reprs hide them, PyGithub's request log masks the
``Authorization`` header, and :class:`RedactTokens` (installed on PyGithub's and
urllib3's loggers) scrubs anything token-shaped from records, including the body of the
access-token response that PyGithub logs at DEBUG.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import redis
from github import Auth, GithubIntegration
from urllib3.util.retry import Retry

from ruvopt.bot import keys
from ruvopt.bot.github.limits import JWT_BACKDATE_S, JWT_LIFETIME_S, TOKEN_REFRESH_MARGIN_S
from ruvopt.bot.github.seal import Sealer
from ruvopt.bot.settings import Settings

log = logging.getLogger("ruvopt.github")

_SECRET = re.compile(
    r"gh[opsuar]_[A-Za-z0-9_]{20,}"  # GitHub tokens (installation tokens are ghs_…)
    r"|eyJ[\w-]+\.[\w-]+\.[\w-]+"  # JWTs
    r"|(?<=\"token\": \")[^\"]+|(?<=\"token\":\")[^\"]+"  # a token field in a JSON body
    r"|(?i:(?<=basic )[A-Za-z0-9+/=]{16,})"  # Basic credentials
)
REDACTED = "[redacted]"
_LOGGERS = ("github", "github.Requester", "github.GithubRetry", "urllib3", "urllib3.connectionpool")


def redact(text: str) -> str:
    return _SECRET.sub(REDACTED, text)


class RedactTokens(logging.Filter):
    """Rewrites a record's message with secrets replaced (the record is then formatted)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


_FILTER = RedactTokens()


def install_log_redaction() -> None:
    """Idempotent: filters apply to records logged on these loggers themselves."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


@dataclass(frozen=True)
class InstallationToken:
    value: str = field(repr=False)
    expires_at: float  # epoch seconds

    def __str__(self) -> str:
        return f"InstallationToken(expires_at={self.expires_at:.0f}, value={REDACTED})"


def app_auth(settings: Settings) -> Auth.AppAuth:
    """The App's JWT signer: RS256, iat 60 s back, exp 540 s ahead (GitHub's cap is 600)."""
    app_id, private_key = settings.require_app_credentials()
    return Auth.AppAuth(app_id, private_key, jwt_expiry=JWT_LIFETIME_S, jwt_issued_at=-JWT_BACKDATE_S)


class TokenCache:
    """Installation tokens from Redis, minted through ``POST …/access_tokens`` on a miss."""

    def __init__(
        self,
        settings: Settings,
        client: redis.Redis,
        *,
        retry: Callable[[], Retry] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings, self.redis, self.clock = settings, client, clock
        self._retry = retry
        self._sealer = Sealer(settings.require_app_credentials()[1])  # Redis persists to disk: never in clear
        install_log_redaction()

    @staticmethod
    def key(installation_id: int) -> str:
        return keys.installation_token(installation_id)

    def get(self, installation_id: int) -> InstallationToken:
        key = self.key(installation_id)
        raw = self.redis.get(key)
        opened = self._sealer.open(raw, key.encode()) if isinstance(raw, bytes) else None
        if opened is not None:
            data = json.loads(opened)
            if data["expires_at"] - self.clock() > TOKEN_REFRESH_MARGIN_S:
                return InstallationToken(data["token"], data["expires_at"])
        token = self._mint(installation_id)
        ttl = int(token.expires_at - self.clock() - TOKEN_REFRESH_MARGIN_S)
        if ttl > 0:
            payload = json.dumps({"token": token.value, "expires_at": token.expires_at}).encode()
            self.redis.set(key, self._sealer.seal(payload, key.encode()), ex=ttl)
        return token

    def forget(self, installation_id: int) -> None:
        """Drop a token GitHub refused (revoked, or the App was reinstalled): the next
        ``get`` mints a fresh one instead of serving the dead one until it expires."""
        self.redis.delete(self.key(installation_id))

    def _mint(self, installation_id: int) -> InstallationToken:
        integration = GithubIntegration(
            auth=app_auth(self.settings),
            base_url=self.settings.github_api_url,
            retry=self._retry() if self._retry else None,
            seconds_between_requests=None,
            seconds_between_writes=None,
        )
        try:
            grant = integration.get_access_token(installation_id)
        finally:
            integration.close()
        log.info("minted an installation token for installation %s (expires %s)", installation_id, grant.expires_at)
        return InstallationToken(grant.token, grant.expires_at.timestamp())


class InstallationAuth(Auth.Auth):
    """PyGithub auth that asks the cache for the current token on every request."""

    def __init__(self, cache: TokenCache, installation_id: int) -> None:
        self.cache, self.installation_id = cache, installation_id

    @property
    def token_type(self) -> str:
        return "token"

    @property
    def token(self) -> str:
        return self.cache.get(self.installation_id).value

    @property
    def _masked_token(self) -> str:
        return f"token ({REDACTED})"

    def __repr__(self) -> str:
        return f"InstallationAuth(installation_id={self.installation_id})"
