"""Vault endpoints: vaults (create, retrieve, update, list, delete, archive) and their credentials
(create, retrieve, update, list, delete, archive, `mcp_oauth_validate`) for static bearer
tokens, MCP OAuth tokens and environment variables.

Secrets (`token`, `access_token`, `refresh_token`, `client_secret`, `secret_value`) are
write-only: they are kept in `store.secrets`, apart from the wire objects, and never appear in a
response, an error message (bodies are validated with the secrets masked), an event or a log.
Offline, `mcp_oauth_validate` can only reach MCP servers and token endpoints whose host ends in
`.test`, as for MCP servers in sessions.
"""

from __future__ import annotations

import copy
import ipaddress
import re
from typing import Any
from urllib.parse import urlparse

from anthropic.types.beta import vault_create_params, vault_update_params
from anthropic.types.beta.vaults import credential_create_params, credential_update_params
from starlette.requests import Request
from starlette.responses import JSONResponse

from .api_common import (
    apply_update,
    list_archivable,
    list_response,
    ok,
    q_bool,
    read_json,
    require_beta,
    store_of,
)
from .common import ApiError, iso, new_id, now, now_iso, parse_iso
from .resolve import check_metadata
from .store import Store
from .validation import validate_body

__all__ = ["ROUTES", "SECRET_KEYS"]

BETA = "managed-agents-2026-04-01"
SECRET_KEYS = frozenset({"token", "access_token", "refresh_token", "client_secret", "secret_value"})
MAX_CREDENTIALS = 20
_HOST = re.compile(r"^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _masked(value: Any, key: str | None = None) -> Any:
    if key in SECRET_KEYS and isinstance(value, str):
        return "***"
    if isinstance(value, dict):
        return {k: _masked(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


async def _read(request: Request, params: Any, path_keys: tuple[str, ...] = ()) -> dict[str, Any]:
    """The body, validated with its secrets masked, so no error message can quote one."""
    require_beta(request, BETA)
    body = await read_json(request)
    validate_body(params, _masked(body), path_keys=path_keys)
    return body


def _name(value: str | None, field: str, *, required: bool) -> None:
    if value is None:
        return
    if (required and not value.strip()) or len(value) > 255:
        raise ApiError(400, f"{field}: must be 1 to 255 characters")


# -- vaults -----------------------------------------------------------------------------------
def _vault(store: Store, vault_id: str) -> dict[str, Any]:
    with store.lock:
        vault = store.vaults.get(vault_id)
    if vault is None:
        raise ApiError(404, f"Vault {vault_id} not found")
    return vault


async def create_vault(request: Request) -> JSONResponse:
    body = await _read(request, vault_create_params.VaultCreateParams)
    _name(body["display_name"], "display_name", required=True)
    check_metadata(body.get("metadata") or {})
    stamp = now_iso()
    vault = {"type": "vault", "id": new_id("vlt"), "display_name": body["display_name"],
             "metadata": dict(body.get("metadata") or {}), "created_at": stamp, "updated_at": stamp,
             "archived_at": None}
    store = store_of(request)
    with store.lock:
        store.vaults[vault["id"]] = vault
    store.bump("vaults_created")
    return ok(vault)


async def retrieve_vault(request: Request) -> JSONResponse:
    require_beta(request, BETA)
    return ok(_vault(store_of(request), request.path_params["vault_id"]))


async def update_vault(request: Request) -> JSONResponse:
    body = await _read(request, vault_update_params.VaultUpdateParams)
    store = store_of(request)
    with store.lock:
        vault = _vault(store, request.path_params["vault_id"])
        if vault.get("archived_at"):
            raise ApiError(400, f"Vault {vault['id']} is archived and cannot be updated")
        _name(body.get("display_name"), "display_name", required=True)
        changed = dict(vault)
        if body.get("display_name") is not None:
            changed["display_name"] = body["display_name"]
        apply_update(vault, changed, body.get("metadata"))
    return ok(vault)


async def list_vaults(request: Request) -> JSONResponse:
    require_beta(request, BETA)
    store = store_of(request)
    return list_archivable(request, store.lock, store.vaults.values(), kind="vaults", dated=False)


async def delete_vault(request: Request) -> JSONResponse:
    require_beta(request, BETA)
    store = store_of(request)
    with store.lock:
        vault = _vault(store, request.path_params["vault_id"])
        del store.vaults[vault["id"]]
        for cred_id in [c["id"] for c in store.credentials.values() if c["vault_id"] == vault["id"]]:
            del store.credentials[cred_id]
            store.secrets.pop(cred_id, None)
        store.deleted_ids.add(vault["id"])
    return ok({"id": vault["id"], "type": "vault_deleted"})


async def archive_vault(request: Request) -> JSONResponse:
    require_beta(request, BETA)
    store = store_of(request)
    with store.lock:
        vault = _vault(store, request.path_params["vault_id"])
        if not vault.get("archived_at"):
            vault["archived_at"] = vault["updated_at"] = now_iso()
    return ok(vault)


# -- credentials: the auth shapes ---------------------------------------------------------------
def _url(value: str, field: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ApiError(400, f"{field}: must be an http(s) URL")
    return value


def _future(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    try:
        when = parse_iso(value)
    except ValueError:
        raise ApiError(400, f"{field}: expected an RFC 3339 timestamp") from None
    if when <= now():
        raise ApiError(400, f"{field}: must be in the future")
    return iso(when)


def _networking(value: dict[str, Any], field: str) -> dict[str, Any]:
    if value["type"] == "unrestricted":
        return {"type": "unrestricted"}
    hosts = list(value["allowed_hosts"])
    if not 1 <= len(hosts) <= 16:
        raise ApiError(400, f"{field}.allowed_hosts: must have 1 to 16 entries")
    for i, host in enumerate(hosts):
        if not _is_host(host):
            raise ApiError(400, f"{field}.allowed_hosts.{i}: must be a bare hostname, an IPv4 address or a "
                                "'*.' wildcard (no URL, port, path or IPv6 address)")
    return {"type": "limited", "allowed_hosts": hosts}


def _is_host(host: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(host), ipaddress.IPv4Address)
    except ValueError:
        return bool(_HOST.match(host)) and len(host) <= 253


def _token_auth_public(auth: dict[str, Any]) -> dict[str, Any]:
    return {"type": auth["type"]}


def _new_auth(auth: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the wire `auth`, its secrets) for a create body's `auth`."""
    kind = auth["type"]
    if kind == "static_bearer":
        if not auth["token"]:
            raise ApiError(400, "auth.token: must not be empty")
        return ({"type": kind, "mcp_server_url": _url(auth["mcp_server_url"], "auth.mcp_server_url")},
                {"token": auth["token"]})
    if kind == "mcp_oauth":
        if not auth["access_token"]:
            raise ApiError(400, "auth.access_token: must not be empty")
        secrets: dict[str, Any] = {"access_token": auth["access_token"]}
        public = {"type": kind, "mcp_server_url": _url(auth["mcp_server_url"], "auth.mcp_server_url"),
                  "expires_at": _future(auth.get("expires_at"), "auth.expires_at"), "refresh": None}
        refresh = auth.get("refresh")
        if refresh is not None:
            endpoint_auth = refresh["token_endpoint_auth"]
            public["refresh"] = {"client_id": refresh["client_id"],
                                 "token_endpoint": _url(refresh["token_endpoint"], "auth.refresh.token_endpoint"),
                                 "token_endpoint_auth": _token_auth_public(endpoint_auth),
                                 "resource": refresh.get("resource"), "scope": refresh.get("scope")}
            secrets["refresh_token"] = refresh["refresh_token"]
            if "client_secret" in endpoint_auth:
                secrets["client_secret"] = endpoint_auth["client_secret"]
        return public, secrets
    # environment_variable
    if not _ENV_NAME.match(auth["secret_name"]) or len(auth["secret_name"]) > 255:
        raise ApiError(400, "auth.secret_name: must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)")
    location = {"body": False, "header": True, **(auth.get("injection_location") or {})}
    if not (location["body"] or location["header"]):
        raise ApiError(400, "auth.injection_location: at least one of body and header must be enabled")
    return ({"type": kind, "secret_name": auth["secret_name"],
             "networking": _networking(auth["networking"], "auth.networking"),
             "injection_location": {"body": location["body"], "header": location["header"]}},
            {"secret_value": auth["secret_value"]})


def _changed_auth(current: dict[str, Any], secrets: dict[str, Any], patch: dict[str, Any]) -> None:
    """Apply an update body's `auth` to the wire auth and secrets, in place."""
    if patch["type"] != current["type"]:
        raise ApiError(400, f"auth.type: a {current['type']} credential cannot become {patch['type']}")
    if patch["type"] == "static_bearer":
        if patch.get("token") is not None:
            secrets["token"] = patch["token"]
    elif patch["type"] == "mcp_oauth":
        if patch.get("access_token") is not None:
            secrets["access_token"] = patch["access_token"]
        if "expires_at" in patch:
            current["expires_at"] = _future(patch["expires_at"], "auth.expires_at")
        if "refresh" in patch:
            _changed_refresh(current, secrets, patch["refresh"])
    else:
        if patch.get("secret_value") is not None:
            secrets["secret_value"] = patch["secret_value"]
        if patch.get("networking") is not None:
            current["networking"] = _networking(patch["networking"], "auth.networking")
        if patch.get("injection_location") is not None:
            location = {**current["injection_location"], **patch["injection_location"]}
            if not (location["body"] or location["header"]):
                raise ApiError(400, "auth.injection_location: at least one of body and header must be enabled")
            current["injection_location"] = location


def _changed_refresh(current: dict[str, Any], secrets: dict[str, Any], patch: dict[str, Any] | None) -> None:
    if patch is None:
        current["refresh"] = None
        secrets.pop("refresh_token", None)
        secrets.pop("client_secret", None)
        return
    refresh = current.get("refresh")
    if refresh is None:
        raise ApiError(400, "auth.refresh: the credential has no refresh configuration to update")
    if patch.get("refresh_token") is not None:
        secrets["refresh_token"] = patch["refresh_token"]
    if patch.get("scope") is not None:
        refresh["scope"] = patch["scope"] or None
    endpoint_auth = patch.get("token_endpoint_auth")
    if endpoint_auth is not None:
        if refresh["token_endpoint_auth"]["type"] not in ("client_secret_basic", "client_secret_post"):
            raise ApiError(400, "auth.refresh.token_endpoint_auth: the credential's token endpoint takes no "
                                "client secret")
        if endpoint_auth.get("client_secret") is not None:
            secrets["client_secret"] = endpoint_auth["client_secret"]


# -- credentials: the endpoints -----------------------------------------------------------------
def _credential(store: Store, vault_id: str, cred_id: str) -> dict[str, Any]:
    _vault(store, vault_id)
    with store.lock:
        cred = store.credentials.get(cred_id)
    if cred is None or cred["vault_id"] != vault_id:
        raise ApiError(404, f"Credential {cred_id} not found in vault {vault_id}")
    return cred


def _check_unique(store: Store, vault_id: str, auth: dict[str, Any], own_id: str | None = None) -> None:
    key = "secret_name" if auth["type"] == "environment_variable" else "mcp_server_url"
    live = [c for c in store.credentials.values()
            if c["vault_id"] == vault_id and not c.get("archived_at") and c["id"] != own_id]
    if len(live) >= MAX_CREDENTIALS and own_id is None:
        raise ApiError(400, f"Vault {vault_id} already holds {MAX_CREDENTIALS} credentials")
    for cred in live:
        if cred["auth"].get(key) == auth[key]:
            raise ApiError(409, f"Vault {vault_id} already has a credential for {key} {auth[key]!r} ({cred['id']})",
                           error_type="invalid_request_error")


async def create_credential(request: Request) -> JSONResponse:
    body = await _read(request, credential_create_params.CredentialCreateParams)
    store = store_of(request)
    vault_id = request.path_params["vault_id"]
    _name(body.get("display_name"), "display_name", required=False)
    check_metadata(body.get("metadata") or {})
    public, secrets = _new_auth(body["auth"])
    stamp = now_iso()
    with store.lock:
        vault = _vault(store, vault_id)
        if vault.get("archived_at"):
            raise ApiError(400, f"Vault {vault_id} is archived")
        _check_unique(store, vault_id, public)
        cred = {"type": "vault_credential", "id": new_id("vcrd"), "vault_id": vault_id, "auth": public,
                "display_name": body.get("display_name"), "metadata": dict(body.get("metadata") or {}),
                "created_at": stamp, "updated_at": stamp, "archived_at": None}
        store.credentials[cred["id"]] = cred
        store.secrets[cred["id"]] = secrets
    store.bump("credentials_created")
    return ok(cred)


async def retrieve_credential(request: Request) -> JSONResponse:
    require_beta(request, BETA)
    p = request.path_params
    return ok(_credential(store_of(request), p["vault_id"], p["credential_id"]))


async def update_credential(request: Request) -> JSONResponse:
    body = await _read(request, credential_update_params.CredentialUpdateParams, path_keys=("vault_id",))
    store, p = store_of(request), request.path_params
    with store.lock:
        cred = _credential(store, p["vault_id"], p["credential_id"])
        if cred.get("archived_at"):
            raise ApiError(400, f"Credential {cred['id']} is archived and cannot be updated")
        _name(body.get("display_name"), "display_name", required=True)
        auth, secrets = copy.deepcopy(cred["auth"]), dict(store.secrets.get(cred["id"], {}))
        if "auth" in body:
            _changed_auth(auth, secrets, body["auth"])
        changed = {**cred, "auth": auth}
        if body.get("display_name") is not None:
            changed["display_name"] = body["display_name"]
        secrets_changed = secrets != store.secrets.get(cred["id"])
        if apply_update(cred, changed, body.get("metadata"), also_changed=secrets_changed):
            store.secrets[cred["id"]] = secrets
    return ok(cred)


async def list_credentials(request: Request) -> JSONResponse:
    require_beta(request, BETA)
    store = store_of(request)
    vault_id = request.path_params["vault_id"]
    include_archived = q_bool(request, "include_archived")
    _vault(store, vault_id)
    with store.lock:
        items = [c for c in store.credentials.values()
                 if c["vault_id"] == vault_id and (include_archived or not c.get("archived_at"))]
    return list_response(request, items[::-1], kind="credentials", order="desc")


async def delete_credential(request: Request) -> JSONResponse:
    require_beta(request, BETA)
    store, p = store_of(request), request.path_params
    with store.lock:
        cred = _credential(store, p["vault_id"], p["credential_id"])
        del store.credentials[cred["id"]]
        store.secrets.pop(cred["id"], None)
    return ok({"id": cred["id"], "type": "vault_credential_deleted"})


async def archive_credential(request: Request) -> JSONResponse:
    require_beta(request, BETA)
    store, p = store_of(request), request.path_params
    with store.lock:
        cred = _credential(store, p["vault_id"], p["credential_id"])
        if not cred.get("archived_at"):
            cred["archived_at"] = cred["updated_at"] = now_iso()
    return ok(cred)


def _reachable(url: str) -> bool:
    host = (urlparse(url).hostname or "").lower()
    return host == "test" or host.endswith(".test")


async def validate_credential(request: Request) -> JSONResponse:
    """Probe an MCP OAuth credential the way the service does, against offline-reachable hosts."""
    require_beta(request, BETA)
    store, p = store_of(request), request.path_params
    cred = _credential(store, p["vault_id"], p["credential_id"])
    auth = cred["auth"]
    if auth["type"] != "mcp_oauth":
        raise ApiError(400, f"Credential {cred['id']} is a {auth['type']} credential; only mcp_oauth "
                            "credentials can be validated")
    refresh_cfg = auth.get("refresh")
    expired = auth.get("expires_at") is not None and parse_iso(auth["expires_at"]) <= now()
    refresh: dict[str, Any] | None = None
    probe: dict[str, Any] | None = None
    if not _reachable(auth["mcp_server_url"]):
        status, probe = "unknown", {"method": "initialize", "http_response": None}
    elif not expired:
        status = "valid"
    elif refresh_cfg is None:
        status = "invalid"
        refresh = {"status": "no_refresh_token", "http_response": None}
        probe = {"method": "initialize", "http_response": {
            "status_code": 401, "content_type": "application/json", "body_truncated": False,
            "body": '{"error":"invalid_token","error_description":"The access token expired"}'}}
    elif _reachable(refresh_cfg["token_endpoint"]):
        status = "unknown"  # refreshed, but the new token was not tried
        refresh = {"status": "succeeded", "http_response": None}
    else:
        status = "invalid"
        refresh = {"status": "connect_error", "http_response": None}
    return ok({"type": "vault_credential_validation", "credential_id": cred["id"], "vault_id": cred["vault_id"],
               "status": status, "has_refresh_token": refresh_cfg is not None, "mcp_probe": probe,
               "refresh": refresh, "validated_at": now_iso()})


ROUTES = [
    ("POST", "/v1/vaults", create_vault),
    ("GET", "/v1/vaults", list_vaults),
    ("GET", "/v1/vaults/{vault_id}", retrieve_vault),
    ("POST", "/v1/vaults/{vault_id}", update_vault),
    ("DELETE", "/v1/vaults/{vault_id}", delete_vault),
    ("POST", "/v1/vaults/{vault_id}/archive", archive_vault),
    ("POST", "/v1/vaults/{vault_id}/credentials", create_credential),
    ("GET", "/v1/vaults/{vault_id}/credentials", list_credentials),
    ("GET", "/v1/vaults/{vault_id}/credentials/{credential_id}", retrieve_credential),
    ("POST", "/v1/vaults/{vault_id}/credentials/{credential_id}", update_credential),
    ("DELETE", "/v1/vaults/{vault_id}/credentials/{credential_id}", delete_credential),
    ("POST", "/v1/vaults/{vault_id}/credentials/{credential_id}/archive", archive_credential),
    ("POST", "/v1/vaults/{vault_id}/credentials/{credential_id}/mcp_oauth_validate", validate_credential),
]
