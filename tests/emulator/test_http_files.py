"""Files endpoints: multipart upload, limits, list (scope_id, ids[], cursors), download, delete."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx2
import pytest


def test_upload_metadata_download_delete(client: Any, emulator: Any) -> None:
    before = emulator.stats["uploads"]
    f = client.beta.files.upload(file=("dir/report.csv", b"a,b\n1,2\n", "text/csv"))
    assert emulator.stats["uploads"] == before + 1
    assert f.filename == "report.csv" and f.size_bytes == 8 and f.mime_type == "text/csv"
    # as hosted: what you upload cannot be downloaded again
    assert f.downloadable is False and f.scope is None and f.id.startswith("file_")
    assert client.beta.files.retrieve_metadata(f.id).id == f.id
    with pytest.raises(anthropic.BadRequestError) as exc:
        client.beta.files.download(f.id)
    assert exc.value.response.json()["error"]["details"] == {"error_code": "file_not_downloadable"}
    assert client.beta.files.delete(f.id).id == f.id
    with pytest.raises(anthropic.NotFoundError):
        client.beta.files.retrieve_metadata(f.id)


def test_download_of_an_agent_output(client: Any, emulator: Any) -> None:
    # an output file as the runtime indexes it (session-scoped, downloadable)
    out = emulator.store.add_file("chart.png", b"\x89PNG-bytes", scope_session_id="sesn_x")
    before = emulator.stats["downloads"]
    resp = client.beta.files.download(out["id"])
    assert resp.read() == b"\x89PNG-bytes"
    assert resp.http_response.headers["content-type"] == "image/png"
    assert 'filename="chart.png"' in resp.http_response.headers["content-disposition"]
    assert emulator.stats["downloads"] == before + 1


def test_mime_type_is_guessed_for_octet_stream(client: Any) -> None:
    f = client.beta.files.upload(file=("plot.png", b"\x89PNG\r\n", "application/octet-stream"))
    assert f.mime_type == "image/png"


def test_expires_in_seconds_bounds(client: Any) -> None:
    f = client.beta.files.upload(file=("e.txt", b"x"), expires_in_seconds=3600)
    assert f.expires_at is not None and (f.expires_at - f.created_at).total_seconds() == pytest.approx(
        3600, abs=1
    )
    for bad in (10, 7_776_001):
        with pytest.raises(anthropic.BadRequestError):
            client.beta.files.upload(file=("e.txt", b"x"), expires_in_seconds=bad)


def test_upload_errors(make_emulator: Any) -> None:
    emu = make_emulator(brain="echo", max_upload_bytes=1000)
    c = emu.client(max_retries=0)
    for size in (2000, 300_000):  # read and refused / refused from Content-Length alone
        with pytest.raises(anthropic.APIStatusError) as big:
            c.beta.files.upload(file=("big.bin", b"x" * size))
        assert big.value.status_code == 413 and "1000 bytes" in big.value.response.json()["error"]["message"]
    assert emu.stats["uploads"] == 0
    r = httpx2.post(f"{emu.base_url}/v1/files", headers={"x-api-key": "k"}, json={"file": "nope"})
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    r = httpx2.post(
        f"{emu.base_url}/v1/files", headers={"x-api-key": "k"}, data={"other": "1"}, files={"x": b"1"}
    )
    assert r.status_code == 400


def test_list_newest_first_pages_and_ids(make_emulator: Any) -> None:
    c = make_emulator(brain="echo").client(max_retries=0)
    ids = [c.beta.files.upload(file=(f"f{i}.txt", b"x")).id for i in range(5)]
    first = c.beta.files.list(limit=2)
    assert [f.id for f in first.data] == ids[::-1][:2] and first.next_page.startswith("page_")
    assert [f.id for f in c.beta.files.list(limit=2)] == ids[::-1]  # auto-paging stops
    picked = c.beta.files.list(ids=[ids[0], ids[3], "file_unknown"])
    assert {f.id for f in picked.data} == {ids[0], ids[3]} and picked.next_page is None
    with pytest.raises(anthropic.BadRequestError):
        c.beta.files.list(ids=[ids[0]], limit=5)
    with pytest.raises(anthropic.BadRequestError):
        c.beta.files.list(limit=1001)
    with pytest.raises(anthropic.BadRequestError):
        c.beta.files.list(page="page_!!")


def test_scope_id_lists_session_copies_not_downloadable(client: Any) -> None:
    agent = client.beta.agents.create(
        name="files", model="claude-sonnet-4-6", metadata={"emulator_brain": "echo"}
    )
    env = client.beta.environments.create(name="files-env")
    f = client.beta.files.upload(file=("in.csv", b"a\n1\n", "text/csv"))
    s = client.beta.sessions.create(
        agent=agent.id, environment_id=env.id, resources=[{"type": "file", "file_id": f.id}]
    )
    scoped = client.beta.files.list(scope_id=s.id, betas=["managed-agents-2026-04-01"]).data
    assert [x.id for x in scoped] == [s.resources[0].file_id]
    assert scoped[0].downloadable is False
    with pytest.raises(anthropic.BadRequestError) as exc:
        client.beta.files.download(scoped[0].id)
    assert exc.value.response.json()["error"]["details"]["error_code"] == "file_not_downloadable"


@pytest.mark.parametrize("name", ["line\nbreak.txt", "tab\tname.txt", 'q"uote\\.csv', "日本.csv", "é.png"])
def test_download_header_survives_hostile_names(client: Any, emulator: Any, name: str) -> None:
    out = emulator.store.add_file(name, b"data", "text/plain", scope_session_id="sesn_x")
    resp = client.beta.files.download(out["id"])
    assert resp.read() == b"data"
    header = resp.http_response.headers["content-disposition"]
    assert header.isascii() and "\n" not in header and header.startswith('attachment; filename="')
