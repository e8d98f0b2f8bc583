"""The default offline brain: a small, honest data analyst.

For every tabular file mounted in the session (csv, tsv, parquet) it runs real pandas code
in the sandbox through the bash tool (`profile_script.py`), which writes
`<stem>_profile.csv` and `<stem>_hist.png` to /mnt/session/outputs/, and answers in
markdown with the shape and notable facts that code computed. In a self-hosted session
(`%%agent --local`) nothing is mounted: the tables are the local paths the prompt names, and the
script runs on the user's machine through their worker, writing to `outputs/` in its folder. Custom tools whose names
the prompt mentions are called with plausible arguments from their input_schema, and
their results are quoted. With nothing to work on it says it is an offline emulator.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .profile_script import LOCAL_OUTPUTS, OUTPUTS, output_stem, profile_command, table_kind

__all__ = ["AnalystBrain", "plausible_args", "describe", "NO_FILES_TEXT"]

NO_FILES_TEXT = (
    "I'm the **offline emulator** of Claude Managed Agents, not Claude: I can't reason about "
    "your request. Give me a table (a mounted CSV, TSV or Parquet file, e.g. `{{df}}` in a "
    "`%%agent` cell) and I'll profile it with pandas for real, writing a per-column profile and "
    "histograms to `/mnt/session/outputs/`."
)
FOOTER = "\n\n_Computed by the offline emulator's analyst (real pandas code in the sandbox), not by Claude._"


def plausible_args(schema: dict[str, Any], prompt: str) -> dict[str, Any]:
    """Arguments for a custom tool: defaults, enums, or values lifted from the prompt."""
    props = schema.get("properties") or {}
    quoted = re.findall(r"[\"'`]([^\"'`]+)[\"'`]", prompt)
    numbers = re.findall(r"-?\d+(?:\.\d+)?", prompt)
    args: dict[str, Any] = {}
    for name in schema.get("required") or list(props):
        spec = props.get(name) or {}
        kind = spec.get("type", "string")
        if "default" in spec:
            args[name] = spec["default"]
        elif spec.get("enum"):
            args[name] = spec["enum"][0]
        elif kind == "integer":
            args[name] = int(float(numbers[0])) if numbers else 1
        elif kind == "number":
            args[name] = float(numbers[0]) if numbers else 1.0
        elif kind == "boolean":
            args[name] = True
        elif kind == "array":
            args[name] = []
        elif kind == "object":
            args[name] = {}
        else:
            args[name] = quoted[0] if quoted else "example"
    return args


_PATH_IN_PROMPT = re.compile(r"`([^`\s]+\.(?:csv|tsv|tab|parquet|pq))`", re.IGNORECASE)


def local_tables(prompt: str) -> list[dict[str, Any]]:
    """A self-hosted session mounts nothing: its tables are the local paths the prompt names (the
    schema cards of `%%agent --local` name each input's path in the working folder)."""
    seen: dict[str, dict[str, Any]] = {}
    for path in _PATH_IN_PROMPT.findall(prompt):
        seen.setdefault(path, {"filename": path.rsplit("/", 1)[-1], "mount_path": path})
    return list(seen.values())


def _mentioned(tools: list[dict[str, Any]], prompt: str) -> list[dict[str, Any]]:
    return [t for t in tools if re.search(rf"(?<![\w-]){re.escape(t['name'])}(?![\w-])", prompt)]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}"
    return "—" if value is None else str(value)


def describe(filename: str, summary: dict[str, Any]) -> str:
    """Markdown for one profiled table."""
    rows, cols = summary["rows"], summary["columns"]
    lines = [f"### `{filename}`: {rows:,} rows × {cols} columns", ""]
    dtypes = ", ".join(f"`{c}` ({t})" for c, t in summary["dtypes"].items())
    lines.append(f"- Columns: {dtypes}")
    nulls = summary.get("nulls") or {}
    if nulls:
        worst = max(nulls, key=lambda c: nulls[c])
        share = nulls[worst] / rows if rows else 0
        listed = ", ".join(f"`{c}` {n}" for c, n in nulls.items())
        lines.append(f"- Missing values: {listed}; most in `{worst}` ({share:.1%}).")
    else:
        lines.append("- No missing values.")
    if summary.get("duplicates"):
        lines.append(f"- {summary['duplicates']} duplicated rows.")
    numeric = summary.get("numeric") or {}
    if numeric:
        lines += ["", "| column | mean | std | min | max |", "|---|---|---|---|---|"]
        lines += [f"| `{c}` | {_fmt(s['mean'])} | {_fmt(s['std'])} | {_fmt(s['min'])} | {_fmt(s['max'])} |"
                  for c, s in numeric.items()]
        spread = {c: (s["max"] - s["min"]) for c, s in numeric.items()
                  if isinstance(s.get("max"), (int, float)) and isinstance(s.get("min"), (int, float))}
        if spread:
            widest = max(spread, key=lambda c: spread[c])
            lines.append(f"\nWidest range: `{widest}` ({_fmt(numeric[widest]['min'])} to {_fmt(numeric[widest]['max'])}).")
    else:
        lines.append("- No numeric columns.")
    lines.append("\nFiles: " + ", ".join(f"`{f}`" for f in summary.get("files", [])))
    return "\n".join(lines)


def _summary(result: dict[str, Any]) -> dict[str, Any] | None:
    if result.get("is_error"):
        return None
    for line in reversed(result.get("text", "").strip().splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict) and "rows" in value:
            return value
    return None


class AnalystBrain:
    async def respond(self, turn: Any, prompt: str) -> None:
        local = bool(getattr(turn.rt, "self_hosted", False))
        mounted = local_tables(prompt) if local else turn.files
        tables = [m for m in mounted if table_kind(m["filename"]) or table_kind(m["mount_path"])]
        tools = _mentioned(turn.custom_tools, prompt)
        if not tables and not tools:
            await turn.model(NO_FILES_TEXT, thinking=True)
            return
        parts: list[str] = []
        if tools:
            calls = [{"name": t["name"], "input": plausible_args(t.get("input_schema") or {}, prompt), "custom": True}
                     for t in tools]
            names = ", ".join(f"`{t['name']}`" for t in tools)
            for res in await turn.model(f"Calling {names}.", thinking=True, calls=calls):
                status = "failed" if res["is_error"] else "returned"
                parts.append(f"- `{res['name']}({json.dumps(res['input'])})` {status}: {res['text'] or '(no text)'}")
            parts = ["### Tool results", *parts]
        if tables and not turn.tool_enabled("bash"):
            parts.append("I can't profile the tables: the bash tool is not enabled for this agent.")
            tables = []
        stems: set[str] = set()
        for i, mount in enumerate(tables):
            name = mount["filename"] if table_kind(mount["filename"]) else mount["mount_path"].rsplit("/", 1)[-1]
            stem = base = output_stem(name)
            while stem in stems:  # two tables with one name must not overwrite each other's outputs
                stem = f"{base}_{len(stems) + 1}"
            stems.add(stem)
            command = profile_command(mount["mount_path"], name, stem, LOCAL_OUTPUTS if local else OUTPUTS)
            [res] = await turn.model(f"Profiling `{mount['mount_path']}` with pandas.", thinking=i == 0 and not tools,
                                     calls=[{"name": "bash", "input": {"command": command}, "builtin": True}])
            summary = _summary(res)
            if summary is None:
                parts.append(f"### `{name}`\nProfiling failed:\n\n```\n{res['text'][-2000:]}\n```")
            else:
                parts.append(describe(name, summary))
        await turn.model("\n\n".join(parts) + FOOTER)

