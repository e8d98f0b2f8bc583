"""An upload whose answer is lost: what happens, as docs/files.md ("When an upload's answer is
lost") says. A TCP proxy in front of the emulator cuts the first `POST /v1/files` answer right
after its status line; the SDK's own retry uploads again. The Files API gives no way to find
the first file (no metadata on a file, `files.list` filters only by scope or ids), so nb_agents
cannot look before re-sending as `create_once` does for sessions: the second file is used, the
first stays stored, unknown to nb_agents. This test pins that behaviour, so a change shows."""

from __future__ import annotations

from typing import Any

import anthropic
import pandas as pd
from tcp_proxy import TcpProxy

from nb_agents.egress import EgressMeter
from nb_agents.emulator import Emulator
from nb_agents.emulator.handle import API_KEY
from nb_agents.files import FileSync


def test_a_lost_upload_answer_leaves_a_second_file_nb_agents_does_not_know(tmp_path: Any) -> None:
    with Emulator(brain="echo") as emu, TcpProxy(emu.base_url, match=r"^/v1/files$", offsets=[0]) as proxy:
        client = anthropic.Anthropic(base_url=proxy.base_url, api_key=API_KEY)
        meter = EgressMeter()
        meter.begin("upload")
        sync = FileSync(client, outputs_dir=tmp_path, meter=meter)
        prep = sync.prepare({"sales": pd.DataFrame({"a": [1, 2]})})
        assert [c.path for c in proxy.cuts] == ["/v1/files"]  # the first answer was lost
        stored = [f["id"] for f in emu.store.all_files() if f["filename"] == "sales.parquet"]
        assert len(stored) == 2 and len(prep.uploaded) == 1 and prep.uploaded[0] in stored
        assert [m.file_id for _, m in prep.entries] == prep.uploaded  # the retry's file is the one used
        assert meter.finish().files_uploaded == 1  # one upload call (the SDK's retry inside it is not seen)
        sync.discard(prep)  # cleaning up what nb_agents knows leaves the lost one behind
        left = [f["id"] for f in emu.store.all_files() if f["filename"] == "sales.parquet"]
        assert len(left) == 1 and left[0] not in prep.uploaded
