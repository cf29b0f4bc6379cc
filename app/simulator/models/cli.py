"""`swarm model-server --script FILE`: the scripted model server in the foreground."""

from __future__ import annotations

from pathlib import Path

import typer
import uvicorn

from app.simulator.models.routes import create_app
from app.simulator.models.runner import ScriptRunner
from app.simulator.models.script import ScriptError, load_script

model_server_cli = typer.Typer(
    help="Serve a scripted model over the OpenAI and Anthropic wire formats.",
    no_args_is_help=False,
)


# A callback, not a command: mounted with add_typer(name="model-server") it runs as
# `swarm model-server --script FILE`, with no sub-command name to type.
@model_server_cli.callback(invoke_without_command=True)
def serve(
    script: Path = typer.Option(..., "--script", exists=True, dir_okay=False, help="YAML or JSON"),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8765, "--port"),
) -> None:
    try:
        runner = ScriptRunner(load_script(script))
    except ScriptError as err:
        raise typer.BadParameter(str(err), param_hint="--script") from err
    typer.echo(
        f"scripted model on http://{host}:{port}: OPENAI_BASE_URL=http://{host}:{port}/v1 "
        f"ANTHROPIC_BASE_URL=http://{host}:{port}"
    )
    uvicorn.run(create_app(runner), host=host, port=port, log_level="info")
