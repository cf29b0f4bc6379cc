"""The merge gate end to end: the simulator (CI on candidate branches), real git, the scripted
model as workers and judges, the real gate — what lands is what was tested."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.demo.run import snapshot
from app.demo.script import PLAN, SLUG_TEST, WORDS_PY, final_worker, happy_script, judge_agent
from app.store import Goal, Task
from tests.swarm_support import (
    FULL,
    OWNER,
    REPO,
    all_pulls,
    open_goal,
    pr_file,
    seeded_stack,
    wait_for,
)


def rows(goal_number: int) -> tuple[Goal, list[Task]]:
    goal, tasks = snapshot(goal_number)
    assert goal is not None
    return goal, tasks


def test_every_task_lands_the_commit_that_was_tested_and_the_goal_closes(tmp_path: Path) -> None:
    with seeded_stack(tmp_path, happy_script()) as (stack, octo):
        goal_number = open_goal(octo)
        stack.settle()

        goal, tasks = rows(goal_number)
        assert goal.state == "done", (goal.note, [(t.number, t.state, t.note) for t in tasks])
        assert [t.state for t in tasks] == ["done"] * 3
        main = octo.rest.git.get_ref(OWNER, REPO, "heads/main").parsed_data.object_.sha
        landed = {t.landed_sha for t in tasks}
        assert main in landed
        for task in tasks:
            assert task.landed_sha and task.landed_sha == task.tested_sha
            assert task.verdict == "approved"
            # The tested commit carries green CI and the judge's approval, as check runs.
            runs = octo.rest.checks.list_for_ref(OWNER, REPO, task.tested_sha).parsed_data
            conclusions = {r.name: r.conclusion for r in runs.check_runs}
            assert conclusions == {"ci": "success", "swarm/judge": "success"}
            issue = octo.rest.issues.get(OWNER, REPO, task.number).parsed_data
            assert issue.state == "closed"
        for pr in all_pulls(octo):
            assert pr.merged_at is not None, pr.number
        # Dependencies mean landed: the docs task began from a main that had both modules.
        docs = next(t for t in tasks if t.key == "docs")
        for path in ("textkit/words.py", "textkit/slug.py"):
            octo.rest.repos.get_content(OWNER, REPO, path, ref=docs.head_sha)  # 404 if absent
        # Main is green at its tip, and the goal is closed with its summary.
        tip_runs = octo.rest.checks.list_for_ref(OWNER, REPO, main).parsed_data.check_runs
        assert {(r.name, r.conclusion) for r in tip_runs} >= {("ci", "success")}
        issue = octo.rest.issues.get(OWNER, REPO, goal_number).parsed_data
        assert issue.state == "closed"
        comments = octo.rest.issues.list_comments(OWNER, REPO, goal_number).parsed_data
        summary = [c.body or "" for c in comments if "<!-- swarm:summary:" in (c.body or "")]
        assert len(summary) == 1 and summary[0].count("same commit") == 3
        assert "The goal checked on `main`" in summary[0] and "4 of 4 criteria met" in summary[0]


def task_row(goal_number: int, key: str) -> Task:
    _, tasks = snapshot(goal_number)
    return next(
        (t for t in tasks if t.key == key), Task(FULL, 0, goal_number, key, "not planned yet")
    )


def test_people_hold_landing_and_a_review_requesting_changes_goes_back_to_the_worker(
    tmp_path: Path,
) -> None:
    """With `require_human_approval`, nothing lands unapproved; a "changes requested" review
    sends the worker back (a new head, a new gate); `swarm:hold` holds an approved pull
    request until the label goes."""
    fixed = '"""Word counting."""\n\n\n' + WORDS_PY
    follow_up = {
        "name": "review follow-up",
        "match": "A review on the pull request requests changes",
        "turns": [
            {"expect": "please add a module docstring",
             "tool_calls": [{"name": "write_file",
                             "arguments": {"path": "textkit/words.py", "content": fixed}}]},
            {"tool_calls": [{"name": "finish", "arguments": {"summary": "added the docstring"}}]},
        ],
    }  # fmt: skip
    script = happy_script()
    script["agents"] = [follow_up, *script["agents"]]
    with seeded_stack(tmp_path, script) as (stack, octo):
        config = {".github/swarm.yml": "require_human_approval: true\n"}
        stack.control.push_files(OWNER, REPO, "main", OWNER, config, message="Approvals")
        goal = open_goal(octo)

        def waiting(key: str, why: str, head: str = "") -> Task | None:
            task = task_row(goal, key)
            ok = task.state == "pr_open" and why in task.note and task.head_sha != head
            return task if ok else None

        words = wait_for(lambda: waiting("words", "approval"), "words to wait for approval")
        slug = wait_for(lambda: waiting("slug", "approval"), "slug to wait for approval")
        assert words.pr_number and slug.pr_number
        octo.rest.issues.add_labels(OWNER, REPO, slug.pr_number, labels=["swarm:hold"])
        octo.rest.pulls.create_review(OWNER, REPO, slug.pr_number, event="APPROVE")
        octo.rest.pulls.create_review(
            OWNER, REPO, words.pr_number, event="REQUEST_CHANGES",
            body="please add a module docstring",
        )  # fmt: skip
        wait_for(lambda: waiting("slug", "`swarm:hold`"), "slug to wait for its hold")
        fixed_words = wait_for(
            lambda: waiting("words", "octo", words.head_sha), "words' new head, held by the review"
        )
        assert pr_file(octo, fixed_words.head_sha, "textkit/words.py") == fixed
        octo.rest.pulls.create_review(OWNER, REPO, words.pr_number, event="APPROVE")
        wait_for(lambda: task_row(goal, "words").state == "done", "words to land")
        assert task_row(goal, "slug").state == "pr_open"  # still held
        octo.rest.issues.remove_label(OWNER, REPO, slug.pr_number, "swarm:hold")
        wait_for(lambda: task_row(goal, "slug").state == "done", "slug to land once unheld")
        docs = wait_for(lambda: waiting("docs", "approval"), "docs to wait for approval")
        assert docs.pr_number
        octo.rest.pulls.create_review(OWNER, REPO, docs.pr_number, event="APPROVE")
        stack.settle()

        goal_row, tasks = rows(goal)
        assert goal_row.state == "done"
        assert all(t.landed_sha == t.tested_sha for t in tasks)
        words_pr = octo.rest.pulls.get(OWNER, REPO, words.pr_number).parsed_data
        assert words_pr.merged_at and words_pr.head.sha == fixed_words.head_sha
        assert len(octo.rest.pulls.list_commits(OWNER, REPO, words.pr_number).parsed_data) == 2


def test_a_flake_passes_its_rerun_lost_webhooks_are_polled_and_a_moved_base_is_never_landed_on(
    tmp_path: Path,
) -> None:
    """Every candidate's first CI run fails (a flake; its one re-run passes), no check webhook
    ever arrives (the gate polls), and a person pushes to main between a green, judged candidate
    and its landing: the compare-and-swap refuses it, the candidate is rebuilt and gated again,
    and what lands is what was tested — no other pull request is touched meanwhile."""
    overrides = {"SWARM_GATE_POLL_SECONDS": "0.5"}
    with seeded_stack(tmp_path, happy_script(), overrides=overrides) as (stack, octo):
        config = {".github/swarm.yml": "require_human_approval: true\n"}
        stack.control.push_files(OWNER, REPO, "main", OWNER, config, message="Approvals")
        stack.control.set_flake(
            OWNER, REPO, branches=["swarm/*", "swarm/gate/*"]
        )  # first runs fail
        stack.settle()  # the config's own CI on main, delivered as usual
        since = max(d["id"] for d in stack.control.deliveries())
        stack.control.lose_webhooks("check_run", "check_suite", "status")
        goal = open_goal(octo)

        def waiting(key: str) -> Task | None:
            task = task_row(goal, key)
            return task if task.state == "pr_open" and "approval" in task.note else None

        words = wait_for(lambda: waiting("words"), "words: green, judged, waiting for approval")
        slug = wait_for(lambda: waiting("slug"), "slug: green, judged, waiting for approval")
        assert words.pr_number and slug.pr_number and words.flakes >= 1
        first_candidate = words.candidate_sha
        human = stack.control.push_files(
            OWNER, REPO, "main", OWNER, {"NOTES.md": "a person was here\n"}, message="Notes"
        )
        octo.rest.pulls.create_review(OWNER, REPO, words.pr_number, event="APPROVE")
        landed = wait_for(
            lambda: (t := task_row(goal, "words")).state == "done" and t, "words to land"
        )
        assert landed.tested_sha != first_candidate  # rebuilt on the moved base
        assert landed.landed_sha == landed.tested_sha
        assert landed.flakes >= 2 and landed.ci_runs >= 4  # each candidate: a flake, a re-run
        compare = octo.rest.repos.compare_commits(OWNER, REPO, f"{human}...{landed.landed_sha}")
        assert compare.parsed_data.status == "ahead"  # the person's commit is in what landed
        untouched = octo.rest.pulls.get(OWNER, REPO, slug.pr_number).parsed_data
        assert untouched.head.sha == slug.head_sha  # no other pull request was rebased

        octo.rest.pulls.create_review(OWNER, REPO, slug.pr_number, event="APPROVE")
        docs = wait_for(lambda: waiting("docs"), "docs to wait for approval")
        assert docs.pr_number
        octo.rest.pulls.create_review(OWNER, REPO, docs.pr_number, event="APPROVE")
        stack.settle()

        goal_row, tasks = rows(goal)
        assert goal_row.state == "done"
        assert all(t.landed_sha == t.tested_sha for t in tasks)
        lost = stack.control.deliveries("check_run", since=since)
        assert lost and all(d.get("status_code") is None for d in lost)  # none ever arrived


def _judged_twice_then_approved() -> dict[str, Any]:
    """`slug`'s judge asks for changes twice, then approves; its worker has a turn for each."""
    script = happy_script()
    (criteria,) = [t["acceptance"] for t in PLAN["tasks"] if t["key"] == "slug"]
    for agent in script["agents"]:
        if agent["name"] == "judge: Add slugify":
            refusing = judge_agent("Add slugify", criteria, approve=False, repeat=2)
            agent["turns"] = refusing["turns"] + agent["turns"]
        if agent["name"] == "worker: Add slugify":  # each run pushes a new head
            agent["turns"] = [
                *agent["turns"],
                *final_worker("Add slugify", {"tests/test_slug.py": SLUG_TEST + "# 2\n"})["turns"],
                *final_worker("Add slugify", {"tests/test_slug.py": SLUG_TEST + "# 3\n"})["turns"],
            ]
    return script


def test_past_its_bound_a_task_is_blocked_labelled_and_the_goal_says_why(tmp_path: Path) -> None:
    """The judge does not approve `slug`: it goes back once (the bound), then it is blocked —
    labelled `swarm:blocked`, with the reason on the task and in the status comment — and what
    depends on it never starts. `/swarm retry` takes the label off and gates it again."""
    with seeded_stack(tmp_path, _judged_twice_then_approved()) as (stack, octo):
        config = {".github/swarm.yml": "gate:\n  max_rounds: 1\n"}
        stack.control.push_files(OWNER, REPO, "main", OWNER, config, message="One round")
        goal = open_goal(octo)
        stack.settle()

        goal_row, tasks = rows(goal)
        state = {t.key: t for t in tasks}
        assert goal_row.state == "incomplete"
        slug = state["slug"]
        assert slug.state == "blocked" and slug.rounds == 1
        assert "the judge asked for changes, after 1 rounds (the bound is 1)" in slug.note
        assert state["words"].state == "done" and state["docs"].state == "planned"
        assert slug.pr_number
        for number in (slug.number, slug.pr_number):
            labels = octo.rest.issues.get(OWNER, REPO, number).parsed_data.labels
            assert "swarm:blocked" in [getattr(label, "name", label) for label in labels]
        comments = octo.rest.issues.list_comments(OWNER, REPO, goal).parsed_data
        status = next(c.body or "" for c in comments if "<!-- swarm:status:" in (c.body or ""))
        assert "🚧 blocked: the judge asked for changes" in status
        # What the judge said went back to the worker, with its evidence.
        assert stack.models is not None
        handed_back = [
            r for r in stack.models.requests()
            if r["agent"] == "worker: Add slugify" and "asked for changes" in str(r["body"])
        ]  # fmt: skip
        assert handed_back

        octo.rest.issues.create_comment(OWNER, REPO, goal, body="/swarm retry")
        wait_for(lambda: task_row(goal, "slug").state == "done", "slug landed after the retry")
        for number in (slug.number, slug.pr_number):
            labels = octo.rest.issues.get(OWNER, REPO, number).parsed_data.labels
            assert "swarm:blocked" not in [getattr(label, "name", label) for label in labels]


def test_killed_mid_gate_then_every_webhook_redelivered_nothing_lands_or_closes_twice(
    tmp_path: Path,
) -> None:
    """SIGKILL the swarm the moment its first pull request lands (its gate is between the ref
    update and the sub-issue's closing), start it afresh, then redeliver every webhook: each
    pull request is merged once, each issue closed once, and the goal still finishes."""
    from tests.swarm_support import SwarmProcess

    with seeded_stack(tmp_path, happy_script(), in_process=False) as (stack, octo):
        first = SwarmProcess(stack)
        try:
            goal = open_goal(octo)
            wait_for(lambda: any(p.merged_at for p in all_pulls(octo)), "a first landing")
            first.kill()
        finally:
            first.stop()
        second = SwarmProcess(stack)
        try:
            stack.settle()
            for delivery in stack.control.deliveries():
                stack.control.redeliver(delivery["id"])
            stack.settle()
        finally:
            second.stop()

        pulls = all_pulls(octo)
        assert len(pulls) == 3 and all(p.merged_at for p in pulls)
        sent = [d for d in stack.control.deliveries() if not d.get("redelivery")]
        merged = [
            d["payload"]["pull_request"]["number"] for d in sent
            if d["event"] == "pull_request" and d["action"] == "closed"
        ]  # fmt: skip
        assert sorted(merged) == sorted(p.number for p in pulls)  # once each
        closed = [
            d["payload"]["issue"]["number"] for d in sent
            if d["event"] == "issues" and d["action"] == "closed"
        ]  # fmt: skip
        assert len(closed) == len(set(closed)) == 4  # three sub-issues and the goal, once each
        assert goal in closed
        landings = [
            c.commit.message.splitlines()[0]
            for c in octo.rest.repos.list_commits(OWNER, REPO, sha="main", per_page=100).parsed_data
            if c.commit.message.startswith("Merge pull request #")
        ]
        assert len(landings) == len(set(landings))  # no pull request merged into main twice
        comments = octo.rest.issues.list_comments(OWNER, REPO, goal).parsed_data
        summaries = [c for c in comments if "<!-- swarm:summary:" in (c.body or "")]
        assert len(summaries) == 1


def test_squash_lands_one_tested_commit_per_pull_request_and_shows_it_merged(
    tmp_path: Path,
) -> None:
    with seeded_stack(tmp_path, happy_script()) as (stack, octo):
        config = {".github/swarm.yml": "merge_method: squash\n"}
        stack.control.push_files(OWNER, REPO, "main", OWNER, config, message="Squash")
        goal = open_goal(octo)
        stack.settle()

        goal_row, tasks = rows(goal)
        assert goal_row.state == "done"
        for task in tasks:
            assert task.landed_sha == task.tested_sha
            commit = octo.rest.repos.get_commit(OWNER, REPO, task.landed_sha).parsed_data
            assert len(commit.parents) == 1  # one commit on main per pull request
            assert commit.commit.message.startswith(f"{task.title} (#{task.pr_number})")
            assert task.pr_number
            pr = octo.rest.pulls.get(OWNER, REPO, task.pr_number).parsed_data
            assert pr.merged_at is not None and pr.head.sha == task.landed_sha
