"""Import parsers: uploaded CSV bytes → typed records plus a per-row report (no database, nothing of server/).

Rosters (避難行動要支援者名簿, with 和暦 dates and Shift_JIS), GSI shelter CSVs and the town list.
The district and hazard-zone GeoJSON parser is spatial and lives in `geo.geojson_areas`; it returns
the same report. The commit step (tenant checks, database duplicates, all-or-nothing write) is
`server.registry.imports`.
"""

from imports.gsi_shelters import ShelterRecord, pair_with_designated, parse_gsi_shelters_csv
from imports.report import ImportIssue, ParseResult
from imports.roster_csv import RosterRecord, parse_roster_csv
from imports.towns import Gazetteer, Town, towns_from_geolonia

__all__ = [
    "Gazetteer",
    "ImportIssue",
    "ParseResult",
    "RosterRecord",
    "ShelterRecord",
    "Town",
    "pair_with_designated",
    "parse_gsi_shelters_csv",
    "parse_roster_csv",
    "towns_from_geolonia",
]
