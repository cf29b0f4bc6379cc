from app.events.command_text import Command, parse_command


def test_verbs_and_free_text() -> None:
    assert parse_command("/swarm stop", "swarm") == Command("stop", "")
    assert parse_command("/swarm retry", "swarm") == Command("retry", "")
    assert parse_command("/swarm go", "swarm") == Command("go", "")
    assert parse_command("/swarm status", "swarm") == Command("status", "")
    assert parse_command("/swarm replan split the parser task", "swarm") == Command(
        "replan", "split the parser task"
    )
    assert parse_command("/swarm use pathlib, not os.path", "swarm") == Command(
        "say", "use pathlib, not os.path"
    )


def test_command_can_follow_other_text_and_span_lines() -> None:
    body = "Thanks!\n/swarm please also cover\nthe empty input case"
    assert parse_command(body, "swarm") == Command("say", "please also cover\nthe empty input case")


def test_mentions_of_the_app_count() -> None:
    assert parse_command("@swarm stop", "swarm") == Command("stop", "")
    assert parse_command("@swarm[bot] add a test", "swarm") == Command("say", "add a test")
    assert parse_command("@swarmy stop", "swarm") is None


def test_no_command() -> None:
    assert parse_command("looks good to me", "swarm") is None
    assert parse_command("/swarming ahead", "swarm") is None
    assert parse_command("/swarm", "swarm") is None
    assert parse_command("we use /swarm stop to stop", "swarm") is None  # not at a line start
