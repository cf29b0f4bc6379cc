"""`swarm simulator --port 8700 --data-dir DIR …`: the GitHub simulator in the foreground."""

from __future__ import annotations

from pathlib import Path

import typer
import uvicorn

from app.simulator.github.config import SimulatorConfig
from app.simulator.github.server import create_app

simulator_cli = typer.Typer(
    help="Serve a simulated github.com: REST API, App auth, git over HTTP, webhooks, CI.",
    no_args_is_help=False,
)


# A callback, not a command: mounted with add_typer(name="simulator") it runs as
# `swarm simulator --port …`, with no sub-command name to type.
@simulator_cli.callback(invoke_without_command=True)
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8700, "--port", help="Port to listen on."),
    data_dir: Path = typer.Option(
        Path(".swarm-simulator"), "--data-dir", help="Where the bare git repositories live."
    ),
    app_id: int = typer.Option(1, "--app-id", help="The simulated GitHub App's id."),
    app_slug: str = typer.Option("swarm", "--app-slug", help="Its slug; the bot is <slug>[bot]."),
    app_public_key: Path | None = typer.Option(
        None,
        "--app-public-key",
        exists=True,
        dir_okay=False,
        help="PEM file of the App's public key; App JWTs are verified with it.",
    ),
    webhook_url: str | None = typer.Option(
        None, "--webhook-url", help="Where webhooks go (the app's ingress route)."
    ),
    webhook_secret: str = typer.Option("", "--webhook-secret", help="Signs every delivery."),
    public_url: str | None = typer.Option(
        None, "--public-url", help="Base URL clients use; defaults to http://HOST:PORT."
    ),
) -> None:
    config = SimulatorConfig(
        data_dir=data_dir.resolve(),
        app_id=app_id,
        app_slug=app_slug,
        app_public_key_pem=app_public_key.read_text() if app_public_key else None,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        public_url=public_url or f"http://{host}:{port}",
    )
    if config.app_public_key_pem is None:
        typer.echo("warning: no --app-public-key; App JWT signatures are not checked", err=True)
    typer.echo(f"GitHub simulator on {config.public_url}, repositories in {config.data_dir}")
    uvicorn.run(create_app(config), host=host, port=port, log_level="warning")
