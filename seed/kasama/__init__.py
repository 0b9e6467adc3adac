"""Kasama (笠間市, 08216) demo data: public facts in our own format and synthetic people.

- `build_facts.py` derives `seed/data/kasama_{outline,shelters,towns}.json` from the public files in
  `tests/data` (run once by a maintainer; the JSON is committed).
- `districts.py` draws the 地区 / 支部 tree → `seed/data/kasama_districts.json` (committed).
- `facts.py` loads those JSON files.
- `people.py` generates synthetic households, people, consent, plans and watchers.
"""
