"""Import parsers: uploaded bytes → typed records plus a per-row report (no database access).

The commit step (tenant checks, database duplicates, all-or-nothing write) sits on top of these.
"""

from geo.imports.geojson_areas import AreaRecord, parse_geojson_areas
from geo.imports.gsi_shelters import ShelterRecord, pair_with_designated, parse_gsi_shelters_csv
from geo.imports.report import ImportIssue, ParseResult
from geo.imports.roster_csv import RosterRecord, parse_roster_csv
from geo.imports.towns import Gazetteer, Town, towns_from_geolonia

__all__ = [
    "AreaRecord",
    "Gazetteer",
    "ImportIssue",
    "ParseResult",
    "RosterRecord",
    "ShelterRecord",
    "Town",
    "pair_with_designated",
    "parse_geojson_areas",
    "parse_gsi_shelters_csv",
    "parse_roster_csv",
    "towns_from_geolonia",
]
