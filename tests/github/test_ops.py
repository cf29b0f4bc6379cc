"""`app.github.ops` over real HTTP against the simulator: what each operation promises, above
all that calling it again (a replayed workflow step) never makes a twin."""

from __future__ import annotations

import pytest

from app.github import ops
from app.github.ops import SWARM_LABELS, marker
from tests.github.conftest import APP_SLUG, Repo

pytestmark = pytest.mark.asyncio(loop_scope="module")

BOT = f"{APP_SLUG}[bot]"


def _writes(repo: Repo, since: int) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in repo.hub.requests(since) if r["method"] != "GET"]


def _new_issue(repo: Repo, title: str = "An issue", body: str = "") -> int:
    r = repo.ref
    return repo.owner_gh.rest.issues.create(
        r.owner, r.name, title=title, body=body
    ).parsed_data.number


# comments ----------------------------------------------------------------------------------------
async def test_upsert_comment_creates_once_then_edits_in_place(repo: Repo) -> None:
    r, number = repo.ref, _new_issue(repo)
    first = await ops.upsert_comment(repo.gh, r, number, "status", "k1", "Working on it")
    second = await ops.upsert_comment(repo.gh, r, number, "status", "k1", "Done")

    assert second == first
    comments = repo.owner_gh.rest.issues.list_comments(r.owner, r.name, number).parsed_data
    assert [(c.id, c.user.login if c.user else None) for c in comments] == [(first, BOT)]
    assert comments[0].body == f"Done\n\n{marker('status', 'k1')}"


async def test_upsert_comment_with_the_same_text_writes_nothing(repo: Repo) -> None:
    r, number = repo.ref, _new_issue(repo)
    first = await ops.upsert_comment(repo.gh, r, number, "status", "k1", "Same")
    before = repo.hub.last_seq()
    assert await ops.upsert_comment(repo.gh, r, number, "status", "k1", "Same") == first
    assert _writes(repo, before) == []


async def test_upsert_comment_with_another_key_or_kind_makes_another_comment(repo: Repo) -> None:
    r, number = repo.ref, _new_issue(repo)
    a = await ops.upsert_comment(repo.gh, r, number, "status", "k1", "one")
    b = await ops.upsert_comment(repo.gh, r, number, "status", "k2", "two")
    c = await ops.upsert_comment(repo.gh, r, number, "plan", "k1", "three")
    assert len({a, b, c}) == 3
    # Each is still found again by its own (kind, key).
    assert await ops.upsert_comment(repo.gh, r, number, "status", "k2", "two, again") == b
    comments = repo.owner_gh.rest.issues.list_comments(r.owner, r.name, number).parsed_data
    assert [c.body for c in comments] == [
        f"one\n\n{marker('status', 'k1')}",
        f"two, again\n\n{marker('status', 'k2')}",
        f"three\n\n{marker('plan', 'k1')}",
    ]


async def test_upsert_comment_is_per_issue(repo: Repo) -> None:
    r = repo.ref
    one, two = _new_issue(repo, "one"), _new_issue(repo, "two")
    a = await ops.upsert_comment(repo.gh, r, one, "status", "k", "on one")
    b = await ops.upsert_comment(repo.gh, r, two, "status", "k", "on two")
    assert a != b
    for number, text in ((one, "on one"), (two, "on two")):
        comments = repo.owner_gh.rest.issues.list_comments(r.owner, r.name, number).parsed_data
        assert [c.body for c in comments] == [f"{text}\n\n{marker('status', 'k')}"]


async def test_upsert_comment_finds_its_comment_past_the_first_page(repo: Repo) -> None:
    r, number = repo.ref, _new_issue(repo)
    mine = await ops.upsert_comment(repo.gh, r, number, "status", "k", "first")
    for i in range(35):  # more than githubkit's page of 30
        repo.owner_gh.rest.issues.create_comment(r.owner, r.name, number, body=f"chatter {i}")
    assert await ops.upsert_comment(repo.gh, r, number, "status", "k", "later") == mine
    comments = repo.owner_gh.rest.issues.list_comments(
        r.owner, r.name, number, per_page=100
    ).parsed_data
    tagged = [c for c in comments if marker("status", "k") in (c.body or "")]
    assert [(c.id, c.body) for c in tagged] == [(mine, f"later\n\n{marker('status', 'k')}")]


async def test_upsert_comment_removes_credentials_from_the_text(repo: Repo) -> None:
    r, number = repo.ref, _new_issue(repo)
    secret = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"  # 36 characters after ghp_
    cid = await ops.upsert_comment(repo.gh, r, number, "status", "k", f"token {secret} leaked")
    body = repo.owner_gh.rest.issues.get_comment(r.owner, r.name, cid).parsed_data.body or ""
    assert secret not in body and "[credential removed]" in body
    # Redacting is deterministic, so the replay still sees its own text and writes nothing.
    before = repo.hub.last_seq()
    await ops.upsert_comment(repo.gh, r, number, "status", "k", f"token {secret} leaked")
    assert _writes(repo, before) == []


async def test_upsert_comment_edits_only_the_named_bots_comment(repo: Repo) -> None:
    """Given the App's own bot login, another bot's comment with our marker is not ours."""
    r, number = repo.ref, _new_issue(repo)
    slug = (await repo.app.identity()).slug
    mine = await ops.upsert_comment(repo.gh, r, number, "status", "k", "one", f"{slug}[bot]")
    assert (
        await ops.upsert_comment(repo.gh, r, number, "status", "k", "two", f"{slug}[bot]") == mine
    )
    other = await ops.upsert_comment(repo.gh, r, number, "status", "k", "x", "another-app[bot]")
    assert other != mine
    body = repo.owner_gh.rest.issues.get_comment(r.owner, r.name, mine).parsed_data.body
    assert body == f"two\n\n{marker('status', 'k')}"


async def test_upsert_comment_leaves_a_strangers_comment_with_the_marker_alone(
    repo: Repo,
) -> None:
    """Anyone may comment on a public repository; the marker is plain text in the comment."""
    from tests.simulator.support import user_client

    r, number = repo.ref, _new_issue(repo)
    mallory = repo.hub.control.create_user(f"mallory-{r.name}"[:39])
    mallory_gh = user_client(repo.hub.url, mallory.token)
    planted = mallory_gh.rest.issues.create_comment(
        r.owner, r.name, number, body=f"look at me\n\n{marker('status', 'k')}"
    ).parsed_data.id

    cid = await ops.upsert_comment(repo.gh, r, number, "status", "k", "Swarm status: working")

    assert cid != planted
    body = repo.owner_gh.rest.issues.get_comment(r.owner, r.name, planted).parsed_data.body
    assert body == f"look at me\n\n{marker('status', 'k')}"


# issues and sub-issues ---------------------------------------------------------------------------
async def test_find_issue_by_marker(repo: Repo) -> None:
    r = repo.ref
    await ops.ensure_labels(repo.gh, r)
    tag = marker("task", "goal-1/alpha")
    assert await ops.find_issue_by_marker(repo.gh, r, "swarm:task", tag) is None

    # The marker without the label, and the label without the marker, are not it.
    await ops.create_issue(repo.gh, r, "no label", f"body\n\n{tag}", [])
    await ops.create_issue(repo.gh, r, "no marker", "body", ["swarm:task"])
    assert await ops.find_issue_by_marker(repo.gh, r, "swarm:task", tag) is None

    number, issue_id = await ops.create_issue(
        repo.gh, r, "Alpha", f"Do alpha\n\n{tag}", ["swarm:task"]
    )
    assert await ops.find_issue_by_marker(repo.gh, r, "swarm:task", tag) == number
    assert await ops.issue_id(repo.gh, r, number) == issue_id
    assert await ops.find_issue_by_marker(repo.gh, r, "swarm:blocked", tag) is None
    assert await ops.find_issue_by_marker(repo.gh, r, "swarm:task", marker("task", "x")) is None

    # Closed issues count too: a finished task is not created again.
    repo.owner_gh.rest.issues.update(r.owner, r.name, number, state="closed")
    assert await ops.find_issue_by_marker(repo.gh, r, "swarm:task", tag) == number


async def test_create_issue_sets_title_body_and_labels(repo: Repo) -> None:
    r = repo.ref
    await ops.ensure_labels(repo.gh, r)
    number, issue_id = await ops.create_issue(
        repo.gh, r, "A task", "The body", ["swarm:task", "swarm:blocked"]
    )
    issue = repo.owner_gh.rest.issues.get(r.owner, r.name, number).parsed_data
    assert (issue.id, issue.title, issue.body) == (issue_id, "A task", "The body")
    assert sorted(lb if isinstance(lb, str) else lb.name or "" for lb in issue.labels) == [
        "swarm:blocked",
        "swarm:task",
    ]
    assert issue.user is not None and issue.user.login == BOT


async def test_ensure_sub_issue_twice_links_once(repo: Repo) -> None:
    r = repo.ref
    goal = _new_issue(repo, "Goal")
    one, _ = await ops.create_issue(repo.gh, r, "Task one", "one", [])
    two, _ = await ops.create_issue(repo.gh, r, "Task two", "two", [])
    await ops.ensure_sub_issue(repo.gh, r, goal, one)
    before = repo.hub.last_seq()
    await ops.ensure_sub_issue(repo.gh, r, goal, one)
    assert _writes(repo, before) == []
    await ops.ensure_sub_issue(repo.gh, r, goal, two)
    await ops.ensure_sub_issue(repo.gh, r, goal, two)
    subs = repo.owner_gh.rest.issues.list_sub_issues(r.owner, r.name, goal).parsed_data
    assert [s.number for s in subs] == [one, two]
    links = [w for w in _writes(repo, 0) if w[1].endswith(f"/issues/{goal}/sub_issues")]
    assert len(links) == 2


# pull requests -----------------------------------------------------------------------------------
async def test_open_pull_request_creates_once_and_finds_it_again(repo: Repo) -> None:
    r = repo.ref
    head_sha = repo.push_branch("swarm/task-1", {"a.txt": "a\n"}, "Add a")
    first = await ops.open_pull_request(
        repo.gh, r, head="swarm/task-1", base="main", title="Task 1", body="Closes #1"
    )
    assert first.head_sha == head_sha

    before = repo.hub.last_seq()
    again = await ops.open_pull_request(
        repo.gh, r, head="swarm/task-1", base="main", title="Task 1", body="Closes #1"
    )
    assert again == first
    assert _writes(repo, before) == []

    pulls = repo.owner_gh.rest.pulls.list(r.owner, r.name, state="all").parsed_data
    assert [(p.number, p.head.ref, p.base.ref, p.title, p.body) for p in pulls] == [
        (first.number, "swarm/task-1", "main", "Task 1", "Closes #1")
    ]
    assert pulls[0].user is not None and pulls[0].user.login == BOT


async def test_open_pull_request_updates_the_body_and_follows_the_head(repo: Repo) -> None:
    r = repo.ref
    repo.push_branch("swarm/task-2", {"b.txt": "b\n"}, "Add b")
    first = await ops.open_pull_request(
        repo.gh, r, head="swarm/task-2", base="main", title="Task 2", body="v1"
    )
    newer = repo.push_branch("swarm/task-2", {"b.txt": "b, better\n"}, "Better b")
    assert newer != first.head_sha

    again = await ops.open_pull_request(
        repo.gh, r, head="swarm/task-2", base="main", title="Task 2 renamed", body="v2"
    )
    assert again.number == first.number
    assert again.head_sha == newer
    pull = repo.owner_gh.rest.pulls.get(r.owner, r.name, first.number).parsed_data
    # The body follows; the title is only set on creation (as documented: "updated to body").
    assert (pull.title, pull.body) == ("Task 2", "v2")
    assert len(repo.owner_gh.rest.pulls.list(r.owner, r.name, state="all").parsed_data) == 1


async def test_open_pull_request_tells_heads_apart(repo: Repo) -> None:
    r = repo.ref
    repo.push_branch("swarm/x", {"x.txt": "x\n"}, "x")
    repo.push_branch("swarm/x-2", {"y.txt": "y\n"}, "y")
    x = await ops.open_pull_request(repo.gh, r, head="swarm/x", base="main", title="X", body="")
    y = await ops.open_pull_request(repo.gh, r, head="swarm/x-2", base="main", title="Y", body="")
    assert x.number != y.number
    x_again = await ops.open_pull_request(
        repo.gh, r, head="swarm/x", base="main", title="X", body=""
    )
    assert x_again == x


# labels ------------------------------------------------------------------------------------------
async def test_ensure_labels_creates_the_swarm_labels_once(repo: Repo) -> None:
    r = repo.ref
    assert await ops.ensure_labels(repo.gh, r) == list(SWARM_LABELS)
    labels = {
        lb.name: (lb.color, lb.description)
        for lb in repo.owner_gh.rest.issues.list_labels_for_repo(
            r.owner, r.name, per_page=100
        ).parsed_data
    }
    assert {name: labels[name] for name in SWARM_LABELS} == SWARM_LABELS
    assert "bug" in labels  # GitHub's own defaults are left alone

    before = repo.hub.last_seq()
    assert await ops.ensure_labels(repo.gh, r) == []
    assert _writes(repo, before) == []


async def test_ensure_labels_creates_only_the_missing_ones(repo: Repo) -> None:
    r = repo.ref
    repo.owner_gh.rest.issues.create_label(r.owner, r.name, name="swarm:plan", color="000000")
    assert await ops.ensure_labels(repo.gh, r) == ["swarm", "swarm:task", "swarm:blocked"]
    # An existing label keeps the colour its owner gave it.
    plan = repo.owner_gh.rest.issues.get_label(r.owner, r.name, "swarm:plan").parsed_data
    assert plan.color == "000000"


async def test_ensure_labels_sees_labels_past_the_first_page(repo: Repo) -> None:
    r = repo.ref
    for i in range(30):  # with GitHub's 9 defaults, the swarm's labels land on page two
        repo.owner_gh.rest.issues.create_label(r.owner, r.name, name=f"area-{i:02}", color="eeeeee")
    assert len(await ops.ensure_labels(repo.gh, r)) == 4
    before = repo.hub.last_seq()
    assert await ops.ensure_labels(repo.gh, r) == []
    assert _writes(repo, before) == []


async def test_ensure_labels_with_a_differently_cased_label(repo: Repo) -> None:
    """GitHub's label names are case-insensitive: `Swarm` is `swarm`."""
    r = repo.ref
    repo.owner_gh.rest.issues.create_label(r.owner, r.name, name="Swarm", color="000000")
    created = await ops.ensure_labels(repo.gh, r)
    names = [
        lb.name
        for lb in repo.owner_gh.rest.issues.list_labels_for_repo(
            r.owner, r.name, per_page=100
        ).parsed_data
    ]
    assert names.count("Swarm") == 1 and "swarm" not in names  # nothing was doubled
    assert created == ["swarm:plan", "swarm:task", "swarm:blocked"]


# permissions -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "reported", "writer"),
    [
        ("admin", "admin", True),
        ("maintain", "write", True),  # GitHub's `permission` field folds maintain into write
        ("write", "write", True),
        ("triage", "read", False),
        ("read", "read", False),
    ],
)
async def test_permission_of_a_collaborator(
    repo: Repo, role: str, reported: str, writer: bool
) -> None:
    r = repo.ref
    login = f"{role}-{r.name}"[:39]
    repo.hub.control.create_user(login)
    repo.hub.control.set_permission(r.owner, r.name, login, role)
    assert await ops.permission_of(repo.gh, r, login) == reported
    assert await ops.can_write(repo.gh, r, login) is writer


async def test_permission_of_owner_stranger_and_nobody(repo: Repo) -> None:
    r = repo.ref
    stranger = f"stranger-{r.name}"[:39]
    repo.hub.control.create_user(stranger)
    assert await ops.permission_of(repo.gh, r, "octo") == "admin"
    # A public repository: anyone may read it.
    assert await ops.permission_of(repo.gh, r, stranger) == "read"
    assert await ops.can_write(repo.gh, r, stranger) is False
    # No such account: GitHub answers 404, reported as "none".
    assert await ops.permission_of(repo.gh, r, "no-such-user-at-all") == "none"
    assert await ops.can_write(repo.gh, r, "no-such-user-at-all") is False
    # Taking a collaborator's role away again.
    repo.hub.control.set_permission(r.owner, r.name, stranger, "write")
    assert await ops.can_write(repo.gh, r, stranger) is True
    repo.hub.control.set_permission(r.owner, r.name, stranger, "none")
    assert await ops.permission_of(repo.gh, r, stranger) == "read"


async def test_permission_of_a_stranger_on_a_private_repository(repo: Repo) -> None:
    hub = repo.hub
    private = hub.control.create_repo("octo", f"{repo.ref.name}-private", private=True)
    r = ops.RepoRef.parse(private.full_name)
    stranger = f"outsider-{repo.ref.name}"[:39]
    hub.control.create_user(stranger)
    assert await ops.permission_of(repo.gh, r, stranger) == "none"
    assert await ops.permission_of(repo.gh, r, "octo") == "admin"


# repository and contents -------------------------------------------------------------------------
async def test_repo_info(repo: Repo) -> None:
    info = await ops.repo_info(repo.gh, repo.ref)
    assert info == ops.RepoInfo(clone_url=repo.sim_repo.clone_url, default_branch="main")
    other = repo.hub.control.create_repo("octo", f"{repo.ref.name}-trunk", default_branch="trunk")
    info = await ops.repo_info(repo.gh, ops.RepoRef.parse(other.full_name))
    assert info.default_branch == "trunk"
    assert info.clone_url.endswith(f"/{other.full_name}.git")


async def test_file_text(repo: Repo) -> None:
    r = repo.ref
    assert await ops.file_text(repo.gh, r, "README.md", "main") == "# demo\n"
    assert await ops.file_text(repo.gh, r, "src/calc.py", "main") == (
        "def add(a, b):\n    return a + b\n"
    )
    assert await ops.file_text(repo.gh, r, "missing.txt", "main") is None
    assert await ops.file_text(repo.gh, r, "src", "main") is None  # a directory
    assert await ops.file_text(repo.gh, r, "README.md", "no-such-branch") is None

    long_text = "".join(f"line {i}: ünïcödé ✓\n" for i in range(200))  # wrapped base64
    sha = repo.push_branch("docs", {"docs/long.md": long_text}, "Docs")
    assert await ops.file_text(repo.gh, r, "docs/long.md", "docs") == long_text
    assert await ops.file_text(repo.gh, r, "docs/long.md", sha) == long_text
    assert await ops.file_text(repo.gh, r, "docs/long.md", "main") is None


# reactions ---------------------------------------------------------------------------------------
async def test_reactions_on_issues_and_comments_are_made_once(repo: Repo) -> None:
    r, number = repo.ref, _new_issue(repo)
    comment_id = repo.owner_gh.rest.issues.create_comment(
        r.owner, r.name, number, body="/swarm go"
    ).parsed_data.id
    for _ in range(2):
        await ops.react_to_issue(repo.gh, r, number, "eyes")
        await ops.react_to_comment(repo.gh, r, comment_id, "+1")
    await ops.react_to_issue(repo.gh, r, number, "rocket")

    on_issue = repo.owner_gh.rest.reactions.list_for_issue(r.owner, r.name, number).parsed_data
    assert sorted((x.content, x.user.login if x.user else "") for x in on_issue) == [
        ("eyes", BOT),
        ("rocket", BOT),
    ]
    on_comment = repo.owner_gh.rest.reactions.list_for_issue_comment(
        r.owner, r.name, comment_id
    ).parsed_data
    assert [(x.content, x.user.login if x.user else "") for x in on_comment] == [("+1", BOT)]


async def test_plain_comment(repo: Repo) -> None:
    r, number = repo.ref, _new_issue(repo)
    cid = await ops.comment(repo.gh, r, number, "Hello")
    got = repo.owner_gh.rest.issues.get_comment(r.owner, r.name, cid).parsed_data
    assert (got.body, got.user.login if got.user else "") == ("Hello", BOT)


# pure helpers ------------------------------------------------------------------------------------
async def test_repo_ref_and_marker() -> None:
    ref = ops.RepoRef.parse("octo/demo")
    assert (ref.owner, ref.name, ref.full_name) == ("octo", "demo", "octo/demo")
    for bad in ("octo", "/demo", "octo/", ""):
        with pytest.raises(ValueError):
            ops.RepoRef.parse(bad)
    assert marker("status", "7") == "<!-- swarm:status:7 -->"
