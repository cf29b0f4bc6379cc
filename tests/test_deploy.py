"""The shipped deployment keeps the agent's box: bubblewrap can run in the container, and Swarm
itself is not root there. (No container engine runs on our machines; these read the files.)"""

from __future__ import annotations

from pathlib import Path

import yaml

DEPLOY = Path(__file__).parent.parent / "deploy"


def test_the_compose_file_lets_bubblewrap_make_its_namespaces() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    serve = compose["services"]["serve"]
    assert set(serve["security_opt"]) == {"seccomp=unconfined", "apparmor=unconfined"}
    assert "privileged" not in serve and "cap_add" not in serve


def test_the_image_runs_swarm_as_an_unprivileged_user_with_bubblewrap_installed() -> None:
    lines = (DEPLOY / "Dockerfile").read_text().splitlines()
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}
    assert any("bubblewrap" in line for line in lines if "apt-get install" in line)
