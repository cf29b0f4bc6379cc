"""The run's context (`app.context`) and the log lines that carry it (`app.logs`): bound fields
nest and unwind, the `X-Swarm-Run` header value is safe to send, and every line, text or JSON,
has the context and no credential."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import re
import uuid
from collections.abc import Iterator

import httpx
import pytest

from app import credentials, logs
from app.context import HEADER, bound, header_value, run_fields
from app.credentials import REDACTED, register_own_secrets

# A GitHub token's shape, put together here so that no scanner flags this file.
GITHUB_TOKEN = "ghp_" + "A1b2C3d4E5" * 3 + "F6g7H8"
OWN_SECRET = "unit-test-webhook-secret-5d1e9a"


@pytest.fixture(autouse=True)
def own_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process's registered secrets, fresh for each test and restored after it."""
    monkeypatch.setattr(credentials, "_registered", set())


# --- app.context ------------------------------------------------------------------------------


def test_outside_anything_bound_there_is_no_context() -> None:
    assert run_fields() == {}
    assert header_value() == ""


def test_bound_fields_nest_and_unwind() -> None:
    with bound(delivery="d-1"):
        assert run_fields() == {"delivery": "d-1"}
        with bound(target="octo/demo#7"):
            assert run_fields() == {"delivery": "d-1", "target": "octo/demo#7"}
            with bound(delivery="d-2"):
                assert run_fields() == {"delivery": "d-2", "target": "octo/demo#7"}
            assert run_fields() == {"delivery": "d-1", "target": "octo/demo#7"}
        assert run_fields() == {"delivery": "d-1"}
    assert run_fields() == {}


def test_empty_values_are_ignored_and_do_not_clear_outer_ones() -> None:
    with bound(delivery="d-1"), bound(delivery="", target=""):
        assert run_fields() == {"delivery": "d-1"}
    with bound(target=""):
        assert run_fields() == {}


def test_bound_unwinds_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError), bound(delivery="d-1"):
        raise RuntimeError("boom")
    assert run_fields() == {}


def test_changing_the_fields_returned_does_not_change_the_context() -> None:
    with bound(delivery="d-1"):
        run_fields()["delivery"] = "forged"
        run_fields()["target"] = "x/y#1"
        assert run_fields() == {"delivery": "d-1"}


def test_outside_a_dbos_workflow_there_is_no_workflow_field() -> None:
    with bound(delivery="d-1"):
        assert "workflow" not in run_fields()


async def test_concurrent_tasks_keep_their_own_context() -> None:
    """Two deliveries handled at once in one process: each sees only what it bound."""
    first_bound, second_bound = asyncio.Event(), asyncio.Event()

    async def first() -> dict[str, str]:
        with bound(delivery="first"):
            first_bound.set()
            await second_bound.wait()  # the other task has bound its own delivery meanwhile
            return run_fields()

    async def second() -> dict[str, str]:
        await first_bound.wait()
        with bound(delivery="second", target="octo/demo#2"):
            second_bound.set()
            return run_fields()

    seen = await asyncio.gather(first(), second())
    assert seen == [{"delivery": "first"}, {"delivery": "second", "target": "octo/demo#2"}]
    assert run_fields() == {}


def test_the_header_value_is_sorted_key_value_pairs() -> None:
    with bound(target="octo/demo#7", delivery="3f2a"):
        assert header_value() == "delivery=3f2a;target=octo/demo#7"
    assert HEADER == "X-Swarm-Run"


def test_the_header_value_is_ascii_only() -> None:
    with bound(delivery="dé-1", target="octo/démo—ü#7"):
        value = header_value()
    assert value.isascii()
    assert value == "delivery=d?-1;target=octo/d?mo??#7"
    httpx.Headers({HEADER: value})  # a value httpx can send


def test_the_header_value_is_at_most_512_characters() -> None:
    with bound(delivery="x" * 1000):
        value = header_value()
    assert len(value) == 512
    assert value.startswith("delivery=xxx")
    with bound(delivery="ü" * 1000):
        assert len(header_value()) == 512


# --- app.logs ---------------------------------------------------------------------------------


@pytest.fixture
def log() -> logging.Logger:
    """A fresh logger of its own, writing nowhere until a test gives it a handler."""
    logger = logging.getLogger(f"tests.unit.logs.{uuid.uuid4().hex[:8]}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger


@pytest.fixture
def stream(log: logging.Logger) -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    log.addHandler(handler)
    yield out
    log.removeHandler(handler)


def use(log: logging.Logger, formatter: logging.Formatter) -> None:
    for handler in log.handlers:
        handler.setFormatter(formatter)


def json_lines(out: io.StringIO) -> list[dict[str, str]]:
    lines = out.getvalue().splitlines()
    return [json.loads(line) for line in lines]


def raise_and_log(log: logging.Logger, text: str) -> None:
    try:
        raise ValueError(text)
    except ValueError:
        log.exception("the worker failed")


def test_json_lines_are_one_object_per_record_with_the_bound_context(
    log: logging.Logger, stream: io.StringIO
) -> None:
    use(log, logs.JsonLines())
    with bound(delivery="d-1", target="octo/demo#7"):
        log.info("started %s", "planning")
        log.warning("slow")
    log.error("outside")
    first, second, third = json_lines(stream)
    assert first == {
        "time": first["time"],
        "level": "INFO",
        "logger": log.name,
        "message": "started planning",
        "delivery": "d-1",
        "target": "octo/demo#7",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", first["time"])
    assert (second["level"], second["message"], second["delivery"]) == ("WARNING", "slow", "d-1")
    assert third["message"] == "outside"
    assert "delivery" not in third and "target" not in third


def test_a_json_line_carries_the_exception_as_text(
    log: logging.Logger, stream: io.StringIO
) -> None:
    use(log, logs.JsonLines())
    raise_and_log(log, "the model answered nonsense")
    [line] = json_lines(stream)
    assert line["level"] == "ERROR"
    assert line["message"] == "the worker failed"
    assert line["exception"].startswith("Traceback (most recent call last):")
    assert line["exception"].endswith("ValueError: the model answered nonsense")


def test_json_lines_carry_no_credential(log: logging.Logger, stream: io.StringIO) -> None:
    register_own_secrets([OWN_SECRET])
    use(log, logs.JsonLines())
    with bound(delivery="d-1"):
        log.info("cloning with %s and %s", GITHUB_TOKEN, OWN_SECRET)
        raise_and_log(log, f"auth failed for {GITHUB_TOKEN} / {OWN_SECRET}")
    text = stream.getvalue()
    assert GITHUB_TOKEN not in text and GITHUB_TOKEN[4:] not in text
    assert OWN_SECRET not in text
    message, failure = json_lines(stream)
    assert message["message"] == f"cloning with {REDACTED} and {REDACTED}"
    assert failure["exception"].endswith(f"auth failed for {REDACTED} / {REDACTED}")
    assert failure["delivery"] == "d-1"


def test_json_lines_carry_no_secret_that_json_escapes(
    log: logging.Logger, stream: io.StringIO
) -> None:
    secret = 'webhook"secret\\2024'
    register_own_secrets([secret])
    use(log, logs.JsonLines())
    log.info("secret is %s", secret)
    [line] = json_lines(stream)
    assert secret not in line["message"]


def test_a_text_line_ends_with_the_sorted_context(log: logging.Logger, stream: io.StringIO) -> None:
    use(log, logs.Redacting(logs.FORMAT))
    with bound(target="octo/demo#7", delivery="d-1"):
        log.info("planning")
    log.info("idle")
    first, second = stream.getvalue().splitlines()
    assert first.endswith(f" INFO    {log.name}: planning [delivery=d-1] [target=octo/demo#7]")
    assert second.endswith(f"{log.name}: idle")


def test_text_lines_carry_no_credential_tracebacks_included(
    log: logging.Logger, stream: io.StringIO
) -> None:
    register_own_secrets([OWN_SECRET])
    use(log, logs.Redacting(logs.FORMAT))
    log.info("token %s secret %s", GITHUB_TOKEN, OWN_SECRET)
    raise_and_log(log, f"auth failed for {GITHUB_TOKEN} / {OWN_SECRET}")
    text = stream.getvalue()
    assert GITHUB_TOKEN not in text and OWN_SECRET not in text
    assert f"token {REDACTED} secret {REDACTED}" in text
    assert f"ValueError: auth failed for {REDACTED} / {REDACTED}" in text
    assert "Traceback (most recent call last):" in text


def test_a_record_keeps_the_context_it_was_first_formatted_in() -> None:
    """One record, two handlers (text to the console, JSON to a pipeline): the same context."""
    record = logging.LogRecord("swarm", logging.INFO, __file__, 1, "merged", None, None)
    with bound(delivery="d-1"):
        as_json = json.loads(logs.JsonLines().format(record))
    with bound(delivery="d-2"):
        as_text = logs.Redacting(logs.FORMAT).format(record)
    assert as_json["delivery"] == "d-1"
    assert as_text.endswith("swarm: merged [delivery=d-1]")


@contextlib.contextmanager
def fresh_root_logger() -> Iterator[logging.Logger]:
    """The root logger with no handler, as in a fresh process; everything restored after (the
    handlers pytest puts there while a test runs included)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    formats = [(handler, handler.formatter, handler.filters[:]) for handler in handlers]
    noisy = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "githubkit")}
    root.handlers = []
    try:
        yield root
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers = handlers
        root.setLevel(level)
        for handler, formatter, filters in formats:
            handler.setFormatter(formatter)
            handler.filters = filters
        for name, noisy_level in noisy.items():
            logging.getLogger(name).setLevel(noisy_level)


@pytest.mark.parametrize(("form", "kind"), [("json", logs.JsonLines), ("text", logs.Redacting)])
def test_configure_formats_every_root_line(
    form: logs.LogFormat, kind: type[logging.Formatter]
) -> None:
    with fresh_root_logger() as root:
        logs.configure("DEBUG", form)
        assert root.level == logging.DEBUG
        assert root.handlers
        assert all(isinstance(handler.formatter, kind) for handler in root.handlers)
        for name in ("httpx", "httpcore", "githubkit"):
            assert logging.getLogger(name).level == logging.WARNING
