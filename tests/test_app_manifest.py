"""app.yml subscribes to every event a handler listens to."""

from pathlib import Path

import yaml

from app.events.handlers import ROUTER

ALWAYS_SENT_TO_APPS = {"ping", "installation", "installation_repositories"}


def test_every_handled_event_is_subscribed() -> None:
    manifest = yaml.safe_load((Path(__file__).parents[1] / "app.yml").read_text())
    subscribed = set(manifest["default_events"])
    assert ROUTER.events() - ALWAYS_SENT_TO_APPS <= subscribed
    for permission in ("issues", "pull_requests", "contents", "checks", "metadata"):
        assert permission in manifest["default_permissions"]
