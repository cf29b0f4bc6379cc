"""A small typed client for the simulator's control API (`/_sim/…`), so that tests and the demo
never write its URLs by hand."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx


class _ByKey:
    """Also readable as a mapping (`user["token"]`), like the JSON the control API returns."""

    def __getitem__(self, key: str) -> Any:
        if key.startswith("_") or not hasattr(self, key):
            raise KeyError(key)
        return getattr(self, key)


@dataclass(frozen=True)
class SimUser(_ByKey):
    login: str
    id: int
    token: str


@dataclass(frozen=True)
class SimRepo(_ByKey):
    id: int
    full_name: str
    default_branch: str
    clone_url: str
    installation_id: int | None

    @property
    def owner(self) -> str:
        return self.full_name.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.full_name.split("/", 1)[1]


class SimulatorControl:
    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self._client = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, trust_env=False)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> SimulatorControl:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._client.request(method, f"/_sim{path}", **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    # accounts and repositories -------------------------------------------------------------------
    def create_user(self, login: str, type: str = "User") -> SimUser:
        data = self._call("POST", "/users", json={"login": login, "type": type})
        return SimUser(login=data["login"], id=data["id"], token=data["token"])

    def create_repo(
        self,
        owner: str,
        name: str,
        *,
        source_dir: Path | str | None = None,
        default_branch: str = "main",
        ci_command: str | None = None,
        ci_timeout: float | None = None,
        private: bool = False,
        install: bool = True,
        description: str | None = None,
    ) -> SimRepo:
        data = self._call(
            "POST",
            "/repos",
            json={
                "owner": owner,
                "name": name,
                "source_dir": str(source_dir) if source_dir is not None else None,
                "default_branch": default_branch,
                "ci_command": ci_command,
                "ci_timeout": ci_timeout,
                "private": private,
                "install": install,
                "description": description,
            },
        )
        return SimRepo(
            id=data["id"],
            full_name=data["full_name"],
            default_branch=data["default_branch"],
            clone_url=data["clone_url"],
            installation_id=data["installation_id"],
        )

    def update_repo(self, owner: str, name: str, **fields: Any) -> dict[str, Any]:
        """Change `ci_command` or `ci_timeout` of a repository."""
        result: dict[str, Any] = self._call("PATCH", f"/repos/{owner}/{name}", json=fields)
        return result

    def set_permission(self, owner: str, name: str, login: str, permission: str) -> None:
        """Make `login` a collaborator with admin|maintain|write|triage|read (or none)."""
        self._call(
            "PUT", f"/repos/{owner}/{name}/collaborators/{login}", json={"permission": permission}
        )

    def installations(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/installations")
        return result

    # webhooks and faults -------------------------------------------------------------------------
    def set_webhook(self, url: str | None, secret: str = "") -> None:
        self._call("PUT", "/webhook", json={"url": url, "secret": secret})

    def inject_fault(
        self,
        path_regex: str,
        status: int,
        *,
        count: int = 1,
        method: str | None = None,
        retry_after: int | None = None,
        message: str | None = None,
    ) -> dict[str, Any]:
        """The next `count` requests matching answer `status` instead of being served."""
        result: dict[str, Any] = self._call(
            "POST",
            "/faults",
            json={
                "path_regex": path_regex,
                "status": status,
                "count": count,
                "method": method,
                "retry_after": retry_after,
                "message": message,
            },
        )
        return result

    def faults(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/faults")
        return result

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    # logs and idleness ---------------------------------------------------------------------------
    def deliveries(self, event: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        """Logged webhook deliveries: id, guid, event, action, headers, payload, body, status."""
        params: dict[str, Any] = {"since": since}
        if event:
            params["event"] = event
        result: list[dict[str, Any]] = self._call("GET", "/deliveries", params=params)
        return result

    def redeliver(self, delivery_id: int) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"/deliveries/{delivery_id}/redeliver")
        return result

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        """Logged requests: seq, method, path, query, actor (login), status, fault."""
        result: list[dict[str, Any]] = self._call("GET", "/requests", params={"since": since})
        return result

    def idle(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/idle")
        return result

    def settle(self, timeout: float = 30.0) -> bool:
        """Block until no webhook delivery is pending and no CI job runs; False on timeout."""
        data = self._call("POST", "/settle", params={"timeout": timeout}, timeout=timeout + 10.0)
        return bool(data["settled"])
