"""The `swarm` command."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from app.sandbox import SandboxSettings, SandboxUnavailable, UnsafeEnvironmentError, require_sandbox
from app.settings import SettingsError, load_settings

cli = typer.Typer(
    help="Swarm: a self-hosted GitHub App that puts a swarm of coding agents to work.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@cli.callback()
def root() -> None:
    """Swarm: a self-hosted GitHub App that puts a swarm of coding agents to work."""


def _settings_or_exit(**overrides: object):  # type: ignore[no-untyped-def]
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        typer.secho(f"swarm: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


def sandbox_or_exit(settings: SandboxSettings) -> str:
    """What isolates agents' commands here; else one line on stderr and exit 2."""
    try:
        return require_sandbox(settings)
    except (SandboxUnavailable, UnsafeEnvironmentError) as exc:
        typer.secho(f"swarm: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


@cli.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: bool = typer.Option(
        True,
        "--workers/--ingress-only",
        help="Also handle events and run agents here (default), or only record deliveries.",
    ),
) -> None:
    """Webhook ingress, health and metrics — and, by default, the workers in the same process."""
    import uvicorn

    from app import logs
    from app.web.app import create_app

    settings = _settings_or_exit()
    if workers:
        sandbox_or_exit(settings)
    logs.configure(settings.log_level, settings.log_format)
    uvicorn.run(
        create_app(settings, handle_events=workers), host=host, port=port, log_level="warning"
    )


@cli.command()
def worker() -> None:
    """Agent capacity only: handle recorded events and run agents (point many at one database)."""
    import asyncio

    from app import logs, runtime
    from app.events import dispatch  # noqa: F401 - registers the workflows before launch

    settings = _settings_or_exit()
    sandbox_or_exit(settings)
    logs.configure(settings.log_level, settings.log_format)

    async def run_forever() -> None:
        await runtime.start(settings)
        try:
            await asyncio.Event().wait()  # until the process is told to stop
        finally:
            runtime.stop()

    asyncio.run(run_forever())


@cli.command()
def demo(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object at the end."),
    keep: bool = typer.Option(False, help="Keep the demo's files (repositories, database)."),
    scenario: Path | None = typer.Option(
        None,
        "--scenario",
        help="A scenario file (YAML or JSON) to play instead of the built-in one (README: "
        "Scenarios).",
    ),
    train: bool = typer.Option(
        False, "--train", help="Land through the merge train (gate.train.enabled: true)."
    ),
) -> None:
    """The whole flow on the GitHub simulator with a scripted model: no keys, no network."""
    import json
    import logging

    from app.demo.scenario import ScenarioError, load_builtin, load_scenario

    try:
        loaded = load_scenario(scenario) if scenario is not None else load_builtin()
        loaded = loaded.with_train() if train else loaded
    except ScenarioError as exc:
        typer.secho(f"swarm demo: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    from app.demo.run import run_demo  # the whole swarm: only once the scenario is good

    logging.basicConfig(level=logging.ERROR)
    result = run_demo(as_json=as_json, keep=keep, scenario=loaded)
    if as_json:
        typer.echo(json.dumps(result.as_json(), indent=2))
    for failure in result.failures():
        typer.secho(f"swarm demo: {loaded.name}: {failure}", fg=typer.colors.RED, err=True)
    raise typer.Exit(0 if result.ok else 1)


@cli.command()
def doctor() -> None:
    """Check this machine: settings, models, database, GitHub, the sandbox, the tools."""
    from app.doctor import run_checks

    failed = 0
    for check in run_checks():
        failed += not check.ok
        mark = typer.style("ok  ", fg="green") if check.ok else typer.style("FAIL", fg="red")
        if check.ok and check.warning:
            mark = typer.style("warn", fg="yellow")
        typer.echo(f"{mark} {check.what}: {check.detail}")
    raise typer.Exit(1 if failed else 0)


def _mount_subcommands() -> None:
    from app.roles.local import agent_cli
    from app.simulator.github.cli import simulator_cli
    from app.simulator.models import model_server_cli

    cli.add_typer(agent_cli, name="agent", help="Run one agent on a local checkout.")
    cli.add_typer(model_server_cli, name="model-server", help="The scripted model server.")
    cli.add_typer(simulator_cli, name="simulator", help="The GitHub simulator.")


def main() -> None:
    _mount_subcommands()
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
