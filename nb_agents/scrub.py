"""Secret scrubbing: the one place that decides what looks like a credential.

Everything nb_agents writes for people to share or sends on goes through here: cassettes
(every string, every stored text file), exports (.ipynb/.md/.html), provenance metadata, tool
results and tool errors sent to the API, API error lines and transcript errors/notices.

What is redacted (each row of `PATTERNS`, plus literal values):
- the current values of ANTHROPIC_API_KEY / ANTHROPIC_AUTH_TOKEN, of any environment variable
  whose name has a KEY/TOKEN/SECRET/PASSWORD/PASSWD/CREDENTIAL(S) part, and any `secrets=` given;
- private key PEM blocks (the BEGIN/END lines are kept, the body goes);
- passwords in URLs (`https://user:[REDACTED]@host`);
- `Authorization:` header values (the scheme word is kept) and `Bearer …`/`Basic …` credentials;
- token formats with a recognisable prefix: Anthropic `sk-ant-…` and other `sk-…` keys, GitHub
  (`ghp_ gho_ ghu_ ghs_ ghr_ github_pat_`), AWS access key ids (`AKIA… ASIA…`), Slack (`xox?-…`
  and webhook URLs), Stripe live keys, Google API keys, GitLab, npm, PyPI and Hugging Face tokens;
- `key=value`, `key: value` and `"key": "value"` in text, and the string value of a mapping key,
  when the key names a secret (`is_secret_name`): password, passwd, passphrase, secret, token,
  credential(s), authorization, and api/access/secret/private/client/signing… `key`.

What is kept, on purpose: ordinary words (`Bearer of news`, `tokens: 12`, `basic building`), ids
such as `sesn_…`/`file_…`, sha256 digests, file paths, code that only names a key
(`api_key=os.environ["…"]`, `token = self.token`), names ending in `_id`, `_env`, `_name`, `_file`…,
and values too short (under 8 characters; quoted ones under 6) or all digits.

Why a pattern table and not a detector package: detect-secrets (Apache-2.0, installs here) was
measured on a 2 MB cassette: importing it costs ~130 ms (it pulls in requests and yaml), scanning
takes ~13 s against 0.3-0.4 s here (the same as the narrower scrubber this replaced), it reports
~12,000 high-entropy false positives (ids, hashes), and it finds secrets line by line without
positions (a PEM block is reported by its header line only), so it cannot redact by itself. Its
token formats are the prefixes of the rows below. This module imports in under 1 ms (stdlib only).

A string is scanned once, by one alternation of the rules whose needles it contains. The marker
is `[REDACTED]`; tool results and errors sent to the model use `[redacted]` (`marker=`).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

__all__ = ["PATTERNS", "REDACTED", "Rule", "is_secret_name", "scrub", "scrub_bytes", "scrub_text"]

REDACTED = "[REDACTED]"
_ALWAYS_ENV = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")
_MIN_LITERAL = 8  # shorter values would redact ordinary words; real keys are long
_MIN_MATCH = 8  # no rule matches fewer characters (`x://u:p@` is the shortest)

# -- secret names -----------------------------------------------------------------------------

_SECRET_WORDS = frozenset({
    "password", "passwd", "passphrase", "secret", "secrets", "token", "credential", "credentials",
    "authorization", "apikey", "privatekey", "secretkey", "accesskey",
})
# "<word> key" pairs: `api_key`, `x-api-key`, `aws_secret_access_key`, `privateKey`…
_KEY_QUALIFIERS = frozenset({
    "api", "access", "secret", "private", "client", "signing", "encryption", "master", "auth",
    "app", "consumer", "account", "service", "license",
})
# A name ending in one of these describes a secret without holding it: `token_env`, `credential_id`.
_NOT_A_VALUE = frozenset({
    "env", "name", "names", "id", "ids", "type", "types", "count", "file", "path", "url", "uri", "len",
    "length", "limit", "hint", "field", "prompt", "ttl", "expiry", "expires", "at", "endpoint",
})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NAME_SPLIT = re.compile(r"[^A-Za-z0-9]+")


def is_secret_name(name: str) -> bool:
    """True when a key/variable name says its value is a secret (`DB_PASSWORD`, `apiKey`, `x-api-key`)."""
    parts = [p for p in _NAME_SPLIT.split(_CAMEL.sub("_", str(name)).lower()) if p]
    if not parts or parts[-1] in _NOT_A_VALUE:
        return False
    for i, part in enumerate(parts):
        if part in _SECRET_WORDS:
            return True
        if part == "key" and i > 0 and parts[i - 1] in _KEY_QUALIFIERS:
            return True
    return False


_SECRET_ENV_PARTS = frozenset({
    "KEY", "APIKEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "CREDENTIALS",
})


@functools.lru_cache(maxsize=1024)
def _is_secret_env(name: str) -> bool:
    parts = set(_NAME_SPLIT.split(name.upper()))
    return bool(parts & _SECRET_ENV_PARTS)


# -- the pattern table --------------------------------------------------------------------------
# One Rule per credential format. `needles`: lower-case substrings, one of which every match
# contains; a string holding none of them skips the regex (most strings of a cassette: ids, types,
# prose), which keeps a 2 MB cassette at ~0.3 s. The rules a string may match are joined into one
# alternation (inner group names start with the rule's name), so the earliest match wins and
# `api_key = sk-ant-…` is redacted as an assignment; at the same place, the earlier rule wins.


class Rule(NamedTuple):
    name: str
    needles: tuple[str, ...]
    regex: str
    replace: Callable[[Any, Any], Any] | None  # (match, marker) -> text; None: the marker
    binary: bool = False  # also applied to non-UTF-8 files (formats that cannot occur by chance)


def _pem(m: Any, marker: Any) -> Any:
    """BEGIN line, marker, END line (str or bytes alike). Newlines only if the block had real
    ones: a JSON-escaped key (`\\n` inside a string) must stay one valid string."""
    newline, space = ("\n", " ") if isinstance(marker, str) else (b"\n", b" ")
    sep = newline if newline in m[0] else space
    return m["pem_head"] + sep + marker + (sep + m["pem_end"] if m["pem_end"] else marker[:0])


def _with_space(word: str | None) -> str:
    return f"{word} " if word else ""


_TOKEN = r"[A-Za-z0-9._~+/=\-]"
_VALUE = r"""[^\s"'`,;(){}\[\]<>]"""  # an unquoted value ends at space, quote, bracket or separator
_STEMS = ("pass", "secret", "token", "key", "credential", "authorization")

PATTERNS: tuple[Rule, ...] = (
    Rule("pem", ("-----begin ",),
         r"(?P<pem_head>-----BEGIN (?P<pem_kind>[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)-----)"
         r"(?s:.*?(?P<pem_end>-----END (?P=pem_kind)-----)|[A-Za-z0-9+/=\s:,.\\\-]*)", _pem, True),
    Rule("url", ("://",),
         r"(?P<url_user>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@\"'<>]+:)(?!\[)[^\s/@\"'<>]+@",
         lambda m, r: f"{m['url_user']}{r}@"),
    Rule("authorization", ("authorization",),
         r"(?i:(?P<authorization_name>\b(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)(?!\[redacted\])"
         r"(?:(?P<authorization_scheme>Bearer|Basic|Token|Digest|Bot|Negotiate|NTLM|ApiKey)\s+)?"
         r"(?!\[redacted\])[^\r\n\"'\\]{6,})",
         lambda m, r: m["authorization_name"] + _with_space(m["authorization_scheme"]) + r),
    # a token has a digit or is long: `Basic building blocks` and `Bearer of news` are prose
    Rule("bearer", ("bearer", "basic"),
         rf"(?P<bearer_scheme>\b(?i:Bearer|Basic))\s+"
         rf"(?:(?=[A-Za-z._~+/=\-]*[0-9]){_TOKEN}{{8,}}|{_TOKEN}{{20,}})",
         lambda m, r: f"{m['bearer_scheme']} {r}"),
    Rule("anthropic", ("sk-ant-",), r"\bsk-ant-[A-Za-z0-9_\-]{6,}", None, True),
    Rule("sk", ("sk-",), r"\bsk-[A-Za-z0-9_\-]{16,}", None, True),
    Rule("github", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
         r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})", None, True),
    Rule("aws", ("akia", "asia", "abia", "acca", "a3t"),
         r"\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b", None, True),
    Rule("slack", ("xox",), r"\bxox[abposr]-[A-Za-z0-9\-]{10,}", None, True),
    Rule("slack_webhook", ("hooks.slack.com",),
         r"https://hooks\.slack\.com/services/[A-Za-z0-9_/]+", None, True),
    Rule("stripe", ("_live_",), r"\b[rs]k_live_[A-Za-z0-9]{16,}", None, True),
    Rule("google", ("aiza",), r"\bAIza[0-9A-Za-z_\-]{35}", None, True),
    Rule("gitlab", ("glpat-",), r"\bglpat-[A-Za-z0-9_\-]{20,}", None, True),
    Rule("npm", ("npm_",), r"\bnpm_[A-Za-z0-9]{36}", None, True),
    Rule("pypi", ("pypi-",), r"\bpypi-AgE[A-Za-z0-9_\-]{50,}", None, True),
    Rule("huggingface", ("hf_",), r"\bhf_[A-Za-z]{30,}", None, True),
    # a secret-looking name, `=`/`:` (optionally quoted, as in JSON), then a quoted or token-like
    # value; replaced by `_assignment`, which checks the name and scrubs a kept value again
    Rule("assignment", _STEMS,
         rf"(?P<assignment_name>(?<![\w.])(?<![\w.]-)(?=[A-Za-z_])[\w.\-]*?(?i:{'|'.join(_STEMS)})[\w\-]*)"
         r"(?P<assignment_sep>[\"']?\s*(?::|=(?!=))\s*)"
         r"(?:(?P<assignment_q>[\"'])(?P<assignment_qv>[^\"'\r\n]{6,}?)(?P=assignment_q)"
         rf"|(?P<assignment_v>{_VALUE}{{8,}})(?!{_VALUE})(?![\[(]))", None),
)
_RULES = {rule.name: rule for rule in PATTERNS}
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")  # `os.environ`, `self.token`: code, not a value


def _assignment(m: re.Match[str], marker: str, again: Callable[[str], str]) -> str:
    name, sep = m["assignment_name"], m["assignment_sep"]
    if m["assignment_q"]:
        q, value = m["assignment_q"], m["assignment_qv"]
        return f"{name}{sep}{q}{again(value) if not is_secret_name(name) else marker}{q}"
    value = m["assignment_v"]
    keep = not is_secret_name(name) or _DOTTED.fullmatch(value) or value.isdigit()
    return f"{name}{sep}{again(value) if keep else marker}"


@functools.lru_cache(maxsize=128)
def _alternation(names: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?P<{n}>{_RULES[n].regex})" for n in names))


def _candidates(s: str) -> tuple[str, ...]:
    low = s.lower()
    return tuple(rule.name for rule in PATTERNS if any(n in low for n in rule.needles))


@functools.lru_cache(maxsize=1)
def _binary() -> re.Pattern[bytes]:
    return re.compile("|".join(rule.regex for rule in PATTERNS if rule.binary).encode())


# -- scrubbing ------------------------------------------------------------------------------


def _secret_values(extra: Iterable[str]) -> list[str]:
    values = [os.environ.get(name, "") for name in _ALWAYS_ENV]
    values += [v for k, v in os.environ.items() if _is_secret_env(k) and not v.startswith(("/", "~", "."))]
    values += [str(s) for s in extra]
    return sorted({v for v in values if len(v) >= _MIN_LITERAL}, key=len, reverse=True)


def _text_scrubber(secrets: Iterable[str], marker: str) -> Callable[[str], str]:
    literals = _secret_values(secrets)

    def replace(m: re.Match[str]) -> str:
        rule = _RULES[m.lastgroup or ""]
        if rule.name == "assignment":
            return _assignment(m, marker, patterns)
        return rule.replace(m, marker) if rule.replace else marker

    def patterns(s: str) -> str:
        names = _candidates(s) if len(s) >= _MIN_MATCH else ()
        return _alternation(names).sub(replace, s) if names else s

    def text(s: str) -> str:
        for lit in literals:
            if lit in s:
                s = s.replace(lit, marker)
        return patterns(s)

    return text


def scrub_text(text: str, secrets: Iterable[str] = (), *, marker: str = REDACTED) -> str:
    """`text` with every credential (see the module docstring) replaced by `marker`."""
    return _text_scrubber(secrets, marker)(str(text))


def scrub(value: Any, secrets: Iterable[str] = (), *, marker: str = REDACTED) -> Any:
    """A deep copy of JSON-like data with secrets replaced by `marker`, in strings and as the
    string value of any mapping key that names a secret (`{"api_key": "…"}`)."""
    text = _text_scrubber(secrets, marker)

    def walk(v: Any) -> Any:
        if isinstance(v, str):
            return text(v)
        if isinstance(v, Mapping):
            out = {}
            for k, item in v.items():
                secret_key = isinstance(k, str) and isinstance(item, str) and item and is_secret_name(k)
                out[text(k) if isinstance(k, str) else k] = marker if secret_key else walk(item)
            return out
        if isinstance(v, (list, tuple)):
            return [walk(item) for item in v]
        return v

    return walk(value)


def scrub_bytes(data: bytes, secrets: Iterable[str] = (), *, marker: str = REDACTED) -> bytes:
    """A file's bytes with secrets redacted: UTF-8 text as `scrub_text`; binary files (images,
    parquet) only the literal values and the prefixed token formats, which cannot occur by chance."""
    try:
        return scrub_text(data.decode("utf-8"), secrets, marker=marker).encode("utf-8")
    except UnicodeDecodeError:
        pass
    mark = marker.encode()
    for lit in _secret_values(secrets):
        data = data.replace(lit.encode("utf-8"), mark)
    return _binary().sub(lambda m: _binary_repl(m, mark), data)


def _binary_repl(m: re.Match[bytes], mark: bytes) -> bytes:
    return _pem(m, mark) if m["pem_head"] else mark
