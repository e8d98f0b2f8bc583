"""Bad input, part 1: mistakes in the magic's line (flags, values, subcommands) and empty cells.

Each is one line (an `NbAgentsError`, which IPython prints without a traceback), asserted verbatim,
and the user's variables are intact afterwards (the `ip` fixture checks a sentinel)."""

from __future__ import annotations

from typing import Any

import pytest
from IPython.core.error import UsageError

from nb_agents.errors import ConfigError, SessionError

from .conftest import one_line


def cell(ip: Any, line: str, body: str = "hi") -> Any:
    return ip.run_cell_magic("agent", line, body)


def test_unknown_flag(ip: Any) -> None:
    with pytest.raises(ConfigError) as info:
        cell(ip, "--bogus")
    # nothing is close (names are compared without their dashes): point at the help instead
    assert str(info.value) == "%%agent: unknown option --bogus (see %agent help for the options)"


def test_flag_typo_suggests_the_flag(ip: Any) -> None:
    with pytest.raises(ConfigError) as info:
        cell(ip, "--sesion x")
    assert str(info.value) == "%%agent: unknown option --sesion (did you mean '--session'?)"


def test_flag_missing_its_value(ip: Any) -> None:
    with pytest.raises(ConfigError) as info:
        cell(ip, "--model")
    assert str(info.value) == "%%agent: argument --model: expected one argument"


def test_bad_flag_value(ip: Any) -> None:
    with pytest.raises(ConfigError) as info:
        cell(ip, "--timeout soon")
    assert str(info.value) == "%%agent: argument --timeout: invalid float value: 'soon'"


def test_unbalanced_quote_in_the_flags(ip: Any) -> None:
    with pytest.raises(ConfigError) as info:
        cell(ip, "--title 'my title")
    assert str(info.value) == "%%agent: No closing quotation"


def test_unbalanced_quote_in_a_subcommand(ip: Any) -> None:
    with pytest.raises(ConfigError) as info:
        ip.run_line_magic("agent", "export 'review.md")
    assert str(info.value) == "%agent: No closing quotation"


def test_a_trailing_comment_is_not_an_argument(ip: Any) -> None:
    dry = cell(ip, "--dry-run --session notes   # only look, send nothing")
    assert dry.session_name == "notes"


def test_unknown_subcommand(ip: Any) -> None:
    with pytest.raises(ConfigError) as info:
        ip.run_line_magic("agent", "bogus")
    assert str(info.value) == "%agent: unknown subcommand 'bogus'; see %agent help"


def test_subcommand_typo_suggests(ip: Any) -> None:
    with pytest.raises(ConfigError) as info:
        ip.run_line_magic("agent", "atach sesn_x")
    assert str(info.value) == "%agent: unknown subcommand 'atach' (did you mean 'attach'?); see %agent help"


def test_subcommand_missing_its_argument(ip: Any) -> None:
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("agent", "attach")
    assert str(info.value) == "the following arguments are required: session_id"


def test_unknown_session_name(ip: Any) -> None:
    with pytest.raises(SessionError) as info:
        ip.run_line_magic("agent", "interrupt nope")
    assert str(info.value) == "no session named 'nope' (sessions: none yet)"


def test_empty_cell(ip: Any) -> None:
    with pytest.raises(ConfigError) as info:
        cell(ip, "", "   \n\t\n")
    assert str(info.value) == "%%agent: the cell is empty: write the prompt below the %%agent line"


def test_bad_config_value_from_the_environment(ip: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NB_AGENTS_TIMEOUT", "soon")
    with pytest.raises(ConfigError) as info:
        cell(ip, "")
    assert str(info.value).startswith("NB_AGENTS_TIMEOUT='soon': ")
    assert "\n" not in str(info.value)


def test_errors_print_one_line_without_traceback_in_a_cell(ip: Any, capsys: Any) -> None:
    out = one_line(ip, "%%agent --sesion x\nhi", capsys)
    assert out == "ConfigError: %%agent: unknown option --sesion (did you mean '--session'?)"


@pytest.mark.parametrize(("line", "message"), [
    ("--out 1x", "--out '1x': not a Python variable name (letters, digits and _, not a keyword)"),
    ("--out class", "--out 'class': not a Python variable name (letters, digits and _, not a keyword)"),
    ("--out my-run", "--out 'my-run': not a Python variable name (letters, digits and _, not a keyword)"),
    ("--session ''", "a session name must be a non-empty string, not ''"),
    ("--session " + "s" * 65, "a session name has at most 64 characters (65 given)"),
    ("--session 'a\tb'", "a session name must be printable: 'a\\tb'"),
])
def test_names_are_checked_before_anything_is_sent_and_the_next_cell_works(ip: Any, emu: Any, line: str,
                                                                           message: str) -> None:
    from nb_agents.sessions import registry

    sessions_before = len(emu.client().beta.sessions.list(limit=100).data)
    with pytest.raises(ConfigError) as info:
        cell(ip, line, "[[emulator: echo]]\nhi")
    assert str(info.value) == message
    assert len(emu.client().beta.sessions.list(limit=100).data) == sessions_before  # nothing was created
    assert "_agent" not in ip.user_ns or ip.user_ns["_agent"] is not None
    cell(ip, "--out good --session fine", "[[emulator: echo]]\nhello")
    assert ip.user_ns["good"].text == "hello" and "fine" in registry()


def test_the_python_api_checks_session_names_too() -> None:
    import nb_agents

    for bad in ("", "x" * 65, "a\nb", None):
        with pytest.raises(ConfigError, match="session name"):
            nb_agents.session(bad)
    assert nb_agents.session("x" * 64).name == "x" * 64


@pytest.mark.parametrize(("value", "shown"), [("-1", "-1.0"), ("nan", "nan"), ("inf", "inf")])
def test_timeout_must_be_a_finite_number_not_below_zero(ip: Any, emu: Any, value: str, shown: str) -> None:
    before = emu.stats["requests"]
    with pytest.raises(ConfigError) as info:
        cell(ip, f"--timeout {value}")
    assert str(info.value) == (f"bad value for timeout: {shown} (a finite number, 0 or more: seconds; 0 = no limit)")
    assert emu.stats["requests"] == before  # refused before anything was created
    # the next cell works as if the refused one never ran
    run = cell(ip, "--out r", "[[emulator: echo]]\nafter")
    assert run is None and ip.user_ns["r"].text == "after"
    assert len(ip.user_ns["r"].events) > 0 and ip.user_ns["_agent"] is ip.user_ns["r"]


def test_dry_run_sets_its_out_variable_and_leaves_the_last_run(ip: Any, emu: Any) -> None:
    cell(ip, "--out first", "[[emulator: echo]]\nfirst")
    before = emu.stats["requests"]
    dry = cell(ip, "--dry-run --out plan", "plan {{answer}}")
    assert ip.user_ns["plan"] is dry and dry.prompt == "plan 42"
    assert emu.stats["requests"] == before
    assert ip.user_ns["_agent"] is ip.user_ns["first"]  # a plan is not a run
    assert cell(ip, "--out second", "[[emulator: echo]]\nsecond") is None
    assert ip.user_ns["second"].text == "second" and ip.user_ns["plan"] is dry
