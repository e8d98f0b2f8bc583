"""The one secret scrubber: every credential format it knows, and the ordinary text it must keep."""

from __future__ import annotations

import json

import pytest

from nb_agents.scrub import PATTERNS, REDACTED, is_secret_name, scrub, scrub_bytes, scrub_text

# Made-up credentials, one per format (none is real; each only has the right shape).
GITHUB = {
    "ghp": "ghp_" + "A1b2C3d4E5f6G7h8I9j0" + "K1l2M3n4O5p6Q7r8",
    "gho": "gho_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4",
    "ghu": "ghu_" + "abcdefghij0123456789ABCDEFGHIJ0123",
    "ghs": "ghs_" + "0123456789abcdefghijABCDEFGHIJklmn",
    "ghr": "ghr_" + "mnopqrstuv0123456789MNOPQRSTUV9876",
    "github_pat": "github_pat_" + "11AAAAAAA0" + "_" + "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH",
}
SECRETS = {
    "anthropic": "sk-ant-api03-" + "Fake0123456789abcdef",
    "openai_style": "sk-proj-" + "Fake0123456789abcdefGHIJ",
    **GITHUB,
    "aws_akia": "AKIA" + "FAKE0123456789AB",
    "aws_asia": "ASIA" + "FAKE9876543210ZY",
    "slack_bot": "xoxb-" + "123456789012-1234567890123-FakeSlackToken0",
    "slack_user": "xoxp-" + "123456789012-FakeSlackUser0",
    "slack_webhook": "https://hooks.slack.com/services/" + "T00000000/B00000000/FakeWebhook000",
    "stripe": "sk_live_" + "Fake0123456789abcdefGH",
    "google": "AIza" + "SyFake0123456789abcdefghijklmnopqrs",
    "gitlab": "glpat-" + "Fake0123456789abcdefXY",
    "npm": "npm_" + "Fake0123456789abcdefghijklmnopqrstuv",
    "pypi": "pypi-AgE" + "IcHlwaS5vcmcFake0123456789abcdefghijklmnopqrstuvwxyz0123",
    "huggingface": "hf_" + "FakeTokenAbcdefghijklmnopqrstuvwxyz",
}
PEM_BODY = "MIIEowIBAAKCAQEAfakeFAKEfake0123456789\nabcdefghijklmnopqrstuvwxyz0123456789+/==\n"
PEM = f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}-----END RSA PRIVATE KEY-----"
# What a notebook user's text is made of; none of it may change.
ORDINARY = [
    "tokens: 12, Bearer of news",
    "Basic building blocks. Basic functionality is fine.",
    "The secret: is out, and the key: value pairs are sorted",
    "input_tokens=1234 output_tokens: 99 max_tokens=100000000",
    "session sesn_01ABCdef23GHIjk file file_011CNha8iNdK4PTf7pnGwBsX thread sthr_01abc",
    "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "/mnt/session/outputs/report.md and C:\\Users\\me\\tokens.csv and ./secrets_loader.py",
    'api_key=os.environ["ANTHROPIC_API_KEY"]',
    "client = Anthropic(api_key=get_key())",
    "token = self.token; password = config.password",
    "api_key: short",
    "repo_token_env=GITHUB_TOKEN credential_id=vcrd_01emulator",
    "PWD=/work/project HOME=/root PATH=/usr/bin:/bin",
    "http://localhost:8888/lab/tree/x.ipynb and ssh://git@example.com/repo.git",
    "monkey: bananas123 hotkeys=ctrl-alt-delete",
    "A task-oriented, desk-based tasking-framework-2024",
    "AKIA is a prefix; so is ghp_ and xoxb-",
]


@pytest.mark.parametrize("kind", sorted(SECRETS))
def test_each_token_format_is_redacted(kind):
    secret = SECRETS[kind]
    assert scrub_text(f"use {secret} now") == f"use {REDACTED} now"
    assert scrub_text(f'{{"value": "{secret}"}}') == f'{{"value": "{REDACTED}"}}'  # inside JSON text


def test_private_key_block_keeps_its_frame():
    out = scrub_text(f"before\n{PEM}\nafter")
    assert out == f"before\n-----BEGIN RSA PRIVATE KEY-----\n{REDACTED}\n-----END RSA PRIVATE KEY-----\nafter"
    # a block cut short (truncated output) loses its body too
    assert "MIIE" not in scrub_text("-----BEGIN OPENSSH PRIVATE KEY-----\nMIIEabcdef0123\nxyz==")
    # JSON-escaped, as in a stored service-account file: still one valid JSON document
    blob = json.dumps({"pem": PEM, "kept": "yes"})
    assert json.loads(scrub_text(blob)) == {
        "pem": f"-----BEGIN RSA PRIVATE KEY----- {REDACTED} -----END RSA PRIVATE KEY-----", "kept": "yes"}


def test_password_in_url():
    assert scrub_text("git clone https://alice:hunter22pw@example.com/r.git") == \
        f"git clone https://alice:{REDACTED}@example.com/r.git"
    assert scrub_text("postgres://app:S3cr3t!x@db:5432/x") == f"postgres://app:{REDACTED}@db:5432/x"


def test_authorization_and_bearer():
    assert scrub_text("authorization: Bearer abcdefgh123") == f"authorization: Bearer {REDACTED}"
    assert scrub_text("Authorization: Basic dXNlcjpwYXNzd29yZA==") == f"Authorization: Basic {REDACTED}"
    assert scrub_text("-H 'Authorization: token abc123def456' x") == f"-H 'Authorization: token {REDACTED}' x"
    proxy = '{"Proxy-Authorization": "opaque-value-1"}'
    assert scrub_text(proxy) == f'{{"Proxy-Authorization": "{REDACTED}"}}'
    assert scrub_text("sent Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0 ok") == f"sent Bearer {REDACTED} ok"


@pytest.mark.parametrize("text, expected", [
    ("password=hunter22", "password=[REDACTED]"),
    ("DB_PASSWORD=hunter22 python x.py", "DB_PASSWORD=[REDACTED] python x.py"),
    ("passwd: Tr0ub4dor&3", "passwd: [REDACTED]"),
    ('"client_secret": "not so secret at all"', '"client_secret": "[REDACTED]"'),
    ("api_key = 'abcdef'", "api_key = '[REDACTED]'"),
    ("export GITHUB_TOKEN=abcdef0123456789", "export GITHUB_TOKEN=[REDACTED]"),
    ("aws_secret_access_key = wJalrXUtnFEMIxK7MDENGxbPxRfiCYzEXAMPLEKEY",
     "aws_secret_access_key = [REDACTED]"),
    ("AWS_SECRET_ACCESS_KEY: wJalr/XUtnFEMI+K7MDENG", "AWS_SECRET_ACCESS_KEY: [REDACTED]"),
    ("--token=abcd1234efgh --verbose", "--token=[REDACTED] --verbose"),
    ("private_key: MIIEabcdefgh0123", "private_key: [REDACTED]"),
    ("x-api-key:abcdefgh1234", "x-api-key:[REDACTED]"),
    ("http://127.0.0.1:8888/lab?token=abc123def456", "http://127.0.0.1:8888/lab?token=[REDACTED]"),
    ("dbCredentials=abcdef012345", "dbCredentials=[REDACTED]"),
])
def test_secret_named_assignments(text, expected):
    assert scrub_text(text) == expected


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_is_kept(text):
    assert scrub_text(text) == text


def test_environment_values_are_redacted_wherever_they_appear(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "plainkeyvalue123456")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "authtokenvalue98765")
    monkeypatch.setenv("MY_SERVICE_TOKEN", "s3cr3t-value-123")
    monkeypatch.setenv("SSH_KEY_PATH", "/home/me/.ssh/id_ed25519")  # a path is not a secret
    monkeypatch.setenv("SHORT_TOKEN", "abc")  # too short to redact safely
    text = "a plainkeyvalue123456 b authtokenvalue98765 c s3cr3t-value-123 /home/me/.ssh/id_ed25519 abc"
    assert scrub_text(text) == f"a {REDACTED} b {REDACTED} c {REDACTED} /home/me/.ssh/id_ed25519 abc"
    assert scrub_text("x extra-literal-1 y", secrets=["extra-literal-1"]) == f"x {REDACTED} y"


def test_structured_data():
    data = {"input_tokens": 5, "text": "tokens: 12, Bearer of news", "authorization": "", "keys": ["a", "b"],
            "session_id": "sesn_01abc", "sha256": "ab" * 32, "repo_token_env": "GITHUB_TOKEN"}
    assert scrub(data) == data
    assert scrub({"Authorization": "Basic dXNlcjpwYXNzd29yZA=="}) == {"Authorization": REDACTED}
    assert scrub({"headers": {"x-api-key": "k", "clientSecret": "v"}, "l": ("password=hunter22",)}) == {
        "headers": {"x-api-key": REDACTED, "clientSecret": REDACTED}, "l": [f"password={REDACTED}"]}


def test_marker_is_a_parameter():
    assert scrub_text("key sk-ant-api03-abcdefgh", marker="[redacted]") == "key [redacted]"
    assert scrub({"password": "x"}, marker="***") == {"password": "***"}


def test_bytes_text_and_binary():
    text = f"ANTHROPIC_API_KEY={SECRETS['anthropic']}\npassword=hunter22\n".encode()
    assert scrub_bytes(text) == f"ANTHROPIC_API_KEY={REDACTED}\npassword={REDACTED}\n".encode()
    blob = b"\x89PNG\x00\xff" + GITHUB["ghp"].encode() + b"\x00" + PEM.encode() + b"\x00password=hunter22"
    out = scrub_bytes(blob)
    assert GITHUB["ghp"].encode() not in out and b"MIIE" not in out
    assert out.startswith(b"\x89PNG\x00\xff") and out.endswith(b"password=hunter22")  # binary: formats only


def test_secret_names():
    for name in ("password", "DB_PASSWORD", "apiKey", "x-api-key", "aws_secret_access_key", "client_secret",
                 "accessToken", "credentials", "privateKey", "Authorization", "passphrase"):
        assert is_secret_name(name), name
    for name in ("key", "keys", "tokens", "max_tokens", "token_env", "credential_id", "secret_name", "monkey",
                 "author", "passing", "tokenizer", "cache_key", "sort_keys", "PWD"):
        assert not is_secret_name(name), name


def test_every_rule_has_a_case_here():
    covered = {"pem", "url", "authorization", "bearer", "assignment", "sk", "anthropic", "github", "aws",
               "slack", "slack_webhook", "stripe", "google", "gitlab", "npm", "pypi", "huggingface"}
    assert {rule.name for rule in PATTERNS} == covered
    for rule in PATTERNS:  # a rule's needles are what lets a string reach its regex: lower case
        assert rule.needles and all(n == n.lower() for n in rule.needles), rule.name


def test_every_planted_kind_is_redacted_and_the_rest_kept():
    from fake_credentials import ALL_PLANTED, KEEP, leaked

    out = scrub_text(ALL_PLANTED)
    assert not leaked(out) and out.count(KEEP) == 2
    assert not leaked(json.dumps(scrub({"text": ALL_PLANTED, "nested": [ALL_PLANTED]})))


def test_provenance_metadata_is_scrubbed():
    from fake_credentials import PLANTED, leaked

    from nb_agents.provenance import build_provenance

    token = PLANTED["ghp"][0]
    meta = build_provenance(session_id="sesn_01x", input_hashes={f"creds-{token}.txt": "ab" * 32},
                            replayed_from=f"/tmp/{token}/s.jsonl", note=PLANTED["url_password"][0])
    text = json.dumps(meta)
    assert not leaked(text) and "sesn_01x" in text and "ab" * 32 in text
