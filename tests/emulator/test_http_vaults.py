"""Vaults and their credentials through the real SDK: every method, the three auth kinds,
`mcp_oauth_validate`, errors, pagination, and secrets that never come back (responses, error
messages, events, the server's records and log)."""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import anthropic
import httpx2
import pytest
from anthropic.types.beta import BetaManagedAgentsDeletedVault, BetaManagedAgentsVault
from anthropic.types.beta.vaults import (
    BetaManagedAgentsCredential,
    BetaManagedAgentsCredentialValidation,
    BetaManagedAgentsDeletedCredential,
)
from resource_kit import api_error, body, events, page, text_event, wait_idle

pytestmark = pytest.mark.timeout(60)

SECRETS = ["sk-STATIC-secret-1", "oauth-ACCESS-secret-2", "oauth-REFRESH-secret-3", "CLIENT-secret-4",
           "ENV-secret-value-5", "ROTATED-secret-6", "ROTATED-client-7", "ROTATED-env-8"]


def _future(seconds: float = 3600) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).isoformat()


@pytest.fixture
def vault_id(client: Any) -> str:
    return client.beta.vaults.create(display_name="creds").id


def test_vault_lifecycle(client: Any) -> None:
    vaults = client.beta.vaults.with_raw_response
    created = body(vaults.create(display_name="Team", metadata={"owner": "a"}), BetaManagedAgentsVault)
    vid = created["id"]
    assert vid.startswith("vlt_") and created["archived_at"] is None
    assert body(vaults.retrieve(vid), BetaManagedAgentsVault) == created
    updated = body(vaults.update(vid, display_name="Team 2", metadata={"owner": None, "k": "v"}),
                   BetaManagedAgentsVault)
    assert (updated["display_name"], updated["metadata"]) == ("Team 2", {"k": "v"})
    more = [client.beta.vaults.create(display_name=f"v{i}").id for i in range(2)]
    first = page(vaults.list(limit=1), BetaManagedAgentsVault)
    assert first["data"][0]["id"] == more[-1] and first["next_page"]
    assert {v.id for v in client.beta.vaults.list(limit=1)} >= {vid, *more}
    archived = body(vaults.archive(vid), BetaManagedAgentsVault)
    assert archived["archived_at"] and body(vaults.archive(vid), BetaManagedAgentsVault) == archived
    assert vid not in {v.id for v in client.beta.vaults.list()}
    assert vid in {v.id for v in client.beta.vaults.list(include_archived=True)}
    with pytest.raises(anthropic.BadRequestError):
        client.beta.vaults.update(vid, display_name="x")
    assert body(vaults.delete(vid), BetaManagedAgentsDeletedVault) == {"id": vid, "type": "vault_deleted"}
    with pytest.raises(anthropic.NotFoundError) as nf:
        client.beta.vaults.retrieve(vid)
    api_error(nf.value, 404, "not_found_error")
    for kwargs in ({"display_name": ""}, {"display_name": "x" * 256}, {"display_name": "a", "extra_body": {"x": 1}}):
        with pytest.raises(anthropic.BadRequestError) as bad:
            client.beta.vaults.create(**kwargs)
        api_error(bad.value, 400, "invalid_request_error")


def test_credentials_of_every_kind(client: Any, vault_id: str) -> None:
    creds = client.beta.vaults.credentials.with_raw_response
    bearer = body(creds.create(vault_id, display_name="docs", metadata={"a": "b"}, auth={
        "type": "static_bearer", "mcp_server_url": "https://docs.test/mcp", "token": SECRETS[0]}),
        BetaManagedAgentsCredential)
    assert bearer["id"].startswith("vcrd_") and bearer["vault_id"] == vault_id
    assert bearer["auth"] == {"type": "static_bearer", "mcp_server_url": "https://docs.test/mcp"}
    oauth = body(creds.create(vault_id, auth={
        "type": "mcp_oauth", "mcp_server_url": "https://tickets.test/mcp", "access_token": SECRETS[1],
        "expires_at": _future(), "refresh": {
            "client_id": "cid", "refresh_token": SECRETS[2], "token_endpoint": "https://auth.test/token",
            "token_endpoint_auth": {"type": "client_secret_post", "client_secret": SECRETS[3]}, "scope": "read"}}),
        BetaManagedAgentsCredential)
    assert oauth["display_name"] is None
    assert oauth["auth"]["refresh"] == {"client_id": "cid", "token_endpoint": "https://auth.test/token",
                                        "token_endpoint_auth": {"type": "client_secret_post"},
                                        "resource": None, "scope": "read"}
    env = body(creds.create(vault_id, auth={
        "type": "environment_variable", "secret_name": "GITHUB_TOKEN", "secret_value": SECRETS[4],
        "networking": {"type": "limited", "allowed_hosts": ["api.github.com", "*.githubusercontent.com", "192.0.2.1"]}}),
        BetaManagedAgentsCredential)
    assert env["auth"]["injection_location"] == {"body": False, "header": True}
    assert body(creds.retrieve(env["id"], vault_id=vault_id), BetaManagedAgentsCredential) == env

    # updates: rotate secrets, patch the rest; the type cannot change
    rotated = body(creds.update(bearer["id"], vault_id=vault_id, auth={"type": "static_bearer", "token": SECRETS[5]},
                                display_name="docs 2", metadata={"a": None}), BetaManagedAgentsCredential)
    assert rotated["auth"] == bearer["auth"] and rotated["metadata"] == {} and rotated["display_name"] == "docs 2"
    later = _future(7200)
    updated = body(creds.update(oauth["id"], vault_id=vault_id, auth={
        "type": "mcp_oauth", "expires_at": later, "refresh": {
            "scope": "", "token_endpoint_auth": {"type": "client_secret_basic", "client_secret": SECRETS[6]}}}),
        BetaManagedAgentsCredential)
    assert updated["auth"]["refresh"]["scope"] is None
    assert updated["auth"]["refresh"]["token_endpoint_auth"] == {"type": "client_secret_post"}  # keeps its type
    env2 = body(creds.update(env["id"], vault_id=vault_id, auth={
        "type": "environment_variable", "secret_value": SECRETS[7], "injection_location": {"body": True},
        "networking": {"type": "unrestricted"}}), BetaManagedAgentsCredential)
    assert env2["auth"]["injection_location"] == {"body": True, "header": True}
    assert env2["auth"]["networking"] == {"type": "unrestricted"}
    with pytest.raises(anthropic.BadRequestError) as kind:
        client.beta.vaults.credentials.update(bearer["id"], vault_id=vault_id, auth={"type": "mcp_oauth"})
    api_error(kind.value, 400)
    with pytest.raises(anthropic.BadRequestError):
        client.beta.vaults.credentials.update(env["id"], vault_id=vault_id, auth={
            "type": "environment_variable", "injection_location": {"body": False, "header": False}})

    # list, archive, delete
    listed = page(creds.list(vault_id, limit=2), BetaManagedAgentsCredential)
    assert [c["id"] for c in listed["data"]] == [env["id"], oauth["id"]] and listed["next_page"]
    assert [c.id for c in client.beta.vaults.credentials.list(vault_id, limit=1)] == [env["id"], oauth["id"],
                                                                                   bearer["id"]]
    archived = body(creds.archive(bearer["id"], vault_id=vault_id), BetaManagedAgentsCredential)
    assert archived["archived_at"]
    assert bearer["id"] not in {c.id for c in client.beta.vaults.credentials.list(vault_id)}
    assert bearer["id"] in {c.id for c in client.beta.vaults.credentials.list(vault_id, include_archived=True)}
    with pytest.raises(anthropic.BadRequestError):
        client.beta.vaults.credentials.update(bearer["id"], vault_id=vault_id, display_name="x")
    deleted = body(creds.delete(bearer["id"], vault_id=vault_id), BetaManagedAgentsDeletedCredential)
    assert deleted == {"id": bearer["id"], "type": "vault_credential_deleted"}
    with pytest.raises(anthropic.NotFoundError) as nf:
        client.beta.vaults.credentials.retrieve(bearer["id"], vault_id=vault_id)
    api_error(nf.value, 404, "not_found_error")


def test_credential_errors(client: Any, vault_id: str) -> None:
    creds = client.beta.vaults.credentials
    creds.create(vault_id, auth={"type": "static_bearer", "mcp_server_url": "https://a.test/mcp", "token": "t"})
    with pytest.raises(anthropic.ConflictError) as dup:
        creds.create(vault_id, auth={"type": "mcp_oauth", "mcp_server_url": "https://a.test/mcp", "access_token": "t"})
    api_error(dup.value, 409)
    bad = [
        {"type": "static_bearer", "mcp_server_url": "not a url", "token": "t"},
        {"type": "mcp_oauth", "mcp_server_url": "https://b.test", "access_token": "t",
         "expires_at": "2001-01-01T00:00:00Z"},
        {"type": "environment_variable", "secret_name": "1BAD", "secret_value": "v",
         "networking": {"type": "unrestricted"}},
        {"type": "environment_variable", "secret_name": "OK", "secret_value": "v",
         "networking": {"type": "limited", "allowed_hosts": ["https://x.org/path"]}},
        {"type": "environment_variable", "secret_name": "OK", "secret_value": "v",
         "networking": {"type": "limited", "allowed_hosts": ["::1"]}},
        {"type": "environment_variable", "secret_name": "OK", "secret_value": "v",
         "networking": {"type": "unrestricted"}, "injection_location": {"body": False, "header": False}},
        {"type": "oauth", "token": "t"},
    ]
    for auth in bad:
        with pytest.raises(anthropic.BadRequestError) as exc:
            creds.create(vault_id, auth=auth)
        api_error(exc.value, 400, "invalid_request_error")
    with pytest.raises(anthropic.NotFoundError):
        creds.create("vlt_missing", auth={"type": "static_bearer", "mcp_server_url": "https://a.test", "token": "t"})
    client.beta.vaults.archive(vault_id)
    with pytest.raises(anthropic.BadRequestError):
        creds.create(vault_id, auth={"type": "static_bearer", "mcp_server_url": "https://c.test", "token": "t"})


def test_mcp_oauth_validate(client: Any, vault_id: str) -> None:
    creds = client.beta.vaults.credentials

    def validate(cred_id: str) -> dict[str, Any]:
        return body(creds.with_raw_response.mcp_oauth_validate(cred_id, vault_id=vault_id),
                    BetaManagedAgentsCredentialValidation)

    live = creds.create(vault_id, auth={"type": "mcp_oauth", "mcp_server_url": "https://ok.test/mcp",
                                        "access_token": "a", "expires_at": _future()})
    result = validate(live.id)
    assert (result["status"], result["mcp_probe"], result["refresh"], result["has_refresh_token"]) == (
        "valid", None, None, False)
    assert result["credential_id"] == live.id and result["vault_id"] == vault_id
    offline = creds.create(vault_id, auth={"type": "mcp_oauth", "mcp_server_url": "https://mcp.example.com/sse",
                                           "access_token": "a"})
    result = validate(offline.id)
    assert result["status"] == "unknown" and result["mcp_probe"] == {"method": "initialize", "http_response": None}
    expiring = creds.create(vault_id, auth={"type": "mcp_oauth", "mcp_server_url": "https://late.test/mcp",
                                            "access_token": "a", "expires_at": _future(0.6)})
    refreshing = creds.create(vault_id, auth={
        "type": "mcp_oauth", "mcp_server_url": "https://refresh.test/mcp", "access_token": "a",
        "expires_at": _future(0.6), "refresh": {"client_id": "c", "refresh_token": "r",
                                                "token_endpoint": "https://auth.test/token",
                                                "token_endpoint_auth": {"type": "none"}}})
    time.sleep(0.8)
    expired = validate(expiring.id)
    assert expired["status"] == "invalid" and expired["refresh"]["status"] == "no_refresh_token"
    assert expired["mcp_probe"]["http_response"]["status_code"] == 401
    refreshed = validate(refreshing.id)
    assert (refreshed["status"], refreshed["refresh"]["status"], refreshed["has_refresh_token"]) == (
        "unknown", "succeeded", True)
    bearer = creds.create(vault_id, auth={"type": "static_bearer", "mcp_server_url": "https://s.test", "token": "t"})
    with pytest.raises(anthropic.BadRequestError):
        creds.mcp_oauth_validate(bearer.id, vault_id=vault_id)


def test_sessions_check_their_vaults(client: Any) -> None:
    agent = client.beta.agents.create(name="vault-agent", model="claude-sonnet-4-6")
    env = client.beta.environments.create(name="vault-env")
    live, archived, deleted = (client.beta.vaults.create(display_name=n).id for n in ("l", "a", "d"))
    client.beta.vaults.archive(archived)
    client.beta.vaults.delete(deleted)
    session = client.beta.sessions.create(agent=agent.id, environment_id=env.id, vault_ids=[live])
    assert session.vault_ids == [live]
    with pytest.raises(anthropic.NotFoundError) as unseen:  # an id the service never made
        client.beta.sessions.create(agent=agent.id, environment_id=env.id, vault_ids=[live, "vlt_01unseen"])
    assert api_error(unseen.value, 404, "not_found_error")["message"] == "vault_ids.1: Vault vlt_01unseen not found"
    with pytest.raises(anthropic.BadRequestError):
        client.beta.sessions.create(agent=agent.id, environment_id=env.id, vault_ids=[archived])
    with pytest.raises(anthropic.NotFoundError):
        client.beta.sessions.create(agent=agent.id, environment_id=env.id, vault_ids=[deleted])


def test_secrets_never_come_back(emulator: Any, caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []

    def record(response: httpx2.Response) -> None:
        response.read()
        seen.append(response.text)

    for name in ("nb_agents", "uvicorn", "starlette"):  # the server's loggers (the SDK logs its own requests)
        caplog.set_level(logging.DEBUG, logger=name)
    http = httpx2.Client(event_hooks={"response": [record]})
    client = emulator.client(max_retries=0, http_client=http)
    vault = client.beta.vaults.create(display_name="secret-test")
    creds = client.beta.vaults.credentials
    bearer = creds.create(vault.id, auth={"type": "static_bearer", "mcp_server_url": "https://x.test/m",
                                          "token": SECRETS[0]})
    oauth = creds.create(vault.id, auth={
        "type": "mcp_oauth", "mcp_server_url": "https://y.test/m", "access_token": SECRETS[1], "refresh": {
            "client_id": "c", "refresh_token": SECRETS[2], "token_endpoint": "https://auth.test/t",
            "token_endpoint_auth": {"type": "client_secret_basic", "client_secret": SECRETS[3]}}})
    env = creds.create(vault.id, auth={"type": "environment_variable", "secret_name": "API_KEY",
                                       "secret_value": SECRETS[4], "networking": {"type": "unrestricted"}})
    creds.update(bearer.id, vault_id=vault.id, auth={"type": "static_bearer", "token": SECRETS[5]})
    creds.update(oauth.id, vault_id=vault.id, auth={"type": "mcp_oauth", "refresh": {
        "refresh_token": SECRETS[6], "token_endpoint_auth": {"type": "client_secret_basic"}}})
    creds.update(env.id, vault_id=vault.id, auth={"type": "environment_variable", "secret_value": SECRETS[7]})
    creds.retrieve(oauth.id, vault_id=vault.id)
    list(creds.list(vault.id))
    creds.mcp_oauth_validate(oauth.id, vault_id=vault.id)
    # malformed bodies: the validation message must not quote the secret
    for auth in ({"type": "static_bearer", "token": SECRETS[0], "mcp_server_url": 5},
                 {"type": "static_bearer", "token": SECRETS[0], "mcp_server_url": "https://z.test", "bogus": 1},
                 {"type": "nope", "token": SECRETS[0]},
                 {"type": "mcp_oauth", "mcp_server_url": "https://w.test", "access_token": SECRETS[1],
                  "refresh": {"client_id": "c", "refresh_token": SECRETS[2], "token_endpoint": "https://a.test",
                              "token_endpoint_auth": {"type": "client_secret_jwt", "client_secret": SECRETS[3]}}}):
        with pytest.raises(anthropic.BadRequestError):
            creds.create(vault.id, auth=auth)
    # a session using the vault: nothing in its events either
    agent = client.beta.agents.create(name="secret-agent", model="claude-sonnet-4-6", metadata={"emulator_brain": "echo"})
    environment = client.beta.environments.create(name="secret-env")
    session = client.beta.sessions.create(agent=agent.id, environment_id=environment.id, vault_ids=[vault.id],
                                          initial_events=[text_event("hello")])
    wait_idle(client, session.id)
    seen.append(json.dumps([e.model_dump(mode="json") for e in events(client, session.id)]))
    http.close()

    records = json.dumps([emulator.store.vaults, emulator.store.credentials, dict(emulator.store.stats)],
                         default=str)
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records
                       if r.name.startswith(("nb_agents", "uvicorn", "starlette")))
    assert len(seen) > 15
    for secret in SECRETS:
        for text in (*seen, records, logged):
            assert secret not in text
    # ... but the emulator did keep them (write-only, not dropped)
    assert emulator.store.secrets[bearer.id] == {"token": SECRETS[5]}
    assert emulator.store.secrets[oauth.id] == {"access_token": SECRETS[1], "refresh_token": SECRETS[6],
                                                "client_secret": SECRETS[3]}
    assert emulator.store.secrets[env.id] == {"secret_value": SECRETS[7]}
