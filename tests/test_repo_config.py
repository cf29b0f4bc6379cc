import pytest

from app.repo_config import DEFAULT_PROTECTED, RepoConfigError, parse_repo_config


def test_missing_or_empty_file_means_defaults() -> None:
    for text in (None, "", "   \n", "# only a comment\n"):
        config = parse_repo_config(text)
        assert config.max_agents == 4
        assert config.protected_paths == DEFAULT_PROTECTED
        assert config.merge_method == "merge"  # lands the tested merge commit itself
        assert config.gate.max_rounds == 3 and config.gate.required_checks is None


def test_values_are_read() -> None:
    config = parse_repo_config(
        "models:\n  worker: anthropic/claude-sonnet-4-5\nmax_agents: 2\n"
        "test_command: make test\nbudgets:\n  goal_usd: 5\n"
    )
    assert config.models.worker == "anthropic/claude-sonnet-4-5"
    assert config.max_agents == 2 and config.test_command == "make test"
    assert config.budgets.goal_usd == 5 and config.budgets.goal_tokens == 2_000_000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("max_agents: many", "`max_agents`"),
        ("max_agent: 3", "`max_agent` is not a known key"),
        ("budgets:\n  goal_usd: -1", "`budgets.goal_usd`"),
        ("merge_method: fast-forward", "`merge_method`"),
        ("- a\n- b", "must be a mapping"),
        ("key: [unclosed", "not valid YAML at line 1"),
    ],
)
def test_invalid_files_name_the_key(text: str, message: str) -> None:
    with pytest.raises(RepoConfigError, match=message.replace("[", r"\[")):
        parse_repo_config(text)


def test_the_gate_s_bounds_are_read_and_checked() -> None:
    config = parse_repo_config(
        "gate:\n  required_checks: [ci, lint]\n  max_rounds: 1\n  check_timeout_minutes: 5\n"
    )
    assert config.gate.required_checks == ["ci", "lint"]
    assert (config.gate.max_rounds, config.gate.check_timeout_minutes) == (1, 5)
    with pytest.raises(RepoConfigError, match=r"gate\.max_rounds"):
        parse_repo_config("gate:\n  max_rounds: -1\n")
    with pytest.raises(RepoConfigError, match=r"gate\.landing"):
        parse_repo_config("gate:\n  landing: now\n")


def test_the_merge_train_is_off_by_default_and_its_settings_are_checked() -> None:
    assert parse_repo_config(None).gate.train.enabled is False
    train = parse_repo_config("gate:\n  train: {enabled: true, window: 3, batch: 1}\n").gate.train
    assert (train.enabled, train.window, train.ci_budget, train.batch) == (True, 3, 16, 1)
    with pytest.raises(RepoConfigError, match=r"`gate\.train`: `window` cannot be larger"):
        parse_repo_config("gate:\n  train: {window: 20, ci_budget: 8}\n")
    with pytest.raises(RepoConfigError, match=r"`gate\.train` lands merge commits"):
        parse_repo_config("merge_method: squash\ngate:\n  train: {enabled: true}\n")
    with pytest.raises(RepoConfigError, match=r"`gate\.train\.batch`"):
        parse_repo_config("gate:\n  train: {batch: 0}\n")
