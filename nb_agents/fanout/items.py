"""What a fan-out runs over: items (list, dict, DataFrame rows, groupby), their per-item state,
and their files. (Which errors are worth retrying, and when: api/retry.py.)

Split from fanout.py (the engine). `normalize(items)` gives `(key, value)` pairs: a list's key is
its position, a dict's key its key, a DataFrame row's key its index label, a groupby's key the
group key (its value is the sub-frame, which the files module uploads when the template says
`{{item}}`). Dicts and rows become `Fields`, so `{{item.col}}` and `{{item['col']}}` both work.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError

__all__ = ["Fields", "Item", "normalize", "files_for", "DONE", "FAILED", "RUNNING", "PENDING"]

PENDING, RUNNING, DONE, FAILED, INTERRUPTED = "pending", "running", "done", "failed", "interrupted"
SKIPPED_BUDGET, SKIPPED_STOP = "skipped: budget", "skipped: stopped"


class Fields(Mapping[str, Any]):
    """A dict item (or a DataFrame row) whose keys are also attributes: `{{item.col}}`."""

    def __init__(self, data: Mapping[Any, Any]) -> None:
        self._data = dict(data)

    def __getitem__(self, key: Any) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(name) from None

    def __dir__(self) -> list[str]:
        return [str(k) for k in self._data]

    def __str__(self) -> str:
        return ", ".join(f"{k}: {v}" for k, v in self._data.items())

    def __repr__(self) -> str:
        return repr(self._data)

    def to_dict(self) -> dict[Any, Any]:
        return dict(self._data)


def _kind(obj: Any) -> str:
    cls = type(obj)
    return f"{cls.__module__.split('.')[0]}.{cls.__name__}"


def normalize(items: Any) -> list[tuple[Any, Any]]:
    """`(key, value)` pairs for a list, dict, DataFrame (rows), Series or groupby."""
    kind = _kind(items)
    if kind == "pandas.DataFrameGroupBy":
        return [(key, frame) for key, frame in items]
    if kind == "pandas.DataFrame":
        return [(label, Fields(row.to_dict())) for label, row in items.iterrows()]
    if kind == "pandas.Series":
        return [(label, _wrap(value)) for label, value in items.items()]
    if isinstance(items, Mapping):
        return [(key, _wrap(value)) for key, value in items.items()]
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise ConfigError(
            f"nb_agents.map: items must be a list, dict, DataFrame or groupby, not {type(items).__name__}"
        )
    return [(i, _wrap(value)) for i, value in enumerate(items)]


def _wrap(value: Any) -> Any:
    return Fields(value) if isinstance(value, Mapping) and not isinstance(value, Fields) else value


def files_for(files: Any, key: Any, value: Any) -> Any:
    """An item's files: the same paths for all (str/list), a dict by key, or `files(key, item)`."""
    if files is None:
        return None
    if callable(files):
        return files(key, value)
    if isinstance(files, Mapping):
        return files.get(key)
    return files


@dataclass
class Item:
    """One unit of a fan-out and, once run, its row of the result table."""

    index: int
    key: Any
    value: Any
    status: str = PENDING
    text: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)
    cost_usd: float | None = None
    session_id: str | None = None
    error: str | None = None
    attempts: int = 0
    run: Any = None
    session: Any = None
    started: float | None = None
    finished: float | None = None

    @property
    def live_cost(self) -> float:
        """Cost so far (while running: from the session's `session.usage` events)."""
        if self.cost_usd is not None:
            return self.cost_usd
        history = getattr(self.session, "history", None)
        return float(getattr(history, "cost_usd", None) or 0.0)

    def row(self) -> dict[str, Any]:
        value = self.value.to_dict() if isinstance(self.value, Fields) else self.value
        return {
            "item": value,
            "status": self.status,
            "text": self.text,
            "outputs": dict(self.outputs),
            "cost_usd": self.cost_usd,
            "session_id": self.session_id,
            "error": self.error,
            "attempts": self.attempts,
        }

    def mark(self, status: str, error: str | None = None) -> None:
        self.status, self.error = status, error
        self.finished = time.monotonic()
