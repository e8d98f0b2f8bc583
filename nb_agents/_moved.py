"""Old module paths, for notebooks written before the package had its subpackages.

`from nb_agents.export import export` (and the like, as the docs once showed them) still works:
importing one of the names below gives the package that holds those names now, with a
`DeprecationWarning` saying where to import from.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from types import ModuleType
from typing import Any

__all__ = ["MOVED", "install"]

# old module (as the docs showed it) -> the package that exports its public names now
MOVED = {
    "nb_agents.budget": "nb_agents.tools",
    "nb_agents.cache": "nb_agents.record",
    "nb_agents.cassette": "nb_agents.record",
    "nb_agents.export": "nb_agents.record",
    "nb_agents.magics": "nb_agents.ipython",
    "nb_agents.surface_commands": "nb_agents.api",
}


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: Any) -> ModuleType:
        new = MOVED[spec.name]
        warnings.warn(f"{spec.name} moved: import from {new}", DeprecationWarning, stacklevel=3)
        return importlib.import_module(new)

    def exec_module(self, module: ModuleType) -> None:
        pass


def install() -> None:
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.append(_Finder())
