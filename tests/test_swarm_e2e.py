"""The swarm end to end: the simulator, real git, real HTTP, the real SDKs, a scripted model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.demo.script import (
    PLAN,
    README_DOCS,
    SLUG_PY,
    WORDS_PY,
    checker_agent,
    happy_script,
    judge_agent,
)
from tests.swarm_support import (
    FULL,
    OWNER,
    REPO,
    all_pulls,
    branches,
    open_goal,
    pr_file,
    requests_of,
    seeded_stack,
    settle_in_a_new_process,
    sub_issue_numbers,
    task_issues,
    user_client,
    wait_for,
)

EXPECTED_FILES = {
    "Add word_count": {"textkit/words.py": WORDS_PY},
    "Add slugify": {"textkit/slug.py": SLUG_PY},
    "Document word_count and slugify in the README": {"README.md": README_DOCS},
}


def test_a_labelled_goal_becomes_sub_issues_and_one_pull_request_per_task(tmp_path: Path) -> None:
    with seeded_stack(tmp_path, happy_script()) as (stack, octo):
        goal = open_goal(octo)
        stack.settle()

        tasks = task_issues(octo)
        assert sorted(t.title for t in tasks) == sorted(t["title"] for t in PLAN["tasks"])
        assert sub_issue_numbers(octo, goal) == sorted(t.number for t in tasks)
        pulls = all_pulls(octo)
        assert len(pulls) == len(tasks) == 3
        for pr in pulls:
            assert "Closes #" in (pr.body or "")
            assert pr.head.ref.startswith("swarm/")
            files = {
                f.filename for f in octo.rest.pulls.list_files(OWNER, REPO, pr.number).parsed_data
            }
            expected = EXPECTED_FILES[pr.title]
            assert set(expected) <= files
            for path, text in expected.items():
                assert pr_file(octo, pr.head.sha, path) == text
            runs = octo.rest.checks.list_for_ref(OWNER, REPO, pr.head.sha).parsed_data.check_runs
            assert ("ci", "success") in [(r.name, r.conclusion) for r in runs]
            # The commit is the bot's, and carries the agent's name.
            commit = octo.rest.repos.get_commit(OWNER, REPO, pr.head.sha).parsed_data
            assert commit.commit.author and commit.commit.author.name == "swarm[bot]"
            assert "Agent:" in commit.commit.message

        # The goal's one status comment reports every task, its pull request and CI.
        comments = octo.rest.issues.list_comments(OWNER, REPO, goal).parsed_data
        status = [c.body or "" for c in comments if "<!-- swarm:status:" in (c.body or "")]
        assert len(status) == 1
        for pr in pulls:
            assert f"#{pr.number}" in status[0]
        assert status[0].count("| success |") == 3
        assert "Swarm status: done" in status[0]
        # The dependent task started only after both of its dependencies had landed.
        docs = next(p for p in pulls if p.title.startswith("Document"))
        others = [p for p in pulls if p is not docs]
        assert all(p.number < docs.number for p in others)

        # Every write the App made names the run behind it: the delivery that started the goal
        # and the workflow (with its `owner/repo#n`) that wrote.
        writes = [
            r for r in stack.control.requests()
            if r["actor"] == "swarm[bot]" and r["method"] != "GET" and "/repos/" in r["path"]
            and ".git/" not in r["path"]
        ]  # fmt: skip
        assert writes and all("workflow=" in w["run"] for w in writes), writes[:3]
        runs = {w["run"] for w in writes}
        assert any(f"target={FULL}#{goal}" in run and "workflow=goal:" in run for run in runs)
        assert any("workflow=task:" in run for run in runs)
        goal_runs = [run for run in runs if run.endswith(f"workflow=goal:{FULL}#{goal}")]
        assert goal_runs and all("delivery=" in run for run in goal_runs), sorted(runs)


def _restartable_script() -> dict[str, Any]:
    """The demo's plan and files, each agent doing all its work in one turn, and that turn again
    whenever asked: an agent cut off by the restart and started afresh still finishes."""

    def call(name: str, **arguments: Any) -> dict[str, Any]:
        return {"name": name, "arguments": arguments}

    def agent(match: str, *calls: dict[str, Any]) -> dict[str, Any]:
        return {"name": match, "match": match, "turns": [{"repeat": 50, "tool_calls": list(calls)}]}

    done = call("finish", summary="done")
    workers = [
        agent(rf"{title} \(#", *[call("write_file", path=p, content=c) for p, c in files.items()],
              done)
        for title, files in EXPECTED_FILES.items()
    ]  # fmt: skip
    planner = agent("the planner in Swarm", call("submit_plan", **PLAN), done)
    judges = [judge_agent(t["title"], t["acceptance"], repeat=5) for t in PLAN["tasks"]]
    return {"agents": [planner, checker_agent(repeat=3), *judges, *workers]}


def test_redeliveries_and_a_restart_make_no_second_issue_branch_or_pull_request(
    tmp_path: Path,
) -> None:
    from tests.swarm_support import SwarmProcess

    with seeded_stack(tmp_path, _restartable_script(), in_process=False) as (stack, octo):
        first = SwarmProcess(stack)
        try:
            open_goal(octo)
            # Restart `swarm serve` (SIGTERM, as an operator would) once a first pull request
            # exists: mid-run. A new process, as in production: no two DBOS in one process.
            wait_for(lambda: all_pulls(octo), "a first pull request")
        finally:
            first.stop()
        second = SwarmProcess(stack)
        try:
            stack.settle()
            before = (
                sorted(t.number for t in task_issues(octo)),
                sorted(p.number for p in all_pulls(octo)),
                branches(octo),
            )
            for delivery in stack.control.deliveries():
                stack.control.redeliver(delivery["id"])
            stack.settle()
        finally:
            second.stop()
        assert len(before[0]) == 3 and len(before[1]) == 3 and len(before[2]) == 3
        after = (
            sorted(t.number for t in task_issues(octo)),
            sorted(p.number for p in all_pulls(octo)),
            branches(octo),
        )
        assert after == before


def test_a_user_without_write_access_costs_nothing(tmp_path: Path) -> None:
    with seeded_stack(tmp_path, happy_script()) as (stack, _maintainer):
        reader = user_client(stack, "reader", "read")
        issue = reader.rest.issues.create(OWNER, REPO, title="Please do everything").parsed_data
        requests_before = len(stack.control.requests())
        # The label comes from the reader (write access is needed to label on GitHub, but
        # GitHub Enterprise and triage roles differ: the swarm checks for itself).
        stack.control.set_permission(OWNER, REPO, "reader", "triage")
        reader.rest.issues.add_labels(OWNER, REPO, issue.number, labels=["swarm"])
        reader.rest.issues.create_comment(OWNER, REPO, issue.number, body="/swarm go")
        stack.settle()
        assert stack.models is not None and stack.models.requests() == []
        bot_writes = [
            r for r in stack.control.requests()[requests_before:]
            if r["actor"] == "swarm[bot]" and r["method"] not in {"GET", "HEAD"}
        ]  # fmt: skip
        assert bot_writes == []


def _blocking_worker(match: str, gate: str, extra_turns: list[dict[str, Any]]) -> dict[str, Any]:
    """A worker that runs a command which waits for `gate` to appear in its worktree."""
    wait = f"until [ -f {gate} ]; do sleep 0.02; done; rm {gate}; echo released"
    return {
        "name": f"blocked: {match}",
        "match": match,
        "turns": [
            {"tool_calls": [{"name": "run", "arguments": {"command": wait, "timeout_s": 120}}]},
            *extra_turns,
        ],
    }


def _script_with(*agents: dict[str, Any]) -> dict[str, Any]:
    script = happy_script()
    script["agents"] = [*agents, *script["agents"]]
    return script


def _worktree(stack: Any, issue: int) -> Path:
    return Path(stack.settings.data_dir) / "worktrees" / FULL / str(issue)


def test_a_redirect_reaches_the_running_agent_and_stop_cancels_one(tmp_path: Path) -> None:
    redirected = _blocking_worker(
        r"Add word_count \(#",
        "GATE",
        [
            {"expect": "also count hyphenated words as one",
             "tool_calls": [{"name": "write_file",
                             "arguments": {"path": "textkit/words.py", "content": WORDS_PY}}]},
            {"tool_calls": [{"name": "finish", "arguments": {"summary": "done as asked"}}]},
        ],
    )  # fmt: skip
    stopped = _blocking_worker(r"Add slugify \(#", "GATE", [{"text": "never reached"}])
    with seeded_stack(tmp_path, _script_with(redirected, stopped)) as (stack, octo):
        open_goal(octo)
        wait_for(lambda: requests_of(stack, redirected["name"]), "the word_count agent's command")
        wait_for(lambda: requests_of(stack, stopped["name"]), "the slugify agent's command")
        words = next(t for t in task_issues(octo) if t.title == "Add word_count")
        slug = next(t for t in task_issues(octo) if t.title == "Add slugify")

        octo.rest.issues.create_comment(
            OWNER, REPO, words.number, body="/swarm also count hyphenated words as one"
        )
        octo.rest.issues.create_comment(OWNER, REPO, slug.number, body="/swarm stop")
        wait_for(lambda: _replied(octo, words.number), "the redirect's answer")
        wait_for(lambda: _replied(octo, slug.number), "the stop's answer")
        (_worktree(stack, words.number) / "GATE").touch()
        (_worktree(stack, slug.number) / "GATE").touch()
        stack.settle()

        # The very next request of the redirected agent carried the message.
        sent = requests_of(stack, redirected["name"])
        assert len(sent) >= 2
        assert "also count hyphenated words as one" in json.dumps(sent[1]["body"])
        assert "Message from octo" not in json.dumps(sent[0]["body"])
        # The stopped agent asked the model nothing more, and the swarm said so.
        assert len(requests_of(stack, stopped["name"])) == 1
        assert "stopped the agent" in _replied(octo, slug.number)
        assert "delivered to the agent" in _replied(octo, words.number)
        assert not [p for p in all_pulls(octo) if p.title == "Add slugify"]
        assert [p for p in all_pulls(octo) if p.title == "Add word_count"]


def _replied(octo: Any, number: int) -> str:
    for comment in octo.rest.issues.list_comments(OWNER, REPO, number).parsed_data:
        if "<!-- swarm:reply:" in (comment.body or ""):
            return comment.body or ""
    return ""


def test_a_task_whose_process_was_killed_mid_work_completes_once_after_restart(
    tmp_path: Path,
) -> None:
    from tests.swarm_support import SwarmProcess

    # Both independent tasks are mid-command when the process dies; each resumes on its own.
    killed = [
        _blocking_worker(r"Add word_count \(#", "GATE", []),
        _blocking_worker(r"Add slugify \(#", "GATE", []),
    ]
    resumed = [
        _resumed_worker("Add word_count", "textkit/words.py", WORDS_PY),
        _resumed_worker("Add slugify", "textkit/slug.py", SLUG_PY),
    ]
    with seeded_stack(tmp_path, _script_with(*resumed, *killed), in_process=False) as (
        stack,
        octo,
    ):
        first = SwarmProcess(stack)
        try:
            open_goal(octo)
            for agent in killed:
                wait_for(lambda a=agent: requests_of(stack, a["name"]), "an agent's command")
            first.kill()  # SIGKILL while both agents are mid-task
        finally:
            first.stop()
        settle_in_a_new_process(stack)
        for title, path, text in [
            ("Add word_count", "textkit/words.py", WORDS_PY),
            ("Add slugify", "textkit/slug.py", SLUG_PY),
        ]:
            pulls = [p for p in all_pulls(octo) if p.title == title]
            assert len(pulls) == 1
            assert pr_file(octo, pulls[0].head.sha, path) == text
        for agent in resumed:  # each fresh agent ran once, to its finish
            assert [r["turn"] for r in requests_of(stack, agent["name"])] == [0, 1]
        for agent in killed:  # the killed agents were never asked again
            assert len(requests_of(stack, agent["name"])) == 1
        assert len(all_pulls(octo)) == 3 and len(task_issues(octo)) == 3


def _resumed_worker(title: str, path: str, content: str) -> dict[str, Any]:
    return {
        "name": f"resumed: {title}",
        "match": rf"(?s){title} \(#.*Where an earlier attempt left this task",
        "turns": [
            {
                "tool_calls": [
                    {"name": "write_file", "arguments": {"path": path, "content": content}}
                ]
            },
            {"tool_calls": [{"name": "finish", "arguments": {"summary": "resumed and done"}}]},
        ],
    }


def test_removing_the_label_stops_the_goal_and_its_agents(tmp_path: Path) -> None:
    blocked = [
        _blocking_worker(r"Add word_count \(#", "GATE", [{"text": "never reached"}]),
        _blocking_worker(r"Add slugify \(#", "GATE", [{"text": "never reached"}]),
    ]
    with seeded_stack(tmp_path, _script_with(*blocked)) as (stack, octo):
        goal = open_goal(octo)
        for agent in blocked:
            wait_for(lambda a=agent: requests_of(stack, a["name"]), "an agent at work")
        octo.rest.issues.create_comment(OWNER, REPO, goal, body="/swarm status")
        wait_for(lambda: _replied(octo, goal), "the status answer")
        assert "the status comment above is up to date" in _replied(octo, goal)

        octo.rest.issues.remove_label(OWNER, REPO, goal, "swarm")
        wait_for(lambda: "stopped" in _status(octo, goal), "the goal to stop")
        for task in task_issues(octo):
            gate = _worktree(stack, task.number) / "GATE"
            if gate.parent.exists():
                gate.touch()
        stack.settle()
        assert "Swarm status: stopped" in _status(octo, goal)
        for agent in blocked:  # neither agent asked the model anything after the stop
            assert len(requests_of(stack, agent["name"])) == 1
        assert all_pulls(octo) == []


def _status(octo: Any, number: int) -> str:
    for comment in octo.rest.issues.list_comments(OWNER, REPO, number).parsed_data:
        if "<!-- swarm:status:" in (comment.body or ""):
            return comment.body or ""
    return ""


def test_work_already_saved_in_a_checkpoint_when_the_process_died_still_gets_its_pull_request(
    tmp_path: Path,
) -> None:
    from tests.swarm_support import SwarmProcess

    # The agent writes its file (a checkpoint after every step pushes it), then blocks.
    saved_then_killed = _blocking_worker(r"Add word_count \(#", "GATE", [])
    saved_then_killed["turns"].insert(
        0, {"tool_calls": [{"name": "write_file",
                            "arguments": {"path": "textkit/words.py", "content": WORDS_PY}}]},
    )  # fmt: skip
    resumed = _resumed_worker("Add word_count", "textkit/words.py", WORDS_PY)
    script = _script_with(resumed, saved_then_killed)
    with seeded_stack(
        tmp_path, script, in_process=False, overrides={"SWARM_CHECKPOINT_SECONDS": "0"}
    ) as (stack, octo):
        first = SwarmProcess(stack)
        try:
            open_goal(octo)
            wait_for(lambda: len(requests_of(stack, saved_then_killed["name"])) == 2,
                     "the agent's blocking command")  # fmt: skip
            wait_for(lambda: _branch_file(octo, "textkit/words.py"), "the checkpoint on GitHub")
            first.kill()
        finally:
            first.stop()
        settle_in_a_new_process(stack)
        # The fresh agent found its work already on the branch and changed nothing: the task
        # still gets its pull request, with that work.
        assert [r["turn"] for r in requests_of(stack, resumed["name"])] == [0, 1]
        pulls = [p for p in all_pulls(octo) if p.title == "Add word_count"]
        assert len(pulls) == 1
        assert pr_file(octo, pulls[0].head.sha, "textkit/words.py") == WORDS_PY


def _branch_file(octo: Any, path: str) -> bool:
    for ref in branches(octo):
        if "add-word-count" in ref:
            try:
                pr_file(octo, ref.removeprefix("refs/heads/"), path)
            except Exception:
                return False
            return True
    return False
