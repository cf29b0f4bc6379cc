"""Who is calling, and what they may do: App JWTs, installation tokens, user tokens."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import jwt

from app.simulator.github.errors import GitHubError, bad_credentials, not_found
from app.simulator.github.models import (
    Installation,
    InstallationToken,
    Repo,
    User,
    permission_at_least,
)
from app.simulator.github.state import SimState
from app.simulator.github.util import utcnow

INTEGRATION_FORBIDDEN = "Resource not accessible by integration"


@dataclass(frozen=True)
class Actor:
    """The caller of one request. Anonymous when `user` is None and `app_jwt` is False."""

    user: User | None = None
    installation: Installation | None = None
    token: InstallationToken | None = None
    app_jwt: bool = False

    @property
    def login(self) -> str | None:
        if self.app_jwt:
            return "app"
        return self.user.login if self.user else None

    def require_user(self) -> User:
        if self.user is None:
            raise GitHubError(401, "Requires authentication")
        return self.user


def credential_from_header(header: str | None) -> str | None:
    """The secret in `token X`, `Bearer X` or HTTP basic auth (the password, else the user)."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    scheme = scheme.lower()
    if scheme in ("token", "bearer"):
        return value.strip() or None
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value.strip()).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        username, _, password = decoded.partition(":")
        if password and password != "x-oauth-basic":
            return password
        return username or None
    return None


def verify_app_jwt(token: str, app_id: int, public_key_pem: str | None) -> None:
    """Accept a JWT the App signed with its private key, as GitHub does, or raise 401."""
    try:
        if public_key_pem is None:
            claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
        else:
            claims = jwt.decode(
                token,
                public_key_pem,
                algorithms=["RS256"],
                options={"require": ["exp", "iat", "iss"], "verify_iat": False},
                leeway=60,
            )
    except jwt.ExpiredSignatureError as exc:
        raise GitHubError(
            401,
            "'Expiration time' claim ('exp') must be a numeric value representing the future "
            "time at which the assertion expires",
        ) from exc
    except jwt.PyJWTError as exc:
        raise GitHubError(401, "A JSON web token could not be decoded") from exc
    if str(claims.get("iss")) != str(app_id):
        raise GitHubError(401, "'Issuer' claim ('iss') must be an Integer")
    exp = claims.get("exp")
    if not isinstance(exp, int | float):
        raise GitHubError(401, "A JSON web token could not be decoded")
    if exp - utcnow().timestamp() > 11 * 60:
        raise GitHubError(401, "'Expiration time' claim ('exp') is too far in the future")


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("eyJ")


def resolve_actor(state: SimState, header: str | None, app_public_key_pem: str | None) -> Actor:
    token = credential_from_header(header)
    if token is None:
        if header:
            raise bad_credentials()
        return Actor()
    if looks_like_jwt(token):
        verify_app_jwt(token, state.app.id, app_public_key_pem)
        return Actor(app_jwt=True)
    with state.lock:
        issued = state.installation_tokens.get(token)
        if issued is not None:
            installation = state.installations.get(issued.installation_id)
            if issued.expires_at <= utcnow() or installation is None:
                raise bad_credentials()
            return Actor(user=state.bot, installation=installation, token=issued)
        user = state.user_tokens.get(token)
    if user is None:
        raise bad_credentials()
    return Actor(user=user)


def require_app(actor: Actor) -> None:
    """Endpoints that only an App's JWT may call."""
    if not actor.app_jwt:
        raise GitHubError(
            401,
            "A JSON web token could not be decoded",
            documentation_url="https://docs.github.com/rest/apps/apps",
        )


def role_on(state: SimState, actor: Actor, repo: Repo) -> str:
    """The actor's role on the repository: none, read, triage, write, maintain or admin."""
    public = "none" if repo.private else "read"
    if actor.app_jwt or actor.user is None:
        return public
    if actor.installation is not None:
        installed = state.installation_of_repo(repo)
        if installed is None or installed.id != actor.installation.id:
            return public
        allowed = actor.token.repo_ids if actor.token is not None else None
        if allowed is not None and repo.id not in allowed:
            return public
        return "write"
    if actor.user.id == repo.owner.id:
        return "admin"
    return repo.collaborators.get(actor.user.login.lower(), public)


def require(
    state: SimState, actor: Actor, repo: Repo, need: str = "read", scope: str = "metadata"
) -> str:
    """Check the actor may act on the repository at level `need`, or raise as GitHub would.

    `scope` is the App permission the action needs (contents, issues, pull_requests, checks,
    statuses); an installation token must hold it at `write` for anything above reading.
    """
    role = role_on(state, actor, repo)
    if not permission_at_least(role, "read"):
        raise not_found()
    if need == "read":
        if actor.token is not None and scope != "metadata" and scope not in actor.token.permissions:
            raise GitHubError(403, INTEGRATION_FORBIDDEN)
        return role
    if actor.user is None:
        raise (
            GitHubError(401, "Requires authentication")
            if not actor.app_jwt
            else GitHubError(403, INTEGRATION_FORBIDDEN)
        )
    if actor.token is not None:
        if actor.token.permissions.get(scope) != "write" or role != "write":
            raise GitHubError(403, INTEGRATION_FORBIDDEN)
        return role
    if not permission_at_least(role, need):
        word = "admin rights to" if need == "admin" else f"{need} access to"
        raise GitHubError(403, f"Must have {word} repository.")
    return role


def require_admin_read(state: SimState, actor: Actor, repo: Repo) -> None:
    """Reading a repository's settings (branch protection): admins, or an installation whose
    App holds the `administration` permission."""
    role = require(state, actor, repo)
    if actor.token is not None:
        if "administration" not in actor.token.permissions:
            raise GitHubError(403, INTEGRATION_FORBIDDEN)
        return
    if actor.user is None:
        raise GitHubError(401, "Requires authentication")
    if not permission_at_least(role, "admin"):
        raise GitHubError(403, "Must have admin rights to Repository.")
