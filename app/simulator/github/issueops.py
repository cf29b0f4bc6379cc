"""Changes to an issue (or a pull request through the issues API) and the events each one
sends. Call with `state.lock` held."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.simulator.github.errors import GitHubError, validation_failed
from app.simulator.github.models import Issue, Label, Repo, User
from app.simulator.github.util import utcnow

if TYPE_CHECKING:
    from app.simulator.github.core import Simulator

STATE_REASONS = ("completed", "not_planned", "reopened", "duplicate")


def label_named(sim: Simulator, repo: Repo, name: str, create: bool) -> Label | None:
    label = repo.labels.get(name.lower())
    if label is None and create:
        label = Label(sim.state.next_id(), name)
        repo.labels[name.lower()] = label
    return label


def add_labels(sim: Simulator, repo: Repo, issue: Issue, names: list[str], sender: User) -> None:
    for name in names:
        label = label_named(sim, repo, name, create=True)
        assert label is not None
        if any(existing.id == label.id for existing in issue.labels):
            continue
        issue.labels.append(label)
        issue.updated_at = utcnow()
        sim.events.issue("labeled", repo, issue, sender, label=sim.render.label(repo, label))


def remove_label(sim: Simulator, repo: Repo, issue: Issue, name: str, sender: User) -> None:
    label = next((lb for lb in issue.labels if lb.name.lower() == name.lower()), None)
    if label is None:
        raise GitHubError(404, "Label does not exist")
    issue.labels.remove(label)
    issue.updated_at = utcnow()
    sim.events.issue("unlabeled", repo, issue, sender, label=sim.render.label(repo, label))


def set_labels(sim: Simulator, repo: Repo, issue: Issue, names: list[str], sender: User) -> None:
    wanted = {n.lower() for n in names}
    for label in list(issue.labels):
        if label.name.lower() not in wanted:
            remove_label(sim, repo, issue, label.name, sender)
    add_labels(sim, repo, issue, names, sender)


def _assignable(sim: Simulator, logins: list[str]) -> list[User]:
    users: list[User] = []
    for login in logins:
        user = sim.state.users.get(login.lower())
        if user is None:
            raise validation_failed("Issue", "assignees", "invalid", f"{login} is not assignable")
        users.append(user)
    return users


def add_assignees(
    sim: Simulator, repo: Repo, issue: Issue, logins: list[str], sender: User
) -> None:
    for user in _assignable(sim, logins):
        if any(a.id == user.id for a in issue.assignees):
            continue
        issue.assignees.append(user)
        issue.updated_at = utcnow()
        sim.events.issue("assigned", repo, issue, sender, assignee=sim.render.user(user))


def remove_assignees(
    sim: Simulator, repo: Repo, issue: Issue, logins: list[str], sender: User
) -> None:
    wanted = {login.lower() for login in logins}
    for user in [a for a in issue.assignees if a.login.lower() in wanted]:
        issue.assignees.remove(user)
        issue.updated_at = utcnow()
        sim.events.issue("unassigned", repo, issue, sender, assignee=sim.render.user(user))


def set_assignees(
    sim: Simulator, repo: Repo, issue: Issue, logins: list[str], sender: User
) -> None:
    wanted = {login.lower() for login in logins}
    remove_assignees(
        sim,
        repo,
        issue,
        [a.login for a in issue.assignees if a.login.lower() not in wanted],
        sender,
    )
    add_assignees(sim, repo, issue, logins, sender)


def set_state(
    sim: Simulator, repo: Repo, issue: Issue, state: str, reason: str | None, sender: User
) -> None:
    if state not in ("open", "closed"):
        raise validation_failed("Issue", "state")
    if reason is not None and reason not in STATE_REASONS:
        raise validation_failed("Issue", "state_reason")
    if state == issue.state:
        if reason is not None and state == "closed":
            issue.state_reason = reason
        return
    now = utcnow()
    issue.updated_at = now
    if state == "closed":
        if issue.pull is not None and issue.pull.merged:
            return
        issue.state, issue.closed_at, issue.closed_by = "closed", now, sender
        issue.state_reason = None if issue.pull is not None else (reason or "completed")
        sim.events.issue("closed", repo, issue, sender)
    else:
        if issue.pull is not None and issue.pull.merged:
            raise GitHubError(422, "Cannot reopen a merged pull request")
        issue.state, issue.closed_at, issue.closed_by = "open", None, None
        issue.state_reason = None if issue.pull is not None else "reopened"
        sim.events.issue("reopened", repo, issue, sender)


def edit_text(
    sim: Simulator,
    repo: Repo,
    issue: Issue,
    title: str | None,
    body: str | None,
    body_given: bool,
    sender: User,
) -> None:
    changes: dict[str, Any] = {}
    if title is not None and title != issue.title:
        changes["title"] = {"from": issue.title}
        issue.title = title
    if body_given and body != issue.body:
        changes["body"] = {"from": issue.body or ""}
        issue.body = body
    if changes:
        issue.updated_at = utcnow()
        sim.events.issue("edited", repo, issue, sender, changes=changes)


def new_issue(
    sim: Simulator, repo: Repo, user: User, title: str, body: str | None, pull: Any = None
) -> Issue:
    now = utcnow()
    issue = Issue(
        id=sim.state.next_id(),
        number=repo.next_number,
        title=title,
        body=body,
        user=user,
        created_at=now,
        updated_at=now,
        pull=pull,
    )
    repo.next_number += 1
    repo.issues[issue.number] = issue
    sim.state.issue_index[issue.id] = (repo, issue)
    return issue
