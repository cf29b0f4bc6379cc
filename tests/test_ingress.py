"""The webhook ingress over real HTTP: verify, record durably, answer — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from dbos import DBOS

from app.events.handlers import ROUTER
from app.events.router import Delivery
from app.web.app import create_app
from app.web.server import ThreadServer, serve_in_thread
from app.web.signature import is_valid_signature, sign
from tests.conftest import WEBHOOK_SECRET, make_settings

FIXTURES = Path(__file__).parent / "fixtures" / "github-webhooks"
ALL_PAYLOADS = sorted(FIXTURES.glob("*/*.json"))


def post(
    url: str,
    event: str,
    body: bytes,
    *,
    delivery: str | None = None,
    secret: str = WEBHOOK_SECRET,
    signature: str | None = None,
) -> httpx.Response:
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": signature if signature is not None else sign(secret, body),
        "Content-Type": "application/json",
    }
    return httpx.post(f"{url}/api/github/webhooks", content=body, headers=headers, timeout=30)


def recorded(delivery_id: str) -> bool:
    return DBOS.get_workflow_status(delivery_id) is not None


@pytest.fixture
def ingress_only(
    tmp_path: Path, app_keys: tuple[str, str], database_url: str
) -> Iterator[ThreadServer]:
    """The swarm recording deliveries without handling them (as an ingress replica does)."""
    settings = make_settings(tmp_path, app_keys[0], database_url)
    server = serve_in_thread(create_app(settings, handle_events=False))
    yield server
    server.stop()


@pytest.fixture
def swarm(tmp_path: Path, app_keys: tuple[str, str], sqlite_url: str) -> Iterator[ThreadServer]:
    settings = make_settings(tmp_path, app_keys[0], sqlite_url)
    server = serve_in_thread(create_app(settings))
    yield server
    server.stop()


def test_signature_is_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"zen": "Keep it logically awesome."}'
    good = sign("s3cret", body)
    assert good.startswith("sha256=") and len(good) == 7 + 64
    assert is_valid_signature("s3cret", body, good)
    assert not is_valid_signature("other", body, good)
    assert not is_valid_signature("s3cret", body + b" ", good)
    assert not is_valid_signature("s3cret", body, None)
    assert not is_valid_signature("s3cret", body, good.replace("sha256=", "sha1="))
    assert not is_valid_signature("", body, sign("", body))  # no secret configured: refuse all


def test_every_real_delivery_is_recorded_and_a_wrong_signature_is_not(
    ingress_only: ThreadServer,
) -> None:
    assert len(ALL_PAYLOADS) >= 130
    routed = 0
    for path in ALL_PAYLOADS:
        event = path.parent.name
        body = path.read_bytes()
        good, bad = str(uuid.uuid4()), str(uuid.uuid4())
        resp = post(ingress_only.url, event, body, delivery=good)
        assert resp.status_code == 202, (path, resp.text)
        # Recorded when a handler takes it; acknowledged and dropped at the door otherwise.
        handled = bool(ROUTER.handlers_for(Delivery(good, event, json.loads(body))))
        assert recorded(good) == handled, path
        assert resp.json()["message"] == ("recorded" if handled else "ignored: no handler")
        routed += handled
        resp = post(ingress_only.url, event, body, delivery=bad, secret="wrong")
        assert resp.status_code == 401, path
        assert not recorded(bad), path
    assert routed >= 20  # labels, comments, reviews, check runs, installations, ping


def test_bad_requests_are_refused_before_anything_is_recorded(ingress_only: ThreadServer) -> None:
    body = b'{"zen": "x"}'
    delivery = str(uuid.uuid4())
    assert post(ingress_only.url, "ping", body, delivery=delivery, signature="").status_code == 401
    no_event = httpx.post(
        f"{ingress_only.url}/api/github/webhooks",
        content=body,
        headers={"X-Hub-Signature-256": sign(WEBHOOK_SECRET, body), "X-GitHub-Delivery": delivery},
    )
    assert no_event.status_code == 400
    not_json = b"this is not json"
    assert post(ingress_only.url, "ping", not_json, delivery=delivery).status_code == 400
    assert post(ingress_only.url, "ping", b"[1, 2]", delivery=delivery).status_code == 400
    huge = b'{"pad": "' + b"x" * (25 * 1024 * 1024) + b'"}'
    assert post(ingress_only.url, "ping", huge, delivery=delivery).status_code == 413
    assert not recorded(delivery)


def test_health_reports_the_database_and_metrics_count_deliveries(
    ingress_only: ThreadServer,
) -> None:
    health = httpx.get(f"{ingress_only.url}/healthz")
    assert health.status_code == 200 and health.json()["database"] == "reachable"
    post(ingress_only.url, "ping", b'{"zen": "z"}')
    metrics = httpx.get(f"{ingress_only.url}/metrics").text
    assert 'swarm_webhook_deliveries_total{event="ping",outcome="recorded"}' in metrics


def handled_count(url: str, event: str) -> float:
    for line in httpx.get(f"{url}/metrics").text.splitlines():
        if line.startswith(f'swarm_webhook_handled_total{{event="{event}",outcome="handled"}}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_a_redelivery_is_answered_and_processed_once(swarm: ThreadServer) -> None:
    before = handled_count(swarm.url, "ping")
    delivery = str(uuid.uuid4())
    body = (FIXTURES / "ping" / "payload.json").read_bytes()
    assert post(swarm.url, "ping", body, delivery=delivery).status_code == 202
    assert DBOS.retrieve_workflow(delivery).get_result(polling_interval_sec=0.05) == [
        "pong (Anything added dilutes everything else.)"
    ]
    assert post(swarm.url, "ping", body, delivery=delivery).status_code == 202
    # The second answer joined the recorded workflow: same result, handled once.
    assert DBOS.retrieve_workflow(delivery).get_result(polling_interval_sec=0.05)
    assert handled_count(swarm.url, "ping") == before + 1
    assert len(DBOS.list_workflows(workflow_ids=[delivery])) == 1


def test_a_delivery_recorded_by_a_killed_process_is_handled_after_restart(
    tmp_path: Path, app_keys: tuple[str, str], sqlite_url: str
) -> None:
    env = {
        **os.environ,
        "GITHUB_APP_ID": "1",
        "GITHUB_APP_PRIVATE_KEY": app_keys[0],
        "GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "GITHUB_API_URL": "http://127.0.0.1:9",
        "DATABASE_URL": sqlite_url,
        "SWARM_DATA_DIR": str(tmp_path / "data"),
    }
    port = _free_port()
    # A real `swarm serve` process that records but does not handle, killed with SIGKILL.
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--ingress-only"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_healthy(url, proc)
        delivery = str(uuid.uuid4())
        body = json.dumps({"zen": "Design for failure."}).encode()
        assert post(url, "ping", body, delivery=delivery).status_code == 202
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)

    settings = make_settings(tmp_path, app_keys[0], sqlite_url)
    server = serve_in_thread(create_app(settings))
    try:
        result = DBOS.retrieve_workflow(delivery).get_result(polling_interval_sec=0.05)
        assert result == ["pong (Design for failure.)"]
    finally:
        server.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            raise AssertionError(f"swarm serve exited {proc.returncode}: {out}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        select_wait(0.05)
    raise AssertionError("swarm serve did not become healthy in 60 s")


def select_wait(seconds: float) -> None:
    """Pause between polls of a real condition (the process's health), not as synchronisation."""
    import threading

    threading.Event().wait(seconds)
