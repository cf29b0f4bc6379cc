"""What a credential looks like: in a variable's name, and in text an agent wrote.

The sandbox refuses to run unisolated beside secret-looking variables, and every push is scanned
before it leaves. The patterns for text are detect-secrets' format detectors (GitHub, AWS, OpenAI,
Slack, Stripe, private keys, …: formats precise enough to run on any code), plus the few formats
it lacks; the entropy and keyword detectors are left out, since they flag ordinary code. On top of
the patterns, the process's own secrets (the App key, the webhook secret, model keys) are found
verbatim, whatever their format.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.plugins.discord import DiscordBotTokenDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.private_key import PrivateKeyDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector

# Variable names that say they hold a credential (Zuul's nullwrap refuses the same kind).
_SECRET_NAME = re.compile(
    r"TOKEN|KEY|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH_SOCK|DATABASE_URL", re.IGNORECASE
)
_MIN_KNOWN = 8  # shorter values would match ordinary text


class _MissingFormats(RegexBasedDetector):
    """Formats detect-secrets 1.5 does not know yet."""

    secret_type = "API token"
    denylist = (
        re.compile(r"github_pat_[A-Za-z0-9_]{30,}"),  # GitHub fine-grained tokens
        re.compile(r"sk-ant-[A-Za-z0-9_-]{20,}"),  # Anthropic
        re.compile(r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}"),  # OpenAI project keys
    )


_DETECTORS = (
    AWSKeyDetector, AzureStorageKeyDetector, DiscordBotTokenDetector, GitHubTokenDetector,
    GitLabTokenDetector, MailchimpDetector, NpmDetector, OpenAIDetector, PrivateKeyDetector,
    PypiTokenDetector, SendGridDetector, SlackDetector, SquareOAuthDetector, StripeDetector,
    TwilioKeyDetector, _MissingFormats,
)  # fmt: skip


@functools.cache
def _detectors() -> list[RegexBasedDetector]:
    return [detector() for detector in _DETECTORS]


@dataclass(frozen=True)
class Finding:
    kind: str  # e.g. "GitHub Token", or "one of this process's own secrets"
    where: str  # e.g. "src/config.py:12"

    def __str__(self) -> str:
        return f"{self.where}: looks like {self.kind}"


def secret_looking_names(env: Mapping[str, str] | None) -> list[str]:
    """The names in `env` that look like they hold a token, key, secret or password."""
    return sorted(name for name in (env or {}) if _SECRET_NAME.search(name))


def pem_lines(pem: str) -> list[str]:
    """A PEM block whole, and each line of its body (part of a key copied out is still found)."""
    pem = pem.replace("\\n", "\n").strip()
    return [pem, *(line.strip() for line in pem.splitlines() if "-----" not in line)]


def own_secrets(env: Mapping[str, str] | None = None) -> list[str]:
    """This process's secret values: every secret-looking variable's value (a path to a key
    file is not a secret; the key in it is, and the caller adds it)."""
    env = os.environ if env is None else env
    values: list[str] = []
    for name in secret_looking_names(env):
        value = env[name].strip()
        if "-----BEGIN" in value:
            values += pem_lines(value)
        elif not os.path.isfile(value):
            values.append(value)
    return [v for v in dict.fromkeys(values) if len(v) >= _MIN_KNOWN]


# The process's own secrets, registered once at start, for `redact`.
_registered: set[str] = set()


def register_own_secrets(values: Iterable[str]) -> None:
    _registered.update(v for v in values if len(v) >= _MIN_KNOWN)


def redact(text: str) -> str:
    """`text` with every registered secret and credential-looking string replaced: nothing the
    swarm writes to GitHub or its logs carries one, whoever wrote the text."""
    for value in sorted(_registered, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    for detector in _detectors():
        for pattern in detector.denylist:
            text = pattern.sub(REDACTED, text)
    return text


REDACTED = "[credential removed]"


class SecretScanner:
    """Finds credential-looking strings in text; `known` values are found verbatim."""

    def __init__(self, known: Iterable[str] = ()) -> None:
        self.known = [k for k in dict.fromkeys(known) if len(k) >= _MIN_KNOWN]

    def scan_line(self, line: str, where: str) -> Finding | None:
        for value in self.known:
            if value in line:
                return Finding("one of this process's own secrets", where)
        for detector in _detectors():
            for _ in detector.analyze_string(line):
                return Finding(detector.secret_type, where)
        return None

    def scan(self, lines: Iterable[str], where: str) -> list[Finding]:
        """One finding per matching line, `where` followed by the line's number."""
        found = []
        for number, line in enumerate(lines, start=1):
            if finding := self.scan_line(line, f"{where}:{number}"):
                found.append(finding)
        return found
