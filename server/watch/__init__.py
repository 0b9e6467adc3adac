"""The watch network (向こう三軒両隣): who watches which household, suggestions, coverage.

PRODUCT.md §3: every support-needing household should have two watchers (a primary and a
backup) living within the district's walking radius (default 300 m), and no watcher more than
their capacity. This package finds suggestions (`suggest`), keeps the links (`links`), measures
coverage and watcher-less pockets (`coverage`), and serves them under `/api/watch` (`api`).

All spatial work happens in PostGIS. One fact shapes every query here (checked with EXPLAIN on
a 100,000-household / 30,000-watcher copy of the bench prefecture): `household`, `watcher` and
`hazard_zone` have FORCE ROW LEVEL SECURITY and the app role is not a superuser, so the planner
may only use an index for a condition that is *leakproof* — and no PostGIS operator is
(`&&`, `ST_DWithin`, `ST_Intersects`). Spatial *filters* on those tables therefore never use
their GiST indexes (even with enable_seqscan=off). What does still use the GiST index is a
nearest-neighbour *ordering* (`ORDER BY home <-> point LIMIT k`): that is how suggestions find
watchers. Whole-tenant analyses (coverage, pockets) avoid per-household index probes entirely
(≈50 µs each: 6 s per 100,000) and use set-based joins instead: see `coverage`.
"""
