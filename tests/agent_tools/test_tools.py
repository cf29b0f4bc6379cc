"""Each tool's success and error paths, through the real sandbox and real files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from app.agent.tools import COMMAND_TOOLS, READ_ONLY_TOOLS, WorkspaceTools
from app.sandbox import make_sandbox
from tests.agent_tools.conftest import PROTECTED
from tests.sandbox.helpers import make_runner

ALL_TOOLS = {"list_files", "read_file", "search", "replace", "write_file", "run"}


async def ok(tools: WorkspaceTools, name: str, **arguments: Any) -> str:
    result = await tools.call(name, arguments)
    assert not result.is_error, result.output
    return result.output


async def error(tools: WorkspaceTools, name: str, **arguments: Any) -> str:
    result = await tools.call(name, arguments)
    assert result.is_error, result.output
    return result.output


# -- specs and calls ----------------------------------------------------------------------------


def test_specs_describe_every_tool_with_a_strict_schema(tools: WorkspaceTools) -> None:
    specs = {spec.name: spec for spec in tools.specs()}
    assert set(specs) == ALL_TOOLS
    for spec in specs.values():
        assert spec.parameters["type"] == "object"
        assert spec.parameters["additionalProperties"] is False
        assert set(spec.parameters["required"]) <= set(spec.parameters["properties"])
        assert len(spec.description) > 60
    assert specs["replace"].parameters["required"] == ["path", "old", "new"]
    assert "20000 characters" in specs["read_file"].description


async def test_an_unknown_tool_is_an_error_that_names_the_tools(tools: WorkspaceTools) -> None:
    message = await error(tools, "delete_everything")
    assert "does not exist" in message and "read_file" in message


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({}, "missing the required argument 'path'"),
        ({"path": 3}, "'path' must be a string, not int"),
        ({"path": "README.md", "start_line": "2"}, "'start_line' must be a integer, not str"),
        ({"path": "README.md", "start_line": True}, "'start_line' must be a integer, not bool"),
        ({"path": "README.md", "start_line": 0}, "must be at least 1"),
        ({"path": "README.md", "lines": 3}, "has no argument 'lines'"),
    ],
)
async def test_bad_arguments_are_answered_not_run(
    tools: WorkspaceTools, arguments: dict[str, Any], expected: str
) -> None:
    message = await error(tools, "read_file", **arguments)
    assert expected in message
    assert "path (string)" in message or "must be" in message


async def test_arguments_that_are_not_an_object_are_an_error(tools: WorkspaceTools) -> None:
    result = await tools.call("read_file", ["README.md"])  # type: ignore[arg-type]
    assert result.is_error and "JSON object" in result.output


async def test_a_null_optional_argument_counts_as_absent(tools: WorkspaceTools) -> None:
    output = await ok(tools, "read_file", path="README.md", start_line=None, end_line=None)
    assert "showing lines 1–3 of 3" in output


# -- list_files ---------------------------------------------------------------------------------


async def test_list_files_shows_a_tree_without_git(tools: WorkspaceTools) -> None:
    output = await ok(tools, "list_files")
    lines = output.splitlines()
    assert "README.md" in lines and "src/" in lines and "src/app.py" in lines
    assert "src/pkg/ (1 entry, not expanded)" in lines
    assert ".github/workflows/ (1 entry, not expanded)" in lines
    assert not any(line.startswith(".git/") or line == ".git/" for line in lines)


async def test_list_files_of_a_subdirectory_with_depth(tools: WorkspaceTools) -> None:
    output = await ok(tools, "list_files", path="src", depth=3)
    assert output.splitlines() == ["src/app.py", "src/pkg/", "src/pkg/util.py"]


async def test_list_files_errors(tools: WorkspaceTools) -> None:
    assert "does not exist" in await error(tools, "list_files", path="nope")
    assert "is a file" in await error(tools, "list_files", path="README.md")
    assert "at least 1" in await error(tools, "list_files", depth=0)


async def test_list_files_is_capped(worktree: Path) -> None:
    for i in range(300):
        (worktree / f"file_{i:03}.txt").write_text("")
    tools = WorkspaceTools(worktree, make_sandbox(worktree), output_cap=500)
    output = await ok(tools, "list_files")
    body, note = output.rsplit("\n", 1)
    assert len(body) <= 500
    assert "listing cut at the output cap of 500 characters" in note


async def test_list_files_shows_symlinks_without_following_them(
    tools: WorkspaceTools, worktree: Path
) -> None:
    (worktree / "etc_link").symlink_to("/etc")
    output = await ok(tools, "list_files", depth=3)
    assert "etc_link -> /etc" in output.splitlines()
    assert "passwd" not in output


# -- read_file ----------------------------------------------------------------------------------


async def test_read_file_numbers_lines(tools: WorkspaceTools) -> None:
    output = await ok(tools, "read_file", path="src/pkg/util.py")
    expected = "1\tdef helper():\n2\t    return 42\n[showing lines 1–2 of 2 of src/pkg/util.py]"
    assert output == expected


async def test_read_file_range_says_how_to_read_more(tools: WorkspaceTools) -> None:
    output = await ok(tools, "read_file", path="src/app.py", start_line=4, end_line=5)
    lines = output.splitlines()
    assert lines[:2] == ["4\tdef load_config():", "5\t    return {}"]
    assert lines[2] == (
        "[showing lines 4–5 of 9 of src/app.py; to read more, call read_file with start_line=6]"
    )


async def test_read_file_range_errors(tools: WorkspaceTools) -> None:
    assert "has 9 lines" in await error(tools, "read_file", path="src/app.py", start_line=50)
    message = await error(tools, "read_file", path="src/app.py", start_line=5, end_line=2)
    assert "before start_line" in message


async def test_read_file_stops_at_the_output_cap(worktree: Path) -> None:
    (worktree / "big.txt").write_text("".join(f"line {i}\n" for i in range(1, 1001)))
    tools = WorkspaceTools(worktree, make_sandbox(worktree), output_cap=200)
    output = await ok(tools, "read_file", path="big.txt")
    *lines, footer = output.splitlines()
    assert sum(len(line) + 1 for line in lines) <= 200
    last = len(lines)
    assert footer == (
        f"[showing lines 1–{last} of 1000 of big.txt; stopped at the output cap of 200 "
        f"characters; to read more, call read_file with start_line={last + 1}]"
    )
    more = await ok(tools, "read_file", path="big.txt", start_line=last + 1)
    assert more.startswith(f"{last + 1}\tline {last + 1}\n")


async def test_read_file_cuts_a_very_long_line(tools: WorkspaceTools, worktree: Path) -> None:
    (worktree / "min.js").write_text("x" * 5000 + "\n")
    output = await ok(tools, "read_file", path="min.js")
    assert "[... line cut: 3000 more characters]" in output
    assert len(output) < 2200


async def test_read_file_errors(tools: WorkspaceTools, worktree: Path) -> None:
    (worktree / "blob.bin").write_bytes(b"\x89PNG\0\0\x01")
    (worktree / "empty.txt").write_text("")
    assert "does not exist" in await error(tools, "read_file", path="missing.py")
    assert "is a directory" in await error(tools, "read_file", path="src")
    assert "binary file (7 bytes)" in await error(tools, "read_file", path="blob.bin")
    assert "empty (0 lines)" in await ok(tools, "read_file", path="empty.txt")


# -- search -------------------------------------------------------------------------------------


@pytest.fixture(params=["ripgrep-bubblewrap", "ripgrep-subprocess", "python"])
def searcher(request: pytest.FixtureRequest, worktree: Path) -> WorkspaceTools:
    """The same expectations for ripgrep (in either runner) and the Python fallback."""
    backend, _, runner = request.param.partition("-")
    if backend == "ripgrep" and shutil.which("rg") is None:
        pytest.skip("ripgrep (rg) is not installed")
    sandbox = make_runner(runner, worktree) if runner else make_sandbox(worktree)
    return WorkspaceTools(worktree, sandbox, search_backend=backend)  # type: ignore[arg-type]


async def test_search_finds_path_line_text(searcher: WorkspaceTools) -> None:
    output = await ok(searcher, "search", pattern=r"def load_\w+")
    assert output.splitlines() == [
        "src/app.py:4:def load_config():",
        "src/app.py:8:def load_data():",
    ]


async def test_search_in_a_path_and_with_a_glob(searcher: WorkspaceTools) -> None:
    assert await ok(searcher, "search", pattern="return", path="src/pkg") == (
        "src/pkg/util.py:2:    return 42"
    )
    output = await ok(searcher, "search", pattern="Demo|helper", glob="*.md")
    assert output == "README.md:1:# Demo"


async def test_search_skips_git_and_reports_no_match(searcher: WorkspaceTools) -> None:
    assert await ok(searcher, "search", pattern=r"\[core\]") == r"no matches for '\\[core\\]' in ."


async def test_search_cuts_long_lines_like_ripgrep(
    searcher: WorkspaceTools, worktree: Path
) -> None:
    (worktree / "long.txt").write_text("a" * 1000 + "needle\n")
    output = await ok(searcher, "search", pattern="a+needle", path="long.txt")
    assert output == "long.txt:1:" + "a" * 400 + " [... omitted end of long line]"


async def test_search_errors(searcher: WorkspaceTools) -> None:
    bad = await error(searcher, "search", pattern="load_(")
    assert "regex parse error" in bad or "invalid regular expression" in bad
    assert "does not exist" in await error(searcher, "search", pattern="x", path="nope")
    assert "outside the worktree" in await error(searcher, "search", pattern="x", path="/etc")


async def test_search_output_is_capped(worktree: Path) -> None:
    (worktree / "many.txt").write_text("match\n" * 2000)
    tools = WorkspaceTools(worktree, make_sandbox(worktree), output_cap=300)
    output = await ok(tools, "search", pattern="match")
    *lines, note = output.splitlines()
    assert sum(len(line) + 1 for line in lines) <= 300
    assert note.startswith("[output cut at the cap of 300 characters after")


# -- replace ------------------------------------------------------------------------------------


async def test_replace_changes_exactly_one_snippet(tools: WorkspaceTools, worktree: Path) -> None:
    output = await ok(
        tools,
        "replace",
        path="src/app.py",
        old="def load_data():\n    return []",
        new="def load_data():\n    data = [1]\n    return data",
    )
    assert output == (
        "replaced the snippet at line 8 of src/app.py; the new text spans lines 8–10; "
        "the file now has 10 lines"
    )
    assert (
        (worktree / "src" / "app.py")
        .read_text()
        .endswith("def load_data():\n    data = [1]\n    return data\n")
    )


async def test_replace_refuses_an_absent_snippet(tools: WorkspaceTools, worktree: Path) -> None:
    before = (worktree / "src" / "app.py").read_text()
    message = await error(tools, "replace", path="src/app.py", old="def nothing():", new="x")
    assert "not found in src/app.py" in message and "exactly" in message
    hinted = await error(tools, "replace", path="src/app.py", old="  return {}  ", new="x")
    assert "differs only in leading or trailing whitespace is at line 5" in hinted
    assert (worktree / "src" / "app.py").read_text() == before


async def test_replace_refuses_an_ambiguous_snippet(tools: WorkspaceTools, worktree: Path) -> None:
    before = (worktree / "src" / "app.py").read_text()
    message = await error(tools, "replace", path="src/app.py", old="    return", new="  return")
    assert "occurs 2 times" in message and "lines 5, 9" in message
    assert (worktree / "src" / "app.py").read_text() == before


async def test_replace_preserves_crlf_line_endings(tools: WorkspaceTools, worktree: Path) -> None:
    (worktree / "win.txt").write_bytes(b"one\r\ntwo\r\n")
    await ok(tools, "replace", path="win.txt", old="two", new="three")
    assert (worktree / "win.txt").read_bytes() == b"one\r\nthree\r\n"


async def test_replace_other_errors(tools: WorkspaceTools) -> None:
    assert "does not exist" in await error(tools, "replace", path="new.py", old="a", new="b")
    assert "is empty" in await error(tools, "replace", path="README.md", old="", new="b")
    assert "identical" in await error(tools, "replace", path="README.md", old="Demo", new="Demo")


# -- write_file ---------------------------------------------------------------------------------


async def test_write_file_creates_parents_and_overwrites(
    tools: WorkspaceTools, worktree: Path
) -> None:
    created = await ok(tools, "write_file", path="docs/guide/intro.md", content="# Intro\nHi\n")
    assert created == "created docs/guide/intro.md (2 lines, 11 bytes)"
    assert (worktree / "docs" / "guide" / "intro.md").read_text() == "# Intro\nHi\n"
    again = await ok(tools, "write_file", path="docs/guide/intro.md", content="x")
    assert again == "overwrote docs/guide/intro.md (1 lines, 1 bytes)"


async def test_write_file_errors(tools: WorkspaceTools, worktree: Path) -> None:
    assert "is a directory" in await error(tools, "write_file", path="src", content="x")
    message = await error(tools, "write_file", path="README.md/child.txt", content="x")
    assert "cannot create the directories" in message


@pytest.mark.parametrize(
    "path", [".git/config", ".git/hooks/pre-commit", ".git", ".github/workflows/ci.yml"]
)
async def test_protected_paths_are_refused_for_writes(
    tools: WorkspaceTools, worktree: Path, path: str
) -> None:
    refused = "git's own data" if path.startswith(".git/") or path == ".git" else "is protected"
    message = await error(tools, "write_file", path=path, content="pwned")
    assert refused in message
    message = await error(tools, "replace", path=path, old="[core]", new="pwned")
    assert refused in message
    assert (worktree / ".git" / "config").read_text() == "[core]\n"
    assert (worktree / ".github" / "workflows" / "ci.yml").read_text() == "on: push\n"


async def test_protected_paths_can_be_read(tools: WorkspaceTools) -> None:
    assert "on: push" in await ok(tools, "read_file", path=".github/workflows/ci.yml")


async def test_a_symlink_into_a_protected_path_is_refused(
    tools: WorkspaceTools, worktree: Path
) -> None:
    (worktree / "innocent.cfg").symlink_to(".git/config")
    message = await error(tools, "write_file", path="innocent.cfg", content="pwned")
    assert ".git/config is git's own data" in message
    (worktree / "innocent.yml").symlink_to(".github/workflows/ci.yml")
    message = await error(tools, "write_file", path="innocent.yml", content="pwned")
    assert ".github/workflows/ci.yml is protected" in message
    assert (worktree / ".git" / "config").read_text() == "[core]\n"


# -- run ----------------------------------------------------------------------------------------


async def test_run_reports_exit_code_and_output(tools: WorkspaceTools) -> None:
    assert await ok(tools, "run", command="cat README.md | head -1") == "[exit code 0]\n# Demo"
    failed = await ok(tools, "run", command="echo broken >&2; exit 4")
    assert failed == "[exit code 4]\nbroken"
    assert await ok(tools, "run", command="true") == "[exit code 0]\n(no output)"


async def test_run_sees_the_worktree(tools: WorkspaceTools, worktree: Path) -> None:
    await ok(tools, "write_file", path="t.py", content="print(6 * 7)\n")
    assert await ok(tools, "run", command="python t.py") == "[exit code 0]\n42"


async def test_run_times_out(worktree: Path) -> None:
    tools = WorkspaceTools(worktree, make_sandbox(worktree), command_timeout_s=2)
    message = await error(tools, "run", command="sleep 600", timeout_s=30)
    assert message.startswith("[timed out after 2 s: the command and every process it started")
    assert "[timeout_s was lowered to the maximum, 2 s]" in message
    shorter = await error(tools, "run", command="sleep 600", timeout_s=1)
    assert shorter.startswith("[timed out after 1 s")


async def test_run_output_is_capped_and_says_so(worktree: Path) -> None:
    tools = WorkspaceTools(worktree, make_sandbox(worktree), output_cap=1000)
    output = await ok(tools, "run", command="seq 1 100000")
    assert output.startswith("[exit code 0]\n1\n2\n")
    assert "100000" in output  # the end is kept too
    assert "characters cut from the middle (output cap 1000)" in output
    assert output.endswith(
        "[output truncated: only the start and the end are shown; redirect to a file and "
        "search or read it for the rest]"
    )
    assert len(output) < 1400


async def test_run_rejects_an_empty_command(tools: WorkspaceTools) -> None:
    assert "empty" in await error(tools, "run", command="  ")


# -- read-only mode -----------------------------------------------------------------------------


async def test_read_only_offers_and_allows_only_reading(worktree: Path) -> None:
    tools = WorkspaceTools(worktree, make_sandbox(worktree), read_only=True, protected=PROTECTED)
    assert {spec.name for spec in tools.specs()} == set(READ_ONLY_TOOLS)
    assert "Demo" in await ok(tools, "read_file", path="README.md")
    assert "README.md" in await ok(tools, "list_files")
    assert "README.md:1" in await ok(tools, "search", pattern="Demo")
    for name, arguments in [
        ("write_file", {"path": "new.txt", "content": "x"}),
        ("replace", {"path": "README.md", "old": "Demo", "new": "Hacked"}),
        ("run", {"command": "touch ran"}),
    ]:
        message = await error(tools, name, **arguments)
        assert "not available to this read-only agent" in message
    assert not (worktree / "new.txt").exists() and not (worktree / "ran").exists()
    assert "Demo" in (worktree / "README.md").read_text()


async def test_read_only_with_commands_reads_and_runs_but_edits_nothing(worktree: Path) -> None:
    """The judge's tools: it runs the tests, but has no tool to change a file."""
    tools = WorkspaceTools(
        worktree, make_sandbox(worktree), read_only=True, allow_commands=True, protected=PROTECTED
    )
    assert {spec.name for spec in tools.specs()} == {*READ_ONLY_TOOLS, *COMMAND_TOOLS}
    assert "[exit code 0]\nDemo" in await ok(tools, "run", command="grep -o Demo README.md")
    for name, arguments in [
        ("write_file", {"path": "new.txt", "content": "x"}),
        ("replace", {"path": "README.md", "old": "Demo", "new": "Hacked"}),
    ]:
        message = await error(tools, name, **arguments)
        assert "not available to this read-only agent" in message
        assert "list_files, read_file, search, run" in message
    assert not (worktree / "new.txt").exists()
    assert "Demo" in (worktree / "README.md").read_text()


def test_allow_commands_changes_nothing_for_an_agent_that_edits(worktree: Path) -> None:
    tools = WorkspaceTools(worktree, make_sandbox(worktree), allow_commands=True)
    assert {spec.name for spec in tools.specs()} == ALL_TOOLS


# -- confinement --------------------------------------------------------------------------------


async def test_parent_escapes_are_refused(tools: WorkspaceTools, outside: Path) -> None:
    relative = os.path.relpath(outside / "secret.txt", tools.root)
    assert relative.startswith("../")
    for name, arguments in [
        ("read_file", {"path": relative}),
        ("read_file", {"path": "src/../../outside/secret.txt"}),
        ("list_files", {"path": ".."}),
        ("write_file", {"path": "../outside/new.txt", "content": "x"}),
    ]:
        message = await error(tools, name, **arguments)
        assert "out of the worktree" in message
    assert not (outside / "new.txt").exists()


async def test_absolute_paths_outside_are_refused_and_inside_are_allowed(
    tools: WorkspaceTools, outside: Path
) -> None:
    message = await error(tools, "read_file", path=str(outside / "secret.txt"))
    assert "outside the worktree" in message and "host secret" not in message
    assert "outside the worktree" in await error(tools, "read_file", path="/etc/passwd")
    inside = await ok(tools, "read_file", path=str(tools.root / "README.md"))
    assert "Demo" in inside


async def test_a_symlink_to_etc_is_refused(tools: WorkspaceTools, worktree: Path) -> None:
    (worktree / "etc_link").symlink_to("/etc")
    for name, arguments in [
        ("read_file", {"path": "etc_link/passwd"}),
        ("list_files", {"path": "etc_link"}),
        ("search", {"pattern": "root", "path": "etc_link"}),
        ("write_file", {"path": "etc_link/swarm-test", "content": "x"}),
    ]:
        message = await error(tools, name, **arguments)
        assert "resolves through a symlink to /etc" in message
    assert not Path("/etc/swarm-test").exists()


async def test_writing_through_a_symlinked_directory_is_refused(
    tools: WorkspaceTools, worktree: Path, outside: Path
) -> None:
    (worktree / "src" / "escape").symlink_to(outside)
    (worktree / "dangling").symlink_to(outside / "created-by-agent.txt")
    for path in ("src/escape/new.txt", "src/escape/deeper/new.txt", "dangling"):
        message = await error(tools, "write_file", path=path, content="x")
        assert "outside the worktree" in message
    message = await error(tools, "replace", path="src/escape/secret.txt", old="host", new="x")
    assert "outside the worktree" in message
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == "host secret\n"


async def test_a_symlink_inside_the_worktree_is_followed(
    tools: WorkspaceTools, worktree: Path
) -> None:
    (worktree / "alias.py").symlink_to("src/pkg/util.py")
    assert "def helper" in await ok(tools, "read_file", path="alias.py")
