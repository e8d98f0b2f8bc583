"""The documentation's examples as tests (sybil): which fences run and how each kind is checked.

The convention (docs/architecture.md, "Docs that cannot drift"):
- ```python and ```ipython blocks run, in document order, as cells of ONE IPython shell per
  document (the extension loaded, `%agent offline`, a fresh namespace, a fresh temporary working
  directory holding `sales.csv`), so magics, `{{name}}` and top-level `await` work as in a notebook.
  A ```python block must be plain Python (top-level `await` allowed); magics go in ```ipython.
  `<!-- invisible-code-block: python ... -->` runs set-up code the reader does not need to see.
- ```toml is parsed with tomllib; a `[tool.nb_agents]` table is checked by nb_agents.config.
- ```json is parsed with json (a scenario, a cassette line...); its value is `_json` in the shell.
- ```bash / ```sh / ```shell do not run: every `make TARGET` must be a Makefile target, every
  `python -m MODULE` / `python SCRIPT.py` must show a usage on `--help` naming each `--option` used.
- ```text is an output sample or a diagram: not checked.
- `<!-- skip: next "needs ANTHROPIC_API_KEY" -->` before a block skips it, reported as a skip with
  that reason (the reason is a quoted string); `<!-- skip: start "why" -->` ... `<!-- skip: end -->`
  skips every block between.
A failing block fails its test with the document's path and the block's line.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import tomllib
from sybil import Example, Sybil
from sybil.parsers.markdown import CodeBlockParser, SkipParser

ROOT = Path(__file__).resolve().parents[2]

#: every fence a document may open; anything else (including a bare ```) fails `test_fences`
RUN = ("python", "ipython")
CHECKED = ("toml", "json", "bash", "sh", "shell")
NOT_CHECKED = ("text",)
LANGUAGES = RUN + CHECKED + NOT_CHECKED

#: the shell fixture's name in each document's namespace
SHELL = "doc_shell"


def documents() -> list[Path]:
    """README.md and every docs/*.md: a new doc is tested as soon as it exists."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _failure(result: Any, out: str) -> str:
    error = result.error_before_exec or result.error_in_exec
    return f"{type(error).__name__}: {error}\n--- the cell printed ---\n{out.strip()}"


def run_cell(example: Example) -> str | None:
    """A ```python / ```ipython block: one cell of the document's shell; its error fails the test."""
    from IPython.utils.capture import capture_output

    if example.region.lexemes.get("arguments") == "python":
        try:
            compile(str(example.parsed), "<doc>", "exec", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        except SyntaxError as exc:
            return f"a ```python block is plain Python (magics go in ```ipython): {exc}"
    shell = example.namespace[SHELL]
    with capture_output() as cap:
        result = shell.run_cell(str(example.parsed), store_history=True)
    if not result.success:
        return _failure(result, cap.stdout + cap.stderr)
    return None


def check_toml(example: Example) -> str | None:
    """A ```toml block parses; its [tool.nb_agents] table passes nb_agents.config's checks."""
    from nb_agents.config import AgentMagic, resolve_options
    from nb_agents.errors import ConfigError

    text = str(example.parsed)
    data = tomllib.loads(text)  # a TOMLDecodeError fails the test with its line and column
    if "nb_agents" in data.get("tool", {}):
        folder = Path(example.namespace["doc_tmp"]) / f"toml_{example.line}"
        folder.mkdir()
        (folder / "pyproject.toml").write_text(text, encoding="utf-8")
        try:
            resolve_options(cfg=AgentMagic(), environ={}, start=folder)
        except ConfigError as exc:
            return f"[tool.nb_agents]: {exc}"
    return None


def check_json(example: Example) -> str | None:
    """A ```json block parses; the document's next cells find its value in `_json` (an invisible
    block can then compare it with the real thing, e.g. a recorded cassette's keys)."""
    value = json.loads(str(example.parsed))
    shell = example.namespace.get(SHELL)
    if shell is not None:
        shell.user_ns["_json"] = value
    return None


@cache
def make_targets() -> frozenset[str]:
    """The Makefile's targets; a pattern rule stays a pattern (`bench-%`)."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return frozenset(re.findall(r"^([A-Za-z0-9_.%-]+)\s*:(?!=)", text, re.MULTILINE))


def is_make_target(word: str) -> bool:
    """`word` is a target, or matches a pattern rule (`make bench-first_cell` by `bench-%`, whose
    stem must then name an existing bench script: the rule runs `bench/run_all.py -k STEM`)."""
    if word in make_targets():
        return True
    for pattern in (t for t in make_targets() if "%" in t):
        head, _, tail = pattern.partition("%")
        stem = word[len(head):len(word) - len(tail)] if word.startswith(head) and word.endswith(tail) else ""
        if stem and (head != "bench-" or any((ROOT / "bench").glob(f"bench_*{stem}*.py"))):
            return True
    return False


@cache
def help_text(*target: str) -> str:
    """What `python TARGET --help` prints (`-m MODULE` or a script path)."""
    done = subprocess.run([sys.executable, *target, "--help"], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    return done.stdout + done.stderr


def shell_commands(text: str) -> Iterator[str]:
    """The commands of a shell block: continuation lines joined, comments dropped."""
    for line in text.replace("\\\n", " ").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            yield line


def check_shell(example: Example) -> str | None:
    """A shell block does not run; what it names must exist (make targets, modules, scripts)."""
    problems: list[str] = []
    for command in shell_commands(str(example.parsed)):
        words = command.split()
        if words[0] == "make":
            problems += [f"no Makefile target {w!r}" for w in words[1:]
                         if not w.startswith("-") and "=" not in w and not is_make_target(w)]
        elif words[0].endswith("python") and len(words) > 1:
            target = tuple(words[1:3]) if words[1] == "-m" else (words[1],)
            if target[-1].endswith(".py") and not (ROOT / target[-1]).is_file():
                problems.append(f"no script {target[-1]}")
                continue
            shown = help_text(*target)
            if "usage" not in shown.lower():
                problems.append(f"`python {' '.join(target)} --help` shows no usage: {shown[-300:]}")
            problems += [f"`python {' '.join(target)}` has no option {opt}" for opt in
                         re.findall(r"(?<![\w-])(--[a-z][\w-]*)", command) if opt not in shown]
        else:
            problems += [f"no script {w}" for w in words if w.endswith(".py") and not (ROOT / w).is_file()]
    return "; ".join(problems) or None


def doc_sybil() -> Sybil:
    parsers: list[Any] = [SkipParser()]
    parsers += [CodeBlockParser(language, run_cell) for language in RUN]
    parsers.append(CodeBlockParser("toml", check_toml))
    parsers.append(CodeBlockParser("json", check_json))
    parsers += [CodeBlockParser(language, check_shell) for language in ("bash", "sh", "shell")]
    return Sybil(parsers=parsers, path=str(ROOT), fixtures=[SHELL, "doc_tmp"], name="docs")


FENCE = re.compile(r"^(?P<indent>[ \t]*(?:[-*+]\s+|\d+[.)]\s+)?)(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)$",
                   re.MULTILINE)


def unlabelled_fences(text: str) -> list[tuple[int, str]]:
    """(line, info) of each opening fence whose language is not one of LANGUAGES."""
    out: list[tuple[int, str]] = []
    open_fence: str | None = None
    for match in FENCE.finditer(text):
        fence, info = match["fence"], match["info"].strip()
        if open_fence is not None:
            if fence[0] == open_fence[0] and len(fence) >= len(open_fence) and not info:
                open_fence = None
            continue
        open_fence = fence
        if info.split(" ")[0] not in LANGUAGES:
            out.append((text.count("\n", 0, match.start()) + 1, info))
    return out
