"""The public surface of `nb_agents` is pinned, and importing/loading it is cheap."""

from __future__ import annotations

import subprocess
import sys

import pytest

import nb_agents

PINNED = [
    "AgentSession",
    "BackgroundRun",
    "DryRun",
    "MapResult",
    "NbAgentsError",
    "Run",
    "__version__",
    "attach",
    "load_ipython_extension",
    "map",
    "memory",
    "offline",
    "replay",
    "runs",
    "session",
    "tool",
    "unload_ipython_extension",
]


def test_all_is_pinned_and_every_name_resolves():
    assert sorted(nb_agents.__all__) == PINNED
    for name in nb_agents.__all__:
        assert getattr(nb_agents, name) is not None
    from nb_agents.run import Run
    from nb_agents.sessions.session import AgentSession

    assert nb_agents.Run is Run and nb_agents.AgentSession is AgentSession


def test_unknown_attribute_is_an_attribute_error():
    try:
        nb_agents.nope  # noqa: B018
    except AttributeError as exc:
        assert "nope" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_load_ext_imports_no_heavy_modules():
    code = (
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "before = set(sys.modules)\n"
        "ip.run_line_magic('load_ext', 'nb_agents')\n"
        "assert 'agent' in ip.magics_manager.magics['cell'] and 'agent' in ip.magics_manager.magics['line']\n"
        "heavy = [m for m in ('anthropic', 'pandas', 'ipywidgets', 'httpx2', 'nb_agents.emulator')\n"
        "         if m in sys.modules and m not in before]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr


def test_session_api_validates_options_early():
    import pytest

    from nb_agents.errors import ConfigError

    with pytest.raises(ConfigError, match="did you mean 'model'"):
        nb_agents.session("api-test", modle="x")


def test_session_function_is_not_shadowed_by_the_submodule():
    import importlib

    importlib.import_module("nb_agents.sessions.session")
    from nb_agents.sessions.session import get_session

    assert callable(nb_agents.session) and nb_agents.session.__module__ == "nb_agents"
    assert get_session is not None


@pytest.mark.parametrize(("old", "name"), [
    ("nb_agents.export", "export"),
    ("nb_agents.budget", "raise_budget"),
    ("nb_agents.budget", "session_cost"),
    ("nb_agents.cassette", "Recorder"),
    ("nb_agents.cache", "RunCache"),
    ("nb_agents.magics", "register_subcommand"),
    ("nb_agents.surface_commands", "list_agents"),
])
def test_the_module_paths_the_docs_once_showed_still_import_with_a_warning(old, name):
    import importlib
    import sys

    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=f"{old} moved: import from nb_agents"):
        module = importlib.import_module(old)
    assert callable(getattr(module, name))
    assert callable(nb_agents.session)  # the old names never shadow the public function


def test_a_plain_cell_loads_neither_local_mode_nor_the_scheduler():
    """A cloud `%%agent` cell imports only what it uses: local mode (the worker, its ledger) and
    the scheduler (cron, zones) load on first use (docs/benchmarks.md, first cell)."""
    code = (
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "ip.run_line_magic('load_ext', 'nb_agents')\n"
        "ip.run_line_magic('agent', 'offline')\n"
        "result = ip.run_cell('%%agent\\nSay hello.')\n"
        "assert result.success, result.error_in_exec\n"
        "print('LOADED', [m for m in ('nb_agents.local', 'nb_agents.local.worker', 'nb_agents.sessions.schedules',\n"
        "                             'nb_agents.ipython.schedule_commands') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "LOADED []" in out.stdout, out.stdout[-2000:] + out.stderr[-2000:]
