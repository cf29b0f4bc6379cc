"""The `swarm` command."""

from __future__ import annotations

import sys

import typer

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
    logs.configure(settings.log_level)
    uvicorn.run(
        create_app(settings, handle_events=workers), host=host, port=port, log_level="warning"
    )


def main() -> None:
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
