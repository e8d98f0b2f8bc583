"""Configuration: the `AgentMagic` traitlets Configurable, `[tool.nb_agents]`, env vars -> `Options`.

Precedence, highest first (documented in docs/magics.md):

1. a flag on the cell (`%%agent --model ...`) or a keyword of `nb_agents.session(...)/.ask(...)`;
2. `%config AgentMagic.model = "..."` (or an IPython profile's config file);
3. an environment variable `NB_AGENTS_<OPTION>` (e.g. `NB_AGENTS_MODEL`);
4. `[tool.nb_agents]` in the nearest `pyproject.toml` from the working directory upward;
5. the built-in default (the trait's default).

A session flag beats everything because it is the most local statement of intent; `%config`
beats the environment because it is typed in this notebook, while env vars and pyproject are
ambient (a teacher's pyproject pins defaults a student can still override in the notebook).
"""

from __future__ import annotations

import dataclasses
import functools
import keyword
import math
import os
from pathlib import Path
from typing import Any

from traitlets import Bool, Enum, Float, Int, List, Unicode
from traitlets.config import Configurable

from .errors import ConfigError, did_you_mean

__all__ = ["AgentMagic", "Options", "resolve_options", "find_pyproject", "current_config", "set_current_config"]

DEFAULT_MODEL = "claude-sonnet-4-6"


class AgentMagic(Configurable):
    """Defaults for `%%agent` and `nb_agents.session()`; `%config AgentMagic` lists them."""

    model = Unicode(DEFAULT_MODEL, help="Model of the agent (e.g. claude-sonnet-4-6, claude-opus-4-7).").tag(config=True)
    system = Unicode("", help="System prompt of the agent ('' = the built-in data-science prompt).").tag(config=True)
    agent_name = Unicode("nb-agents", help="Name of the agent found again (or created) by name + config hash.").tag(
        config=True
    )
    agent_id = Unicode("", help="Use this existing agent id instead of get-or-create by name.").tag(config=True)
    environment_name = Unicode("nb-agents", help="Name of the cloud environment found again or created.").tag(
        config=True
    )
    environment_id = Unicode("", help="Use this existing environment id instead of get-or-create.").tag(config=True)
    packages = List(
        Unicode(), ["pandas", "numpy", "matplotlib", "pyarrow"], help="pip packages of the cloud environment."
    ).tag(config=True)
    title = Unicode("", help="Title of new sessions ('' = 'nb_agents: <session name>').").tag(config=True)
    timeout = Float(0.0, help="Interrupt a foreground run after this many seconds (0 = no limit).").tag(config=True)
    interrupt_wait = Float(15.0, help="Seconds to wait for the idle event after sending an interrupt.").tag(
        config=True
    )
    short_errors = Bool(True, help="Show API and usage errors as one line (False: full tracebacks).").tag(config=True)
    outputs_dir = Unicode("agent_outputs", help="Where generated files are pulled to (<dir>/<session>/).").tag(
        config=True
    )
    offline = Bool(False, help="Use the built-in offline emulator (same as `%agent offline`).").tag(config=True)
    verbose = Bool(False, help="Show tool calls expanded in the live view.").tag(config=True)
    quiet = Bool(False, help="Show only the final answer.").tag(config=True)
    deltas = Bool(True, help="Stream text as it is written (event_deltas); False shows whole messages.").tag(
        config=True
    )
    sample_rows = Int(5, help="Sample rows in the schema card of an interpolated DataFrame (0 = none).").tag(
        config=True
    )
    file_format = Enum(("parquet", "csv"), "parquet", help="How DataFrames are uploaded: parquet | csv.").tag(
        config=True
    )
    pull_outputs = Bool(True, help="Download the session's output files after every turn (False = --no-pull).").tag(
        config=True
    )
    pull_settle = Float(
        1.0, min=0.0, help="Seconds to wait for outputs a bash command may have written (the service indexes them late)."
    ).tag(config=True)
    record_dir = Unicode("", help="Record every run's events as JSONL cassettes in this directory ('' = off).").tag(
        config=True
    )
    cache = Bool(False, help="Run-All cache: a repeated cell (same prompt, options, inputs) replays its recorded run.").tag(
        config=True
    )
    cache_dir = Unicode("", help="Folder of the Run-All cache ('' = .nb_agents_cache/ in the working directory).").tag(
        config=True
    )
    tools = List(Unicode(), [], help="Kernel functions offered as custom tools in every session (names).").tag(
        config=True
    )
    max_usd = Float(0.0, help="Budget cap in USD for new sessions (0 = no budget).").tag(config=True)
    # -- agent capabilities (api/agent_params.py and api/session_params.py build the request bodies; docs/capabilities.md) --
    network = Unicode("unrestricted", help="Environment networking: unrestricted | limited.").tag(config=True)
    allow_hosts = List(Unicode(), [], help="With network=limited: hosts the container may reach.").tag(config=True)
    allow_package_managers = Bool(False, help="With network=limited: allow pip/apt/... registries.").tag(config=True)
    allow_mcp_servers = Bool(False, help="With network=limited: allow the agent's MCP servers.").tag(config=True)
    skills = List(Unicode(), [], help="Agent skills: xlsx, pdf, docx, pptx or skill_...[@version] (max 20).").tag(
        config=True
    )
    repos = List(Unicode(), [], help="GitHub repositories mounted in new sessions: URL[@branch|@sha].").tag(
        config=True
    )
    repo_token_env = Unicode("", help="Environment variable holding the repositories' token (read at creation).").tag(
        config=True
    )
    mcp = List(Unicode(), [], help="MCP servers of the agent: NAME=URL (tools ask before running).").tag(config=True)
    vaults = List(Unicode(), [], help="Vaults (credentials for MCP servers) of new sessions, by name or id.").tag(config=True)
    memory = List(Unicode(), [], help="Memory stores of new sessions: NAME or memstore_...[:read_only] (a new name creates one).").tag(config=True)
    subagents = List(Unicode(), [], help="Agent ids (ID[@VERSION]) this agent may delegate to (coordinator).").tag(
        config=True
    )
    outcome = Unicode("", help="Work toward this outcome (user.define_outcome) instead of one message.").tag(
        config=True
    )
    rubric = Unicode("", help="The outcome's rubric: text, or a path to a text/markdown file.").tag(config=True)
    max_iterations = Int(3, help="Outcome evaluation rounds at most (1-20).").tag(config=True)
    # -- local mode (docs/local.md): the kernel is the self-hosted environment's worker --
    local = Bool(False, help="Run the agent's tools in this kernel, in a working folder (docs/local.md).").tag(
        config=True
    )
    workdir = Unicode("", help="Local mode: the working folder ('' = ./agent_workspace/<session>/).").tag(config=True)
    allow_paths = List(Unicode(), [], help="Local mode: folders outside the working folder the file tools may use.").tag(
        config=True
    )
    local_concurrency = Int(4, min=1, help="Local mode: tool calls of different sessions run at once (max_concurrent_calls).").tag(
        config=True
    )
    local_idle = Float(60.0, help="Local mode: seconds the worker keeps an idle session's lease before it lets go.").tag(
        config=True
    )


# Trait names that are options (everything tagged config=True on AgentMagic).
OPTION_NAMES: tuple[str, ...] = tuple(sorted(AgentMagic.class_trait_names(config=True)))


@dataclasses.dataclass(frozen=True)
class Options:
    """Every setting of one run, resolved once; `sources` says where each value came from."""

    model: str = DEFAULT_MODEL
    system: str = ""
    agent_name: str = "nb-agents"
    agent_id: str = ""
    environment_name: str = "nb-agents"
    environment_id: str = ""
    packages: tuple[str, ...] = ("pandas", "numpy", "matplotlib", "pyarrow")
    title: str = ""
    timeout: float = 0.0
    interrupt_wait: float = 15.0
    short_errors: bool = True
    outputs_dir: str = "agent_outputs"
    offline: bool = False
    verbose: bool = False
    quiet: bool = False
    deltas: bool = True
    sample_rows: int = 5
    file_format: str = "parquet"
    pull_outputs: bool = True
    pull_settle: float = 1.0
    record_dir: str = ""
    cache: bool = False
    cache_dir: str = ""
    tools: tuple[str, ...] = ()
    max_usd: float = 0.0
    network: str = "unrestricted"
    allow_hosts: tuple[str, ...] = ()
    allow_package_managers: bool = False
    allow_mcp_servers: bool = False
    skills: tuple[str, ...] = ()
    repos: tuple[str, ...] = ()
    repo_token_env: str = ""
    mcp: tuple[str, ...] = ()
    vaults: tuple[str, ...] = ()
    memory: tuple[str, ...] = ()
    subagents: tuple[str, ...] = ()
    outcome: str = ""
    rubric: str = ""
    max_iterations: int = 3
    local: bool = False
    workdir: str = ""
    allow_paths: tuple[str, ...] = ()
    local_concurrency: int = 4
    local_idle: float = 60.0
    sources: dict[str, str] = dataclasses.field(default_factory=dict, compare=False, hash=False)

    def replace(self, **changes: Any) -> Options:
        """A copy with `changes` applied (marked as coming from a flag)."""
        check_names(changes, "option")
        sources = dict(self.sources)
        sources.update({k: "flag" for k in changes})
        return dataclasses.replace(self, **_coerce_all(changes), sources=sources)


_current: AgentMagic | None = None


@functools.cache
def _traits() -> dict[str, Any]:
    """`AgentMagic`'s traits by name (traitlets builds this dict anew on every call)."""
    return AgentMagic.class_traits()


def set_current_config(cfg: AgentMagic | None) -> None:
    """The extension registers its `AgentMagic` here so the Python API sees `%config` too."""
    global _current
    _current = cfg


def current_config() -> AgentMagic:
    return _current if _current is not None else AgentMagic()


def split_list(name: str, value: str) -> list[str]:
    """A list option given as one string (flag, env var, keyword): `packages` splits on spaces
    (each word `manager:a,b`), everything else on commas."""
    if name == "packages":
        return [item for word in value.split() for item in _package_word(word)]
    return [part.strip() for part in value.split(",") if part.strip()]


def _package_word(word: str) -> list[str]:
    manager, sep, names = word.partition(":")
    if not sep:
        return [f"pip:{n}" for n in word.split(",") if n]
    return [f"{manager}:{n}" for n in names.split(",") if n]


def check_names(values: dict[str, Any], what: str) -> None:
    for key in values:
        if key not in OPTION_NAMES:
            raise ConfigError(f"unknown {what} {key!r}{did_you_mean(key, OPTION_NAMES)}")


MAX_SESSION_NAME = 64


def check_session_name(name: Any) -> str:
    """A session name: a non-empty printable string of at most 64 characters (it names a folder
    of outputs, a cassette and a server-side title); else a one-line error."""
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"a session name must be a non-empty string, not {name!r}")
    if len(name) > MAX_SESSION_NAME:
        raise ConfigError(f"a session name has at most {MAX_SESSION_NAME} characters ({len(name)} given)")
    if not name.isprintable():
        raise ConfigError(f"a session name must be printable: {name!r}")
    return name


def check_variable_name(name: str, flag: str) -> str:
    """A name a result is stored under in the user namespace: a Python identifier, not a keyword."""
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ConfigError(f"{flag} {name!r}: not a Python variable name (letters, digits and _, not a keyword)")
    return name


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest pyproject.toml from `start` (default: cwd) upward."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


# pyproject.toml path -> ((mtime_ns, size), parsed TOML): a cell resolves its options several
# times; the file is parsed again only when it changed on disk.
_PYPROJECT_CACHE: dict[Path, tuple[tuple[int, int], dict[str, Any]]] = {}


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        st = path.stat()
        stamp = (st.st_mtime_ns, st.st_size)
        cached = _PYPROJECT_CACHE.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    _PYPROJECT_CACHE[path] = (stamp, data)
    return data


def pyproject_settings(start: Path | None = None) -> dict[str, Any]:
    path = find_pyproject(start)
    if path is None:
        return {}
    data = _read_toml(path)
    section = data.get("tool", {}).get("nb_agents", {})
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [tool.nb_agents] must be a table")
    settings = {k.replace("-", "_"): v for k, v in section.items()}
    check_names(settings, f"setting in {path} [tool.nb_agents]:")
    return settings


def env_settings(environ: dict[str, str] | None = None) -> dict[str, Any]:
    environ = dict(os.environ if environ is None else environ)
    out: dict[str, Any] = {}
    for name in OPTION_NAMES:
        raw = environ.get(f"NB_AGENTS_{name.upper()}")
        if raw is None:
            continue
        trait = _traits()[name]
        if isinstance(trait, List) and not raw.lstrip().startswith("["):
            out[name] = raw  # "a,b": split like a flag by _coerce_all
            continue
        try:
            out[name] = trait.from_string(raw)
        except Exception as exc:  # traitlets raises several kinds for bad text
            raise ConfigError(f"NB_AGENTS_{name.upper()}={raw!r}: {exc}") from None
    return out


# Every Float option is an amount (seconds or USD) where NaN, infinity or a negative number
# would silently mean "no limit": refused in every layer, with what the number means.
_AMOUNTS = {"timeout": "seconds; 0 = no limit", "interrupt_wait": "seconds", "pull_settle": "seconds",
            "max_usd": "USD; 0 = no budget", "local_idle": "seconds"}


def _check_amount(key: str, value: Any) -> None:
    if key in _AMOUNTS and not (math.isfinite(value) and value >= 0):
        raise ConfigError(f"bad value for {key}: {value!r} (a finite number, 0 or more: {_AMOUNTS[key]})")


def _coerce_all(values: dict[str, Any]) -> dict[str, Any]:
    """Validate each value with its trait, so every layer is checked the same way."""
    out: dict[str, Any] = {}
    if not values:
        return out
    probe = AgentMagic()
    for key, value in values.items():
        if isinstance(value, str) and isinstance(_traits()[key], List):

            value = split_list(key, value)
        try:
            setattr(probe, key, value)
        except Exception as exc:
            raise ConfigError(f"bad value for {key}: {value!r} ({type(exc).__name__})") from None
        got = getattr(probe, key)
        _check_amount(key, got)
        out[key] = tuple(got) if isinstance(got, list) else got
    return out


# Coerced ambient layers (defaults, pyproject, env, `%config`), keyed by their repr: a cell
# resolves its options several times and these layers rarely change. Flags are coerced each time.
_COERCED: dict[str, dict[str, Any]] = {}


def _coerce_ambient(values: dict[str, Any]) -> dict[str, Any]:
    if not values:
        return {}
    key = repr(sorted(values.items()))
    cached = _COERCED.get(key)
    if cached is None:
        if len(_COERCED) >= 64:
            _COERCED.clear()
        cached = _COERCED[key] = _coerce_all(values)
    return cached


def resolve_options(
    overrides: dict[str, Any] | None = None,
    cfg: AgentMagic | None = None,
    *,
    environ: dict[str, str] | None = None,
    start: Path | None = None,
) -> Options:
    """Merge the layers (see module docstring) into one immutable `Options`."""
    cfg = cfg if cfg is not None else current_config()
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    check_names(overrides, "option")
    defaults = {k: _traits()[k].default() for k in OPTION_NAMES}
    configured = cfg.config.get("AgentMagic", {})
    # `%config` goes through the config object; a plain `cfg.model = ...` only changes the value.
    explicit = {
        k: getattr(cfg, k) for k in OPTION_NAMES if k in configured or getattr(cfg, k) != defaults[k]
    }
    layers = [
        ("default", defaults),
        ("pyproject", pyproject_settings(start)),
        ("env", env_settings(environ)),
        ("%config", explicit),
        ("flag", overrides),
    ]
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source, layer in layers:
        coerced = _coerce_all(layer) if source == "flag" else _coerce_ambient(layer)
        for key, value in coerced.items():
            values[key] = value
            sources[key] = source
    return Options(**values, sources=sources)
