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


def test_braces_touching_other_braces_are_not_tokens():
    # f"{{{name}}}" is a literal brace around a value in Python: ours only when it stands apart
    assert text("{{{name}}}") == "{{{name}}}"
    assert text("{{{{{name}}}}}") == "{{{{{name}}}}}"


def test_escapes_only_where_the_token_would_be_replaced():
    assert text("{{{{ nobody }}}}") == "{{{{ nobody }}}}"


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
    ],
)
def test_errors_are_one_line_with_hints(prompt, message):
    with pytest.raises(InterpolationError, match=message) as info:
        text(prompt)
    assert "\n" not in str(info.value)


def test_unknown_name_suggestions_skip_private_names():
    assert text("{{_x}}", {"_y": 1}) == "{{_x}}"  # no public close match: not clearly a reference


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


# -- only references over defined names are replaced; everything else is sent verbatim ----------

@pytest.mark.parametrize(
    "prompt",
    [
        '{"a":{"b":{"c":{"d":1}}}}',
        '{"a": [{"b": {"c": {}}}]}}}}',
        'print(f"{{literal}}")',
        'print(f"{{name}}")',  # defined, but an f-string's braces are Python's
        "print(F'{{{name}}}')",
        "print('{{name}} {x}'.format(x=1))",
        "t = '{{name}}'.format_map(d)",
        "{{ range(3) }} and {{ user | upper }} and {{1 +}} and {{__import__('os')}}",
        "{% for x in y %}{{ x }}{% endfor %}",
        "see{{slaes}}: glued to a word",
        '"{{slaes}}"',
        "{{nobody_close}} stands alone with nothing close",
    ],
)
def test_code_json_and_templates_are_sent_verbatim(prompt):
    assert text(prompt, {**NS, "sales": 1}) == prompt


@pytest.mark.parametrize("prompt", ["use {{slaes}} here", "{{slaes}}", "({{slaes}}).", "x\n{{ slaes.shape }}\n"])
def test_an_undefined_name_standing_alone_with_a_close_match_is_an_error(prompt):
    with pytest.raises(InterpolationError, match=r"name 'slaes' is not defined \(did you mean 'sales'\?\)"):
        text(prompt, {"sales": 1})


def _random_json(rng, depth=0):
    import string

    alphabet = string.ascii_letters + "{}{}{}  :\"'\\$%"
    kind = rng.randrange(6 if depth < 5 else 3)
    if kind == 0:
        return rng.randint(-5, 5)
    if kind == 1:
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(8)))
    if kind == 2:
        return rng.choice([None, True, 1.5])
    if kind in (3, 4):
        return {"".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 5))): _random_json(rng, depth + 1)
                for _ in range(rng.randrange(4))}
    return [_random_json(rng, depth + 1) for _ in range(rng.randrange(4))]


def test_property_json_is_sent_verbatim():
    import json
    import random

    rng = random.Random(1611)
    ns = {"a": 1, "b": 2, "x": 3}  # names that do appear in the generated text
    for _ in range(3000):
        doc = json.dumps(_random_json(rng), separators=rng.choice([(",", ":"), (", ", ": ")]))
        if any(f"{{{{{n}}}}}" in doc for n in ns):  # a string value that really names a variable
            continue
        assert text(doc, ns) == doc


def test_property_f_strings_and_format_strings_are_sent_verbatim():
    import random

    rng = random.Random(1612)
    ns = {"name": "Ada", "x": 1, "rows": [1]}
    pieces = ["{{", "}}", "{name}", "{{name}}", "{{{x}}}", "{rows[0]}", "{{x}}", " ", "a", ":", "{x!r:>4}", "{{ rows }}"]
    for _ in range(3000):
        body = "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 9)))
        for code in (f'print(f"{body}")', f"s = f'{body}'", f"'{body}'.format(name=1, x=2, rows=[3])",
                     f'rf"{body}"', f'msg = "{body}".format_map(d)'):
            assert text(code, ns) == code, code


def test_dry_run_text_is_what_is_sent():
    prompt = 'Fix print(f"{{name}}") and {"a":{"b":{"c":{"d":1}}}} for {{name}}'
    assert text(prompt) == 'Fix print(f"{{name}}") and {"a":{"b":{"c":{"d":1}}}} for Ada'
