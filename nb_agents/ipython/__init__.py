"""The IPython face: the `%%agent` / `%agent` magics (`magics.py`), their flags (`flags.py`), the
subcommand table (`registry.py`) and one module per group of subcommands."""

from .magics import NbAgentsMagics, register, unregister
from .registry import SUBCOMMANDS, register_subcommand

__all__ = ["NbAgentsMagics", "SUBCOMMANDS", "register", "register_subcommand", "unregister"]
