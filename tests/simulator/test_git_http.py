"""Real git over smart HTTP: clone and push with a token, refusals without the right to."""

from __future__ import annotations

from pathlib import Path

from tests.simulator.conftest import World
from tests.simulator.support import Receiver, Worktree, app_client, run_git, with_token


def test_push_with_token_moves_the_branch_and_sends_a_push_event(
    world: World, receiver: Receiver
) -> None:
    work = world.clone()
    assert (work.path / "src" / "calc.py").read_text().startswith("def add")
    before = work.git("rev-parse", "HEAD").stdout.strip()
    after = work.commit({"src/calc.py": "def add(a, b):\n    return b + a\n"}, "Swap operands")
    work.push("main")

    branch = world.owner_gh.rest.repos.get_branch("octo", "demo", "main").parsed_data
    assert branch.commit.sha == after
    assert world.control.settle(10)
    pushes = receiver.events("push")
    assert len(pushes) == 1
    payload = pushes[0].payload
    assert (payload["ref"], payload["before"], payload["after"]) == (
        "refs/heads/main",
        before,
        after,
    )
    assert [c["message"] for c in payload["commits"]] == ["Swap operands"]
    assert payload["pusher"]["name"] == "octo"


def test_installation_token_can_push_a_new_branch(world: World, receiver: Receiver) -> None:
    app_gh = app_client(world.sim.url, world.private_key)
    assert world.repo.installation_id is not None
    minted = app_gh.rest.apps.create_installation_access_token(
        world.repo.installation_id, repositories=["demo"]
    ).parsed_data
    token = minted.token
    bot = world.bot_gh()
    work = world.clone("bot-work", token=token)
    work.branch("swarm/1-task")
    sha = work.commit({"NEW.md": "hello\n"}, "Add NEW.md")
    work.push("swarm/1-task")
    ref = bot.rest.git.get_ref("octo", "demo", "heads/swarm/1-task").parsed_data
    assert ref.object_.sha == sha
    assert world.control.settle(10)
    push = receiver.events("push")[-1].payload
    assert push["created"] is True and push["sender"]["login"] == "swarm[bot]"
    assert push["head_commit"]["id"] == sha


def test_push_without_credentials_is_refused(world: World, tmp_path: Path) -> None:
    anonymous = Worktree.clone(world.repo.clone_url, tmp_path / "anon")  # public: clone is fine
    anonymous.commit({"x.txt": "x\n"}, "x")
    refused = anonymous.push("main", check=False)
    assert refused.returncode != 0
    assert "Authentication failed" in refused.stderr or "could not read Username" in refused.stderr
    wrong = anonymous.git(
        "push", with_token(world.repo.clone_url, "ghp_wrong"), "HEAD:main", check=False
    )
    assert wrong.returncode != 0
    head = world.owner_gh.rest.repos.get_branch("octo", "demo", "main").parsed_data.commit.sha
    assert head != anonymous.git("rev-parse", "HEAD").stdout.strip()


def test_reader_cannot_push_and_private_repositories_need_a_token(
    world: World, tmp_path: Path
) -> None:
    reader = world.control.create_user("reader")
    world.control.set_permission("octo", "demo", "reader", "read")
    work = world.clone("reader-work", token=reader.token)
    work.commit({"y.txt": "y\n"}, "y")
    refused = work.push("main", check=False)
    assert refused.returncode != 0 and "403" in refused.stderr

    secret = world.control.create_repo("octo", "secret", private=True)
    hidden = run_git(
        tmp_path, "clone", "--quiet", secret.clone_url, str(tmp_path / "s1"), check=False
    )
    assert hidden.returncode != 0
    cloned = run_git(
        tmp_path,
        "clone",
        "--quiet",
        with_token(secret.clone_url, world.owner.token),
        str(tmp_path / "s2"),
        check=False,
    )
    assert cloned.returncode == 0
    stranger = run_git(
        tmp_path,
        "clone",
        "--quiet",
        with_token(secret.clone_url, reader.token),
        str(tmp_path / "s3"),
        check=False,
    )
    assert stranger.returncode != 0 and "not found" in stranger.stderr.lower()


def test_an_app_without_the_workflows_permission_cannot_push_a_workflow(
    world: World, receiver: Receiver
) -> None:
    app_gh = app_client(world.sim.url, world.private_key)
    assert world.repo.installation_id is not None
    token = app_gh.rest.apps.create_installation_access_token(
        world.repo.installation_id, repositories=["demo"]
    ).parsed_data.token
    work = world.clone("bot-workflow", token=token)
    work.branch("swarm/2-ci")
    work.commit({"notes.md": "fine\n"}, "Notes")
    work.commit({".github/workflows/steal.yml": "on: push\n"}, "Add a workflow")
    refused = work.push("swarm/2-ci", check=False)
    assert refused.returncode != 0
    assert (
        "refusing to allow a GitHub App to create or update workflow "
        "`.github/workflows/steal.yml` without `workflows` permission"
    ) in refused.stderr
    refs = world.owner_gh.rest.git.list_matching_refs("octo", "demo", "heads/swarm/").parsed_data
    assert refs == []  # nothing of the push landed

    # A person may (their token is not an App's).
    person = world.clone("person-workflow", token=world.owner.token)
    person.commit({".github/workflows/ci.yml": "on: push\n"}, "CI")
    assert person.push("main", check=False).returncode == 0
