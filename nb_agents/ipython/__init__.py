"""The IPython face: `%%agent` / `%agent` magics and their subcommands.
"""

from .magics import register, register_subcommand, unregister

__all__ = ["register", "register_subcommand", "unregister"]
