"""What a turn takes from its surroundings: the kernel's namespace, whether to show the live view,
and the `ask()` keywords that are not options (tool flags, the short file flags)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["TOOL_KEYWORDS", "split_keywords", "user_namespace", "want_live"]

# ask() keywords that configure tools/approvals (tools.setup) rather than options
TOOL_KEYWORDS = ("tools", "ask", "ask_all", "auto", "kernel_tools")


def split_keywords(overrides: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """`ask()` keywords -> (option overrides, tool keywords). `fmt="csv"` and `pull=False` are the
    `--format` / `--no-pull` flags: options underneath."""
    options = dict(overrides)
    for short, option in (("fmt", "file_format"), ("pull", "pull_outputs")):
        if short in options:
            options[option] = options.pop(short)
    tools = {k: options.pop(k) for k in TOOL_KEYWORDS if k in options}
    return options, tools


def user_namespace() -> Mapping[str, Any]:
    """The IPython user namespace (empty outside IPython): where `{{name}}` is looked up."""
    try:
        from IPython import get_ipython
    except ImportError:
        return {}
    shell = get_ipython()
    return shell.user_ns if shell is not None else {}


def want_live(live: bool | None) -> bool:
    """Show the live view? As asked, else whenever IPython runs this code."""
    if live is not None:
        return live
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None
