"""The fault suite's smoke (bench/fault_ingest.py, issue #16): phones push through
`POST /api/sync/push` and retry until acknowledged while the server is killed with SIGKILL once
mid-ingest; every acknowledged visit is then stored once, unchanged, with one event."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from pathlib import Path

import pytest

from tests.helpers.world import World, new_world, signed_in

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def world(sessionmaker) -> World:
    return await new_world(sessionmaker)


async def test_kill_9_mid_ingest_loses_duplicates_and_changes_nothing(
    world: World, client_factory, database_url, tmp_path
) -> None:
    staff = await signed_in(client_factory, world, "staff")
    r = await staff.send_json(
        "POST",
        "/api/operations",
        {
            "kind": "safety_check",
            "mode": "drill",
            "name": "障害注入の試験",
            "start": True,
            "district_ids": [str(world.districts["D1"]), str(world.districts["D2"])],
        },
    )
    assert r.status_code == 201, r.text
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    acct = world.accounts["staff"]
    out = tmp_path / "fault.json"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "bench" / "fault_ingest.py"),
        "--database-url",
        database_url,
        "--port",
        str(port),
        "--phones",
        "20",
        "--sessions",
        "2",
        "--visits",
        "600",
        "--kills",
        "1",
        "--kill-after",
        "150",
        "--max-seconds",
        "240",
        "--operation",
        r.json()["id"],
        "--tenant-id",
        str(world.tenant_id),
        f"--login={acct.login}",
        f"--password={acct.password}",
        "--json-out",
        str(out),
        "--log",
        str(tmp_path / "server.log"),
        "--var-dir",
        str(tmp_path / "var"),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await proc.communicate()
    assert out.exists(), output.decode()[-3000:]
    report = json.loads(out.read_text())
    count = report["count"]
    assert len(report["faults"]) == 1, output.decode()[-3000:]  # the server really was killed mid-ingest
    assert count["acknowledged"] == 600 and count["stored"] == 600, report["table"]
    assert (count["lost"], count["duplicated"], count["changed"]) == (0, 0, 0), report["table"]
    assert (count["events_missing"], count["events_duplicated"], count["refused_retries"]) == (0, 0, 0), report["table"]
    assert proc.returncode == 0 and report["pass"], report["table"]
