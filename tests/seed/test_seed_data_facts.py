"""Committed public facts of the Kasama demo (seed/data): outline, shelters, towns. No database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shapely.geometry import Point, Polygon

from seed.kasama import facts
from seed.kasama.build_facts import read_outline
from tests.helpers.public_data import DATA as SHARED
from vocab import SHELTER_HAZARDS


def test_outline_is_valid_coarse_and_close_to_the_original() -> None:
    feature = facts.outline_feature()
    assert feature["type"] == "Feature"
    assert "国土数値情報" in feature["properties"]["credit"]
    poly = facts.outline_shape()
    assert isinstance(poly, Polygon) and poly.is_valid
    vertices = len(poly.exterior.coords) - 1 + sum(len(r.coords) - 1 for r in poly.interiors)
    assert 50 <= vertices <= 110
    minx, miny, maxx, maxy = poly.bounds  # lon/lat of Kasama
    assert 140.1 < minx < maxx < 140.45 and 36.2 < miny < maxy < 36.5
    km2 = facts.KASAMA_METRIC.project(poly).area / 1e6
    assert km2 == pytest.approx(240.4, rel=0.03)  # official area of Kasama ~240.4 km²


def test_outline_area_within_3_percent_of_the_source_polygon() -> None:
    original = read_outline(SHARED)
    simple = facts.outline_shape()
    assert abs(simple.area / original.area - 1) < 0.03
    # and it still is the same place: the symmetric difference is small
    assert simple.symmetric_difference(original).area / original.area < 0.03


def test_shelters_30_designated_and_8_emergency_sites_inside_the_outline() -> None:
    shelters = facts.load_shelters()
    kinds = [s.kind for s in shelters]
    assert kinds.count("designated") == 30 and kinds.count("emergency_site") == 8
    assert len({(s.source_id, s.kind) for s in shelters}) == 38
    poly = facts.outline_shape()
    for s in shelters:
        assert poly.contains(Point(s.lon, s.lat)), s.name
        assert s.address.startswith("茨城県笠間市")
        assert set(s.hazards) <= set(SHELTER_HAZARDS)
        assert s.capacity is None
    sites = [s for s in shelters if s.kind == "emergency_site"]
    assert all(s.hazards for s in sites)
    assert all("storm_surge" not in s.hazards and "tsunami" not in s.hazards for s in sites)
    by_name = {(s.kind, s.name): s for s in shelters}
    assert "flood" not in by_name[("emergency_site", "市民体育館")].hazards  # as in the source
    # Flags on designated shelters only where the same facility is an emergency site.
    assert by_name[("designated", "市民体育館")].hazards == by_name[("emergency_site", "市民体育館")].hazards
    assert by_name[("designated", "武道館")].hazards == []
    assert by_name[("designated", "稲田小学校")].hazards == []
    assert not any(s.kind == "welfare" for s in shelters)  # the source names no 福祉避難所


def test_towns_gazetteer() -> None:
    towns = facts.load_towns()
    assert len(towns) == 76
    assert sum(1 for t in towns if t.koaza) == 3
    assert {"笠間", "中央三丁目", "長兎路仁古田入会地"} <= {t.town for t in towns}
    poly = facts.outline_shape()
    for t in towns:
        assert isinstance(t.lat, float)
        assert isinstance(t.lon, float)
        assert poly.contains(Point(t.lon, t.lat)), t.town


def test_seed_readme_credits_every_source_and_says_people_are_synthetic() -> None:
    text = (Path(__file__).resolve().parents[2] / "seed" / "README.md").read_text(encoding="utf-8")
    plain = text.replace("「", "").replace("」", "")
    for credit in (
        "国土数値情報（行政区域データ）（国土交通省）を加工して作成",
        "出典：国土地理院 指定避難所データ / 指定緊急避難場所データ",
        "Geolonia 住所データ (CC BY 4.0)",
    ):
        assert credit in plain
    assert "synthetic" in text.lower() or "架空" in text


def test_build_facts_reproduces_the_committed_files(tmp_path: Path) -> None:
    from seed.kasama.build_facts import main

    main(["--shared", str(SHARED), "--out", str(tmp_path)])
    for name in ("kasama_outline.json", "kasama_shelters.json", "kasama_towns.json"):
        assert (tmp_path / name).read_bytes() == (facts.DATA / name).read_bytes(), name
        json.loads((tmp_path / name).read_text(encoding="utf-8"))
