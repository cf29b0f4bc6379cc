"""DBOS steps around GitHub operations: each runs once per workflow, its result recorded.

Steps take plain values (installation id, `owner/name`), so their inputs and outputs are
recorded as they are and a replay never repeats a completed write.
"""

from __future__ import annotations

from dbos import DBOS

from app.github import ops
from app.github.ops import RepoRef
from app.runtime import current

GITHUB_STEP = {"retries_allowed": True, "max_attempts": 3, "interval_seconds": 2.0}


def _gh(installation_id: int):  # type: ignore[no-untyped-def]
    return current().github.installation(installation_id)


@DBOS.step(name="github.permission")
async def permission_of(installation_id: int, repo: str, login: str) -> str:
    return await ops.permission_of(_gh(installation_id), RepoRef.parse(repo), login)


@DBOS.step(name="github.ensure_labels", **GITHUB_STEP)
async def ensure_labels(installation_id: int, repo: str) -> list[str]:
    return await ops.ensure_labels(_gh(installation_id), RepoRef.parse(repo))


@DBOS.step(name="github.react_issue", **GITHUB_STEP)
async def react_to_issue(installation_id: int, repo: str, number: int, content: str) -> None:
    await ops.react_to_issue(_gh(installation_id), RepoRef.parse(repo), number, content)


@DBOS.step(name="github.react_comment", **GITHUB_STEP)
async def react_to_comment(installation_id: int, repo: str, comment_id: int, content: str) -> None:
    await ops.react_to_comment(_gh(installation_id), RepoRef.parse(repo), comment_id, content)


@DBOS.step(name="github.upsert_comment", **GITHUB_STEP)
async def upsert_comment(
    installation_id: int, repo: str, number: int, kind: str, key: str, body: str
) -> int:
    return await ops.upsert_comment(
        _gh(installation_id), RepoRef.parse(repo), number, kind, key, body
    )
