"""`%agent` / `%%agent` lines are split like a shell line: quotes kept together, a trailing
`# comment` dropped (the docs annotate their magic lines that way), a `#` inside a word kept."""

from __future__ import annotations

import pytest

from nb_agents.ipython.flags import split_words


@pytest.mark.parametrize(("line", "words"), [
    ("offline          # only without ANTHROPIC_API_KEY", ["offline"]),
    ("--cache --refresh            # run for real", ["--cache", "--refresh"]),
    ("--title 'a # b' # note", ["--title", "a # b"]),
    ('--title "it\'s # 1"', ["--title", "it's # 1"]),
    ("--repo https://github.com/me/x#main", ["--repo", "https://github.com/me/x#main"]),
    ("# only a comment", []),
    ("", []),
])
def test_split_words(line: str, words: list[str]) -> None:
    assert split_words(line) == words


def test_an_unclosed_quote_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="No closing quotation"):
        split_words("--title 'my title # not a comment")
