"""The built-in `%agent` subcommands, in the order `%agent help` lists them: one table routes each
name to its function (`"module:function"` under `nb_agents.ipython`, imported on first use)."""

from __future__ import annotations

from .registry import Subcommand

__all__ = ["BUILTIN"]

BUILTIN = (
    # session_commands.py
    Subcommand("help", "session_commands:help_", "%agent help", "this list and the %%agent options"),
    Subcommand("offline", "session_commands:offline", "%agent offline", "start the built-in emulator in this kernel and use it"),
    Subcommand("status", "session_commands:status", "%agent status [NAME]", "backend, session id, status, turns and cost"),
    Subcommand("sessions", "session_commands:sessions", "%agent sessions", "every session of this kernel"),
    Subcommand("new", "session_commands:new", "%agent new [NAME]", "the next cell starts a new conversation"),
    Subcommand("attach", "session_commands:attach", "%agent attach SESSION_ID [--session NAME]", "rebuild a session's transcript and continue it"),
    Subcommand("interrupt", "session_commands:interrupt", "%agent interrupt [NAME]", "stop a session's run (foreground elsewhere or --bg)"),
    Subcommand("wait", "session_commands:wait", "%agent wait [NAME] [--timeout S]", "wait for background runs (all, or NAME's) and show them"),
    Subcommand("config", "session_commands:config", "%agent config", "resolved options and where each comes from"),
    Subcommand("archive", "session_commands:archive", "%agent archive [NAME]", "archive the session on the server and forget it"),
    # file_commands.py
    Subcommand("outputs", "file_commands:outputs", "%agent outputs [NAME]", "output files pulled so far (path, type, size, sha256)"),
    Subcommand("pull", "file_commands:pull", "%agent pull [NAME]", "download the session's outputs again; shows what changed"),
    Subcommand(
        "upload",
        "file_commands:upload",
        "%agent upload VAR|PATH [-s NAME] [--format csv]",
        "upload and mount into a running session",
    ),
    Subcommand("budget", "file_commands:budget", "%agent budget [NAME] USD|none", "raise, lower or remove a session's budget"),
    Subcommand("cost", "file_commands:cost", "%agent cost [NAME]", "cost of every session and the total, or one session's usage"),
    # record_commands.py
    Subcommand("export", "record_commands:export_session", "%agent export PATH [--session NAME]", "write a session's conversation as .ipynb, .md or .html"),
    Subcommand("cache", "record_commands:cache", "%agent cache [clear]", "the Run-All cache: how many runs, or empty it"),
    # resource_commands.py
    Subcommand("envs", "resource_commands:envs", "%agent envs", "environments: networking and packages"),
    Subcommand("agents", "resource_commands:agents", "%agent agents", "agents with their versions (--agent ID@VERSION pins one)"),
)
