"""Settings of one simulator instance."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class SimulatorConfig:
    """What a simulated github.com needs to know about itself and the one App it hosts.

    `app_public_key_pem` verifies App JWTs; when it is None the JWT's signature is not checked
    (its issuer and expiry still are), which is convenient for a throwaway demo and nothing else.
    `public_url` is the base of every `url`, `html_url` and `clone_url` the simulator hands out;
    it defaults to the address the server is bound to.
    """

    data_dir: Path
    app_id: int = 1
    app_slug: str = "swarm"
    app_public_key_pem: str | None = None
    webhook_url: str | None = None
    webhook_secret: str = ""
    public_url: str | None = None
    # How long a CI command may run before its process group is killed.
    ci_timeout: float = 600.0
    # At most this many CI jobs run at once (GitHub Actions concurrency stand-in).
    ci_concurrency: int = 2
    # First id handed out; None picks a random base so that tokens cached by a client for one
    # simulator (githubkit caches installation tokens per app and installation id, process-wide)
    # never collide with another simulator's installation of the same id.
    id_base: int | None = None
