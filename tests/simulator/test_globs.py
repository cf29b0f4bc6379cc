"""Branch patterns in GitHub's two dialects: fnmatch (protection, rulesets) and Actions' filters."""

from __future__ import annotations

from app.simulator.github.globs import actions_branch_filter, fnmatch_branch


def test_fnmatch_stars_stay_in_a_segment_unless_doubled() -> None:
    assert fnmatch_branch("release/*", "release/1.0")
    assert not fnmatch_branch("release/*", "release/1.0/hotfix")
    assert fnmatch_branch("refs/heads/swarm/gate/**", "refs/heads/swarm/gate/12/try")
    assert fnmatch_branch("v[0-9]", "v7") and not fnmatch_branch("v[!0-9]", "v7")
    assert fnmatch_branch("main", "main") and not fnmatch_branch("main", "main2")


def test_actions_filters_read_in_order_with_negation() -> None:
    patterns = ["swarm/gate/**", "!swarm/gate/skip/**", "main"]
    assert actions_branch_filter(patterns, "swarm/gate/3/try")
    assert not actions_branch_filter(patterns, "swarm/gate/skip/1")
    assert actions_branch_filter(patterns, "main")
    assert not actions_branch_filter(patterns, "swarm/7-task")
    assert actions_branch_filter(["feature-?1"], "feature1")  # `?`: zero or one of the last
    assert actions_branch_filter(["ab+c"], "abbbc") and not actions_branch_filter(["ab+c"], "ac")
