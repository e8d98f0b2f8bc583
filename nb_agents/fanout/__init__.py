"""`nb_agents.map`: one new session per item, bounded concurrency, progress, `MapResult`.
"""

from .engine import FanOut, map
from .result import MapResult

__all__ = ["FanOut", "MapResult", "map"]
