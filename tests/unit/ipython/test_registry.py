"""The `%agent` subcommand table: one handler per name, duplicates refused, every built-in listed."""

from __future__ import annotations

import pytest

from nb_agents.ipython import SUBCOMMANDS, register_subcommand
from nb_agents.ipython.commands import BUILTIN


def _names() -> list[str]:
    return [cmd.name for cmd in BUILTIN]


def test_every_builtin_name_has_exactly_one_handler():
    names = _names()
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    assert {"help", "offline", "status", "sessions", "new", "attach", "interrupt", "wait", "cost", "config",
            "archive", "outputs", "pull", "upload", "budget", "export", "cache", "envs", "agents"} <= set(names)


def test_every_builtin_target_resolves_to_a_function():
    for cmd in BUILTIN:
        assert callable(cmd.func), cmd


def test_cost_is_the_one_that_takes_a_session_name():
    (cost,) = [cmd for cmd in BUILTIN if cmd.name == "cost"]
    assert cost.usage == "%agent cost [NAME]"


def test_a_taken_name_is_refused_unless_replaced():
    def mine(magics, argv):
        return "mine"

    def other(magics, argv):
        return "other"

    try:
        register_subcommand("mine", mine, "%agent mine", "a test command")
        register_subcommand("mine", mine, "%agent mine", "the same handler again is fine")
        with pytest.raises(ValueError, match="already a subcommand"):
            register_subcommand("mine", other, "%agent mine", "another handler")
        assert SUBCOMMANDS["mine"].func is mine
        register_subcommand("mine", other, "%agent mine", "replaced on purpose", replace=True)
        assert SUBCOMMANDS["mine"].func is other
    finally:
        SUBCOMMANDS.pop("mine", None)


def test_a_user_subcommand_runs_from_a_cell_and_help_lists_it(capsys):
    from agent_shell import extension_loaded

    register_subcommand("hello", lambda magics, argv: f"hello {' '.join(argv)}", "%agent hello WHO", "greets")
    try:
        with extension_loaded() as ip:
            assert ip.run_line_magic("agent", "hello world") == "hello world"
            ip.run_line_magic("agent", "help")
            assert "%agent hello WHO" in capsys.readouterr().out
            # loading the extension again registers the built-ins again without complaint
            ip.run_line_magic("reload_ext", "nb_agents")
            assert SUBCOMMANDS["hello"].usage == "%agent hello WHO"
    finally:
        SUBCOMMANDS.pop("hello", None)


def test_agent_question_mark_shows_every_option_and_subcommand():
    from agent_shell import extension_loaded

    from nb_agents.ipython.flags import cell_flags

    with extension_loaded() as ip:
        doc = ip.find_cell_magic("agent").__doc__
        assert doc is ip.find_line_magic("agent").__doc__
    options = {opt for action in cell_flags.parser._actions for opt in action.option_strings if opt.startswith("--")}
    assert len(options) > 40 and all(opt in doc for opt in options)
    assert all(cmd.name in doc for cmd in BUILTIN) and "{{name}}" in doc
