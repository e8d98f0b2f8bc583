"""Budgets through the magics (real InteractiveShell, emulator): `%agent budget`, `%agent cost NAME`,
and the budget_reached explanation pointing at `%agent budget`."""

from __future__ import annotations

import pytest

import nb_agents
from nb_agents.errors import ConfigError, SessionError
from nb_agents.tools import CostReport
from nb_agents.view import render_text

SPENDY = [{"say": f"step {n} " * 50} for n in range(4)] + [{"say": "finished"}]


def line(ip, text):
    return ip.run_line_magic("agent", text)


def remote(name="default"):
    s = nb_agents.session(name)
    return s.client.beta.sessions.retrieve(s.session_id)


def test_budget_stop_cost_and_raise(ip, scenario, capsys):
    ip.run_cell_magic("agent", "--max-usd 0.01 -o r", scenario(SPENDY) + "spend")
    run = ip.user_ns["r"]
    assert run.stop_reason in ("budget_reached", "interrupted")
    assert "%agent budget" in render_text(run.transcript)  # the notice says how to continue
    report = line(ip, "cost default")
    assert isinstance(report, CostReport) and report.budget_usd == 0.01 and report.cost_usd >= 0.01
    assert "% spent)" in str(report) and "<table>" in report._repr_mimebundle_()["text/html"]
    assert line(ip, "cost")["total"] == pytest.approx(report.cost_usd)  # no NAME: every session
    capsys.readouterr()
    line(ip, "budget 5")
    out = capsys.readouterr().out.strip()
    assert out.startswith("session 'default' (sesn_") and "budget set to $5.00 (spent $" in out
    assert "\n" not in out
    assert remote().budget.max_list_cost.amount == "500"
    assert nb_agents.session().defaults["max_usd"] == 5.0  # later turns guard at the new cap
    line(ip, "budget default none")
    assert "budget removed" in capsys.readouterr().out and remote().budget is None
    assert nb_agents.session().defaults["max_usd"] == 0.0


def test_budget_mistakes_are_one_line(ip):
    with pytest.raises(ConfigError, match=r"'lots' is not an amount of dollars"):
        line(ip, "budget lots")
    with pytest.raises(ConfigError, match=r"usage: %agent budget \[NAME\] USD\|none"):
        line(ip, "budget")
    with pytest.raises(SessionError, match="no session named 'nope'"):
        line(ip, "budget nope 1")
    nb_agents.session("idle")
    with pytest.raises(SessionError, match="'idle' has not started yet"):
        line(ip, "cost idle")


def test_help_lists_the_new_subcommands(ip, capsys):
    line(ip, "help")
    out = capsys.readouterr().out
    for usage in (
        "%agent outputs [NAME]",
        "%agent pull [NAME]",
        "%agent upload VAR|PATH",
        "%agent budget [NAME]",
        "%agent cost [NAME]",
        "--format",
        "--no-pull",
    ):
        assert usage in out


def test_max_usd_on_a_session_created_without_a_budget_says_so_and_the_next_cell_works(ip, scenario, capsys):
    ip.run_cell_magic("agent", "-s later -o first", "[[emulator: echo]]\nno budget yet")
    assert remote("later").budget is None
    ip.run_cell_magic("agent", "-s later --max-usd 0.01 -o r", scenario(SPENDY) + "spend")
    text = render_text(ip.user_ns["r"].transcript)
    # said before the run: the cap is this kernel's, the API sets a budget only at creation
    assert "this session was created without a budget, so this kernel keeps the cap" in text
    assert "`%%agent --new --max-usd <usd>`" in text
    # the guard tripped (the scenario may end before the interrupt lands) and does not advise
    # `%agent budget`, which cannot work here
    assert "Budget reached: spent $0.02 of $0.01 (this kernel's cap: the session has no budget on the server)" in text
    assert "%agent budget [NAME] <usd>" not in text
    with pytest.raises(ConfigError) as info:
        line(ip, "budget later 5")
    assert str(info.value) == ("session 'later' was created without a budget; the API sets a budget only when "
                               "a session is created: start one with `%%agent --new --max-usd <usd>`")
    assert remote("later").budget is None  # nothing was sent
    ip.run_cell_magic("agent", "-s later -o after", "[[emulator: echo]]\nstill here")
    assert ip.user_ns["after"].text == "still here" and ip.user_ns["after"].session_id == ip.user_ns["first"].session_id
    ip.run_cell_magic("agent", "-s later --new --max-usd 5 -o fresh", "[[emulator: echo]]\nwith a budget")
    assert remote("later").budget.max_list_cost.amount == "500"
    assert "created without a budget" not in render_text(ip.user_ns["fresh"].transcript)
