"""Imports: the clerk uploads a file, reads a per-row report (dry run), fixes the file, commits.

`api.py` is the route; `roster.py`, `areas.py` (districts, hazard zones) and `shelters.py` are the
commit step of each kind. The parsers (`imports`, `geo.geojson_areas`) turn uploaded bytes into
records plus a per-row report without a database. The commit step adds what needs the tenant's data
(its town list, boundary, people already registered, districts and shelters) and returns one
`ImportReport`. On a dry run, or when the report holds any error, nothing is written; otherwise every
row is written in the caller's transaction together with one audit entry, and the caller commits
once. So a file goes in whole or not at all.
"""
