"""A faithful stand-in for github.com: the REST endpoints Swarm uses (GitHub's paths, payloads
and status codes), GitHub App auth, real git repositories over smart HTTP, signed webhooks and a
CI runner that reports check runs.

    from app.simulator.github.config import SimulatorConfig
    from app.simulator.github.control import SimulatorControl
    from app.simulator.github.server import start_simulator

    with start_simulator(SimulatorConfig(data_dir=path, app_public_key_pem=pem)) as github:
        control = SimulatorControl(github.url)
        owner = control.create_user("octo")
        control.create_repo("octo", "demo", source_dir=sample, ci_command="pytest -q")
        ...  # githubkit: GitHub(auth, base_url=github.url); git: repo.clone_url
        control.settle(30)

Nothing here runs at import time; see server.py, control.py and cli.py.
"""
