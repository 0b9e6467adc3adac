"""Synthetic people generator (seed/kasama/people.py). No database."""

from __future__ import annotations

import math
import re
import time
from collections import Counter, defaultdict
from datetime import date

import msgspec
import pytest
import shapely
from shapely.geometry import Point, box, shape

from seed.kasama import facts
from seed.kasama.names import EXCLUDED_FULL_NAMES, GIVEN_NAMES, SURNAMES, is_katakana
from seed.kasama.people import DemoData, generate_demo, generate_prefecture
from vocab import (
    CONSENT_DATASETS,
    MEDICAL_DEVICES,
    MOBILITY,
    RECIPIENT_CLASSES,
    SEXES,
    SUPPORT_REASONS,
)

PHONE = re.compile(r"^(0296-\d{2}-\d{4}|0[89]0-\d{4}-\d{4})$")
M = facts.KASAMA_METRIC


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return generate_demo()


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def test_deterministic_per_seed_and_fast() -> None:
    t0 = time.perf_counter()
    a = generate_demo(8216)
    elapsed = time.perf_counter() - t0
    b = generate_demo(8216)
    c = generate_demo(8217)
    assert msgspec.json.encode(a) == msgspec.json.encode(b)
    assert msgspec.json.encode(a) != msgspec.json.encode(c)
    assert elapsed < 10  # typically well under a second


def test_counts_in_target_ranges(demo: DemoData) -> None:
    people = list(demo.people())
    assert len(demo.households) == 2500
    assert 2800 <= len(people) <= 3300
    roles = Counter(w.role for w in demo.watchers)
    assert roles == {"watcher": 1200, "commissioner": 150}
    assert len({h.key for h in demo.households}) == 2500
    assert len({p.key for p in people}) == len(people)
    assert len({w.key for w in demo.watchers}) == 1350
    assert len({h.address for h in demo.households}) == 2500


def test_every_point_is_inside_the_outline_and_its_district(demo: DemoData) -> None:
    outline = facts.outline_shape()
    branches = facts.district_shapes("branch")
    for g in (outline, *branches.values()):
        shapely.prepare(g)
    for h in demo.households:
        assert outline.contains(Point(h.lon, h.lat)), h.key
        assert branches[h.district_code].contains(Point(h.lon, h.lat)), h.key
    for w in demo.watchers:
        assert outline.contains(Point(w.lon, w.lat)), w.key
        assert branches[w.district_code].contains(Point(w.lon, w.lat)), w.key
    # every branch has at least one 民生委員 and some households
    assert {w.district_code for w in demo.commissioners} == set(branches)
    assert {h.district_code for h in demo.households} == set(branches)


def test_names_are_synthetic_combinations_with_correct_kana(demo: DemoData) -> None:
    surnames = dict(SURNAMES)
    given: dict[str, set[str]] = {}
    for kanji, kana in GIVEN_NAMES:
        given.setdefault(kanji, set()).add(kana)
    for p in demo.people():
        assert surnames[p.family_name] == p.family_kana
        assert p.given_kana in given[p.given_name]
        assert p.name == f"{p.family_name} {p.given_name}"
        assert p.kana == f"{p.family_kana} {p.given_kana}"
        assert is_katakana(p.kana), p.kana
        assert p.family_name + p.given_name not in EXCLUDED_FULL_NAMES
        for c in p.emergency_contacts:
            assert c.name.split(" ")[0] == p.family_name and PHONE.match(c.phone)
    for w in demo.watchers:
        fam, giv = w.name.split(" ")
        fam_k, giv_k = w.kana.split(" ")
        assert surnames[fam] == fam_k and giv_k in given[giv]
        assert is_katakana(w.kana)
        assert PHONE.match(w.phone), w.phone
        assert w.capacity == (5 if w.role == "watcher" else 0)


def test_person_fields_use_the_vocabularies_and_are_plausible(demo: DemoData) -> None:
    people = list(demo.people())
    towns = {t.town for t in facts.load_towns()}
    for h in demo.households:
        assert h.town in towns
        assert h.address.startswith("茨城県笠間市" + h.town)
        assert re.fullmatch(r"\d+(-\d+)?", h.address.removeprefix("茨城県笠間市" + h.town))
        surnames = {p.family_name for p in h.people}
        assert len(surnames) == 1
    for p in people:
        assert p.sex in SEXES
        assert p.support_reasons and set(p.support_reasons) <= set(SUPPORT_REASONS)
        assert p.mobility in MOBILITY
        assert set(p.medical_devices) <= set(MEDICAL_DEVICES)
        assert p.phone is None or PHONE.match(p.phone), p.phone
        assert ("care_level_3_5" in p.support_reasons) == (p.care_level in ("要介護3", "要介護4", "要介護5"))
        assert p.care_level is None or re.fullmatch(r"要支援[12]|要介護[1-5]", p.care_level)
        if {"elderly_alone", "elderly_only_household"} & set(p.support_reasons):
            assert _age(p.birth_date, demo.reference_date) >= 65
        assert p.birth_date < demo.reference_date
    n = len(people)
    share = {k: sum(k in p.support_reasons for p in people) / n for k in SUPPORT_REASONS}
    assert share["elderly_alone"] > 0.25 and share["elderly_only_household"] > 0.25
    assert 0.18 <= share["care_level_3_5"] <= 0.32
    devices = Counter(d for p in people for d in p.medical_devices)
    assert 0 < devices["ventilator"] < 0.01 * n
    assert 0 < devices["home_oxygen"] < 0.05 * n
    born = [p.birth_date.year for p in people]
    assert sum(1930 <= y <= 1960 for y in born) / n > 0.75
    assert Counter(p.mobility for p in people).keys() == set(MOBILITY)


def _roster_class(p) -> str:
    got = {c.recipient_class for c in p.consents if c.dataset == "roster" and c.effective}
    return "all" if got == set(RECIPIENT_CLASSES) else "none" if not got else "partial"


@pytest.mark.parametrize("seed", [8216, 1])
def test_consent_mix(seed: int, demo: DemoData) -> None:
    data = demo if seed == demo.seed else generate_demo(seed)
    people = list(data.people())
    n = len(people)
    mix = Counter(_roster_class(p) for p in people)
    assert 0.64 <= mix["all"] / n <= 0.77
    assert 0.11 <= mix["partial"] / n <= 0.21
    assert 0.09 <= mix["none"] / n <= 0.18
    plan_consent = 0
    for p in people:
        keys = [(c.recipient_class, c.dataset) for c in p.consents]
        assert len(keys) == len(set(keys))
        for c in p.consents:
            assert c.recipient_class in RECIPIENT_CLASSES and c.dataset in CONSENT_DATASETS
            assert c.consented_on < data.reference_date and c.source
            assert c.withdrawn_on is None or c.withdrawn_on >= c.consented_on
        partial = {c.recipient_class for c in p.consents if c.dataset == "roster"}
        if partial and partial != set(RECIPIENT_CLASSES):
            assert {"commissioner", "council"} <= partial
        has_plan_consent = any(c.dataset == "plan" for c in p.consents)
        assert has_plan_consent == (p.plan is not None)
        plan_consent += has_plan_consent
    assert plan_consent < 0.5 * mix["all"]  # plan consent is rarer than roster consent


def test_plans_go_to_the_nearest_designated_shelter_with_nearby_supporters(demo: DemoData) -> None:
    designated = [s for s in facts.load_shelters() if s.kind == "designated"]
    watchers = {w.key: w for w in demo.watchers}
    people = [(h, p) for h in demo.households for p in h.people]
    plans = [(h, p) for h, p in people if p.plan is not None]
    assert 0.25 <= len(plans) / len(people) <= 0.40
    with_supporters = 0
    for h, p in plans:
        plan = p.plan
        assert plan is not None
        x, y = M.to_xy(h.lon, h.lat)
        dist = {s.source_id: math.dist((x, y), M.to_xy(s.lon, s.lat)) for s in designated}
        assert plan.shelter_source_id == min(dist, key=dist.__getitem__)
        assert abs(plan.distance_m - dist[plan.shelter_source_id]) <= 1
        assert plan.route_notes.startswith(plan.shelter_name)
        assert plan.made_on < demo.reference_date
        for s in plan.supporters:
            w = watchers[s.watcher_key]
            assert w.role == "watcher" and s.name == w.name and s.phone == w.phone
            assert math.dist((x, y), M.to_xy(w.lon, w.lat)) <= 600
        with_supporters += bool(plan.supporters)
    assert with_supporters / len(plans) > 0.9


def _watchers_within(data: DemoData, radius: float) -> list[int]:
    grid: dict[tuple[int, int], list[tuple[float, float]]] = defaultdict(list)
    for w in data.watchers:
        if w.role == "watcher":
            x, y = M.to_xy(w.lon, w.lat)
            grid[(int(x // radius), int(y // radius))].append((x, y))
    counts = []
    for h in data.households:
        x, y = M.to_xy(h.lon, h.lat)
        gx, gy = int(x // radius), int(y // radius)
        near = [p for dx in (-1, 0, 1) for dy in (-1, 0, 1) for p in grid[(gx + dx, gy + dy)]]
        counts.append(sum(math.dist((x, y), p) <= radius for p in near))
    return counts


def test_most_households_have_two_watchers_within_300_m_and_some_do_not(demo: DemoData) -> None:
    counts = _watchers_within(demo, 300.0)
    n = len(counts)
    assert sum(c >= 2 for c in counts) / n >= 0.75
    assert 0.03 <= sum(c <= 1 for c in counts) / n <= 0.25  # pockets to find
    assert sum(c == 0 for c in counts) > 0


def test_prefecture_generator_small() -> None:
    t0 = time.perf_counter()
    pref = generate_prefecture(7, households=6_000, watchers=1_800, chunk_size=2_000)
    chunks = list(pref.household_chunks())
    elapsed = time.perf_counter() - t0
    assert elapsed < 10
    households = [h for c in chunks for h in c]
    assert len(households) == 6_000 and len(chunks) >= 3
    assert len({h.key for h in households}) == 6_000
    assert sum(w.role == "watcher" for w in pref.watchers) == 1_800
    # deterministic and re-iterable
    fresh = generate_prefecture(7, households=6_000, watchers=1_800, chunk_size=2_000)
    encoded = msgspec.json.encode(households)
    assert msgspec.json.encode([h for c in fresh.household_chunks() for h in c]) == encoded
    assert msgspec.json.encode([h for c in pref.household_chunks() for h in c]) == encoded  # re-iterable
    assert msgspec.json.encode(fresh.watchers) == msgspec.json.encode(pref.watchers)
    # district tree: branches tile the box, areas are unions of their branches
    areas = {d.code: d for d in pref.districts if d.level == "area"}
    branches = {d.code: shape(d.geometry) for d in pref.districts if d.level == "branch"}
    assert all(d.parent_code in areas for d in pref.districts if d.level == "branch")
    assert all(is_katakana(d.kana) for d in pref.districts)
    region = box(139.7, 35.75, 140.85, 36.95)
    assert abs(sum(g.area for g in branches.values()) / region.area - 1) < 0.005
    assert abs(sum(shape(a.geometry).area for a in areas.values()) / region.area - 1) < 0.005
    for h in households:
        assert branches[h.district_code].contains(Point(h.lon, h.lat))
        assert h.people and all(is_katakana(p.kana) for p in h.people)
    shelter_ids = {s.source_id for s in pref.shelters}
    assert all(p.plan.shelter_source_id in shelter_ids for h in households for p in h.people if p.plan)
