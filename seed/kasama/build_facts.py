"""Derive the demo's public facts about Kasama (08216) from the public files in tests/data.

    .venv/bin/python -m seed.kasama.build_facts [--shared tests/data]

Reads the third-party files credited in tests/data/README.md and writes our
own compact records to seed/data/:

- kasama_outline.json   city outline, simplified to <= 100 vertices (GeoJSON Feature, lon/lat)
- kasama_shelters.json  30 指定避難所 + 8 指定緊急避難場所 as our own records
- kasama_towns.json     76 town/aza representative points (our gazetteer)

Deterministic: running it twice writes identical bytes. The output is committed, so `make run`
works on a machine that has only the repo.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import Point, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from seed.kasama.facts import LocalMetric
from vocab import SHELTER_HAZARDS

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SHARED = REPO / "tests" / "data"
OUT = REPO / "seed" / "data"

MAX_VERTICES = 100
COORD_DIGITS = 6  # ~0.1 m; plenty for a coarse outline and facility points

CREDIT_OUTLINE = "「国土数値情報（行政区域データ）」（国土交通省）を加工して作成"
CREDIT_SHELTERS = "出典：国土地理院 指定避難所データ / 指定緊急避難場所データ"
CREDIT_TOWNS = "Geolonia 住所データ (CC BY 4.0)（国土交通省位置参照情報に基づく）を加工して作成"

# GSI 指定緊急避難場所 CSV column → our hazard code (same order as vocab.SHELTER_HAZARDS).
GSI_HAZARD_COLUMNS: dict[str, str] = {
    "洪水": "flood",
    "崖崩れ、土石流及び地滑り": "landslide",
    "高潮": "storm_surge",
    "地震": "earthquake",
    "津波": "tsunami",
    "大規模な火事": "large_fire",
    "内水氾濫": "inland_flood",
    "火山現象": "volcano",
}
assert set(GSI_HAZARD_COLUMNS.values()) == set(SHELTER_HAZARDS)


def _round(x: float | str) -> float:
    return round(float(x), COORD_DIGITS)


def _vertex_count(poly: Polygon) -> int:
    return len(poly.exterior.coords) - 1 + sum(len(r.coords) - 1 for r in poly.interiors)


def _round_geom(geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geom, lambda a: a.round(COORD_DIGITS))


def simplify_outline(original: BaseGeometry, max_vertices: int = MAX_VERTICES) -> tuple[Polygon, float]:
    """Largest-detail simplification with at most `max_vertices` vertices (bisection on tolerance)."""
    lo, hi = 0.0, 0.01
    best = None
    for _ in range(40):
        tol = (lo + hi) / 2
        cand = _round_geom(original.simplify(tol, preserve_topology=True))
        if isinstance(cand, Polygon) and cand.is_valid and _vertex_count(cand) <= max_vertices:
            best, hi = (cand, tol), tol
        else:
            lo = tol
    assert best is not None
    return best


def read_outline(shared: Path) -> Polygon:
    fc = json.loads((shared / "kasama_08216.geojson").read_text(encoding="utf-8"))
    feature = fc["features"][0]  # no "properties" key in this file (see SOURCES.md)
    assert feature.get("id") == "08216"
    outline = shape(feature["geometry"])
    assert isinstance(outline, Polygon)  # the city is one polygon
    return outline


def build_outline(shared: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    original = read_outline(shared)
    simple, tol = simplify_outline(original)
    simple = orient(simple, 1.0)  # RFC 7946: exterior ring counter-clockwise
    metric = LocalMetric(36.36, 140.28)
    stats = {
        "source_vertices": _vertex_count(original),
        "vertices": _vertex_count(simple),
        "tolerance_deg": round(tol, 7),
        "source_area_km2": round(metric.project(original).area / 1e6, 2),
        "area_km2": round(metric.project(simple).area / 1e6, 2),
        "area_ratio": round(simple.area / original.area, 5),
    }
    feature = {
        "type": "Feature",
        "properties": {
            "municipality_code": "08216",
            "name": "笠間市",
            "credit": CREDIT_OUTLINE,
            "derived_by": "seed/kasama/build_facts.py",
            **stats,
        },
        "geometry": mapping(simple),
    }
    feature["geometry"] = json.loads(json.dumps(feature["geometry"]))  # tuples → lists
    return feature, stats


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _facility_key(common_id: str) -> str:
    """共通ID like E0821600016112: E + 市町村コード(5) + 施設番号(5) + 種別(1) + 枝番(2).

    The 5-digit facility number is shared by a 指定避難所 and the 指定緊急避難場所 at the same site.
    """
    return common_id[6:11]


def build_shelters(shared: Path) -> list[dict[str, Any]]:
    designated = _read_csv(shared / "gsi_designated_shelters_kasama_08216.csv")
    emergency = _read_csv(shared / "gsi_emergency_evacuation_sites_kasama_08216.csv")
    assert len(designated) == 30 and len(emergency) == 8

    def hazards(row: dict[str, str]) -> list[str]:
        return [code for col, code in GSI_HAZARD_COLUMNS.items() if row[col].strip() == "1"]

    # Hazard flags exist only for 指定緊急避難場所. A designated shelter gets the same flags only when
    # it is the same facility (same facility number AND same name): at 石井2068-1 three shelters
    # (武道館, 市民体育館, 笠間公民館) share facility number 00016, but only 市民体育館 is the site.
    site_flags = {(_facility_key(r["共通ID"]), r["施設・場所名"]): hazards(r) for r in emergency}
    records: list[dict[str, Any]] = []
    for r in designated:
        # 受入対象者 is empty for every Kasama row: no 福祉避難所 is named, so we invent none.
        assert not r["受入対象者"].strip()
        records.append(
            {
                "source_id": r["共通ID"],
                "kind": "designated",
                "name": r["施設・場所名"],
                "address": r["住所"],
                "lat": _round(r["緯度"]),
                "lon": _round(r["経度"]),
                "hazards": site_flags.get((_facility_key(r["共通ID"]), r["施設・場所名"]), []),
                "capacity": None,
            }
        )
    for r in emergency:
        records.append(
            {
                "source_id": r["共通ID"],
                "kind": "emergency_site",
                "name": r["施設・場所名"],
                "address": r["住所"],
                "lat": _round(r["緯度"]),
                "lon": _round(r["経度"]),
                "hazards": hazards(r),
                "capacity": None,
            }
        )
    return records


def build_towns(shared: Path) -> list[dict[str, Any]]:
    rows = json.loads((shared / "geolonia_kasama_towns.json").read_text(encoding="utf-8"))
    assert len(rows) == 76
    return [{"town": r["town"], "koaza": r["koaza"], "lat": _round(r["lat"]), "lon": _round(r["lng"])} for r in rows]


def dump_records(path: Path, header: dict[str, Any], key: str, records: list[dict[str, Any]]) -> None:
    """`{header..., key: [one record per line]}`: compact, valid JSON, and diff-friendly."""

    def enc(v: object) -> str:
        return json.dumps(v, ensure_ascii=False)

    head = ",".join(f"{enc(k)}:{enc(v)}" for k, v in header.items())
    body = ",\n".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in records)
    path.write_text(f"{{{head},\n{json.dumps(key)}:[\n{body}\n]}}\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    outline, stats = build_outline(args.shared)
    shelters = build_shelters(args.shared)
    towns = build_towns(args.shared)

    poly = shape(outline["geometry"])
    outside = [s["name"] for s in shelters if not poly.contains(Point(s["lon"], s["lat"]))]
    outside += [t["town"] + t["koaza"] for t in towns if not poly.contains(Point(t["lon"], t["lat"]))]
    if outside:
        raise SystemExit(f"points outside the simplified outline: {outside}")

    # Compact: the outline on few lines.
    (args.out / "kasama_outline.json").write_text(
        json.dumps(outline, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
    )
    by = {"derived_by": "seed/kasama/build_facts.py"}
    dump_records(args.out / "kasama_shelters.json", {"credit": CREDIT_SHELTERS, **by}, "shelters", shelters)
    dump_records(args.out / "kasama_towns.json", {"credit": CREDIT_TOWNS, **by}, "towns", towns)
    print(f"outline: {stats}")
    print(
        f"shelters: {sum(s['kind'] == 'designated' for s in shelters)} designated, "
        f"{sum(s['kind'] == 'emergency_site' for s in shelters)} emergency sites"
    )
    print(f"towns: {len(towns)}")


if __name__ == "__main__":
    main()
