"""The `%%agent` flags: their declaration (IPython's magic_arguments, so `%%agent?` and
`%agent help` show every option), parsing with one-line errors, and their split into options
(`flag_overrides`) and tool keywords (`tool_flags`)."""

from __future__ import annotations

import re
import shlex
from dataclasses import fields
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic_arguments import argument, magic_arguments

from ..config import Options, check_session_name, check_variable_name
from ..errors import ConfigError

__all__ = ["cell_flags", "flag_overrides", "parse_cell_flags", "split_words", "tool_flags", "usage_text"]


@magic_arguments()
@argument("--out", "-o", metavar="NAME", help="Also store the Run in this variable (it is always in `_agent`).")
@argument("--session", "-s", metavar="NAME", default="default", help="Named session to use (default: 'default').")
@argument("--new", action="store_true", help="Start a new session (a fresh conversation and container).")
@argument("--model", help="Model for this session's agent.")
@argument("--system", help="System prompt for this session's agent.")
@argument("--agent", dest="agent_id", metavar="ID", help="Use this existing agent id.")
@argument("--environment", dest="environment_id", metavar="ID", help="Use this existing environment id.")
@argument("--title", help="Title of a new session.")
@argument("--no-interpolate", action="store_true", help="Send the cell as written: no {{name}} substitution.")
@argument("--dry-run", action="store_true", help="Show the final prompt and what would be uploaded; send nothing.")
@argument("--quiet", action="store_const", const=True, help="Show only the final answer.")
@argument("--verbose", action="store_const", const=True, help="Show tool calls expanded.")
@argument("--timeout", type=float, metavar="SECONDS", help="Interrupt the run after this many seconds.")
@argument("--files", nargs="+", metavar="PATH", help="Upload and mount these files or directories too.")
@argument("--sample", dest="sample_rows", type=int, metavar="N", help="Sample rows in a DataFrame's schema card (0 = none).")
@argument("--format", dest="file_format", choices=("parquet", "csv"), help="How {{df}} DataFrames are uploaded (default parquet).")
@argument("--no-pull", dest="pull_outputs", action="store_const", const=False, help="Do not download the session's output files after this turn.")
@argument("--tools", metavar="F,G", help="Kernel functions the agent may call (custom tools), by name.")
@argument("--ask", metavar="TOOLS", help="Ask before these built-in tools run (e.g. bash,write).")
@argument("--ask-all", action="store_const", const=True, help="Ask before every built-in tool runs.")
@argument("--auto", nargs="?", const=True, default=None, metavar="TOOLS",
          help="Let the service decide per call (all tools, or these).")
@argument("--kernel-tools", action="store_const", const=True, help="Offer read-only tools to look at kernel variables.")
@argument("--max-usd", type=float, metavar="X", help="Budget cap in USD for a new session.")
@argument("--record", metavar="PATH", help="Also record this run as a JSONL cassette at PATH (docs/replay.md).")
@argument("--replay", metavar="PATH", help="Play a recorded cassette instead of running (no network, no key).")
@argument("--speed", type=float, metavar="X", help="With --replay: X times the original pace (default 1).")
@argument("--instant", action="store_true", help="With --replay: show the whole recording at once.")
@argument("--cache", action="store_const", const=True, help="Replay this cell's recorded run if prompt, options and inputs match.")
@argument("--refresh", action="store_true", help="With the cache: run for real and replace the cached run.")
@argument("--bg", action="store_true", help="Run in the background: the cell returns at once (see %%agent wait).")
@argument("--map", metavar="VAR", help="Fan out: one new session per item of this list/dict/DataFrame/groupby.")
@argument("--concurrency", type=int, metavar="N", help="With --map: sessions running at once (default 8).")
@argument("--packages", metavar="SPEC", help='Environment packages, e.g. "pip:pandas,scikit-learn apt:ffmpeg".')
@argument("--network", choices=("unrestricted", "limited"), help="Environment networking.")
@argument("--allow-host", dest="allow_hosts", action="append", metavar="HOST", help="With --network limited: a reachable host (repeat).")
@argument("--allow-package-managers", action="store_const", const=True, help="With --network limited: allow package registries.")
@argument("--allow-mcp-servers", action="store_const", const=True, help="With --network limited: allow the MCP servers.")
@argument("--skills", metavar="S,...", help="Agent skills: xlsx,pdf,docx,pptx or skill_...[@version].")
@argument("--repo", dest="repos", action="append", metavar="URL[@REF]", help="Mount a GitHub repository (repeat).")
@argument("--repo-token-env", metavar="VAR", help="Environment variable holding the repository token.")
@argument("--mcp", action="append", metavar="NAME=URL", help="An MCP server for the agent (repeat).")
@argument("--vault", dest="vaults", action="append", metavar="NAME", help="A vault with MCP credentials, by name or id (repeat; %%agent vault add).")
@argument("--memory", action="append", metavar="NAME[:read_only]", help="Attach a memory store by name (created when new) or id (repeat).")
@argument("--outcome", metavar="TEXT", help="Work until this outcome is met (graded against --rubric).")
@argument("--rubric", metavar="TEXT|FILE", help="The outcome's rubric: text or a file.")
@argument("--max-iterations", type=int, metavar="N", help="Outcome evaluation rounds at most (default 3).")
@argument("--subagents", metavar="ID,...", help="Agents this agent may delegate to (coordinator).")
@argument("--schedule", metavar="CRON", help='Do not run now: schedule this cell (a deployment), e.g. "0 8 * * 1-5" (docs/schedules.md).')
@argument("--tz", metavar="ZONE", help="With --schedule: the IANA time zone of the cron expression (default: this machine's).")
@argument("--name", metavar="NAME", help="With --schedule: the schedule's name (the same name updates it).")
@argument("--local", action="store_const", const=True, help="Run the agent's tools in this kernel, in a working folder (docs/local.md).")
@argument("--workdir", metavar="PATH", help="With --local: the working folder (default ./agent_workspace/<session>/).")
@argument("--allow-path", dest="allow_paths", action="append", metavar="DIR", help="With --local: a folder outside the working folder the file tools may use (repeat).")
def cell_flags(line: str) -> None:
    """%%agent [options] -- the cell is the prompt; `{{name}}` inserts a kernel variable."""


cell_flags.parser.prog = "%agent"  # magic_arguments prints it with one more "%"
_FLAG_NAMES = sorted({opt for action in cell_flags.parser._actions for opt in action.option_strings})


def _suggest_flag(flag: str) -> str:
    """Compare names without their dashes, so `--bogus` is not "close" to `--bg` just for the `--`."""
    import difflib

    bare = {name.lstrip("-"): name for name in _FLAG_NAMES}
    close = difflib.get_close_matches(flag.lstrip("-"), list(bare), n=1, cutoff=0.6)
    return f" (did you mean {bare[close[0]]!r}?)" if close else " (see %agent help for the options)"


def split_words(line: str) -> list[str]:
    """The words of a `%agent` / `%%agent` line, POSIX-quoted (`--title 'my title'`; IPython's
    arg_split keeps the quotes), without a trailing `# comment`: a `#` that starts a word outside
    quotes ends the line, as in a shell (`--repo https://x/y#main` keeps its `#`)."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            line = line[:i]
            break
    return shlex.split(line)


def parse_cell_flags(line: str) -> Any:
    """Parse `%%agent` flags; an unknown flag is one line with a "did you mean"."""
    try:
        # POSIX splitting strips quotes (`--title 'my title'`); IPython's arg_split keeps them.
        argv = split_words(line)
    except ValueError as exc:
        raise ConfigError(f"%%agent: {exc}") from None
    try:
        args = cell_flags.parser.parse_args(argv)
    except UsageError as exc:
        unknown = [tok for tok in re.findall(r"(?<!\S)(-{1,2}[\w-]+)", line) if tok not in _FLAG_NAMES]
        if unknown:
            raise ConfigError(f"%%agent: unknown option {unknown[0]}{_suggest_flag(unknown[0])}") from None
        raise ConfigError(f"%%agent: {str(exc).splitlines()[-1]}") from None
    # names are checked before anything is sent
    if args.out is not None:
        check_variable_name(args.out, "--out")
    check_session_name(args.session)
    return args


# The flags whose value configures tools (tools.setup), not an option; the others that name an
# `Options` field (each flag's `dest` is the field's name) are options.
TOOL_FLAGS = ("tools", "ask", "ask_all", "auto", "kernel_tools", "max_usd")
OPTION_FLAGS = frozenset(
    action.dest for action in cell_flags.parser._actions if action.dest in {f.name for f in fields(Options)}
) - set(TOOL_FLAGS)


def tool_flags(args: Any) -> dict[str, Any]:
    """Flags handed to tool_setup (custom tools, approvals, budget); absent ones are left out."""
    return {name: getattr(args, name) for name in TOOL_FLAGS if getattr(args, name) is not None}


def flag_overrides(args: Any) -> dict[str, Any]:
    """Flags that are options; absent ones are left out, so lower layers decide."""
    return {name: getattr(args, name) for name in OPTION_FLAGS if getattr(args, name) is not None}


def usage_text() -> str:
    """The `%%agent` usage with every option, as plain text (magic_arguments formats it as
    reStructuredText, a "::" and an indented block)."""
    lines = [ln[2:] if ln.startswith("  %%agent") else ln for ln in cell_flags.parser.format_help().splitlines()]
    return "\n".join(ln for ln in lines if ln.strip() != "::").strip()
