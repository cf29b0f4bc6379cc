"""A scenario: one YAML (or JSON) file that says what `swarm demo --scenario FILE` plays.

    name: slugify                       # optional; else the file's name
    repository:
      name: octo/textkit                # owner/name; the owner is created
      source: ../sample                 # a directory, relative to this file
      files: {README.md: "# textkit\\n"} # inline files (win over `source`)
      ci_command: python -m pytest -q   # default: pytest with the interpreter running the demo
      config: "max_agents: 2\\n"        # the text of .github/swarm.yml
      ci_branches: [main, "swarm/gate/**"]  # pushes that run CI (this is the default)
      collaborators: {alice: write}     # more people, with their permission
    goal: {title: …, body: …, labels: [swarm], maintainer: octo}
    model: {agents: […]}                # the scripted model (app/simulator/models/script.py)
    timeline:                           # human actions and faults, each fired once
      - when: {event: pull_request.opened, match: {pull_request.title: "slugify"}}
        do: {comment: {goal: true, body: "Nice."}}
    expect: {goal_state: prs_open, pull_requests: 1, merged: 0}
    timeout: 600                        # seconds for the swarm to settle

Everything is checked when the file is read, before anything starts: a mistake raises a
`ScenarioError` that names the key and what is wrong with it.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from app.simulator.models.script import ScriptError, parse_script

BUILTIN = Path(__file__).parent / "scenarios" / "textkit.yaml"
START = "start"  # the trigger that fires right after the goal is labelled

Permission = Literal["admin", "maintain", "write", "triage", "read"]
_EVENT = re.compile(r"[a-z_]+(\.[a-z_]+)?")
_REPO = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+")


class ScenarioError(Exception):
    """The scenario file is invalid; the message names the key and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _relative_path(path: str) -> str:
    parts = PurePosixPath(path).parts
    if not path or path.startswith("/") or ".." in parts or ".git" in parts:
        raise ValueError(f"{path!r} must be a relative path inside the repository")
    return path


def _regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{pattern!r} is not a valid regex ({exc})") from None
    return pattern


# -- the repository and the goal -----------------------------------------------------------------


class Repository(_Strict):
    name: str
    source: str | None = None
    files: dict[str, str] = Field(default_factory=dict)
    ci_command: str | None = None
    config: str | None = None
    # Pushes that run CI (Actions' `on: push: branches:`): main, and the merge gate's candidates —
    # the line the README asks users to add to their CI.
    ci_branches: list[str] = Field(default_factory=lambda: ["main", "swarm/gate/**"])
    collaborators: dict[str, Permission] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _owner_slash_name(cls, name: str) -> str:
        if not _REPO.fullmatch(name):
            raise ValueError(f"{name!r} is not owner/name")
        return name

    @field_validator("files")
    @classmethod
    def _relative(cls, files: dict[str, str]) -> dict[str, str]:
        for path in files:
            _relative_path(path)
        return files

    @property
    def owner(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def repo(self) -> str:
        return self.name.split("/", 1)[1]


class Goal(_Strict):
    title: str = Field(min_length=1)
    body: str = ""
    labels: list[str] = Field(default_factory=lambda: ["swarm"], min_length=1)
    maintainer: str | None = None  # default: the repository's owner


# -- the timeline: when (a trigger) and do (one action) -------------------------------------------


class Trigger(_Strict):
    """`<X-GitHub-Event>.<action>` (or the event alone, any action) and payload paths to regexes.

    A path is dotted (`pull_request.head.ref`, `check_run.pull_requests.0.number`), read from the
    payload's root, else from the event's own object (`title` of a `pull_request` event). A
    string is a regex searched in the value; a number or a boolean must equal it.
    """

    event: str
    match: dict[str, str | bool | int | float] = Field(default_factory=dict)

    @field_validator("event")
    @classmethod
    def _event_name(cls, event: str) -> str:
        if not _EVENT.fullmatch(event):
            raise ValueError(f"{event!r} is not an event name like pull_request.opened")
        return event

    @field_validator("match")
    @classmethod
    def _paths_and_regexes(
        cls, match: dict[str, str | bool | int | float]
    ) -> dict[str, str | bool | int | float]:
        for path, pattern in match.items():
            if not path or any(not part for part in path.split(".")):
                raise ValueError(f"{path!r} is not a dotted payload path")
            if isinstance(pattern, str):
                _regex(pattern)
        return match

    @model_validator(mode="after")
    def _start_alone(self) -> Trigger:
        if self.event == START and self.match:
            raise ValueError("`start` takes no match")
        return self


class Target(_Strict):
    """Which issue or pull request: exactly one of these."""

    goal: bool = False  # the goal issue
    trigger: bool = False  # the issue or pull request of the delivery that fired
    number: int | None = Field(None, ge=1)
    issue: str | None = None  # a regex searched in issues' titles (not pull requests)
    pull_request: str | None = None  # a regex searched in pull requests' titles

    @field_validator("issue", "pull_request")
    @classmethod
    def _title_regex(cls, pattern: str | None) -> str | None:
        return None if pattern is None else _regex(pattern)

    @model_validator(mode="after")
    def _exactly_one(self) -> Target:
        named = [k for k in _TARGET_KEYS if getattr(self, k) not in (None, False)]
        if len(named) != 1:
            given = f" (given: {', '.join(named)})" if named else ""
            raise ValueError(
                f"name one target: goal, trigger, number, issue or pull_request{given}"
            )
        return self


_TARGET_KEYS = ("goal", "trigger", "number", "issue", "pull_request")


class Comment(Target):
    body: str = Field(min_length=1)
    user: str | None = None  # default: the maintainer


class Review(Target):
    state: Literal["APPROVE", "REQUEST_CHANGES", "COMMENT"]
    body: str = ""
    user: str | None = None

    @model_validator(mode="after")
    def _on_a_pull_request_with_a_body(self) -> Review:
        if self.goal or self.issue is not None:
            raise ValueError("a review is on a pull request: use pull_request, number or trigger")
        if self.state != "APPROVE" and not self.body:
            raise ValueError(f"a {self.state} review needs a body")
        return self


class Labels(Target):
    labels: list[str] = Field(min_length=1)
    user: str | None = None


class Push(_Strict):
    """A person's commit, pushed over git's smart HTTP: to `branch`, or to a pull request's
    head branch (by title regex, or the trigger's)."""

    branch: str | None = None
    pull_request: str | None = None
    trigger: bool = False
    from_: str | None = Field(None, alias="from")  # a new branch starts here (default: default)
    files: dict[str, str] = Field(default_factory=dict)
    delete: list[str] = Field(default_factory=list)
    message: str = "A change pushed by hand"
    force: bool = False
    user: str | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("files")
    @classmethod
    def _relative(cls, files: dict[str, str]) -> dict[str, str]:
        for path in files:
            _relative_path(path)
        return files

    @field_validator("delete")
    @classmethod
    def _relative_deletes(cls, paths: list[str]) -> list[str]:
        for path in paths:
            _relative_path(path)
        return paths

    @field_validator("pull_request")
    @classmethod
    def _title_regex(cls, pattern: str | None) -> str | None:
        return None if pattern is None else _regex(pattern)

    @model_validator(mode="after")
    def _where_and_what(self) -> Push:
        named = [k for k in ("branch", "pull_request", "trigger") if getattr(self, k)]
        if len(named) != 1:
            raise ValueError("name one of branch, pull_request or trigger")
        if not self.files and not self.delete:
            raise ValueError("a push needs files or delete")
        return self


class Fault(_Strict):
    """The simulator's fault rule: the next `count` requests matching answer `status`."""

    path_regex: str
    status: int = Field(ge=400, le=599)
    count: int = Field(1, ge=1)
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] | None = None
    retry_after: int | None = Field(None, ge=0)
    message: str | None = None

    @field_validator("path_regex")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        return _regex(pattern)


class Do(_Strict):
    """Exactly one action. A new action: a model here, a field below, a function in actions.py."""

    push: Push | None = None
    comment: Comment | None = None
    review: Review | None = None
    label: Labels | None = None
    unlabel: Labels | None = None
    fault: Fault | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Do:
        named = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(named) != 1:
            actions = ", ".join(type(self).model_fields)
            raise ValueError(f"give exactly one action ({actions})")
        return self

    @property
    def kind(self) -> str:
        return next(name for name in type(self).model_fields if getattr(self, name) is not None)

    @property
    def action(self) -> BaseModel:
        value = getattr(self, self.kind)
        assert isinstance(value, BaseModel)
        return value


class Entry(_Strict):
    name: str | None = None
    when: Trigger
    do: Do

    @field_validator("when", mode="before")
    @classmethod
    def _shorthand(cls, when: Any) -> Any:
        return {"event": when} if isinstance(when, str) else when

    @model_validator(mode="after")
    def _a_pull_request_at_start(self) -> Entry:
        action = self.do.action
        if self.when.event == START and isinstance(action, (Push, Review)) and action.trigger:
            raise ValueError("at `start` the trigger is the goal issue, not a pull request")
        return self

    def label(self, index: int) -> str:
        return self.name or f"{index + 1}: {self.do.kind} on {self.when.event}"


# -- what it should end with -----------------------------------------------------------------------


class Expect(_Strict):
    # A goal state as the store names it (prs_open, done, …); not checked against the list here,
    # which moves as the swarm grows: a wrong one fails the expectation, naming what it was.
    goal_state: str | None = Field(None, pattern=r"^[a-z_]+$")
    tasks: int | None = Field(None, ge=0)
    pull_requests: int | None = Field(None, ge=0)
    merged: int | None = Field(None, ge=0)
    checks: Literal["success", "failure", "neutral", "cancelled", "timed_out"] | None = None
    all_fired: bool = False  # every timeline entry fired


class Scenario(_Strict):
    name: str | None = None
    description: str = ""
    repository: Repository
    goal: Goal
    model: Any  # checked by the scripted model server's own parser
    timeline: list[Entry] = Field(default_factory=list)
    expect: Expect | None = None
    timeout: float = Field(600.0, gt=0)  # seconds for the swarm to settle; else the run fails

    @property
    def maintainer(self) -> str:
        return self.goal.maintainer or self.repository.owner

    def people(self) -> dict[str, Permission]:
        """Everyone the scenario acts as, with their permission (the owner is an admin)."""
        people: dict[str, Permission] = {self.repository.owner: "admin"}
        for login, permission in self.repository.collaborators.items():
            people.setdefault(login, permission)
        people.setdefault(self.maintainer, "maintain")
        return people


class LoadedScenario:
    """A valid scenario and where it came from (its `source` resolved against the file)."""

    def __init__(self, scenario: Scenario, path: Path | None) -> None:
        self.spec = scenario
        self.path = path
        self.name = scenario.name or (path.stem if path else "scenario")

    def model_script(self) -> dict[str, Any]:
        """The model, as the scripted model server takes it (a copy: YAML anchors share)."""
        model = copy.deepcopy(self.spec.model)
        return model if isinstance(model, dict) else {"agents": model}

    def with_train(self) -> LoadedScenario:
        """The same scenario in a repository whose gate runs the merge train (`swarm demo
        --train`): its `.github/swarm.yml` (the scenario's, else its source's) with
        `gate.train.enabled: true`."""
        text = self.spec.repository.config
        source = self.source_dir
        if text is None and source is not None and (source / ".github/swarm.yml").is_file():
            text = (source / ".github/swarm.yml").read_text()
        config = yaml.safe_load(text or "") or {}
        config.setdefault("gate", {}).setdefault("train", {})["enabled"] = True
        repository = self.spec.repository.model_copy(
            update={"config": yaml.safe_dump(config, sort_keys=False)}
        )
        name = f"{self.name} (merge train)"
        spec = self.spec.model_copy(update={"repository": repository, "name": name})
        return LoadedScenario(spec, self.path)

    @property
    def source_dir(self) -> Path | None:
        source = self.spec.repository.source
        if source is None:
            return None
        base = self.path.parent if self.path else Path.cwd()
        return (base / source).resolve()


def load_scenario(path: Path | str) -> LoadedScenario:
    """The scenario in a .yaml/.yml/.json file, checked through (or a ScenarioError)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    return parse_scenario(text, path, json_format=path.suffix == ".json")


def load_builtin() -> LoadedScenario:
    return load_scenario(BUILTIN)


def parse_scenario(
    text: str, path: Path | None = None, *, json_format: bool = False
) -> LoadedScenario:
    where = str(path) if path else "scenario"
    data = _read(text, where, json_format)
    if not isinstance(data, dict):
        raise ScenarioError(f"{where}: a scenario is a mapping (repository, goal, model, …)")
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(f"{where}: " + "; ".join(_problems(exc))) from None
    try:
        parse_script(scenario.model)
    except ScriptError as exc:
        raise ScenarioError(f"{where}: `model`: {exc}") from None
    loaded = LoadedScenario(scenario, path)
    _check_references(loaded, where)
    return loaded


def _read(text: str, where: str, json_format: bool) -> Any:
    if json_format:
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ScenarioError(
                f"{where}: not valid JSON at line {exc.lineno}: {exc.msg}"
            ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None)
        detail = f": {problem}" if problem else ""
        raise ScenarioError(f"{where}: not valid YAML{at}{detail}") from None


def _problems(exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors():
        key = _key(error["loc"])
        if error["type"] == "extra_forbidden":
            problems.append(f"`{key}` is not a known key")
        elif error["type"] == "missing":
            problems.append(f"`{key}` is required")
        else:
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"`{key}`: {message}")
    return problems


def _key(loc: tuple[int | str, ...]) -> str:
    key = ""
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
        else:
            key += f".{part}" if key else str(part)
    return key or "(top level)"


def _check_references(loaded: LoadedScenario, where: str) -> None:
    """What one key alone cannot say: the people named exist, the source is a directory."""
    spec = loaded.spec
    source = loaded.source_dir
    if source is not None and not source.is_dir():
        raise ScenarioError(f"{where}: `repository.source`: {source} is not a directory")
    people = spec.people()
    for index, entry in enumerate(spec.timeline):
        user = getattr(entry.do.action, "user", None)
        if user is not None and user not in people:
            known = ", ".join(sorted(people))
            raise ScenarioError(
                f"{where}: `timeline[{index}].do.{entry.do.kind}.user`: {user!r} is not one of "
                f"the scenario's people ({known}); add them to repository.collaborators"
            )
