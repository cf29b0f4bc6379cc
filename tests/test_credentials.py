"""What counts as a credential, and that nothing the swarm writes or logs carries one."""

from __future__ import annotations

import logging

import pytest

from app.credentials import (
    REDACTED,
    SecretScanner,
    own_secrets,
    pem_lines,
    redact,
    register_own_secrets,
    secret_looking_names,
)
from app.logs import FORMAT, Redacting

FORMATS = {
    "GitHub Token": "ghs_" + "a1B2" * 9,
    "API token": "github_pat_" + "11ABCDEFG0" * 4,
    "AWS Access Key": "AKIA" + "ABCDEFGHIJKLMNOP",
    "Private Key": "-----BEGIN OPENSSH PRIVATE KEY-----",
    "Slack Token": "xoxb-123456789012-abcdefghij",
}


@pytest.mark.parametrize(("kind", "secret"), FORMATS.items())
def test_credential_formats_are_found_and_ordinary_code_is_not(kind: str, secret: str) -> None:
    scanner = SecretScanner()
    finding = scanner.scan_line(f"TOKEN = '{secret}'", "config.py:3")
    assert finding is not None and finding.kind == kind and finding.where == "config.py:3"
    for line in ("def token(): return os.environ['GITHUB_TOKEN']", "sha = 'a94a8fe5ccb19ba61c4c'"):
        assert scanner.scan_line(line, "x") is None


def test_anthropic_and_openai_project_keys_are_found() -> None:
    scanner = SecretScanner()
    for key in ("sk-ant-api03-" + "x" * 40, "sk-proj-" + "Y" * 40):
        assert scanner.scan_line(f"key = {key}", "k") is not None


def test_the_process_own_secrets_are_found_verbatim_and_a_key_path_is_not_one(
    tmp_path: object,
) -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nAAAABBBBCCCCDDDDEEEE\nFFFFGGGG\n-----END PRIVATE KEY-----"
    env = {"GITHUB_APP_PRIVATE_KEY": pem, "GITHUB_WEBHOOK_SECRET": "hunter2-long", "HOME": "/x",
           "SWARM_KEY_FILE": "/etc/hostname"}  # fmt: skip
    assert secret_looking_names(env) == ["GITHUB_APP_PRIVATE_KEY", "GITHUB_WEBHOOK_SECRET",
                                         "SWARM_KEY_FILE"]  # fmt: skip
    values = own_secrets(env)
    assert "hunter2-long" in values and "AAAABBBBCCCCDDDDEEEE" in values
    assert "/etc/hostname" not in values  # a path to a key is not the key
    scanner = SecretScanner(values)
    assert scanner.scan_line("copied: FFFFGGGG", "x") is not None
    assert pem_lines(pem)[1:] == ["AAAABBBBCCCCDDDDEEEE", "FFFFGGGG"]


def test_redaction_covers_registered_secrets_formats_and_log_tracebacks() -> None:
    register_own_secrets(["my-webhook-secret-value"])
    token = FORMATS["GitHub Token"]
    assert redact(f"a {token} and my-webhook-secret-value") == f"a {REDACTED} and {REDACTED}"
    try:
        raise RuntimeError(f"push failed with {token}")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "saw %s", (token,), None)
        import sys

        record.exc_info = sys.exc_info()
    line = Redacting(FORMAT).format(record)
    assert token not in line and line.count(REDACTED) == 2
