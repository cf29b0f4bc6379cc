"""The one way to reach GitHub: githubkit clients for the App and its installations.

githubkit signs the App JWT and caches each installation token until shortly before it expires;
`GITHUB_API_URL` is honoured for every client (GitHub Enterprise Server, the simulator).
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from githubkit import AppAuthStrategy, GitHub
from githubkit.cache.mem_cache import MemCacheStrategy

from app.context import HEADER, header_value

USER_AGENT = "swarm-github-app"


async def _tag_write(request: httpx.Request) -> None:
    """Every write names the run that made it, so GitHub's side can be traced back."""
    if request.method != "GET":
        request.headers[HEADER] = header_value()


@dataclass(frozen=True)
class AppIdentity:
    slug: str

    @property
    def bot_login(self) -> str:
        return f"{self.slug}[bot]"


class GitHubApp:
    """Clients for the App itself and, lazily, for each of its installations."""

    def __init__(self, app_id: int, private_key_pem: str, api_url: str) -> None:
        self._auth = AppAuthStrategy(app_id, private_key_pem)
        self.api_url = api_url
        self.app = GitHub(
            self._auth,
            base_url=api_url + "/",
            user_agent=USER_AGENT,
            # Tokens are cached per App instance, not process-wide: another App (a test's, a
            # second simulator's) with the same id must never be handed this one's token.
            cache_strategy=MemCacheStrategy(),
            # No HTTP caching: "does it exist already?" reads must see GitHub's state now, or a
            # replay could create the twin that the read was there to prevent.
            http_cache=False,
            async_event_hooks={"request": [_tag_write]},
        )
        self._installations: dict[int, GitHub] = {}
        self._identity: AppIdentity | None = None

    def installation(self, installation_id: int) -> GitHub:
        client = self._installations.get(installation_id)
        if client is None:
            client = self.app.with_auth(self._auth.as_installation(installation_id))
            self._installations[installation_id] = client
        return client

    async def identity(self) -> AppIdentity:
        if self._identity is None:
            app = (await self.app.rest.apps.async_get_authenticated()).parsed_data
            slug = getattr(app, "slug", None) or "swarm"
            self._identity = AppIdentity(slug=slug)
        return self._identity

    async def repository_token(self, installation_id: int, repo_name: str) -> str:
        """A fresh installation token narrowed to one repository, for git over HTTPS."""
        resp = await self.app.rest.apps.async_create_installation_access_token(
            installation_id, data={"repositories": [repo_name]}
        )
        return resp.parsed_data.token
