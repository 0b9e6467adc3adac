"""Draw the Kasama district tree (drawn by us, not an official boundary).

    .venv/bin/python -m seed.kasama.districts

Level "area" (地区): 笠間 / 友部 / 岩間, the three towns merged in 2006.
Level "branch" (支部): one per primary-school district, drawn as Voronoi cells (in a local metric
projection) around the schools listed as 指定避難所 in kasama_shelters.json, clipped to the
simplified city outline. Each area is the union of its branches, so the tree is consistent and
covers the outline without gaps or overlaps. Level "unit" (行政区) is not drawn.

Deterministic: writes identical bytes every run. Output: seed/data/kasama_districts.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import shapely
from shapely.geometry import MultiPoint, MultiPolygon, Point, Polygon, mapping
from shapely.geometry.base import BaseGeometry

from seed.kasama.build_facts import dump_records
from seed.kasama.facts import DATA, KASAMA_METRIC, MUNICIPALITY_CODE, load_shelters, outline_shape

GRID = 1e-6  # snap-rounding grid in degrees (~0.1 m), same as the other seed data

# (code suffix, name, kana) of the three areas.
AREAS: tuple[tuple[str, str, str], ...] = (
    ("A1", "笠間地区", "カサマチク"),
    ("A2", "友部地区", "トモベチク"),
    ("A3", "岩間地区", "イワマチク"),
)

# Primary-school districts → area. The assignment follows the pre-2006 towns:
# - 笠間 (old 笠間市): 笠間小 (笠間), 稲田小 (稲田), みなみ学園義務教育学校 (北吉原; a 1–9 school
#   that serves as the primary school of the south of old 笠間).
# - 友部 (old 友部町 = 宍戸町 + 大原村 + 北川根村, 1955): 友部小, 友部第二小, 宍戸小, 大原小 (小原),
#   北川根小 (湯崎).
# - 岩間 (old 岩間町): 岩間第一小, 岩間第二小, 岩間第三小.
# All current municipal primary schools are in the shelter list; none is missing.
BRANCHES: tuple[tuple[str, str, str], ...] = (
    # (school name as in the shelter list, area suffix, kana of the school name)
    ("笠間小学校", "A1", "カサマショウガッコウ"),
    ("稲田小学校", "A1", "イナダショウガッコウ"),
    ("みなみ学園義務教育学校", "A1", "ミナミガクエンギムキョウイクガッコウ"),
    ("友部小学校", "A2", "トモベショウガッコウ"),
    ("友部第二小学校", "A2", "トモベダイニショウガッコウ"),
    ("宍戸小学校", "A2", "シシドショウガッコウ"),
    ("大原小学校", "A2", "オオハラショウガッコウ"),
    ("北川根小学校", "A2", "キタカワネショウガッコウ"),
    ("岩間第一小学校", "A3", "イワマダイイチショウガッコウ"),
    ("岩間第二小学校", "A3", "イワマダイニショウガッコウ"),
    ("岩間第三小学校", "A3", "イワマダイサンショウガッコウ"),
)

# Closed schools that are still in the shelter list. Their old districts belong to a current school,
# so their Voronoi cells are merged into that school's branch (otherwise the old 東 district around
# 大橋・福田・池野辺, which is old 笠間, would fall to 大原小 in 友部). 旧箱田小 merged into 笠間小 in
# 2015 (public school history); for 旧東小 we assume the same successor.
MERGED_SCHOOLS: dict[str, str] = {"旧箱田小学校": "笠間小学校", "旧東小学校": "笠間小学校"}


def _multi(geom: BaseGeometry) -> MultiPolygon:
    polys = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon) and not g.is_empty]
    out = MultiPolygon(polys)
    assert out.is_valid, "district geometry must be valid"
    return out


def _geojson(geom: MultiPolygon) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(mapping(geom)))
    return out


def build_districts() -> list[dict[str, Any]]:
    outline = shapely.set_precision(outline_shape(), GRID)
    designated = {s.name: s for s in load_shelters() if s.kind == "designated"}
    missing = [name for name, _, _ in BRANCHES if name not in designated]
    if missing:
        raise SystemExit(f"schools missing from kasama_shelters.json: {missing}")
    schools = [designated[name] for name, _, _ in BRANCHES]
    seed_names = [name for name, _, _ in BRANCHES] + list(MERGED_SCHOOLS)
    owner = {name: MERGED_SCHOOLS.get(name, name) for name in seed_names}

    # Voronoi in metres (so cells follow walking distance, not degrees), then back to lon/lat.
    seeds = MultiPoint([KASAMA_METRIC.to_xy(designated[n].lon, designated[n].lat) for n in seed_names])
    frame = KASAMA_METRIC.project(outline).buffer(5_000).envelope
    cells = shapely.voronoi_polygons(seeds, extend_to=frame, ordered=True).geoms
    cells_of: dict[str, list[BaseGeometry]] = {}
    for name, cell in zip(seed_names, cells, strict=True):
        cells_of.setdefault(owner[name], []).append(KASAMA_METRIC.unproject(cell))

    branches: list[dict[str, Any]] = []
    by_area: dict[str, list[BaseGeometry]] = {suffix: [] for suffix, _, _ in AREAS}
    for i, ((name, area, kana), school) in enumerate(zip(BRANCHES, schools, strict=True), 1):
        union = shapely.union_all(cells_of[name])
        geom = shapely.intersection(union, outline, grid_size=GRID)
        assert geom.contains(Point(school.lon, school.lat)), name
        by_area[area].append(geom)
        branches.append(
            {
                "code": f"{MUNICIPALITY_CODE}-{area}-B{i:02d}",
                "name": f"{name}区",
                "kana": f"{kana}ク",
                "level": "branch",
                "parent_code": f"{MUNICIPALITY_CODE}-{area}",
                "school_source_id": school.source_id,
                "geometry": _geojson(_multi(geom)),
            }
        )
    areas = [
        {
            "code": f"{MUNICIPALITY_CODE}-{suffix}",
            "name": name,
            "kana": kana,
            "level": "area",
            "parent_code": None,
            "school_source_id": None,
            "geometry": _geojson(_multi(shapely.union_all(by_area[suffix], grid_size=GRID))),
        }
        for suffix, name, kana in AREAS
    ]
    return areas + branches


def main() -> None:
    districts = build_districts()
    out: Path = DATA / "kasama_districts.json"
    header = {
        "note": "Drawn by us for the demo (Voronoi cells around primary schools, clipped to the outline); "
        "not official boundaries.",
        "credit": "「国土数値情報（行政区域データ）」（国土交通省）を加工して作成; 出典：国土地理院 指定避難所データ",
        "derived_by": "seed/kasama/districts.py",
    }
    dump_records(out, header, "districts", districts)
    for d in districts:
        g = cast(MultiPolygon, shapely.geometry.shape(d["geometry"]))
        km2 = KASAMA_METRIC.project(g).area / 1e6
        print(f"{d['code']:14s} {d['level']:6s} {d['name']:18s} {km2:7.2f} km²  parts={len(g.geoms)}")


if __name__ == "__main__":
    main()
