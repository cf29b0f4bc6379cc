"""What a scenario's people (and faults) do: one small function per action of `do:`.

Each acts from the outside, as a person would on github.com: through the REST API with that
person's token, or through real git over the simulator's smart HTTP. Each returns one line
saying what it did, and raises when it could not (the timeline records it and the run fails).
A new action is a model in scenario.py, a field of `Do`, and a function here in ACTIONS.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from githubkit import GitHub
from githubkit.exception import RequestFailed

from app.demo.scenario import Comment, Entry, Fault, Labels, Push, Review, Target
from app.simulator.github.control import SimulatorControl
from app.workspace.git import GitError, auth_env, git


class ActionError(Exception):
    """An action could not be done; the message says why."""


@dataclass
class Stage:
    """Where the scenario's people act: the repository, the goal, and everyone's token."""

    api_url: str
    full_name: str
    clone_url: str
    default_branch: str
    goal: int
    maintainer: str
    tokens: dict[str, str]
    control: SimulatorControl
    workdir: Path  # people's clones, for pushes
    _clients: dict[str, GitHub] = field(default_factory=dict)
    _pushes: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def owner(self) -> str:
        return self.full_name.split("/", 1)[0]

    @property
    def repo(self) -> str:
        return self.full_name.split("/", 1)[1]

    def login(self, user: str | None) -> str:
        return user or self.maintainer

    def client(self, user: str | None = None) -> GitHub:
        login = self.login(user)
        if login not in self._clients:
            self._clients[login] = GitHub(self.tokens[login], base_url=self.api_url + "/")
        return self._clients[login]


Delivery = dict[str, Any] | None


def perform(stage: Stage, entry: Entry, delivery: Delivery) -> str:
    """Do the entry's action; an ActionError names what went wrong."""
    action = ACTIONS[entry.do.kind]
    try:
        return action(stage, entry.do.action, delivery)
    except RequestFailed as exc:
        answer = exc.response.text[:300]
        raise ActionError(f"GitHub answered {exc.response.status_code}: {answer}") from None
    except GitError as exc:
        raise ActionError(str(exc)) from None


# -- the actions -----------------------------------------------------------------------------------


def comment(stage: Stage, action: Comment, delivery: Delivery) -> str:
    number = target_number(stage, action, delivery)
    stage.client(action.user).rest.issues.create_comment(
        stage.owner, stage.repo, number, body=action.body
    )
    return f"{stage.login(action.user)} commented on #{number}"


def review(stage: Stage, action: Review, delivery: Delivery) -> str:
    number = target_number(stage, action, delivery)
    stage.client(action.user).rest.pulls.create_review(
        stage.owner, stage.repo, number, event=action.state, body=action.body
    )
    return f"{stage.login(action.user)} reviewed #{number}: {action.state}"


def label(stage: Stage, action: Labels, delivery: Delivery) -> str:
    number = target_number(stage, action, delivery)
    stage.client(action.user).rest.issues.add_labels(
        stage.owner, stage.repo, number, labels=list(action.labels)
    )
    return f"{stage.login(action.user)} labelled #{number} {', '.join(action.labels)}"


def unlabel(stage: Stage, action: Labels, delivery: Delivery) -> str:
    number = target_number(stage, action, delivery)
    client = stage.client(action.user)
    for name in action.labels:
        client.rest.issues.remove_label(stage.owner, stage.repo, number, name)
    return f"{stage.login(action.user)} removed {', '.join(action.labels)} from #{number}"


def fault(stage: Stage, action: Fault, delivery: Delivery) -> str:
    rule = stage.control.inject_fault(
        action.path_regex,
        action.status,
        count=action.count,
        method=action.method,
        retry_after=action.retry_after,
        message=action.message,
    )
    return f"fault {rule['id']}: the next {action.count} {action.path_regex} answer {action.status}"


def push(stage: Stage, action: Push, delivery: Delivery) -> str:
    login = stage.login(action.user)
    branch = action.branch or head_branch(stage, action, delivery)
    work = stage.workdir / f"push-{next(stage._pushes)}-{login}"
    sha = asyncio.run(_push(stage, action, login, branch, work))
    return f"{login} pushed {sha[:10]} to {branch}"


async def _push(stage: Stage, action: Push, login: str, branch: str, work: Path) -> str:
    """Clone, commit the files as the person, push: git over HTTP with the person's token."""
    env = auth_env(stage.tokens[login])
    await git("clone", "--quiet", "--no-checkout", stage.clone_url, str(work), env=env)
    exists = await git("ls-remote", "origin", f"refs/heads/{branch}", cwd=work, env=env)
    start = branch if exists else (action.from_ or stage.default_branch)
    await git("checkout", "--quiet", "-B", branch, f"origin/{start}", cwd=work)
    for path, content in action.files.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(content)
    for path in action.delete:
        (work / path).unlink(missing_ok=True)
    await git("add", "--all", ".", cwd=work)
    identity = ("-c", f"user.name={login}", "-c", f"user.email={login}@users.noreply.github.com")
    await git(*identity, "commit", "--quiet", "--allow-empty", "-m", action.message, cwd=work)
    force = ["--force"] if action.force else []
    await git("push", "--quiet", *force, "origin", f"HEAD:refs/heads/{branch}", cwd=work, env=env)
    return await git("rev-parse", "HEAD", cwd=work)


ACTIONS: dict[str, Callable[[Stage, Any, Delivery], str]] = {
    "push": push,
    "comment": comment,
    "review": review,
    "label": label,
    "unlabel": unlabel,
    "fault": fault,
}


# -- which issue or pull request -------------------------------------------------------------------


def target_number(stage: Stage, target: Target, delivery: Delivery) -> int:
    if target.goal:
        return stage.goal
    if target.number is not None:
        return target.number
    if target.trigger:
        return stage.goal if delivery is None else delivery_number(delivery)
    client = stage.client()
    if target.pull_request is not None:
        pulls: Any = client.rest.paginate(
            client.rest.pulls.list, owner=stage.owner, repo=stage.repo, state="all"
        )
        return _first(target.pull_request, ((p.number, p.title) for p in pulls), "pull request")
    assert target.issue is not None
    issues: Any = client.rest.paginate(
        client.rest.issues.list_for_repo, owner=stage.owner, repo=stage.repo, state="all"
    )
    titles = ((i.number, i.title) for i in issues if not i.pull_request)
    return _first(target.issue, titles, "issue")


def _first(pattern: str, titled: Any, what: str) -> int:
    """The lowest number whose title the regex finds."""
    numbers = [number for number, title in titled if re.search(pattern, title)]
    if not numbers:
        raise ActionError(f"no {what} has a title matching /{pattern}/")
    return min(numbers)


def delivery_number(delivery: dict[str, Any]) -> int:
    """The issue or pull request a delivery is about."""
    payload = delivery.get("payload") or {}
    for key in ("pull_request", "issue"):
        if isinstance(payload.get(key), dict) and "number" in payload[key]:
            return int(payload[key]["number"])
    for key in ("check_run", "check_suite"):
        pulls = (payload.get(key) or {}).get("pull_requests") or []
        if pulls:
            return int(pulls[0]["number"])
    if isinstance(payload.get("number"), int):
        return int(payload["number"])
    raise ActionError(f"delivery {delivery.get('id')} ({delivery.get('event')}) names no issue")


def head_branch(stage: Stage, action: Push, delivery: Delivery) -> str:
    """The head branch of the pull request a push names (by title, or the trigger's)."""
    if action.pull_request is not None:
        number = target_number(stage, Target(pull_request=action.pull_request), delivery)
    elif delivery is None:
        raise ActionError("at start there is no pull request to push to")
    else:
        payload = delivery.get("payload") or {}
        head = (payload.get("pull_request") or {}).get("head") or {}
        if isinstance(head.get("ref"), str):
            return str(head["ref"])
        number = delivery_number(delivery)
    pr = stage.client().rest.pulls.get(stage.owner, stage.repo, number).parsed_data
    return pr.head.ref
