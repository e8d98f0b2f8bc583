"""{{name}} interpolation: access forms, safety, escapes, errors with suggestions, DataFrames."""

from __future__ import annotations

import pandas as pd
import pytest

from nb_agents.errors import InterpolationError
from nb_agents.sessions.interpolate import collect, interpolate, is_frame


class Box:
    def __init__(self):
        self.inner = {"k": [10, 20, 30]}
        self._secret = "no"

    def method(self):
        raise AssertionError("never called")


NS = {
    "name": "Ada",
    "xs": [1, 2, 3, 4],
    "d": {"k": "v", "other key": 5},
    "box": Box(),
    "df": pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}),
}


def text(prompt, ns=NS):
    return interpolate(prompt, ns).text


@pytest.mark.parametrize(
    "prompt, expected",
    [
        ("hi {{name}}", "hi Ada"),
        ("{{ name }}!", "Ada!"),
        ("{{xs[0]}} {{xs[-1]}} {{xs[1:3]}}", "1 4 [2, 3]"),
        ("{{d['k']}} {{d[\"other key\"]}}", "v 5"),
        ("{{box.inner['k'][2]}}", "30"),
        ("{{df.columns[0]}} {{df.shape}}", "a (2, 2)"),
    ],
)
def test_access_forms(prompt, expected):
    assert text(prompt) == expected


@pytest.mark.parametrize(
    "prompt",
    [
        "def f(x): return {x: 1}",
        "json = {'a': {'b': 1}}",
        "f'{name}' and {name} stay",
        "{{}} is left alone",
        "a { { name } } b",
    ],
)
def test_single_braces_and_code_are_untouched(prompt):
    assert text(prompt) == prompt


def test_escapes_write_literal_double_braces():
    assert text("jinja: {{{{ name }}}} vs {{name}}") == "jinja: {{ name }} vs Ada"


def test_triple_braces_substitute_the_inner_pair():
    assert text("{{{name}}}") == "{Ada}"


@pytest.mark.parametrize(
    "prompt, message",
    [
        ("{{nmae}}", r"name 'nmae' is not defined \(did you mean 'name'\?\)"),
        ("{{box.innr}}", r"Box has no attribute 'innr' \(did you mean 'inner'\?\)"),
        ("{{d['kk']}}", r"\['kk'\] failed \(KeyError\)"),
        ("{{xs[99]}}", r"IndexError"),
        ("{{box.method()}}", "no calls"),
        ("{{box._secret}}", "private attribute"),
        ("{{box.__class__}}", "private attribute"),
        ("{{xs[name]}}", "only literal indexes"),
        ("{{1 +}}", "not a name"),
        ("{{__import__('os')}}", "no calls"),
    ],
)
def test_errors_are_one_line_with_hints(prompt, message):
    with pytest.raises(InterpolationError, match=message) as info:
        text(prompt)
    assert "\n" not in str(info.value)


def test_unknown_name_suggestions_skip_private_names():
    with pytest.raises(InterpolationError) as info:
        text("{{_x}}", {"_y": 1})
    assert "did you mean" not in str(info.value)


def test_dataframes_are_references_not_text():
    result = interpolate("Profile {{df}} and {{df}} then {{name}}", NS)
    assert [r.expr for r in result.refs] == ["df", "name"]
    assert list(result.frames) == ["df"] and result.frames["df"] is NS["df"]
    assert "(DataFrame, 2 rows x 2 columns)" in result.text
    custom = interpolate("see {{df}}", NS, frame_text=lambda ref: f"/mnt/session/uploads/{ref.expr}.parquet")
    assert custom.text == "see /mnt/session/uploads/df.parquet"


def test_is_frame_without_importing():
    assert is_frame(NS["df"]) and is_frame(pd.Series([1])) and not is_frame(NS["xs"])
    assert not is_frame(pd.Index([1]))


def test_collect_resolves_in_order_and_values_are_not_copied():
    refs = collect("{{xs}} {{name}} {{xs}}", NS)
    assert [r.name for r in refs] == ["xs", "name"] and refs[0].value is NS["xs"]


def test_huge_values_are_truncated():
    out = text("{{big}}", {"big": "x" * 50_000})
    assert out.endswith("[truncated, 50000 characters]") and len(out) < 20_100
