"""The real webhook deliveries under tests/fixtures/github-webhooks, loaded as the ingress sees
them: the folder is the `X-GitHub-Event` header, the file is the body."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "github-webhooks"
ALL_DELIVERIES = sorted(FIXTURES.glob("*/*.json"))


def deliveries(*events: str) -> list[Path]:
    """Every delivery of these events (all of them when none is named)."""
    return [p for p in ALL_DELIVERIES if not events or p.parent.name in events]


def load(path: Path | str) -> dict[str, Any]:
    """A fresh copy of the delivery's payload (`issues/opened.payload.json` or a Path)."""
    return json.loads((FIXTURES / path if isinstance(path, str) else path).read_text())


def case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"
