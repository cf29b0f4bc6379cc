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
        ci_branches: list[str] | None = None,
        private: bool = False,
        install: bool = True,
        description: str | None = None,
    ) -> SimRepo:
        """`ci_branches`: Actions' `on: push: branches:` patterns for CI (e.g. `["main",
        "swarm/gate/**"]`); None runs CI on pushes to the default branch only. Pull request
        heads run CI either way (`on: pull_request`)."""
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
                "ci_branches": ci_branches,
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
        """Change `ci_command`, `ci_timeout` or `ci_branches` of a repository."""
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

    # branch rules, the App's permissions ---------------------------------------------------------
    def protect_branch(
        self,
        owner: str,
        name: str,
        branch: str,
        *,
        required_checks: list[str] | None = None,
        strict: bool = False,
        enforce_admins: bool = False,
        required_reviews: int | None = None,
        push_users: list[str] | None = None,
        push_apps: list[str] | None = None,
        allow_force_pushes: bool = False,
        allow_deletions: bool = False,
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Classic branch protection on `branch` (a name or an fnmatch pattern such as
        `release/*`). `push_users`/`push_apps` (app slugs, e.g. the App's `swarm`) restrict who
        may push; giving either turns the restriction on. `body` instead sends GitHub's own
        `PUT .../protection` body. Answers what `GET .../protection` shows."""
        if body is None:
            restricted = push_users is not None or push_apps is not None
            body = {
                "required_status_checks": {"strict": strict, "contexts": required_checks}
                if required_checks is not None
                else None,
                "enforce_admins": enforce_admins,
                "required_pull_request_reviews": {
                    "required_approving_review_count": required_reviews
                }
                if required_reviews is not None
                else None,
                "restrictions": {"users": push_users or [], "teams": [], "apps": push_apps or []}
                if restricted
                else None,
                "allow_force_pushes": allow_force_pushes,
                "allow_deletions": allow_deletions,
            }
        result: dict[str, Any] = self._call(
            "PUT", f"/repos/{owner}/{name}/branches/{branch}/protection", json=body
        )
        return result

    def unprotect_branch(self, owner: str, name: str, branch: str) -> None:
        self._call("DELETE", f"/repos/{owner}/{name}/branches/{branch}/protection")

    def create_ruleset(
        self,
        owner: str,
        name: str,
        ruleset_name: str,
        rules: list[dict[str, Any]],
        *,
        include: list[str] | None = None,
        exclude: list[str] | None = None,
        bypass_app: bool = False,
        bypass_actors: list[dict[str, Any]] | None = None,
        enforcement: str = "active",
    ) -> dict[str, Any]:
        """A branch ruleset, GitHub's shape: `rules` such as `{"type": "update"}`,
        `{"type": "non_fast_forward"}`, `{"type": "required_status_checks", "parameters":
        {"required_status_checks": [{"context": "ci"}]}}`; `include` patterns such as
        `"~DEFAULT_BRANCH"` (the default) or `"refs/heads/swarm/gate/**"`. `bypass_app` puts the
        App in the bypass list. Answers the ruleset (with its `id`)."""
        body = {
            "name": ruleset_name,
            "target": "branch",
            "enforcement": enforcement,
            "conditions": {
                "ref_name": {"include": include or ["~DEFAULT_BRANCH"], "exclude": exclude or []}
            },
            "rules": rules,
            "bypass_actors": bypass_actors or [],
            "bypass_app": bypass_app,
        }
        result: dict[str, Any] = self._call("POST", f"/repos/{owner}/{name}/rulesets", json=body)
        return result

    def delete_ruleset(self, owner: str, name: str, ruleset_id: int) -> None:
        self._call("DELETE", f"/repos/{owner}/{name}/rulesets/{ruleset_id}")

    def set_app_permissions(self, **levels: str | None) -> dict[str, str]:
        """Change the App's permissions for every installation (`statuses="write"`,
        `administration="read"`, `workflows=None` to remove). New tokens carry them."""
        result: dict[str, str] = self._call("PUT", "/app/permissions", json=levels)
        return result

    # CI and people's pushes ----------------------------------------------------------------------
    def set_flake(
        self,
        owner: str,
        name: str,
        *,
        fail_first_runs: int = 0,
        branches: list[str] | None = None,
        shas: list[str] | None = None,
    ) -> dict[str, Any]:
        """Flaky CI: the next `fail_first_runs` runs fail, and so does the first run of each
        commit pushed to a branch matching `branches` (fnmatch) or whose sha starts with one of
        `shas`. Such a run does not run the command; its log says `FLAKY: simulated
        intermittent failure`, and re-requesting it runs the command for real."""
        result: dict[str, Any] = self._call(
            "PUT",
            f"/repos/{owner}/{name}/ci/flake",
            json={
                "fail_first_runs": fail_first_runs,
                "branches": branches or [],
                "shas": shas or [],
            },
        )
        return result

    def clear_flake(self, owner: str, name: str) -> None:
        self._call("DELETE", f"/repos/{owner}/{name}/ci/flake")

    def push_files(
        self,
        owner: str,
        name: str,
        branch: str,
        user: str,
        files: dict[str, str] | None = None,
        *,
        delete: list[str] | None = None,
        message: str | None = None,
    ) -> str:
        """A person (`user`, with write access) commits `files` (path -> text) and removes
        `delete` on `branch`, then pushes: branch rules, push event, pull request updates and CI
        follow as after `git push`. Returns the new sha (HTTP 422 when the rules refuse)."""
        data = self._call(
            "POST",
            f"/repos/{owner}/{name}/push",
            json={
                "branch": branch,
                "user": user,
                "files": files or {},
                "delete": delete or [],
                "message": message,
            },
        )
        return str(data["sha"])

    # webhooks and faults -------------------------------------------------------------------------
    def set_webhook(self, url: str | None, secret: str = "") -> None:
        self._call("PUT", "/webhook", json={"url": url, "secret": secret})

    def lose_webhooks(self, *events: str) -> None:
        """Deliveries of these events fail from now on (none: every one is delivered again)."""
        self._call("PUT", "/webhook/lost", json={"events": list(events)})

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
