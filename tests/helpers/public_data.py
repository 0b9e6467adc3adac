"""The real public files the tests run against: copies in tests/data/ with their credits
(tests/data/README.md), so the suite passes on a clone with nothing beside it."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"
KASAMA_OUTLINE = DATA / "kasama_08216.geojson"
KASAMA_TOWNS = DATA / "geolonia_kasama_towns.json"
GSI_DESIGNATED = DATA / "gsi_designated_shelters_kasama_08216.csv"
GSI_EMERGENCY = DATA / "gsi_emergency_evacuation_sites_kasama_08216.csv"
