"""The desk publishes the public pre-registration page (#18): the address of an open centre's page
and a QR code of it, for the desk to copy and print on a poster; a closed centre has none."""

from __future__ import annotations

import pytest

from server.services import services
from server.vc.reception import qr_svg
from tests.helpers.vc_world import VcWorld, client_for, new_vc_world, open_centre


@pytest.fixture
async def world(sessionmaker) -> VcWorld:
    return await new_vc_world(sessionmaker)


async def test_the_desk_gets_an_open_centres_public_page_and_its_qr(world: VcWorld, client_factory, app) -> None:
    drill = await open_centre(client_factory, world, "drill")
    real = await open_centre(client_factory, world, "real")
    desk = await client_for(client_factory, world, "vc_desk")

    r = await desk.get(f"/api/vc/centres/{drill}/join-link")
    assert r.status_code == 200, r.text
    link = r.json()
    assert link["path"] == f"/vc/join/{world.code}/{drill}"
    assert link["url"] == services(app).settings.public_url.rstrip("/") + link["path"]
    assert link["label"] == "【訓練】" and link["centre"] == "笠間市災害ボランティアセンター"
    assert link["qr_svg"].startswith("<svg") and link["qr_svg"] == qr_svg(link["url"])  # the QR holds the address
    # The address leads to the public page's API (no account needed).
    council, op = link["path"].removeprefix("/vc/join/").split("/")
    notice = await client_factory().get(f"/api/public/vc/{council}/{op}/privacy-notice")
    assert notice.status_code == 200 and notice.json()["label"] == "【訓練】"

    r = await desk.get(f"/api/vc/centres/{real}/join-link")
    assert r.status_code == 200 and r.json()["label"] == "" and r.json()["path"].endswith(real)

    # A closed centre takes no registrations: no link to publish.
    staff = await client_for(client_factory, world, "staff")
    assert (await staff.send_json("POST", f"/api/vc/centres/{real}/close", {})).status_code == 200
    r = await desk.get(f"/api/vc/centres/{real}/join-link")
    assert r.status_code == 409 and r.json()["code"] == "vc_centre_closed"


async def test_only_the_desk_roles_get_the_link(world: VcWorld, client_factory) -> None:
    op = await open_centre(client_factory, world)
    for role in ("admin", "staff", "coordinator", "vc_desk"):
        assert (
            await (await client_for(client_factory, world, role)).get(f"/api/vc/centres/{op}/join-link")
        ).status_code == 200
    for role in ("commissioner", "watcher", "vc_volunteer"):
        r = await (await client_for(client_factory, world, role)).get(f"/api/vc/centres/{op}/join-link")
        assert r.status_code == 403, role
    assert (await client_factory().get(f"/api/vc/centres/{op}/join-link")).status_code == 401
