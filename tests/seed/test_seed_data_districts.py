"""Our Kasama district tree (seed/data/kasama_districts.json). No database."""

from __future__ import annotations

import json

import shapely
from shapely.geometry import Point, shape

from seed.kasama import facts
from seed.kasama.districts import build_districts
from seed.kasama.names import is_katakana
from vocab import DISTRICT_LEVELS


def test_tree_is_consistent() -> None:
    ds = facts.load_districts()
    codes = {d.code for d in ds}
    assert len(codes) == len(ds)
    areas = [d for d in ds if d.level == "area"]
    branches = [d for d in ds if d.level == "branch"]
    assert {d.level for d in ds} <= set(DISTRICT_LEVELS)
    assert [a.name for a in areas] == ["笠間地区", "友部地区", "岩間地区"]
    assert all(a.parent_code is None for a in areas)
    assert len(branches) == 11
    for b in branches:
        assert b.parent_code in {a.code for a in areas}
        assert b.code.startswith(b.parent_code + "-B")
        assert b.name.endswith("学校区")
    for d in ds:
        assert d.code.startswith("08216-")
        assert is_katakana(d.kana), d.kana
        assert d.geometry["type"] == "MultiPolygon"
        assert shape(d.geometry).is_valid
    # every area has branches; area geometry = union of its branches
    for a in areas:
        kids = [shape(b.geometry) for b in branches if b.parent_code == a.code]
        assert kids
        assert shape(a.geometry).symmetric_difference(shapely.union_all(kids)).area < 1e-9


def test_branches_cover_the_outline_without_overlaps() -> None:
    outline = facts.outline_shape()
    for level in ("branch", "area"):
        geoms = list(facts.district_shapes(level).values())
        total = sum(g.area for g in geoms)
        assert abs(total / outline.area - 1) < 0.005, level  # no overlaps, no gaps
        union = shapely.union_all(geoms)
        assert union.symmetric_difference(outline).area / outline.area < 0.005
        for i, g in enumerate(geoms):
            for h in geoms[i + 1 :]:
                assert g.intersection(h).area / outline.area < 1e-6


def test_every_school_is_inside_its_own_branch() -> None:
    shelters = {s.source_id: s for s in facts.load_shelters()}
    for d in facts.load_districts():
        if d.level != "branch":
            continue
        assert d.school_source_id is not None
        school = shelters[d.school_source_id]
        assert d.name == school.name + "区"
        assert shape(d.geometry).contains(Point(school.lon, school.lat))


def test_committed_file_is_what_the_script_draws() -> None:
    committed = json.loads((facts.DATA / "kasama_districts.json").read_text(encoding="utf-8"))["districts"]
    assert json.loads(json.dumps(build_districts())) == committed
