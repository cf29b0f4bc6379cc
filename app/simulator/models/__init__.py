"""The scripted model server: OpenAI and Anthropic wire formats, answered from a script."""

from app.simulator.models.cli import model_server_cli
from app.simulator.models.script import Script, ScriptError, load_script
from app.simulator.models.server import ScriptedModelServer, start_model_server

__all__ = [
    "Script",
    "ScriptError",
    "ScriptedModelServer",
    "load_script",
    "model_server_cli",
    "start_model_server",
]
