"""Authentication as GitHub does it for Apps: RS256 JWTs for ``/app…``, tokens elsewhere."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

if TYPE_CHECKING:
    from tests.fakegithub.core import FakeCore
    from tests.fakegithub.openapi import Operation

# GitHub answers these without credentials: the manifest code is the proof.
UNAUTHENTICATED = {"apps/create-from-manifest"}
MAX_JWT_LIFETIME_S = 600  # GitHub: exp no more than 10 minutes into the future
CLOCK_SKEW_S = 60
EXP_PAST = "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"  # noqa: E501
EXP_FAR = "'Expiration time' claim ('exp') is too far in the future"
IAT_FUTURE = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"


@dataclass(frozen=True)
class AppKey:
    """The App's RSA key pair (generated once per test session: ~50 ms)."""

    private: rsa.RSAPrivateKey

    @classmethod
    def generate(cls) -> AppKey:
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @cached_property
    def private_pem(self) -> str:
        return self.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()

    @cached_property
    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@dataclass(frozen=True)
class Caller:
    label: str  # none | app | installation:<id> | invalid
    installation_id: int | None = None
    error: str | None = None  # set: answer 401 with this message


def new_token() -> str:
    """Shaped like GitHub's installation tokens: ``ghs_`` and 36 alphanumerics."""
    alphabet = string.ascii_letters + string.digits
    return "ghs_" + "".join(secrets.choice(alphabet) for _ in range(36))


def needs_jwt(op: Operation | None) -> bool:
    if op is None:
        return False
    t = op.template
    return t == "/app" or t.startswith("/app/") or t.endswith("/installation")


def authenticate(fake: FakeCore, headers: dict[str, str], op: Operation | None) -> Caller:
    header = headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    if not credential and op is not None and op.operation_id in UNAUTHENTICATED:
        return Caller("none")
    if not credential:
        return Caller("none", error="Requires authentication")
    if scheme.lower() not in ("bearer", "token"):
        return Caller("invalid", error="Bad credentials")
    if needs_jwt(op):
        return _check_jwt(fake, credential)
    token = fake.world.tokens.get(credential)
    if token is None:
        return Caller("invalid", error="Bad credentials")
    if token.expires_at <= fake.clock():
        return Caller(f"installation:{token.installation_id}", error="Bad credentials")
    return Caller(f"installation:{token.installation_id}", token.installation_id)


def _check_jwt(fake: FakeCore, credential: str) -> Caller:
    try:
        claims = jwt.decode(
            credential,
            fake.key.public_pem,
            algorithms=["RS256"],
            options={"require": ["exp", "iat", "iss"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError:
        return Caller("invalid", error="A JSON web token could not be decoded")
    now = fake.clock()
    if str(claims["iss"]) != str(fake.app_id):
        return Caller("invalid", error="Integration not found")
    if claims["exp"] <= now:
        return Caller("invalid", error=EXP_PAST)
    if claims["exp"] > now + MAX_JWT_LIFETIME_S + 1:
        return Caller("invalid", error=EXP_FAR)
    if claims["iat"] > now + CLOCK_SKEW_S:
        return Caller("invalid", error=IAT_FUTURE)
    return Caller("app")
