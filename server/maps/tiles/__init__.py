"""The map's vector tiles: how a tile is built, filtered by consent, audited and served.

- `sql.py`: the tile statements (ST_AsMVT), each filtered by the disclosure rule
  (server/registry/disclosure_sql.py) and, for household ids, writing its own read audit row;
- `api.py`: the route `/api/tiles/{layer}/{z}/{x}/{y}.mvt` (who may read which layer, ETag,
  caching headers). One route: the fast lane beside it went (decision 0011, addendum #15).
"""
